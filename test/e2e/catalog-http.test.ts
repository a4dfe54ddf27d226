import { afterAll, beforeAll, expect, test } from "bun:test";
import { cleanupTempDirs, cli, type RunningAgent, startAgent } from "./harness.ts";

// /v1/catalog and /v1/health over HTTP against a real agent on 127.0.0.33: the low-level
// register/deregister, the server's own registration, filters, blocking reads and the
// `tsc catalog` commands.

const IP = "127.0.0.33";
let a: RunningAgent;
const NODE = `n-${IP}`;

const req = (method: string, path: string, body?: unknown) =>
  fetch(`${a.url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
const getJson = async <T>(path: string): Promise<{ status: number; index: number; body: T }> => {
  const r = await fetch(`${a.url}${path}`);
  return { status: r.status, index: Number(r.headers.get("X-Consul-Index")), body: (await r.json()) as T };
};

beforeAll(async () => {
  a = await startAgent(IP);
  // External services, as an operator registers them for hosts without an agent.
  for (const [node, addr, meta, svc, tags, status] of [
    ["ext1", "10.0.0.1", { rack: "r1" }, "db", ["primary"], "passing"],
    ["ext2", "10.0.0.2", { rack: "r2" }, "db", ["replica"], "critical"],
  ] as const) {
    const r = await req("PUT", "/v1/catalog/register", {
      Node: node,
      Address: addr,
      NodeMeta: meta,
      Service: { Service: svc, Tags: tags, Port: 5432 },
      Check: { CheckID: "db-alive", Name: "db alive", Status: status, ServiceID: "db" },
    });
    expect([r.status, await r.text()]).toEqual([200, "true"]);
  }
});

afterAll(async () => {
  await a?.stop();
  cleanupTempDirs();
});

test("a server registers itself: node, serfHealth passing, service consul on 8300", async () => {
  const node = await getJson<{ Node: { Node: string; Address: string; TaggedAddresses: Record<string, string> }; Services: Record<string, { Port: number; Tags: string[] }> }>(`/v1/catalog/node/${NODE}`);
  expect(node.body.Node).toMatchObject({ Node: NODE, Address: IP, TaggedAddresses: { lan: IP, wan: IP } });
  expect(node.body.Services.consul).toMatchObject({ Port: 8300, Tags: [] });
  const checks = await getJson<Array<{ CheckID: string; Name: string; Status: string; Output: string }>>(`/v1/health/node/${NODE}`);
  expect(checks.body).toEqual([expect.objectContaining({ CheckID: "serfHealth", Name: "Serf Health Status", Status: "passing", Output: "Agent alive and reachable" })]);
  expect((await getJson(`/v1/catalog/node/nosuch`)).body).toBeNull();
});

test("catalog lists, sorted, with tag, node-meta and filter selectors", async () => {
  expect((await getJson<Array<{ Node: string }>>("/v1/catalog/nodes")).body.map((n) => n.Node)).toEqual(["ext1", "ext2", NODE]);
  expect((await getJson("/v1/catalog/services")).body).toEqual({ consul: [], db: ["primary", "replica"] });
  const byTag = await getJson<Array<{ Node: string; ServiceAddress: string; Address: string }>>("/v1/catalog/service/db?tag=PRIMARY");
  expect(byTag.body.map((n) => n.Node)).toEqual(["ext1"]);
  expect((await getJson<Array<{ Node: string }>>("/v1/catalog/nodes?node-meta=rack:r2")).body.map((n) => n.Node)).toEqual(["ext2"]);
  const filtered = await getJson<Array<{ Node: string }>>(`/v1/catalog/service/db?filter=${encodeURIComponent('ServiceTags contains "replica"')}`);
  expect(filtered.body.map((n) => n.Node)).toEqual(["ext2"]);
  const bad = await req("GET", `/v1/catalog/nodes?filter=${encodeURIComponent("Node ==")}`);
  expect(bad.status).toBe(400);
  expect(await bad.text()).toStartWith("Failed to create boolean expression evaluator");
  expect((await getJson("/v1/catalog/service/nosuch")).body).toEqual([]);
});

test("health: ?passing drops instances with any failing check; state lists", async () => {
  const all = await getJson<Array<{ Node: { Node: string } }>>("/v1/health/service/db");
  expect(all.body.map((e) => e.Node.Node)).toEqual(["ext1", "ext2"]);
  const passing = await getJson<Array<{ Node: { Node: string } }>>("/v1/health/service/db?passing=true");
  expect(passing.body.map((e) => e.Node.Node)).toEqual(["ext1"]);
  expect((await req("GET", "/v1/health/service/db?passing=maybe")).status).toBe(400);
  const critical = await getJson<Array<{ Node: string; CheckID: string; ServiceName: string }>>("/v1/health/state/critical");
  expect(critical.body).toEqual([expect.objectContaining({ Node: "ext2", CheckID: "db-alive", ServiceName: "db" })]);
  expect((await getJson<unknown[]>("/v1/health/state/bogus")).body).toEqual([]);
  const checks = await getJson<Array<{ Node: string }>>("/v1/health/checks/db");
  expect(checks.body.map((c) => c.Node)).toEqual(["ext1", "ext2"]);
});

test("a blocking health query wakes when its service changes, not when another does", async () => {
  const first = await getJson<unknown[]>("/v1/health/service/db");
  const started = Date.now();
  const blocked = getJson<Array<{ Checks: Array<{ Status: string }> }>>(`/v1/health/service/db?index=${first.index}&wait=5s`);
  await Bun.sleep(200);
  // Another service: must not wake the db watcher.
  await req("PUT", "/v1/catalog/register", { Node: "ext3", Address: "10.0.0.3", Service: { Service: "cache", Port: 6379 } });
  await Bun.sleep(200);
  await req("PUT", "/v1/catalog/register", {
    Node: "ext2",
    Address: "10.0.0.2",
    NodeMeta: { rack: "r2" },
    SkipNodeUpdate: true,
    Check: { CheckID: "db-alive", Name: "db alive", Status: "passing", ServiceID: "db" },
  });
  const woke = await blocked;
  expect(Date.now() - started).toBeLessThan(4000);
  expect(woke.index).toBeGreaterThan(first.index);
  expect(woke.body.every((e) => e.Checks.every((c) => c.Status === "passing"))).toBe(true);
});

test("bad registrations: Consul's texts and codes, nothing written", async () => {
  const noAddr = await req("PUT", "/v1/catalog/register", { Node: "x" });
  expect([noAddr.status, await noAddr.text()]).toEqual([500, "Must provide address if SkipNodeUpdate is not set"]);
  const noNode = await req("PUT", "/v1/catalog/register", { Node: "ghost", SkipNodeUpdate: true, Service: { Service: "s" } });
  expect([noNode.status, await noNode.text()]).toEqual([500, "Missing node registration"]);
  const malformed = await req("PUT", "/v1/catalog/register", "{nope");
  expect(malformed.status).toBe(400);
  expect(await malformed.text()).toStartWith("Request decode failed:");
  const get = await req("GET", "/v1/catalog/register");
  expect(get.status).toBe(405);
  expect((await getJson<Array<{ Node: string }>>("/v1/catalog/nodes")).body.map((n) => n.Node)).not.toContain("ghost");
});

test("deregister a service, then a node", async () => {
  expect((await req("PUT", "/v1/catalog/deregister", { Node: "ext3", ServiceID: "cache" })).status).toBe(200);
  expect((await getJson("/v1/catalog/services")).body).toEqual({ consul: [], db: ["primary", "replica"] });
  expect((await req("PUT", "/v1/catalog/deregister", { Node: "ext3" })).status).toBe(200);
  expect((await getJson<Array<{ Node: string }>>("/v1/catalog/nodes")).body.map((n) => n.Node)).toEqual(["ext1", "ext2", NODE]);
});

test("tsc catalog datacenters|nodes|services", () => {
  const addr = ["-http-addr", `${IP}:8500`];
  expect(cli(["catalog", "datacenters", ...addr]).stdout).toBe("dc1\n");
  const nodes = cli(["catalog", "nodes", ...addr]);
  expect(nodes.code).toBe(0);
  const lines = nodes.stdout.trimEnd().split("\n");
  expect(lines[0]).toMatch(/^Node\s+ID\s+Address\s+DC$/);
  expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["ext1", "ext2", NODE]);
  expect(lines[1]).toMatch(/^ext1\s+10\.0\.0\.1\s+dc1$/); // no ID: registered without one
  expect(cli(["catalog", "services", "-tags", ...addr]).stdout).toBe("consul      \ndb          primary,replica\n");
  expect(cli(["catalog", "services", "-node", "ext1", ...addr]).stdout).toBe("db\n");
  const bySvc = cli(["catalog", "nodes", "-service", "db", "-node-meta", "rack=r2", ...addr]);
  expect(bySvc.stdout.trimEnd().split("\n").slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["ext2"]);
  const none = cli(["catalog", "nodes", "-service", "nosuch", ...addr]);
  expect(none).toMatchObject({ code: 0, stdout: "", stderr: "No nodes match the given query - try expanding your search.\n" });
});
