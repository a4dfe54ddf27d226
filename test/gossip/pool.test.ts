import { afterAll, expect, test } from "bun:test";
import { GossipPool } from "../../src/gossip/pool.ts";

// Pools on loopback (127.0.0.71-82, port 7946) with the memberlist LAN timings shortened
// so the file runs in seconds: join through one member finds all; a graceful leave is `left`
// at once; a pool that stops answering is `failed` after probe + suspicion.

const quiet = { info() {}, warn() {}, debug() {} };
const tune = { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, suspicionMult: 2 };
const pools: GossipPool[] = [];

async function pool(n: number, key: Uint8Array[] = [], extra: Partial<ConstructorParameters<typeof GossipPool>[0]> = {}): Promise<GossipPool> {
  const p = new GossipPool({
    name: `g${n}`, bindIp: `127.0.0.${70 + n}`, advertiseIp: `127.0.0.${70 + n}`, port: 7946,
    tags: { role: "node", dc: "dc1", id: `id-${n}` }, keyring: key, reconnectTimeoutMs: 3600_000, leavePropagateDelayMs: 100, logger: quiet, tune,
    ...extra,
  });
  await p.start();
  pools.push(p);
  return p;
}

const statusOf = (p: GossipPool) => Object.fromEntries(p.members().map((m) => [m.name, m.status]).sort());

async function until(cond: () => boolean, ms: number, why: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(why());
    await Bun.sleep(20);
  }
}

afterAll(() => {
  for (const p of pools) p.stop();
});

test("join one, learn all; leave is left, silence is failed", async () => {
  const [a, b, c] = [await pool(1), await pool(2), await pool(3)];
  expect(await b.join(["127.0.0.71"])).toBe(1);
  expect(await c.join(["127.0.0.72:7946"])).toBe(1);
  const all = { g1: "alive", g2: "alive", g3: "alive" };
  await until(() => [a, b, c].every((p) => JSON.stringify(statusOf(p)) === JSON.stringify(statusOf(a)) && Object.keys(statusOf(p)).length === 3), 5000, () => JSON.stringify([a, b, c].map(statusOf)));
  for (const p of [a, b, c]) expect(statusOf(p)).toEqual(expect.objectContaining(all));
  expect(a.members().find((m) => m.name === "g3")?.tags).toEqual({ role: "node", dc: "dc1", id: "id-3" });

  await c.leave();
  c.stop();
  await until(() => statusOf(a).g3 === "left" && statusOf(b).g3 === "left", 3000, () => JSON.stringify([statusOf(a), statusOf(b)]));

  b.stop(); // no goodbye: a must find out by probing
  await until(() => statusOf(a).g2 === "failed", 5000, () => JSON.stringify(statusOf(a)));
});

test("a join to nobody fails with the dial error", async () => {
  const d = await pool(4);
  await expect(d.join(["127.0.0.69:7946"])).rejects.toThrow("dial tcp 127.0.0.69:7946: connect: connection refused");
});

test("encrypted pools join each other and refuse plaintext", async () => {
  const key = [new Uint8Array(32).fill(9)];
  const e = await pool(5, key);
  const f = await pool(6, key);
  expect(await f.join(["127.0.0.75"])).toBe(1);
  await until(() => statusOf(e).g6 === "alive", 3000, () => JSON.stringify(statusOf(e)));
  const plain = await pool(7);
  await expect(plain.join(["127.0.0.75"])).rejects.toThrow();
  expect(statusOf(e).g7).toBeUndefined();
});

test("a failed member that comes back is reconnected without an operator", async () => {
  const a = await pool(8, [], { reconnectIntervalMs: 200 });
  let b = await pool(9);
  expect(await b.join(["127.0.0.78"])).toBe(1);
  await until(() => statusOf(a).g9 === "alive", 3000, () => JSON.stringify(statusOf(a)));
  b.stop();
  await until(() => statusOf(a).g9 === "failed", 5000, () => JSON.stringify(statusOf(a)));
  // Restarted, but told nothing: a finds it again.
  pools.splice(pools.indexOf(b), 1);
  b = await pool(9);
  await until(() => statusOf(a).g9 === "alive" && statusOf(b).g8 === "alive", 5000, () => JSON.stringify([statusOf(a), statusOf(b)]));
});

test("a pool with an admission rule (Consul's WAN: servers only) refuses others", async () => {
  const server = (meta: Uint8Array | null) => meta !== null && Buffer.from(meta).includes(Buffer.from("consul"));
  const w1 = await pool(10, [], { tags: { role: "consul", dc: "dc1" }, tune: { ...tune, admit: (_n, m) => server(m) } });
  const w2 = await pool(11, [], { tags: { role: "consul", dc: "dc2" }, tune: { ...tune, admit: (_n, m) => server(m) } });
  const client = await pool(12);
  expect(await w2.join(["127.0.0.80"])).toBe(1);
  await client.join(["127.0.0.80"]).catch(() => undefined);
  await until(() => statusOf(w1).g11 === "alive", 3000, () => JSON.stringify(statusOf(w1)));
  await Bun.sleep(300);
  expect(statusOf(w1).g12).toBeUndefined();
  expect(statusOf(w2).g12).toBeUndefined();
});
