import type { TCPSocketListener } from "bun";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupTempDirs, cli, type RunningAgent, startAgent, tempDir, waitFor } from "./harness.ts";

// The seed's flow with the real binary: services and checks from a config dir, SIGHUP
// reload, and /v1/health/state/critical; then HTTP, TCP and TTL checks against real local
// servers, maintenance, a broken reload, and anti-entropy across a restart. Agent on
// 127.0.0.31; the services it checks listen on 127.0.0.32.

const IP = "127.0.0.31";
const PEER = "127.0.0.32";
type Check = Record<string, unknown> & { CheckID: string; Status: string; Output: string };

let a: RunningAgent;
let configDir: string;
let dataDir: string;
let flagFile: string;
let httpServer: ReturnType<typeof Bun.serve>;
let tcpServer: TCPSocketListener<undefined>;
let httpStatus = 200;

const get = async <T>(path: string): Promise<T> => {
  const r = await fetch(`${a.url}${path}`);
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
};
const put = (path: string, body?: unknown) =>
  fetch(`${a.url}${path}`, { method: "PUT", body: body === undefined ? undefined : JSON.stringify(body) });
const checks = () => get<Record<string, Check>>("/v1/agent/checks");
const checkStatus = async (id: string) => (await checks())[id]?.Status;
const waitStatus = (id: string, status: string, ms = 10_000) =>
  waitFor(async () => (await checkStatus(id)) === status, ms, () => `check ${id} never became ${status}:\n${a.output().slice(-3000)}`);

const start = () => startAgent(IP, { dataDir, args: ["-server", "-bootstrap-expect", "1", "-config-dir", configDir] });

beforeAll(async () => {
  configDir = tempDir();
  dataDir = tempDir();
  flagFile = join(tempDir(), "healthy");
  httpServer = Bun.serve({ hostname: PEER, port: 0, fetch: () => new Response("it works", { status: httpStatus }) });
  tcpServer = Bun.listen<undefined>({ hostname: PEER, port: 0, socket: { data() {}, open(s) { s.end(); } } });
  // The seed's web service, with a script that fails until the test creates a file.
  writeFileSync(
    join(configDir, "web.json"),
    JSON.stringify({ service: { name: "web", tags: ["rails"], port: 80, check: { script: `test -f ${flagFile} || exit 2`, interval: "1s" } } }),
  );
  a = await start();
});

afterAll(async () => {
  await a?.stop();
  httpServer?.stop(true);
  tcpServer?.stop(true);
  cleanupTempDirs();
});

describe("config-dir services and SIGHUP", () => {
  test("a failing script check shows in /v1/health/state/critical with Consul's fields", async () => {
    await waitFor(
      async () => (await get<Check[]>("/v1/health/state/critical")).some((c) => c.CheckID === "service:web"),
      10_000,
      () => `service:web never critical:\n${a.output()}`,
    );
    const [c] = (await get<Check[]>("/v1/health/state/critical")).filter((x) => x.CheckID === "service:web");
    expect(Object.keys(c!)).toEqual(
      expect.arrayContaining(["Node", "CheckID", "Name", "Status", "Notes", "Output", "ServiceID", "ServiceName", "ServiceTags", "Type", "CreateIndex", "ModifyIndex"]),
    );
    expect(c).toMatchObject({ Node: `n-${IP}`, Name: "Service 'web' check", ServiceID: "web", ServiceName: "web", ServiceTags: ["rails"], Type: "script" });
    const services = await get<Record<string, string[]>>("/v1/catalog/services");
    expect(services).toEqual({ consul: [], web: ["rails"] });
  });

  test("the check recovers when its script starts passing, and the log says so", async () => {
    writeFileSync(flagFile, "");
    await waitStatus("service:web", "passing");
    expect(a.output()).toContain("Check 'service:web' is now passing");
    await waitFor(
      async () => (await get<unknown[]>("/v1/health/service/web?passing")).length === 1,
      10_000,
      () => "catalog never saw web passing",
    );
    rmSync(flagFile);
    await waitStatus("service:web", "critical");
    expect(a.output()).toContain("Check 'service:web' is now critical");
  });

  test("kill -HUP adds a new check and keeps the running ones", async () => {
    const before = (await checks())["service:web"]!;
    writeFileSync(join(configDir, "ping.json"), JSON.stringify({ check: { name: "ping", script: "true", interval: "1s" } }));
    a.proc.kill("SIGHUP");
    await waitStatus("ping", "passing");
    const out = a.output();
    expect(out).toContain("Caught signal: hangup");
    expect(out).toContain("Reloading configuration...");
    const after = (await checks())["service:web"]!;
    expect(after.Status).toBe(before.Status);
    const catalog = await get<Check[]>(`/v1/health/node/n-${IP}`);
    expect(catalog.map((c) => c.CheckID).sort()).toEqual(["ping", "serfHealth", "service:web"]);
  });

  test("a broken file on reload keeps the running config; PUT /v1/agent/reload answers the reason", async () => {
    writeFileSync(join(configDir, "zz-broken.json"), `{"check": {"name": "bad", "script": "true"}}`);
    try {
      const r = await put("/v1/agent/reload");
      expect(r.status).toBe(500);
      expect(await r.text()).toBe(
        `Failed reloading config: ${join(configDir, "zz-broken.json")}: check: Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks`,
      );
      expect(Object.keys(await checks()).sort()).toEqual(["ping", "service:web"]);
    } finally {
      rmSync(join(configDir, "zz-broken.json"));
    }
    rmSync(join(configDir, "ping.json"));
    expect((await put("/v1/agent/reload")).status).toBe(200);
    expect(Object.keys(await checks())).toEqual(["service:web"]);
  });
});

