import { describe, expect, test } from "bun:test";
import type { SerfMember } from "../../src/gossip/serf-node.ts";
import { bootstrapStep, serverInfo } from "../../src/server/bootstrap.ts";

const member = (name: string, tags: Record<string, string>, status: SerfMember["status"] = "alive"): SerfMember => ({
  name,
  addr: `10.0.0.${name.slice(1)}`,
  port: 8301,
  tags,
  status,
  vsn: [1, 5, 2, 2, 5, 4],
  statusLTime: 1,
  leftAtMs: 0,
});
const server = (name: string, extra: Record<string, string> = {}) => member(name, { role: "consul", dc: "dc1", id: `id-${name}`, port: "8300", expect: "3", ...extra });
const self = { datacenter: "dc1", expect: 3 };

describe("servers from gossip tags", () => {
  test("a server has role=consul, an ID and a server port; clients are not servers", () => {
    expect(serverInfo(server("s1", { raft_vsn: "3", build: "1.17.0:abc" }))).toEqual({
      name: "s1",
      id: "id-s1",
      ip: "10.0.0.1",
      port: 8300,
      addr: "10.0.0.1:8300",
      datacenter: "dc1",
      expect: 3,
      bootstrap: false,
      status: "alive",
      raftVsn: "3",
      version: "1.17.0",
    });
    expect(serverInfo(member("c1", { role: "node", dc: "dc1", id: "x" }))).toBeUndefined();
    expect(serverInfo(member("s9", { role: "consul", dc: "dc1", id: "x", port: "nope" }))).toBeUndefined();
  });
});

describe("bootstrap-expect", () => {
  test("waits until enough alive servers of our datacenter are seen", () => {
    expect(bootstrapStep(self, [server("s1"), server("s2"), member("c1", { role: "node" })])).toEqual({ kind: "wait" });
    expect(bootstrapStep(self, [server("s1"), server("s2"), server("s3")]).kind).toBe("ready");
    expect(bootstrapStep(self, [server("s1"), server("s2"), server("s3", { dc: "dc2" })]).kind).toBe("wait");
    expect(bootstrapStep(self, [server("s1"), server("s2"), server("s3")].map((m, i) => (i === 2 ? { ...m, status: "failed" as const } : m))).kind).toBe("wait");
  });

  test("every server computes the same configuration, in ID order", () => {
    const a = bootstrapStep(self, [server("s3"), server("s1"), server("s2")]);
    const b = bootstrapStep(self, [server("s2"), server("s3"), server("s1")]);
    expect(a).toEqual(b);
    expect(a.kind === "ready" && a.servers.map((s) => s.id)).toEqual(["id-s1", "id-s2", "id-s3"]);
  });

  test("a conflicting expect or a -bootstrap server stops it, with Consul's words", () => {
    expect(bootstrapStep(self, [server("s1"), server("s2", { expect: "5" }), server("s3")])).toEqual({
      kind: "conflict",
      message: "Member s2 has a conflicting expect value. All nodes should expect the same number.",
    });
    expect(bootstrapStep(self, [server("s1"), server("s2", { bootstrap: "1", expect: "" })])).toEqual({ kind: "conflict", message: "Member s2 has bootstrap mode. Expect disabled." });
  });
});
