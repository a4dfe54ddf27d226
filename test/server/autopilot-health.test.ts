import { describe, expect, test } from "bun:test";
import { healthReply, isHealthy, type PeerView } from "../../src/server/autopilot-health.ts";

const cfg = { lastContactThresholdMs: 400, maxTrailingLogs: 250 };
const leader: PeerView = { id: "a", name: "s1", address: "10.0.0.1:8300", serfStatus: "alive", version: "1.17.0", leader: true, voter: true, lastContactMs: 0, lastTerm: 3, lastIndex: 1000 };
const peer = (over: Partial<PeerView>): PeerView => ({ ...leader, id: "b", name: "s2", leader: false, lastContactMs: 100, ...over });

describe("autopilot server health (Consul's IsHealthy)", () => {
  test.each([
    ["caught up and heard from", {}, true],
    ["failed in gossip", { serfStatus: "failed" as const }, false],
    ["left", { serfStatus: "left" as const }, false],
    ["not heard from within the threshold", { lastContactMs: 401 }, false],
    ["no contact yet", { lastContactMs: -1 }, false],
    ["on an older term", { lastTerm: 2 }, false],
    ["exactly max trailing logs behind", { lastIndex: 750 }, true],
    ["more than max trailing logs behind", { lastIndex: 749 }, false],
  ])("%s", (_why, over, want) => {
    expect(isHealthy(peer(over), leader, cfg)).toBe(want);
  });

  test("a young log is never too far behind", () => {
    expect(isHealthy(peer({ lastIndex: 0 }), { ...leader, lastIndex: 200 }, cfg)).toBe(true);
  });
});

describe("health reply", () => {
  test("healthy when every server is; tolerance is healthy voters beyond a quorum", () => {
    const r = healthReply([leader, peer({}), peer({ id: "c" })], new Map(), 5000, cfg);
    expect(r.healthy).toBe(true);
    expect(r.failureTolerance).toBe(1);
    expect(r.servers.map((s) => [s.id, s.healthy, s.stableSinceMs])).toEqual([
      ["a", true, 5000],
      ["b", true, 5000],
      ["c", true, 5000],
    ]);
  });

  test("one failed voter of three: unhealthy, no tolerance left; a nonvoter does not count for quorum", () => {
    const r = healthReply([leader, peer({}), peer({ id: "c", serfStatus: "failed" }), peer({ id: "d", voter: false })], new Map(), 0, cfg);
    expect(r.healthy).toBe(false);
    expect(r.failureTolerance).toBe(0);
    expect(r.servers.find((s) => s.id === "c")!.healthy).toBe(false);
  });

  test("StableSince moves only when a server's health flips", () => {
    const first = healthReply([leader, peer({})], new Map(), 1000, cfg);
    const prev = new Map(first.servers.map((s) => [s.id, { healthy: s.healthy, stableSinceMs: s.stableSinceMs }]));
    const second = healthReply([leader, peer({ lastContactMs: 5000 })], prev, 9000, cfg);
    expect(second.servers.map((s) => [s.id, s.healthy, s.stableSinceMs])).toEqual([
      ["a", true, 1000],
      ["b", false, 9000],
    ]);
  });

  test("no servers: not healthy", () => {
    expect(healthReply([], new Map(), 0, cfg)).toEqual({ healthy: false, failureTolerance: 0, servers: [] });
  });
});
