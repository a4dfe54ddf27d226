import { afterAll, afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupTempDirs, cli, kvPut, kvValues, type RunningAgent, startAgent, TestCluster, tempDir, waitFor } from "./harness.ts";

// Real server processes as the configuration changes around them: autopilot takes in a new
// server (nonvoter, then voter) and lets a leaving one go; a server that missed more writes
// than the leader keeps in its log catches up through InstallSnapshot; a client agent in
// front of servers with no leader holds a request, then fails it, as Consul's does.
// Servers on 127.0.0.155-158, the client agent on 127.0.0.159.

const IPS = ["127.0.0.155", "127.0.0.156", "127.0.0.157", "127.0.0.158"];
const CLIENT = "127.0.0.159";
let cluster: TestCluster | undefined;
const others: RunningAgent[] = [];

afterEach(async () => {
  for (const a of others.splice(0)) await a.stop().catch(() => undefined);
  await cluster?.shutdown();
  cluster = undefined;
});
afterAll(() => cleanupTempDirs());

const peersOf = async (ip: string): Promise<string[]> => ((await (await fetch(`http://${ip}:8500/v1/status/peers`)).json()) as string[]).sort();

async function writeKeys(ip: string, prefix: string, from: number, to: number, acked: Map<string, string>): Promise<void> {
  for (let i = from; i < to; i++) {
    expect(await kvPut(ip, `${prefix}${i}`, `v${i}`)).toEqual({ status: 200, body: "true" });
    acked.set(`${prefix}${i}`, `v${i}`);
  }
}

test("autopilot: a 4th server joins as nonvoter, is promoted with all data; a graceful leave removes a server", async () => {
  const c = (cluster = new TestCluster(IPS, { expect: 3 }));
  await Promise.all([0, 1, 2].map((i) => c.start(i)));
  const li = await c.agreedLeader([0, 1, 2]);
  const acked = new Map<string, string>();
  await writeKeys(c.ips[li]!, "a/k", 0, 20, acked);

  await c.start(3);
  await waitFor(async () => (await peersOf(c.ips[li]!)).length === 4, 15_000, () => `s3 never became a voter:\n${c.agents[li]!.output().slice(-3000)}`);
  expect(await peersOf(c.ips[3]!)).toEqual(IPS.map((ip) => `${ip}:8300`));
  const log = c.agents[li]!.output();
  const added = log.indexOf("autopilot: adding server s3");
  expect(added).toBeGreaterThanOrEqual(0);
  expect(log.indexOf("autopilot: promoting server s3 to voter")).toBeGreaterThan(added);
  expect(await kvValues(c.ips[3]!, "a/", "stale")).toEqual(acked);

  // `tsc leave` on a follower: it goes, and the leader takes it out of the configuration.
  const gone = [0, 1, 2].find((i) => i !== li)!;
  expect(cli(["leave", "-http-addr", `${c.ips[gone]}:8500`]).stdout).toBe("Graceful leave complete\n");
  expect(await c.agents[gone]!.proc.exited).toBe(0);
  const rest = IPS.filter((_, i) => i !== gone).map((ip) => `${ip}:8300`);
  await waitFor(async () => (await peersOf(c.ips[li]!)).join() === rest.join(), 15_000, () => `s${gone} still a peer`);
  await writeKeys(c.ips[3]!, "a/k", 20, 25, acked);
  expect(await kvValues(c.ips[li]!, "a/", "consistent")).toEqual(acked);
}, 60_000);

test("a server that missed more writes than the log keeps catches up by InstallSnapshot", async () => {
  const conf = join(tempDir(), "raft.json");
  writeFileSync(conf, JSON.stringify({ raft_snapshot_threshold: 20, raft_snapshot_interval: "200ms", raft_trailing_logs: 5 }));
  const c = (cluster = new TestCluster(IPS.slice(0, 3), { args: ["-config-file", conf] }));
  const li = await c.startAll();
  const acked = new Map<string, string>();
  await writeKeys(c.ips[li]!, "s/k", 0, 10, acked);
  const down = (li + 1) % 3;
  await waitFor(async () => (await kvValues(c.ips[down]!, "s/", "stale")).size === 10, 10_000, () => "follower never had the first writes");
  await c.agents[down]!.kill9();

  await writeKeys(c.ips[li]!, "s/k", 10, 120, acked);
  expect(c.agents[li]!.output()).toContain("raft: snapshot complete up to index");

  const back = await c.start(down);
  await waitFor(async () => (await kvValues(c.ips[down]!, "s/", "stale")).size === acked.size, 15_000, () => `no catch-up:\n${back.output().slice(-3000)}`);
  expect(await kvValues(c.ips[down]!, "s/", "stale")).toEqual(acked);
  expect(back.output()).toMatch(/raft: installed snapshot index=\d+ term=\d+ from the leader/);
  expect(c.agents[li]!.output()).toContain(`raft: sending snapshot index=`);
}, 60_000);

test("a client agent: no server known fails at once; no leader holds the write, then fails; a leader in time lets it through", async () => {
  const c = (cluster = new TestCluster(IPS.slice(0, 3)));
  const client = await startAgent(CLIENT, { node: "client", args: [], waitLeader: false });
  others.push(client);
  // Consul's client agent with no server to ask does not wait: ErrNoServers.
  expect(await kvPut(CLIENT, "c/x", "1")).toEqual({ status: 500, body: "No known Consul servers" });

  // One server of three: it joins the client, but cannot bootstrap alone.
  await c.start(0);
  expect(cli(["join", "-http-addr", `${CLIENT}:8500`, c.ips[0]!]).code).toBe(0);
  await waitFor(async () => (await fetch(`http://${CLIENT}:8500/v1/status/peers`)).status === 200, 10_000, () => "the client never found the server");
  const t0 = performance.now();
  const refused = await kvPut(CLIENT, "c/x", "1", 20_000);
  const waited = performance.now() - t0;
  // Through a client the error crosses one RPC hop, and Consul's connection pool says so.
  expect(refused).toEqual({ status: 500, body: "rpc error making call: No cluster leader" });
  expect(waited).toBeGreaterThan(6_500);
  expect(waited).toBeLessThan(12_000);

  // Held again, and this time the other two servers arrive in time: the write goes through.
  const held = kvPut(CLIENT, "c/x", "2", 20_000);
  await Promise.all([c.start(1), c.start(2)]);
  expect(await held).toEqual({ status: 200, body: "true" });
  expect(await kvValues(CLIENT, "c/")).toEqual(new Map([["c/x", "2"]]));
}, 60_000);
