import { afterAll, expect, test } from "bun:test";
import { cleanupTempDirs, type RunningAgent, leaderOf, startAgent, tempDir, waitFor } from "./harness.ts";

// Three real servers on 127.0.0.34-36 with -bootstrap-expect 3: they find each other through
// gossip, bootstrap one Raft cluster and elect a leader. Writes go through any server; kill -9
// of the leader elects another; no acknowledged write is lost; the killed server comes back
// with its data dir, rejoins by itself and catches up.

const IPS = ["127.0.0.34", "127.0.0.35", "127.0.0.36"];
const agents: RunningAgent[] = [];

afterAll(async () => {
  for (const a of agents) await a.stop().catch(() => undefined);
  cleanupTempDirs();
});


async function put(ip: string, key: string, value: string): Promise<boolean> {
  const r = await fetch(`http://${ip}:8500/v1/kv/${key}`, { method: "PUT", body: value }).catch(() => undefined);
  return r?.status === 200 && (await r.text()).trim() === "true";
}

async function values(ip: string, query: string): Promise<Map<string, string>> {
  const r = await fetch(`http://${ip}:8500/v1/kv/r/?recurse&${query}`);
  if (r.status === 404) return new Map();
  const rows = (await r.json()) as Array<{ Key: string; Value: string }>;
  return new Map(rows.map((e) => [e.Key, Buffer.from(e.Value, "base64").toString()]));
}

test("three servers: bootstrap-expect, writes through any server, leader kill -9, restart and catch up", async () => {
  const dirs = IPS.map(() => tempDir());
  const start = (i: number) =>
    startAgent(IPS[i]!, { node: `s${i}`, dataDir: dirs[i], args: ["-server", "-bootstrap-expect", "3", "-retry-join", IPS[0]!, "-retry-interval", "1s"] });
  agents.push(...(await Promise.all(IPS.map((_, i) => start(i)))));

  const leader = await leaderOf(IPS[0]!);
  expect(leader).toMatch(/^127\.0\.0\.3[456]:8300$/);
  for (const ip of IPS) expect(await leaderOf(ip)).toBe(leader);
  const peers = (await (await fetch(`http://${IPS[1]}:8500/v1/status/peers`)).json()) as string[];
  expect(peers.sort()).toEqual(IPS.map((ip) => `${ip}:8300`));

  // Writes through every server, followers forward to the leader.
  const acked = new Map<string, string>();
  for (let i = 0; i < 30; i++) {
    const ip = IPS[i % 3]!;
    if (await put(ip, `r/k${i}`, `v${i}`)) acked.set(`r/k${i}`, `v${i}`);
  }
  expect(acked.size).toBe(30);
  // A stale read on a follower says how long since it heard from the leader.
  const follower = IPS.find((ip) => `${ip}:8300` !== leader)!;
  const stale = await fetch(`http://${follower}:8500/v1/kv/r/k0?stale`);
  expect(stale.headers.get("X-Consul-KnownLeader")).toBe("true");
  expect(stale.headers.get("X-Consul-Effective-Consistency")).toBe("stale");
  expect(Number(stale.headers.get("X-Consul-LastContact"))).toBeGreaterThanOrEqual(0);
  const consistent = await fetch(`http://${follower}:8500/v1/kv/r/k0?consistent`);
  expect(consistent.headers.get("X-Consul-Effective-Consistency")).toBe("consistent");

  // kill -9 of the leader: the other two elect one of themselves and take writes.
  const li = IPS.findIndex((ip) => `${ip}:8300` === leader);
  await agents[li]!.kill9();
  const survivors = IPS.filter((_, i) => i !== li);
  await waitFor(async () => {
    const l = await leaderOf(survivors[0]!);
    return l !== "" && l !== leader && (await leaderOf(survivors[1]!)) === l;
  }, 15_000, () => "no new leader after the leader was killed");
  for (let i = 30; i < 40; i++) {
    if (await put(survivors[i % 2]!, `r/k${i}`, `v${i}`)) acked.set(`r/k${i}`, `v${i}`);
  }
  expect(acked.size).toBe(40);
  for (const ip of survivors) expect(await values(ip, "consistent")).toEqual(acked);

  // The killed server restarts with its data dir and no -join: it rejoins and catches up.
  const again = await startAgent(IPS[li]!, { node: `s${li}`, dataDir: dirs[li], args: ["-server", "-bootstrap-expect", "3"], waitLeader: false });
  agents.push(again);
  await waitFor(async () => (await values(IPS[li]!, "stale")).size === acked.size, 15_000, () => `the restarted server did not catch up:\n${again.output().slice(-3000)}`);
  expect(await values(IPS[li]!, "stale")).toEqual(acked);
}, 90_000);
