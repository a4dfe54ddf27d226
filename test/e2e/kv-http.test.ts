import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cleanupTempDirs, type RunningAgent, startAgent } from "./harness.ts";

// The seed's KV session over HTTP against a real agent process on 127.0.0.21.

let a: RunningAgent;
let base: string;
beforeAll(async () => {
  a = await startAgent("127.0.0.21");
  base = `${a.url}/v1/kv`;
});
afterAll(async () => {
  await a?.stop();
  cleanupTempDirs();
});

const put = (path: string, body?: string) => fetch(`${base}/${path}`, { method: "PUT", body });
const get = (path: string) => fetch(`${base}/${path}`);
const index = (r: Response) => Number(r.headers.get("X-Consul-Index"));
const decode = (v: string | null) => (v === null ? null : Buffer.from(v, "base64").toString());

describe("KV over HTTP", () => {
  test("PUT answers true; GET returns Consul's entry with headers", async () => {
    const r = await put("web/key1", "test");
    expect(await r.text()).toBe("true");
    const g = await get("web/key1");
    expect(g.status).toBe(200);
    expect(g.headers.get("Content-Type")).toBe("application/json");
    expect(g.headers.get("X-Consul-KnownLeader")).toBe("true");
    expect(g.headers.get("X-Consul-LastContact")).toBe("0");
    const [e] = (await g.json()) as Array<Record<string, unknown>>;
    expect(Object.keys(e!)).toEqual(["LockIndex", "Key", "Flags", "Value", "CreateIndex", "ModifyIndex"]);
    expect(e).toMatchObject({ Key: "web/key1", Flags: 0, LockIndex: 0, Value: Buffer.from("test").toString("base64") });
    expect(index(g)).toBe(e!.ModifyIndex as number);
  });

  test("?flags=42, ?recurse lists in key order, ?keys with separator", async () => {
    await put("web/key2?flags=42", "test");
    await put("web/sub/key3", "test");
    const all = (await (await get("web/?recurse")).json()) as Array<{ Key: string; Flags: number }>;
    expect(all.map((e) => [e.Key, e.Flags])).toEqual([
      ["web/key1", 0],
      ["web/key2", 42],
      ["web/sub/key3", 0],
    ]);
    expect(await (await get("web/?keys&separator=/")).json()).toEqual(["web/key1", "web/key2", "web/sub/"]);
    expect(await (await get("?keys")).json()).toContain("web/sub/key3");
  });

  test("a missing key is 404 with a non-zero X-Consul-Index; missing name is 400", async () => {
    const r = await get("no/such/key");
    expect(r.status).toBe(404);
    expect(await r.text()).toBe("");
    expect(index(r)).toBeGreaterThan(0);
    const bad = await get("");
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe("Missing key name");
  });

  test("update, then ?cas with a stale and a current index", async () => {
    await put("web/key1", "newval");
    const [e] = (await (await get("web/key1")).json()) as Array<{ ModifyIndex: number; CreateIndex: number; Value: string }>;
    expect(decode(e!.Value)).toBe("newval");
    expect(e!.ModifyIndex).toBeGreaterThan(e!.CreateIndex);
    expect(await (await put(`web/key1?cas=${e!.ModifyIndex - 1}`, "stale")).text()).toBe("false");
    expect(await (await put(`web/key1?cas=${e!.ModifyIndex}`, "fresh")).text()).toBe("true");
    expect(await (await put("web/key1?cas=0", "x")).text()).toBe("false");
    expect(await (await put("brand/new?cas=0", "x")).text()).toBe("true");
  });

  test("DELETE ?recurse removes the tree and answers true", async () => {
    const r = await fetch(`${base}/web?recurse`, { method: "DELETE" });
    expect(await r.text()).toBe("true");
    expect((await get("web/?recurse")).status).toBe(404);
  });

  test("?raw returns the bytes with a safe content type; empty values read back as null", async () => {
    await put("raw/k", "<script>x</script>");
    const r = await get("raw/k?raw");
    expect(await r.text()).toBe("<script>x</script>");
    expect(r.headers.get("Content-Type")).toBe("text/plain");
    expect(r.headers.get("X-Content-Type-Options")).toBe("nosniff");
    await put("raw/empty");
    const [e] = (await (await get("raw/empty")).json()) as Array<{ Value: unknown }>;
    expect(e!.Value).toBeNull();
  });

  test("percent-encoded keys decode once; // in the path is collapsed", async () => {
    await put("a%2Fx%2F1", "enc");
    const r = await fetch(`${a.url}/v1/kv//a/x/1`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as Array<{ Key: string }>)[0]!.Key).toBe("a/x/1");
  });

  test("bad input: 413 over 512 KiB, 405 wrong method, bad wait/index/flags, conflicting flags, unknown dc", async () => {
    const big = await put("big", "x".repeat(512 * 1024 + 1));
    expect(big.status).toBe(413);
    expect(await big.text()).toStartWith("Request body(524289 bytes) too large, max size: 524288 bytes.");
    expect((await get("big")).status).toBe(404);
    const post = await fetch(`${base}/k`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toBe("OPTIONS,GET,PUT,DELETE");
    expect(await (await get("k?index=1&wait=forever")).text()).toBe("Invalid wait time");
    expect(await (await get("k?index=abc")).text()).toBe("Invalid index");
    const flags = await put("k?flags=abc", "v");
    expect([flags.status, await flags.text()]).toEqual([500, 'strconv.ParseUint: parsing "abc": invalid syntax']);
    const both = await put("k?cas=1&acquire=x", "v");
    expect(both.status).toBe(400);
    expect(await both.text()).toStartWith("Conflicting flags:");
    const dc = await get("k?dc=elsewhere");
    expect([dc.status, await dc.text()]).toEqual([500, "No path to datacenter"]);
    expect((await get("k?stale&consistent")).status).toBe(400);
    expect((await get("k")).status).toBe(404);
  });

  test("?acquire with an unknown session is 500 'invalid session'", async () => {
    const r = await put("lock/k?acquire=0b8f8e5c-0000-0000-0000-000000000000", "v");
    expect(r.status).toBe(500);
    expect(await r.text()).toStartWith("invalid session");
  });

  test("?stale and ?consistent say which consistency answered", async () => {
    await put("c/k", "v");
    expect((await get("c/k")).headers.get("X-Consul-Effective-Consistency")).toBe("leader");
    expect((await get("c/k?stale")).headers.get("X-Consul-Effective-Consistency")).toBe("stale");
    expect((await get("c/k?consistent")).headers.get("X-Consul-Effective-Consistency")).toBe("consistent");
  });
});

