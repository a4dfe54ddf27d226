import { describe, expect, test } from "bun:test";
import { peersTable, type RaftConfigurationJson } from "../../src/cli/operator/raft/list-peers.ts";
import { healthJson, raftConfigurationJson } from "../../src/http/operator-raft.ts";

const config: RaftConfigurationJson = {
  Servers: [
    { ID: "id-1", Node: "s1", Address: "10.0.0.1:8300", Leader: true, ProtocolVersion: "3", Voter: true },
    { ID: "id-22", Node: "server-2", Address: "10.0.0.2:8300", Leader: false, ProtocolVersion: "3", Voter: true },
    { ID: "id-3", Node: "s3", Address: "10.0.0.3:8300", Leader: false, ProtocolVersion: "3", Voter: false },
  ],
  Index: 7,
};

describe("operator raft list-peers table (Consul 1.16+ columns)", () => {
  test("commit index and how far each follower trails the leader", () => {
    const health = { Servers: [{ ID: "id-1", LastIndex: 120 }, { ID: "id-22", LastIndex: 119 }, { ID: "id-3", LastIndex: 100 }] };
    expect(peersTable(config, health)).toBe(
      [
        "Node      ID     Address        State     Voter  RaftProtocol  Commit Index  Trails Leader By",
        "s1        id-1   10.0.0.1:8300  leader    true   3             120           _",
        "server-2  id-22  10.0.0.2:8300  follower  true   3             119           1 Commit",
        "s3        id-3   10.0.0.3:8300  follower  false  3             100           20 Commits",
      ].join("\n"),
    );
  });

  test("a caught-up follower trails by \"0 Commit\", as Consul prints it", () => {
    const health = { Servers: [{ ID: "id-1", LastIndex: 9 }, { ID: "id-22", LastIndex: 9 }] };
    expect(peersTable(config, health).split("\n")[2]).toBe("server-2  id-22  10.0.0.2:8300  follower  true   3             9             0 Commit");
  });

  test("without autopilot data (a follower asked with -stale) the index columns are \"_\"", () => {
    expect(peersTable({ ...config, Servers: config.Servers!.slice(0, 2) }, { Servers: null })).toBe(
      [
        "Node      ID     Address        State     Voter  RaftProtocol  Commit Index  Trails Leader By",
        "s1        id-1   10.0.0.1:8300  leader    true   3             _",
        "server-2  id-22  10.0.0.2:8300  follower  true   3             _",
      ].join("\n"),
    );
  });

  test("a server with no protocol version is shown as <=1", () => {
    const old = { Servers: [{ ...config.Servers![0]!, ProtocolVersion: "" }], Index: 1 };
    expect(peersTable(old, { Servers: null }).split("\n")[1]).toBe("s1    id-1  10.0.0.1:8300  leader  true   <=1           _");
  });
});

describe("operator JSON shapes", () => {
  test("raft configuration: Consul's field names and order", () => {
    const json = raftConfigurationJson({ servers: [{ id: "x", node: "(unknown)", address: "", leader: false, protocolVersion: "unknown", voter: true }], index: 12 });
    expect(JSON.stringify(json)).toBe('{"Servers":[{"ID":"x","Node":"(unknown)","Address":"","Leader":false,"ProtocolVersion":"unknown","Voter":true}],"Index":12}');
  });

  test("autopilot health: durations as Go prints them, StableSince rounded to the second in UTC", () => {
    const json = healthJson({
      healthy: true,
      failureTolerance: 0,
      servers: [
        { id: "x", name: "s1", address: "10.0.0.1:8300", serfStatus: "alive", version: "1.17.0", leader: false, voter: true, lastContactMs: 12.5, lastTerm: 2, lastIndex: 40, healthy: true, stableSinceMs: Date.UTC(2024, 0, 2, 3, 4, 5, 600) },
      ],
    });
    expect(JSON.stringify(json)).toBe(
      '{"Healthy":true,"FailureTolerance":0,"Servers":[{"ID":"x","Name":"s1","Address":"10.0.0.1:8300","SerfStatus":"alive","Version":"1.17.0","Leader":false,"LastContact":"12.5ms","LastTerm":2,"LastIndex":40,"Healthy":true,"Voter":true,"StableSince":"2024-01-02T03:04:06Z"}]}',
    );
  });

  test("a server with no autopilot view answers the zero value", () => {
    expect(healthJson(null)).toEqual({ Healthy: false, FailureTolerance: 0, Servers: null });
  });
});
