import { afterAll, afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupTempDirs, type RunningAgent, tempDir, waitFor } from "./harness.ts";
import { agreedLeader, NsClient, netnsAvailable, startNsAgent, TestNet } from "./netns.ts";

// Three real servers, each on its own test host (a network namespace, see netns.ts), with the
// network between them cut while they run: what a partition does that kill -9 and SIGSTOP
// cannot. What the user must see: the majority goes on, the cut-off side serves no stale
// read and acknowledges no write, a follower that cannot hear the leader does not depose it,
// and once healed every server agrees again with nothing acknowledged lost.

const canPartition = netnsAvailable();
if (!canPartition) console.error("raft-partition: skipped, this machine cannot make network namespaces (needs root and iproute2)");

let net: TestNet | undefined;
afterEach(async () => {
  await net?.down();
  net = undefined;
});
afterAll(() => cleanupTempDirs());

interface Cluster {
  net: TestNet;
  servers: RunningAgent[];
  clients: NsClient[];
  leader: number;
}

/** Three servers on hosts 0-2 (and `hosts` - 3 more hosts for the test's own agents). */
async function startCluster(hosts = 3): Promise<Cluster> {
  const n = (net = new TestNet(hosts));
  n.up();
  const servers = [0, 1, 2].map((i) => startNsAgent(n, i, { expect: 3 }));
  const clients = [0, 1, 2].map((i) => new NsClient(n, i));
  const leader = await agreedLeader(n, clients, [0, 1, 2], 25_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${servers.map((s) => `--- ${s.ip}\n${s.output().slice(-2000)}`).join("\n")}`);
  });
  return { net: n, servers, clients, leader };
}

const kv = (c: NsClient, key: string, query = "", timeoutMs?: number) => c.get(`/v1/kv/${key}?raw${query ? `&${query}` : ""}`, timeoutMs);

async function term(c: NsClient): Promise<number> {
  const a = await c.get("/v1/agent/self");
  expect(a.status).toBe(200);
  return Number((JSON.parse(a.body) as { Stats: { raft: { term: string } } }).Stats.raft.term);
}

async function voters(c: NsClient): Promise<string[]> {
  const a = await c.get("/v1/operator/raft/configuration?stale");
  if (a.status !== 200) return [];
  return (JSON.parse(a.body) as { Servers: Array<{ Node: string; Voter: boolean }> }).Servers.filter((s) => s.Voter)
    .map((s) => s.Node)
    .sort();
}

interface Read {
  mode: string;
  floor: number;
  status: number;
  body: string;
}

test.skipIf(!canPartition)(
  "the leader cut off from both followers: the majority elects a new one and commits; the old leader serves no stale read and acknowledges no write; healed, nothing acknowledged is lost",
  async () => {
    const { net: n, clients, leader: li } = await startCluster();
    const old = clients[li]!;
    const others = [0, 1, 2].filter((i) => i !== li);
    let acked = 0;
    expect((await old.put("/v1/kv/seq", "0")).status).toBe(200);

    n.isolate(li);
    const cutAt = performance.now();
    // Proposed by a leader that can no longer reach a quorum: it must not be acknowledged.
    const orphan = old.put("/v1/kv/orphan", "x", 30_000);

    const fresh = await agreedLeader(n, clients, others, 15_000, li);
    const electedMs = performance.now() - cutAt;
    const majority = clients[others[0]!]!;
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing && i < 2_000; i++) {
        const next = acked + 1;
        const a = await majority.put("/v1/kv/seq", String(next), 5_000);
        if (a.status === 200 && a.body.trim() === "true") acked = next;
        await Bun.sleep(20);
      }
    })();
    await waitFor(() => acked >= 5, 10_000, () => `the majority committed only ${acked} writes`);

    // Reads on the cut-off old leader while the majority moves on: an answer is fresh or an error.
    const reads: Read[] = [];
    const readLoop = async (mode: string): Promise<void> => {
      while (performance.now() - cutAt < 8_000) {
        const floor = acked;
        const a = await kv(old, "seq", mode, 10_000);
        reads.push({ mode, floor, status: a.status, body: a.body.trim() });
        if (a.status !== 200) await Bun.sleep(100);
      }
    };
    await Promise.all([readLoop(""), readLoop(""), readLoop("consistent")]);

    // Having lost its quorum it stepped down; ?stale still answers, from what it has, and says so.
    await waitFor(async () => (await old.leader()) === "", 5_000, () => "the cut-off leader still names a leader");
    const stale = await kv(old, "seq", "stale");
    expect([stale.status, stale.headers["x-consul-knownleader"]]).toEqual([200, "false"]);
    expect(Number(stale.body)).toBeLessThan(acked);

    n.heal();
    const all = await agreedLeader(n, clients, [0, 1, 2], 60_000);
    writing = false;
    await writer;

    // Its lease ran out before the majority could elect (the lease is shorter than the election
    // timeout), so the user gets an error, never the old value.
    expect(reads.filter((r) => r.status === 200 && Number(r.body) < r.floor)).toEqual([]);
    expect(reads.filter((r) => r.status === 200)).toEqual([]);
    expect(reads.length).toBeGreaterThanOrEqual(3);
    const errors = new Set(reads.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.body}`));
    for (const e of errors) expect(e).toMatch(/^500 (No cluster leader|leadership lost while confirming a read|rpc error making call: .*)$/);
    const o = await orphan;
    expect([o.status, o.body.trim()]).toEqual([500, "leadership lost while committing log"]);
    expect(electedMs).toBeLessThan(15_000);
    expect(all).not.toBe(-1);
    expect(fresh).not.toBe(li);

    // Healed: every server holds the last acknowledged write and none holds the orphan.
    for (const c of clients) {
      await waitFor(async () => (await kv(c, "seq", "stale")).body === String(acked), 15_000, () => "a server did not catch up after the heal");
      expect((await kv(c, "seq", "consistent")).body).toBe(String(acked));
      expect((await kv(c, "orphan", "consistent")).status).toBe(404);
    }
    // ...and all three are voters again (autopilot may have removed the cut-off one meanwhile).
    await waitFor(async () => (await voters(majority)).join() === "s0,s1,s2", 60_000, () => "not all three servers are voters again");
  },
  120_000,
);

