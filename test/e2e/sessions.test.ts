import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Consul from "consul";
import { cleanupTempDirs, type RunningAgent, startAgent, tempDir, waitFor } from "./harness.ts";

// Sessions and KV locks against a real server agent on 127.0.0.160. session_ttl_min is
// lowered to 1s in its config so TTL expiry (TTL x 2 on the leader) fits in a test.

const IP = "127.0.0.160";
const NODE = "sess-node";
let a: RunningAgent;
let args: string[];
let u: string;

beforeAll(async () => {
  const conf = tempDir();
  writeFileSync(join(conf, "sessions.json"), JSON.stringify({ session_ttl_min: "1s" }));
  args = ["-server", "-bootstrap-expect", "1", "-config-file", join(conf, "sessions.json")];
  a = await startAgent(IP, { args, node: NODE });
  u = a.url;
  // Sessions default to the serfHealth check: wait until the leader has registered it.
  await waitFor(async () => JSON.stringify(await (await fetch(`${u}/v1/health/node/${NODE}`)).json()).includes("serfHealth"), 10_000, () => a.output());
});
afterAll(async () => {
  await a?.stop();
  cleanupTempDirs();
});

const put = (path: string, body?: unknown) => fetch(`${u}${path}`, { method: "PUT", body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
const index = (r: Response) => Number(r.headers.get("X-Consul-Index"));

async function createSession(body?: Record<string, unknown>): Promise<string> {
  const r = await put("/v1/session/create", body);
  const text = await r.text();
  if (r.status !== 200) throw new Error(`session create: ${r.status} ${text}`);
  return (JSON.parse(text) as { ID: string }).ID;
}

async function acquire(key: string, session: string, value = session): Promise<boolean> {
  return (await (await put(`/v1/kv/${key}?acquire=${session}`, value)).json()) as boolean;
}

async function holder(key: string): Promise<string | undefined> {
  const r = await fetch(`${u}/v1/kv/${key}`);
  return r.status === 404 ? undefined : ((await r.json()) as Array<{ Session?: string }>)[0]!.Session;
}

/**
 * The leader-election loop of a contender (Consul's api.Lock shape): block on the key until
 * nobody holds it, then try to acquire; a refusal (lock-delay) retries shortly. Resolves with
 * the time it became leader.
 */
async function contend(key: string, session: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let idx = 0;
  while (Date.now() < deadline) {
    const r = await fetch(`${u}/v1/kv/${key}?index=${idx}&wait=2s`);
    const held = r.status === 200 && ((await r.json()) as Array<{ Session?: string }>)[0]!.Session !== undefined;
    idx = index(r);
    if (held) continue;
    if (await acquire(key, session)) return Date.now();
    idx = 0; // refused during lock-delay: look again without blocking
    await Bun.sleep(100);
  }
  throw new Error(`${session} never acquired ${key}`);
}

describe("sessions over HTTP", () => {
  test("create with no body takes Consul's defaults; info, node and list show it", async () => {
    const id = await createSession();
    const r = await fetch(`${u}/v1/session/info/${id}`);
    expect(r.status).toBe(200);
    const [s] = (await r.json()) as Array<Record<string, unknown>>;
    expect(Object.keys(s!)).toEqual(["ID", "Name", "Node", "LockDelay", "Behavior", "TTL", "NodeChecks", "ServiceChecks", "CreateIndex", "ModifyIndex"]);
    expect(s).toMatchObject({ ID: id, Name: "", Node: NODE, LockDelay: 15_000_000_000, Behavior: "release", TTL: "", NodeChecks: ["serfHealth"], ServiceChecks: null });
    expect(index(r)).toBeGreaterThanOrEqual(s!.CreateIndex as number);
    const node = (await (await fetch(`${u}/v1/session/node/${NODE}`)).json()) as Array<{ ID: string }>;
    expect(node.map((x) => x.ID)).toContain(id);
    const list = (await (await fetch(`${u}/v1/session/list`)).json()) as Array<{ ID: string }>;
    expect(list.map((x) => x.ID)).toContain(id);
    expect(await (await put(`/v1/session/destroy/${id}`)).json()).toBe(true);
    expect(await (await fetch(`${u}/v1/session/info/${id}`)).json()).toEqual([]);
    // Destroying what is gone is no error.
    expect(await (await put(`/v1/session/destroy/${id}`)).json()).toBe(true);
  });

  test("bad input gets Consul's status and text, and creates nothing", async () => {
    const before = ((await (await fetch(`${u}/v1/session/list`)).json()) as unknown[]).length;
    const fail = async (body: unknown) => {
      const r = await put("/v1/session/create", body);
      return `${r.status} ${await r.text()}`;
    };
    expect(await fail({ TTL: "0.5s" })).toBe("500 Invalid Session TTL '500000000', must be between [1s=24h0m0s]");
    expect(await fail({ TTL: "25h" })).toBe("500 Invalid Session TTL '90000000000000', must be between [1s=24h0m0s]");
    expect(await fail({ TTL: "10z" })).toBe(`500 Session TTL '10z' invalid: time: unknown unit "z" in duration "10z"`);
    expect(await fail({ Behavior: "keep" })).toBe("500 Invalid Behavior setting 'keep'");
    expect(await fail({ Node: "nowhere" })).toBe("500 Missing node registration");
    expect(await fail({ NodeChecks: ["serfHealth", "nope"] })).toBe("500 Missing check 'nope' registration");
    expect(await fail({ LockDelay: "soon" })).toBe(`400 Request decode failed: time: invalid duration "soon"`);
    expect(await fail("[1]")).toStartWith("400 Request decode failed");
    expect(((await (await fetch(`${u}/v1/session/list`)).json()) as unknown[]).length).toBe(before);

    const renew = await put("/v1/session/renew/5b3cb2b2-0000-0000-0000-000000000000");
    expect(`${renew.status} ${await renew.text()}`).toBe("404 Session id '5b3cb2b2-0000-0000-0000-000000000000' not found");
    const ghost = await put("/v1/kv/locked?acquire=5b3cb2b2-0000-0000-0000-000000000000", "x");
    expect(`${ghost.status} ${await ghost.text()}`).toBe(`500 invalid session "5b3cb2b2-0000-0000-0000-000000000000"`);
    expect((await fetch(`${u}/v1/kv/locked`)).status).toBe(404);
    expect((await fetch(`${u}/v1/session/create`)).status).toBe(405);
    expect(await (await put("/v1/session/destroy/")).text()).toBe("Missing session");
  });

  test("lowercase keys and Consul's numeric LockDelay shorthand (5 means 5s)", async () => {
    const id = await createSession({ name: "api", lockdelay: 5, behavior: "delete", ttl: "30s", checks: [] });
    const [s] = (await (await fetch(`${u}/v1/session/info/${id}`)).json()) as Array<Record<string, unknown>>;
    expect(s).toMatchObject({ Name: "api", LockDelay: 5_000_000_000, Behavior: "delete", TTL: "30s", NodeChecks: [] });
    const renewed = await put(`/v1/session/renew/${id}`);
    expect(renewed.status).toBe(200);
    expect(((await renewed.json()) as Array<{ ID: string }>)[0]!.ID).toBe(id);
    await put(`/v1/session/destroy/${id}`);
  });

  test("a blocking info query wakes when its session is destroyed", async () => {
    const id = await createSession({ LockDelay: "0s" });
    const r = await fetch(`${u}/v1/session/info/${id}`);
    const started = Date.now();
    const blocked = fetch(`${u}/v1/session/info/${id}?index=${index(r)}&wait=20s`);
    await Bun.sleep(300);
    await put(`/v1/session/destroy/${id}`);
    const woke = await blocked;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(index(woke)).toBeGreaterThan(index(r));
    expect(await woke.json()).toEqual([]);
  });
});

test("txn lock/unlock/check-session, and lock-delay refusing a txn lock with Consul's error", async () => {
  const [first, second] = [await createSession({ LockDelay: "10s" }), await createSession()];
  const txn = async (ops: unknown[]) => {
    const r = await put("/v1/txn", ops);
    return { status: r.status, body: (await r.json()) as { Results: Array<{ KV: Record<string, unknown> }> | null; Errors: unknown } };
  };
  const kv = (Verb: string, Session: string) => ({ KV: { Verb, Key: "txn/k", Value: Buffer.from("v").toString("base64"), Session } });
  const locked = await txn([kv("lock", first), kv("check-session", first)]);
  expect(locked.status).toBe(200);
  expect(locked.body.Results!.map((r) => [r.KV.Session, r.KV.LockIndex])).toEqual([
    [first, 1],
    [first, 1],
  ]);
  expect((await txn([kv("unlock", second)])).body.Errors).toEqual([{ OpIndex: 0, What: `failed to unlock key "txn/k", lock isn't held, or is held by another session` }]);
  await put(`/v1/session/destroy/${first}`);
  expect(await holder("txn/k")).toBeUndefined();
  const delayed = await txn([kv("lock", second)]);
  expect(delayed).toEqual({ status: 409, body: { Results: null, Errors: [{ OpIndex: 0, What: 'failed to lock key "txn/k" due to lock delay' }] } });
  expect(await acquire("txn/k", second)).toBe(false);
  await put(`/v1/session/destroy/${second}`);
});

describe("leader election through a KV lock", () => {
  test("the holder's session is destroyed: the contender takes over after lock-delay", async () => {
    const [first, second] = [await createSession({ LockDelay: "1s" }), await createSession({ LockDelay: "1s" })];
    expect(await acquire("elect/destroy", first)).toBe(true);
    expect(await acquire("elect/destroy", second)).toBe(false);
    // Re-acquiring our own lock keeps the LockIndex: the same generation.
    expect(await acquire("elect/destroy", first, "again")).toBe(true);
    const takeover = contend("elect/destroy", second, 15_000);
    await Bun.sleep(300);
    const invalidated = Date.now();
    await put(`/v1/session/destroy/${first}`);
    const at = await takeover;
    expect(at - invalidated).toBeGreaterThanOrEqual(1000);
    expect(at - invalidated).toBeLessThan(8000);
    const [e] = (await (await fetch(`${u}/v1/kv/elect/destroy`)).json()) as Array<{ Session: string; LockIndex: number }>;
    expect(e).toMatchObject({ Session: second, LockIndex: 2 });
    await put(`/v1/session/destroy/${second}`);
  });

  test("the holder stops renewing: its TTL runs out on the leader and the contender takes over", async () => {
    const requested = Date.now();
    const first = await createSession({ TTL: "1s", LockDelay: "1s" });
    const second = await createSession({ LockDelay: "1s" });
    expect(await acquire("elect/ttl", first)).toBe(true);
    const at = await contend("elect/ttl", second, 15_000);
    // TTL x 2 before expiry, then the lock-delay.
    expect(at - requested).toBeGreaterThanOrEqual(3000);
    expect(at - requested).toBeLessThan(10_000);
    expect(await (await fetch(`${u}/v1/session/info/${first}`)).json()).toEqual([]);
    expect(await holder("elect/ttl")).toBe(second);
    await put(`/v1/session/destroy/${second}`);
  });

  test("the holder's check goes critical: its session ends and the contender takes over", async () => {
    const reg = await put("/v1/agent/check/register", { Name: "leader-check", TTL: "60s", Status: "passing" });
    expect(reg.status).toBe(200);
    await waitFor(async () => JSON.stringify(await (await fetch(`${u}/v1/health/node/${NODE}`)).json()).includes("leader-check"), 10_000, () => "check never reached the catalog");
    const first = await createSession({ NodeChecks: ["serfHealth", "leader-check"], LockDelay: "1s" });
    const second = await createSession({ LockDelay: "1s" });
    expect(await acquire("elect/check", first)).toBe(true);
    const takeover = contend("elect/check", second, 15_000);
    await Bun.sleep(300);
    const failed = Date.now();
    await put("/v1/agent/check/fail/leader-check");
    const at = await takeover;
    expect(at - failed).toBeGreaterThanOrEqual(1000);
    expect(at - failed).toBeLessThan(8000);
    expect(await (await fetch(`${u}/v1/session/info/${first}`)).json()).toEqual([]);
    // A critical check refuses new sessions too.
    const refused = await put("/v1/session/create", { NodeChecks: ["leader-check"] });
    expect(`${refused.status} ${await refused.text()}`).toBe("500 Check 'leader-check' is in critical state");
    await put("/v1/agent/check/deregister/leader-check");
    await put(`/v1/session/destroy/${second}`);
  });
});

test("Patroni-style: TTL session renewed each loop, acquire, cas=0, a blocking GET wakes on expiry (behavior delete)", async () => {
  // python-consul's body, as Patroni sends it.
  const id = await createSession({ name: "pg-node1", ttl: "1s", lockdelay: "0.001s", behavior: "delete", checks: [] });
  expect(await (await put("/v1/kv/service/pg/initialize?cas=0", "7001")).json()).toBe(true);
  expect(await (await put("/v1/kv/service/pg/initialize?cas=0", "7002")).json()).toBe(false);
  expect(await acquire("service/pg/leader", id, "node1")).toBe(true);
  // Renewed every loop for longer than TTL x 2: still alive, still leader.
  for (let i = 0; i < 5; i++) {
    await Bun.sleep(600);
    const r = await put(`/v1/session/renew/${id}`);
    expect(r.status).toBe(200);
    expect(await acquire("service/pg/leader", id, "node1")).toBe(true);
  }
  const g = await fetch(`${u}/v1/kv/service/pg/leader`);
  const [e] = (await g.json()) as Array<{ Session: string; LockIndex: number }>;
  expect(e).toMatchObject({ Session: id, LockIndex: 1 });
  // A replica watches the leader key; the leader stops renewing.
  const started = Date.now();
  const woke = await fetch(`${u}/v1/kv/service/pg/leader?index=${index(g)}&wait=20s`);
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(woke.status).toBe(404);
  expect(index(woke)).toBeGreaterThan(index(g));
  const renew = await put(`/v1/session/renew/${id}`);
  expect(`${renew.status} ${await renew.text()}`).toBe(`404 Session id '${id}' not found`);
  // Keys the session did not hold stay.
  expect((await fetch(`${u}/v1/kv/service/pg/initialize`)).status).toBe(200);
});

test("the consul npm client: session create/info/node/list/renew/destroy and kv acquire/release", async () => {
  const consul = new Consul({ host: IP, port: 8500 });
  const { ID } = (await consul.session.create({ name: "npm", ttl: "10s", lockdelay: "0s" })) as { ID: string };
  const info = (await consul.session.info(ID)) as { ID: string; Name: string; TTL: string; Node: string };
  expect(info).toMatchObject({ ID, Name: "npm", TTL: "10s", Node: NODE });
  expect(((await consul.session.node(NODE)) as Array<{ ID: string }>).map((s) => s.ID)).toContain(ID);
  expect(((await consul.session.list()) as Array<{ ID: string }>).map((s) => s.ID)).toContain(ID);
  expect(((await consul.session.renew(ID)) as Array<{ ID: string }>)[0]!.ID).toBe(ID);
  expect(await consul.kv.set({ key: "npm/lock", value: "held", acquire: ID })).toBe(true);
  expect(((await consul.kv.get("npm/lock")) as { Session?: string }).Session).toBe(ID);
  expect(await consul.kv.set({ key: "npm/lock", value: "free", release: ID })).toBe(true);
  const released = (await consul.kv.get("npm/lock")) as { Session?: string; LockIndex: number; Value: string };
  expect(released).toMatchObject({ LockIndex: 1, Value: "free" });
  expect(released.Session).toBeUndefined();
  await consul.session.destroy(ID);
  expect(await consul.session.info(ID)).toBeUndefined();
});

test("sessions, held locks and TTL timers survive a restart", async () => {
  const keep = await createSession({ Name: "keep", LockDelay: "0s" });
  const timed = await createSession({ Name: "timed", TTL: "2s", LockDelay: "0s" });
  expect(await acquire("restart/kept", keep)).toBe(true);
  expect(await acquire("restart/timed", timed)).toBe(true);
  await a.stop(); // a server does not leave on SIGTERM: the restart finds its Raft data
  a = await startAgent(IP, { args, node: NODE, dataDir: a.dataDir });
  // The new leader times the session afresh (TTL x 2 from now), so it is still here.
  const names = ((await (await fetch(`${u}/v1/session/list`)).json()) as Array<{ Name: string }>).map((s) => s.Name);
  expect(names).toContain("keep");
  expect(names).toContain("timed");
  expect(await holder("restart/kept")).toBe(keep);
  await waitFor(async () => (await holder("restart/timed")) === undefined, 15_000, () => "the timed session never expired after the restart");
  expect(await (await fetch(`${u}/v1/session/info/${timed}`)).json()).toEqual([]);
  expect(await holder("restart/kept")).toBe(keep);
});