describe("blocking queries", () => {
  test("a blocked single-key GET wakes on a write to that key with its new index", async () => {
    await put("block/k", "1");
    const first = await get("block/k");
    const idx = index(first);
    const started = Date.now();
    const pending = get(`block/k?index=${idx}&wait=10s`);
    await Bun.sleep(200);
    await put("block/other", "unrelated"); // must not wake the query
    await Bun.sleep(200);
    await put("block/k", "2");
    const r = await pending;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(index(r)).toBeGreaterThan(idx);
    const [e] = (await r.json()) as Array<{ Value: string }>;
    expect(decode(e!.Value)).toBe("2");
  });

  test("a blocked GET times out with 200 and the unchanged index; Go fractional waits work", async () => {
    const idx = index(await get("block/k"));
    const started = Date.now();
    const r = await get(`block/k?index=${idx}&wait=0.5s`);
    const took = Date.now() - started;
    expect(r.status).toBe(200);
    expect(index(r)).toBe(idx);
    expect(took).toBeGreaterThanOrEqual(450);
  });

  test("a delete wakes a blocked GET with 404 and a new index", async () => {
    const idx = index(await get("block/k"));
    const pending = get(`block/k?index=${idx}&wait=10s`);
    await Bun.sleep(100);
    await fetch(`${base}/block/k`, { method: "DELETE" });
    const r = await pending;
    expect(r.status).toBe(404);
    expect(index(r)).toBeGreaterThan(idx);
  });

  test("a blocked ?recurse wakes on a write under the prefix", async () => {
    await put("tree/a", "1");
    const idx = index(await get("tree/?recurse"));
    const pending = get(`tree/?recurse&index=${idx}&wait=10s`);
    await Bun.sleep(100);
    await put("tree/b", "1");
    const r = await pending;
    expect(((await r.json()) as unknown[]).length).toBe(2);
    expect(index(r)).toBeGreaterThan(idx);
  });
});