test.skipIf(!canPartition)(
  "a follower that cannot hear the leader (one way, then both ways) does not depose it: same leader, same term; healed, it catches up",
  async () => {
    const { net: n, clients, leader: li } = await startCluster();
    const [f1, f2] = [0, 1, 2].filter((i) => i !== li) as [number, number];
    const termBefore = await term(clients[li]!);
    const acked = new Map<string, string>();
    const lagging = async (): Promise<boolean> => {
      const a = await clients[f1]!.get("/v1/kv/w/?keys&stale");
      return a.status === 404 || (JSON.parse(a.body) as string[]).length < acked.size;
    };
    const writeFor = async (ms: number): Promise<void> => {
      const until = performance.now() + ms;
      for (let i = acked.size; performance.now() < until && i < acked.size + 500; ) {
        const via = clients[i % 2 === 0 ? li : f2]!;
        const a = await via.put(`/v1/kv/w/k${i}`, `v${i}`, 5_000);
        expect([a.status, a.body.trim()]).toEqual([200, "true"]);
        acked.set(`w/k${i}`, `v${i}`);
        i++;
        await Bun.sleep(20);
      }
    };

    // One way: the leader's messages to f1 are lost; f1 still reaches the leader and f2.
    n.cut(li, f1);
    await writeFor(5_000);
    expect(await lagging()).toBe(true);
    n.heal();
    await writeFor(1_000);
    // Both ways: f1 is alone, and asks in vain (pre-vote) to be elected.
    n.isolate(f1);
    await writeFor(5_000);
    expect(await lagging()).toBe(true);
    n.heal();

    expect(await agreedLeader(n, clients, [0, 1, 2], 15_000)).toBe(li);
    for (const i of [li, f1, f2]) expect(await term(clients[i]!)).toBe(termBefore);
    await waitFor(
      async () => {
        const a = await clients[f1]!.get("/v1/kv/w/?recurse&stale");
        return a.status === 200 && (JSON.parse(a.body) as unknown[]).length === acked.size;
      },
      15_000,
      () => "the cut-off follower did not catch up",
    );
    const a = await clients[f1]!.get("/v1/kv/w/?recurse&consistent");
    const rows = JSON.parse(a.body) as Array<{ Key: string; Value: string }>;
    expect(new Map(rows.map((r) => [r.Key, Buffer.from(r.Value, "base64").toString()]))).toEqual(acked);
    expect(acked.size).toBeGreaterThan(50);
  },
  90_000,
);

test.skipIf(!canPartition)(
  "a client agent cut off from every server: its API fails within rpc_client_timeout, the servers mark it critical; healed, it is passing and answers again",
  async () => {
    const { net: n, clients } = await startCluster(4);
    const conf = join(tempDir(), "rpc.json");
    writeFileSync(conf, JSON.stringify({ limits: { rpc_client_timeout: "3s" }, performance: { rpc_hold_timeout: "2s" } }));
    startNsAgent(n, 3, { expect: 3, client: true, args: ["-config-file", conf] });
    const client = new NsClient(n, 3);
    const server = clients[0]!;
    await waitFor(async () => (await client.put("/v1/kv/from-client", "1")).status === 200, 20_000, () => "the client agent never reached a server");
    expect((await client.put("/v1/agent/service/register", JSON.stringify({ Name: "web", Port: 80 }))).status).toBe(200);
    const passing = async () => {
      const a = await server.get("/v1/health/node/c3");
      return a.status === 200 && (JSON.parse(a.body) as Array<{ CheckID: string; Status: string }>).some((c) => c.CheckID === "serfHealth" && c.Status === "passing");
    };
    await waitFor(passing, 15_000, () => "the client's serfHealth never passed");
    await waitFor(async () => (await server.get("/v1/catalog/service/web")).body.includes('"c3"'), 15_000, () => "the client's service never reached the catalog");

    n.isolate(3);
    // No answer comes: the call gives up at the client's rpc_client_timeout with Consul's error.
    const t0 = performance.now();
    const cut = await kv(client, "from-client", "", 20_000);
    const waited = performance.now() - t0;
    expect([cut.status, cut.body.trim()]).toEqual([500, "rpc error making call: i/o deadline reached"]);
    expect(waited).toBeGreaterThan(2_500);
    expect(waited).toBeLessThan(10_000);
    // The servers see it fail: serfHealth critical, its service no longer passing.
    await waitFor(
      async () => (await server.get("/v1/health/state/critical")).body.includes('"c3"'),
      20_000,
      () => "the servers never marked the cut-off client critical",
    );
    expect(JSON.parse((await server.get("/v1/health/service/web?passing")).body)).toEqual([]);

    n.heal();
    await waitFor(async () => (await kv(client, "from-client", "", 5_000)).status === 200, 20_000, () => "the client agent never answered again");
    expect((await kv(client, "from-client")).body).toBe("1");
    // Gossip finds it again (Serf's reconnect runs every 30 s at most) and the leader clears the check.
    await waitFor(passing, 45_000, () => "the healed client never passed again");
    const web = JSON.parse((await server.get("/v1/health/service/web?passing")).body) as Array<{ Node: { Node: string } }>;
    expect(web.map((e) => e.Node.Node)).toEqual(["c3"]);
  },
  120_000,
);