describe("CLI: reload, maint, services, info", () => {
  const addr = () => ["-http-addr", `${IP}:8500`];

  test("`tsc reload` exits 1 with the broken file's reason, and 0 once it is fixed", async () => {
    const broken = join(configDir, "zz-broken.json");
    writeFileSync(broken, `{"services": [{"name": "x", "port": 99999}]}`);
    const r = cli(["reload", ...addr()]);
    rmSync(broken);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error reloading: Unexpected response code: 500 (Failed reloading config: ${broken}: services[0].port: must be an integer from 0 to 65535)\n`);
    expect(cli(["reload", ...addr()])).toMatchObject({ code: 0, stdout: "Configuration reload triggered\n" });
  });

  test("`tsc maint` enables, lists and disables maintenance", async () => {
    expect(cli(["maint", "-enable", "-reason", "kernel upgrade", ...addr()]).stdout).toBe("Node maintenance is now enabled\n");
    expect(cli(["maint", "-enable", "-service", "web", ...addr()]).stdout).toBe('Service maintenance is now enabled for "web"\n');
    const listed = cli(["maint", ...addr()]);
    expect(listed.stdout).toBe(
      `Node:\n  Name:   n-${IP}\n  Reason: kernel upgrade\n\nService:\n  ID:     web\n  Reason: Maintenance mode is enabled for this service, but no reason was provided. This is a default message.\n\n`,
    );
    expect(cli(["maint", "-disable", ...addr()]).stdout).toBe("Node maintenance is now disabled\n");
    expect(cli(["maint", "-disable", "-service", "web", ...addr()]).code).toBe(0);
    expect(cli(["maint", ...addr()]).stdout).toBe("");
    expect(cli(["maint", "-enable", "-disable", ...addr()])).toMatchObject({ code: 1, stderr: "Only one of -enable or -disable may be provided\n" });
    const unknown = cli(["maint", "-enable", "-service", "nope", ...addr()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Error enabling service maintenance: Unexpected response code: 404 (Unknown service ID "nope")');
  });

  test("`tsc services register|deregister` from flags and from a file", async () => {
    expect(cli(["services", "register", "-name", "cache", "-port", "6379", "-tag", "a", "-tag", "b", ...addr()]).stdout).toBe("Registered service: cache\n");
    const file = join(tempDir(), "svc.json");
    writeFileSync(file, JSON.stringify({ services: [{ name: "queue", id: "queue-1", port: 5672 }] }));
    expect(cli(["services", "register", file, ...addr()]).stdout).toBe("Registered service: queue\n");
    const services = await get<Record<string, { Service: string; Tags: string[]; Port: number }>>("/v1/agent/services");
    expect(services.cache).toMatchObject({ Tags: ["a", "b"], Port: 6379 });
    expect(services["queue-1"]).toMatchObject({ Service: "queue", Port: 5672 });
    expect(cli(["services", "deregister", file, ...addr()]).stdout).toBe("Deregistered service: queue-1\n");
    expect(cli(["services", "deregister", "-id", "cache", ...addr()]).stdout).toBe("Deregistered service: cache\n");
    const bad = join(tempDir(), "bad.json");
    writeFileSync(bad, JSON.stringify({ service: { port: 1 } }));
    expect(cli(["services", "register", bad, ...addr()])).toMatchObject({ code: 1, stderr: `Error: ${bad}: Missing service name\n` });
    expect(Object.keys(await get<Record<string, unknown>>("/v1/agent/services"))).toEqual(["web"]);
  });

  test("`tsc info` prints the agent's stats by section", () => {
    const r = cli(["info", ...addr()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^agent:\n\t/);
    expect(r.stdout).toContain("raft:\n");
  });
});

describe("check kinds against real servers", () => {
  test("HTTP check: 200 passing with Consul's output, 429 warning, 500 critical", async () => {
    const url = `http://${PEER}:${httpServer.port}/health`;
    expect((await put("/v1/agent/check/register", { Name: "http-check", HTTP: url, Interval: "1s" })).status).toBe(200);
    await waitStatus("http-check", "passing");
    expect((await checks())["http-check"]!.Output).toBe(`HTTP GET ${url}: 200 OK Output: it works`);
    httpStatus = 429;
    await waitStatus("http-check", "warning");
    httpStatus = 500;
    await waitStatus("http-check", "critical");
    httpStatus = 200;
    await put("/v1/agent/check/deregister/http-check");
  });

  test("TCP check: passing against a listener, critical against a closed port", async () => {
    await put("/v1/agent/check/register", { Name: "tcp-up", TCP: `${PEER}:${tcpServer.port}`, Interval: "1s" });
    await put("/v1/agent/check/register", { Name: "tcp-down", TCP: `${PEER}:1`, Interval: "1s", Status: "passing" });
    await waitStatus("tcp-up", "passing");
    await waitStatus("tcp-down", "critical");
    expect((await checks())["tcp-up"]!.Output).toBe(`TCP connect ${PEER}:${tcpServer.port}: Success`);
    expect((await checks())["tcp-down"]!.Output).toContain("connection refused");
    await put("/v1/agent/check/deregister/tcp-up");
    await put("/v1/agent/check/deregister/tcp-down");
  });

  test("TTL check: starts critical, pass with a note, expires back to critical", async () => {
    await put("/v1/agent/check/register", { ID: "job", Name: "job ttl", TTL: "1s" });
    expect(await checkStatus("job")).toBe("critical");
    expect((await put("/v1/agent/check/pass/job?note=all%20good")).status).toBe(200);
    expect((await checks()).job).toMatchObject({ Status: "passing", Output: "all good" });
    await waitStatus("job", "critical", 5_000);
    expect((await checks()).job!.Output).toContain("TTL expired");
    expect((await put("/v1/agent/check/update/job", { Status: "warning", Output: "slow" })).status).toBe(200);
    expect((await checks()).job).toMatchObject({ Status: "warning", Output: "slow" });
    const bad = await put("/v1/agent/check/update/job", { Status: "bogus" });
    expect([bad.status, await bad.text()]).toEqual([400, "Invalid check status: 'bogus'"]);
    const nottl = await put("/v1/agent/check/pass/service:web");
    expect(nottl.status).toBe(404);
    await put("/v1/agent/check/deregister/job");
  });

  test("script checks over HTTP are refused unless enable_script_checks", async () => {
    const r = await put("/v1/agent/check/register", { Name: "evil", Args: ["sh", "-c", "touch /tmp/pwned"], Interval: "1s" });
    expect(r.status).toBe(400);
    expect(await r.text()).toContain("Scripts are disabled on this agent from remote calls");
    expect((await checks()).evil).toBeUndefined();
  });

  test("writes are PUT only: GET is 405 with Allow", async () => {
    const r = await fetch(`${a.url}/v1/agent/check/pass/service:web`);
    expect(r.status).toBe(405);
    expect(r.headers.get("Allow")).toBe("OPTIONS,PUT");
  });
});