describe("/v1/txn", () => {
  const txn = (ops: unknown) => fetch(`${a.url}/v1/txn`, { method: "PUT", body: JSON.stringify(ops) });

  test("applies all ops atomically with Consul's result shape", async () => {
    const r = await txn([
      { KV: { Verb: "set", Key: "t/a", Value: Buffer.from("1").toString("base64"), Flags: 3304740253564472344n.toString() } },
      { kv: { verb: "get", key: "t/a" } },
    ]);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toContain('"Flags":3304740253564472344');
    const body = JSON.parse(text) as { Results: Array<{ KV: { Key: string; Value: string | null } }>; Errors: null };
    expect(body.Errors).toBeNull();
    expect(body.Results.map((x) => x.KV.Value)).toEqual([null, Buffer.from("1").toString("base64")]);
  });

  test("any failing op rolls everything back with 409 and every error", async () => {
    const r = await txn([
      { KV: { Verb: "set", Key: "t/b", Value: "" } },
      { KV: { Verb: "cas", Key: "t/a", Index: 1 } },
    ]);
    expect(r.status).toBe(409);
    expect(await r.json()).toEqual({ Results: null, Errors: [{ OpIndex: 1, What: 'failed to set key "t/a", index is stale' }] });
    expect((await get("t/b")).status).toBe(404);
  });

  test("bad bodies: malformed JSON 400, too many ops 413, GET 405", async () => {
    const bad = await fetch(`${a.url}/v1/txn`, { method: "PUT", body: "{not json" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toStartWith("Failed to parse body:");
    const many = await txn(Array.from({ length: 129 }, (_, i) => ({ KV: { Verb: "get", Key: `k${i}` } })));
    expect([many.status, await many.text()]).toEqual([413, "Transaction contains too many operations (129 > 128)"]);
    expect((await fetch(`${a.url}/v1/txn`)).status).toBe(405);
    const huge = await fetch(`${a.url}/v1/txn`, { method: "PUT", body: `[${" ".repeat(600 * 1024)}]` });
    expect(huge.status).toBe(413);
    expect(await huge.text()).toStartWith("Request body(614402 bytes) too large, max size: 524288 bytes.");
  });
});

describe("status and agent", () => {
  test("/v1/status/leader and /peers name this server; /v1/agent/self has Consul's shape", async () => {
    expect(await (await fetch(`${a.url}/v1/status/leader`)).json()).toBe("127.0.0.21:8300");
    expect(await (await fetch(`${a.url}/v1/status/peers`)).json()).toEqual(["127.0.0.21:8300"]);
    const self = (await (await fetch(`${a.url}/v1/agent/self`)).json()) as {
      Config: { Datacenter: string; NodeName: string; Server: boolean };
      Member: { Name: string; Addr: string; Tags: Record<string, string>; Status: number };
    };
    expect(self.Config).toMatchObject({ Datacenter: "dc1", NodeName: "n-127.0.0.21", Server: true });
    expect(self.Member).toMatchObject({ Name: "n-127.0.0.21", Addr: "127.0.0.21", Status: 1 });
    expect(self.Member.Tags.role).toBe("consul");
  });

  test("unknown paths are 404 with Consul's text", async () => {
    const r = await fetch(`${a.url}/v1/nope`);
    expect(r.status).toBe(404);
    expect(await r.text()).toBe("Invalid URL path: not a recognized HTTP API endpoint\n");
  });
});
