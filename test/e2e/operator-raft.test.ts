import { afterAll, expect, test } from "bun:test";
import { cleanupTempDirs, cli, type RunningAgent, startAgent, tempDir, waitFor } from "./harness.ts";

// `tsc operator raft` and /v1/operator/raft/* against three real servers (127.0.0.83-85) and
// a client agent (127.0.0.86) that forwards them over RPC: list-peers from a server and the
// client, Consul's errors, transfer-leader, and remove-peer of a server that was killed.

const SERVERS = ["127.0.0.83", "127.0.0.84", "127.0.0.85"];
const CLIENT = "127.0.0.86";
const agents: RunningAgent[] = [];

afterAll(async () => {
  for (const a of agents) await a.stop().catch(() => undefined);
  cleanupTempDirs();
});

interface RaftConfig {
  Servers: Array<{ ID: string; Node: string; Address: string; Leader: boolean; ProtocolVersion: string; Voter: boolean }>;
  Index: number;
}

const http = (ip: string, path: string, method = "GET") => fetch(`http://${ip}:8500${path}`, { method });
const configuration = async (ip: string, query = ""): Promise<RaftConfig> => (await (await http(ip, `/v1/operator/raft/configuration${query}`)).json()) as RaftConfig;
const raft = (ip: string, ...args: string[]) => cli(["operator", "raft", ...args, "-http-addr", `${ip}:8500`]);
const leaderAddr = async (ip: string): Promise<string> => {
  const r = await http(ip, "/v1/status/leader").catch(() => undefined);
  return r?.ok ? ((await r.json()) as string) : "";
};

/** list-peers output as rows of cells (the table is aligned with runs of spaces; "Trails Leader By" has single ones). */
function peerRows(stdout: string): string[][] {
  const lines = stdout.trimEnd().split("\n");
  expect(lines[0]).toMatch(/^Node +ID +Address +State +Voter +RaftProtocol +Commit Index +Trails Leader By$/);
  return lines.slice(1).map((l) => l.split(/ {2,}/));
}