describe("maintenance and anti-entropy", () => {
  test("node and service maintenance register critical checks", async () => {
    expect((await put("/v1/agent/maintenance?enable=true&reason=upgrading")).status).toBe(200);
    expect((await put("/v1/agent/service/maintenance/web?enable=true")).status).toBe(200);
    const all = await checks();
    expect(all._node_maintenance).toMatchObject({ Status: "critical", Notes: "upgrading", Name: "Node Maintenance Mode" });
    expect(all["_service_maintenance:web"]).toMatchObject({ Status: "critical", ServiceID: "web" });
    await waitFor(
      async () => (await get<Check[]>("/v1/health/state/critical")).some((c) => c.CheckID === "_node_maintenance"),
      5_000,
      () => "maintenance never reached the catalog",
    );
    expect((await put("/v1/agent/maintenance?enable=false")).status).toBe(200);
    expect((await put("/v1/agent/service/maintenance/web?enable=false")).status).toBe(200);
    expect(Object.keys(await checks())).toEqual(["service:web"]);
    const bad = await put("/v1/agent/maintenance");
    expect([bad.status, await bad.text()]).toEqual([400, "Missing value for enable"]);
  });

  test("API-registered services persist across a restart and anti-entropy restores the catalog", async () => {
    const r = await put("/v1/agent/service/register", { name: "api", id: "api/1", port: 9000, tags: ["v1"], check: { ttl: "30s" } });
    expect(r.status).toBe(200);
    await waitFor(async () => (await get<unknown[]>("/v1/catalog/service/api")).length === 1, 5_000, () => "api never in catalog");
    // Someone removes it from the catalog behind the agent's back.
    await put("/v1/catalog/deregister", { Node: `n-${IP}`, ServiceID: "api/1" });
    expect(await get<unknown[]>("/v1/catalog/service/api")).toEqual([]);
    await a.stop("SIGINT"); // a server does not leave on Ctrl-C (exit 1); its data dir stays
    a = await start();
    expect(Object.keys(await get<Record<string, unknown>>("/v1/agent/services")).sort()).toEqual(["api/1", "web"]);
    expect((await get<Record<string, unknown>>("/v1/agent/service/api/1")).Service).toBe("api");
    await waitFor(async () => (await get<unknown[]>("/v1/catalog/service/api")).length === 1, 5_000, () => "anti-entropy never restored api");
    expect(existsSync(join(dataDir, "services"))).toBe(true);
    expect((await put("/v1/agent/service/deregister/api/1")).status).toBe(200);
    await waitFor(async () => (await get<unknown[]>("/v1/catalog/service/api")).length === 0, 5_000, () => "api never left the catalog");
  });
});