test("operator raft: list-peers, errors, transfer-leader, remove-peer of a killed server", async () => {
  // A client agent that knows no server answers as Consul's does.
  const client = await startAgent(CLIENT, { node: "c1", args: [], waitLeader: false });
  agents.push(client);
  const lonely = await http(CLIENT, "/v1/operator/raft/configuration");
  expect(lonely.status).toBe(500);
  expect(await lonely.text()).toBe("No known Consul servers");

  const dirs = SERVERS.map(() => tempDir());
  const servers = await Promise.all(
    SERVERS.map((ip, i) => startAgent(ip, { node: `s${i + 1}`, dataDir: dirs[i], args: ["-server", "-bootstrap-expect", "3", "-retry-join", SERVERS[0]!, "-retry-interval", "1s"] })),
  );
  agents.push(...servers);
  expect((await http(CLIENT, `/v1/agent/join/${SERVERS[0]}`, "PUT")).status).toBe(200);
  await waitFor(async () => (await leaderAddr(CLIENT)) !== "", 10_000, () => `the client never found the leader:\n${client.output().slice(-2000)}`);

  // The configuration, over HTTP from a server and through the client: three voters, one leader.
  const config = await configuration(SERVERS[1]!);
  expect(config.Index).toBeGreaterThanOrEqual(1);
  expect(config.Servers.map((s) => s.Address).sort()).toEqual(SERVERS.map((ip) => `${ip}:8300`));
  expect(config.Servers.map((s) => s.Node).sort()).toEqual(["s1", "s2", "s3"]);
  expect(config.Servers.every((s) => s.Voter && s.ProtocolVersion === "3")).toBe(true);
  expect(config.Servers.filter((s) => s.Leader)).toHaveLength(1);
  expect(await configuration(CLIENT)).toEqual(config);
  const leader = config.Servers.find((s) => s.Leader)!;
  expect(leader.Address).toBe(await leaderAddr(SERVERS[0]!));
  const follower = config.Servers.find((s) => !s.Leader)!;
  const followerIp = follower.Address.split(":")[0]!;
  expect((await configuration(followerIp, "?stale")).Servers).toEqual(config.Servers);

  // list-peers from a server and from the client.
  for (const ip of [SERVERS[0]!, CLIENT]) {
    const r = raft(ip, "list-peers");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const rows = peerRows(r.stdout);
    expect(rows.map((row) => row[0]).sort()).toEqual(["s1", "s2", "s3"]);
    expect(rows.filter((row) => row[3] === "leader")).toEqual([[leader.Node, leader.ID, leader.Address, "leader", "true", "3", expect.stringMatching(/^\d+$/), "_"]]);
    for (const row of rows.filter((x) => x[3] === "follower")) {
      expect(row.slice(4, 6)).toEqual(["true", "3"]);
      expect(row[6]).toMatch(/^\d+$/);
      expect(row[7]).toMatch(/^\d+ Commits?$/);
    }
  }
  // -stale on a follower: its own configuration; it has no autopilot view, so no commit columns.
  const stale = raft(followerIp, "list-peers", "-stale");
  expect(stale.code).toBe(0);
  expect(peerRows(stale.stdout).map((row) => row.slice(6))).toEqual([["_"], ["_"], ["_"]]);

  // Bad flags and parameters get Consul's words and change nothing.
  expect(raft(CLIENT, "remove-peer")).toMatchObject({ code: 1, stdout: "", stderr: "Error removing peer: an address or id is required for the peer to remove\n" });
  expect(raft(CLIENT, "remove-peer", "-id", "x", "-address", "1.2.3.4:8300")).toMatchObject({ code: 1, stderr: "Error removing peer: cannot give both an address and id\n" });
  // Consul's pool prefixes a remote error once per hop: client -> server (-> leader).
  const removeNope = raft(CLIENT, "remove-peer", "-id", "nope");
  expect(removeNope.code).toBe(1);
  expect(removeNope.stderr).toMatch(/^Error removing peer: Unexpected response code: 500 \((rpc error making call: ){1,2}id "nope" was not found in the Raft configuration\)\n$/);
  expect(raft(CLIENT, "list-peers", "-bogus").stderr).toStartWith("flag provided but not defined: -bogus\n");
  const none = await http(SERVERS[0]!, "/v1/operator/raft/peer", "DELETE");
  expect([none.status, await none.text()]).toEqual([400, "Must specify either ?id with the server's ID or ?address with IP:port of peer to remove"]);
  const both = await http(SERVERS[0]!, "/v1/operator/raft/peer?id=a&address=b", "DELETE");
  expect([both.status, await both.text()]).toEqual([400, "Must specify only one of ?id or ?address"]);
  const unknown = await http(CLIENT, "/v1/operator/raft/peer?address=10.9.9.9:8300", "DELETE");
  expect(unknown.status).toBe(500);
  expect(await unknown.text()).toMatch(/^(rpc error making call: ){1,2}address "10\.9\.9\.9:8300" was not found in the Raft configuration$/);
  const wrongMethod = await http(SERVERS[0]!, "/v1/operator/raft/configuration", "DELETE");
  expect([wrongMethod.status, wrongMethod.headers.get("Allow")]).toEqual([405, "OPTIONS,GET"]);
  expect(raft(CLIENT, "transfer-leader", "-id", leader.ID)).toMatchObject({
    code: 1,
    stderr: "Error transfering leadership: Failed to transfer leadership Unexpected response code: 500 (rpc error: code = Unknown desc = cannot transfer leadership to itself)\n",
  });
  expect((await configuration(SERVERS[2]!)).Servers).toHaveLength(3);

  // transfer-leader to a named follower (through the client agent), then to whoever is most caught up.
  expect(raft(CLIENT, "transfer-leader", "-id", follower.ID)).toMatchObject({ code: 0, stdout: "Success\n" });
  await waitFor(async () => (await leaderAddr(SERVERS[0]!)) === follower.Address, 5000, () => `leadership did not move to ${follower.Address}`);
  const transfer = await http(SERVERS[0]!, "/v1/operator/raft/transfer-leader", "POST");
  expect([transfer.status, await transfer.json()]).toEqual([200, { Success: true }]);
  await waitFor(async () => !["", follower.Address].includes(await leaderAddr(SERVERS[0]!)), 5000, () => "leadership did not move on a plain transfer-leader");

  // kill -9 a follower; once gossip sees it failed, remove-peer takes it out of the configuration.
  const now = await configuration(SERVERS[0]!);
  const victim = now.Servers.find((s) => !s.Leader)!;
  const victimIndex = SERVERS.indexOf(victim.Address.split(":")[0]!);
  await servers[victimIndex]!.kill9();
  const survivor = SERVERS.find((_, i) => i !== victimIndex)!;
  await waitFor(
    async () => {
      const members = (await (await http(survivor, "/v1/agent/members")).json()) as Array<{ Name: string; Status: number }>;
      return members.find((m) => m.Name === victim.Node)?.Status === 4;
    },
    // Memberlist's worst case: a probe round plus the longest suspicion (6 x 4 x log10(4) x 1 s
    // when no other member confirms it in time), stretched further by Lifeguard on a busy box.
    30_000,
    () => `${victim.Node} was never seen failed`,
  );
  expect(raft(CLIENT, "remove-peer", "-address", victim.Address)).toMatchObject({ code: 0, stdout: `Removed peer with address "${victim.Address}"\n` });
  const after = raft(survivor, "list-peers");
  expect(after.code).toBe(0);
  const rows = peerRows(after.stdout);
  expect(rows.map((row) => row[0]).sort()).toEqual(["s1", "s2", "s3"].filter((n) => n !== victim.Node));
  expect(rows.filter((row) => row[3] === "leader")).toHaveLength(1);
  expect((await configuration(CLIENT)).Servers.map((s) => s.ID)).not.toContain(victim.ID);
  expect(raft(CLIENT, "remove-peer", "-id", victim.ID).stderr).toMatch(new RegExp(`^Error removing peer: Unexpected response code: 500 \\((rpc error making call: ){1,2}id "${victim.ID}" was not found in the Raft configuration\\)\n$`));
}, 60_000);
