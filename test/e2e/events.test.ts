import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Subprocess, spawn, spawnSync } from "bun";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Consul from "consul";
import { cleanupTempDirs, cli, type RunningAgent, startAgent, tempDir, waitFor } from "./harness.ts";

// User events end to end: a server on 127.0.0.171, a client agent on .172 with a "web"
// service, and Debian's real serf on .173 in the same LAN pool, which must see our events as
// Consul's ("consul:event:<name>"). Events are fired through the CLI, the HTTP API and the
// consul npm client, and listed (and long-polled) on each agent.

const SERVER = "127.0.0.171";
const CLIENT = "127.0.0.172";
const SERF = "127.0.0.173";
const hasSerf = spawnSync(["sh", "-c", "command -v serf"]).exitCode === 0;

interface EventJson {
  ID: string;
  Name: string;
  Payload: string | null;
  NodeFilter: string;
  ServiceFilter: string;
  TagFilter: string;
  Version: number;
  LTime: number;
}

let server: RunningAgent;
let client: RunningAgent;
let serf: Subprocess | undefined;
let serfLog = "";

async function list(ip: string, query = ""): Promise<{ index: string; events: EventJson[] }> {
  const res = await fetch(`http://${ip}:8500/v1/event/list${query}`);
  expect(res.status).toBe(200);
  return { index: res.headers.get("X-Consul-Index") ?? "", events: (await res.json()) as EventJson[] };
}

function fire(ip: string, args: string[]): { code: number; stdout: string; stderr: string } {
  return cli(["event", "-http-addr", `${ip}:8500`, ...args]);
}

/** Fires a marker event and waits until both agents hold it: anything fired before has arrived. */
async function settle(): Promise<void> {
  const id = /Event ID: (\S+)/.exec(fire(SERVER, ["-name", "marker"]).stdout)![1]!;
  for (const ip of [SERVER, CLIENT]) await waitFor(async () => (await list(ip)).events.some((e) => e.ID === id), 10_000, () => `marker not on ${ip}`);
}

beforeAll(async () => {
  server = await startAgent(SERVER);
  client = await startAgent(CLIENT, { args: ["-retry-join", SERVER, "-retry-interval", "1s"] });
  const reg = await fetch(`http://${CLIENT}:8500/v1/agent/service/register`, { method: "PUT", body: JSON.stringify({ Name: "web", Tags: ["v1"], Port: 80 }) });
  expect(reg.status).toBe(200);
  if (hasSerf) {
    serfLog = join(tempDir(), "serf-events.log");
    // serf runs the handler with the event's name in SERF_USER_EVENT and its payload on stdin.
    const handler = `user=printf '%s\\n' "$SERF_USER_EVENT" >> ${serfLog}`;
    serf = spawn(["serf", "agent", "-node=serf-173", `-bind=${SERF}:8301`, `-rpc-addr=${SERF}:7373`, `-join=${SERVER}:8301`, `-event-handler=${handler}`, "-log-level=warn"], { stdout: "ignore", stderr: "ignore" });
  }
}, 60_000);

afterAll(async () => {
  serf?.kill("SIGKILL");
  await Promise.all([client?.kill9(), server?.kill9()]);
  cleanupTempDirs();
});

describe("user events", () => {
  test("tsc event on a client reaches every agent's /v1/event/list with its payload", async () => {
    const r = fire(CLIENT, ["-name", "deploy", "v1.2.3"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const id = /^Event ID: ([0-9a-f-]{36})$/.exec(r.stdout.trim())?.[1];
    expect(id).toBeDefined();
    for (const ip of [SERVER, CLIENT]) {
      await waitFor(async () => (await list(ip)).events.some((e) => e.ID === id), 10_000, () => `event not listed on ${ip}`);
      const { index, events } = await list(ip, "?name=deploy");
      expect(events).toHaveLength(1);
      const e = events[0]!;
      expect(e).toMatchObject({ ID: id, Name: "deploy", NodeFilter: "", ServiceFilter: "", TagFilter: "", Version: 1 });
      expect(Buffer.from(e.Payload!, "base64").toString()).toBe("v1.2.3");
      expect(e.LTime).toBeGreaterThan(0);
      // Consul's index: the ID's two 64-bit halves XORed.
      const hex = id!.replaceAll("-", "");
      expect(index).toBe(String(BigInt(`0x${hex.slice(0, 16)}`) ^ BigInt(`0x${hex.slice(16)}`)));
    }
  });

  test("node, service and tag filters decide which agents keep an event", async () => {
    const serviceOnly = fire(SERVER, ["-name", "f-web", "-service", "^web$"]);
    const tagMatch = fire(SERVER, ["-name", "f-tag", "-service", "web", "-tag", "^v1$"]);
    const tagMiss = fire(SERVER, ["-name", "f-tag-miss", "-service", "web", "-tag", "v2"]);
    const nodeOnly = fire(CLIENT, ["-name", "f-node", "-node", `^n-${SERVER.replaceAll(".", "\\.")}$`]);
    for (const r of [serviceOnly, tagMatch, tagMiss, nodeOnly]) expect(r.code).toBe(0);
    await settle();
    const names = async (ip: string) => (await list(ip)).events.map((e) => e.Name).filter((n) => n.startsWith("f-"));
    expect(await names(CLIENT)).toEqual(["f-web", "f-tag"]);
    expect(await names(SERVER)).toEqual(["f-node"]);
    const web = (await list(CLIENT, "?name=f-tag")).events[0]!;
    expect(web).toMatchObject({ ServiceFilter: "web", TagFilter: "^v1$", Payload: null });
  });

  test("a blocking list returns when the next event arrives, not before", async () => {
    const { index } = await list(CLIENT);
    const started = Date.now();
    const blocked = list(CLIENT, `?index=${index}&wait=20s`);
    let settled = false;
    void blocked.then(() => (settled = true));
    await Bun.sleep(500);
    expect(settled).toBe(false);
    fire(SERVER, ["-name", "wake"]);
    const after = await blocked;
    expect(after.index).not.toBe(index);
    expect(after.events.at(-1)!.Name).toBe("wake");
    expect(Date.now() - started).toBeLessThan(15_000);
    // Nothing new: the wait runs out and the same index comes back.
    const idle = await list(CLIENT, `?index=${after.index}&wait=1s`);
    expect(idle.index).toBe(after.index);
  });

  test("the consul npm client fires and lists events", async () => {
    const consul = new Consul({ host: CLIENT, port: 8500 });
    const fired = (await consul.event.fire("npm-client", "from npm")) as EventJson & { Payload: string };
    expect(fired.Name).toBe("npm-client");
    expect(fired.Payload).toBe("from npm");
    await waitFor(async () => (await list(CLIENT)).events.some((e) => e.ID === fired.ID), 10_000, () => "npm event not listed");
    const listed = (await consul.event.list({ name: "npm-client" })) as Array<EventJson & { Payload: string }>;
    expect(listed.map((e) => [e.ID, e.Payload])).toEqual([[fired.ID, "from npm"]]);
  });

  test.skipIf(!hasSerf)("the real serf sees them as Consul's consul:event:<name>", async () => {
    fire(CLIENT, ["-name", "to-serf", "x"]);
    await waitFor(
      () => {
        try {
          return readFileSync(serfLog, "utf8").split("\n").includes("consul:event:to-serf");
        } catch {
          return false;
        }
      },
      15_000,
      () => "serf never ran its handler for consul:event:to-serf",
    );
  });

  test("bad input gets Consul's errors and fires nothing", async () => {
    const fired = async () => (await list(SERVER)).events.filter((e) => e.Name !== "marker").map((e) => e.ID);
    const before = await fired();
    expect(fire(SERVER, [])).toMatchObject({ code: 1 });
    expect(fire(SERVER, []).stderr).toStartWith("Event name must be specified");
    expect(fire(SERVER, ["-name", "x", "-tag", "v1"]).stderr.trim()).toBe("Cannot provide tag filter without service filter.");
    expect(fire(SERVER, ["-name", "x", "-node", "("]).stderr.trim()).toBe("Failed to compile node filter regexp: error parsing regexp: missing closing ): `(`");
    expect(fire(SERVER, ["-name", "x", "a", "b"]).stderr).toStartWith("Too many command line arguments.");
    const big = fire(SERVER, ["-name", "big", "a".repeat(600)]);
    expect(big.code).toBe(1);
    expect(big.stderr.trim()).toBe("Error firing event: Unexpected response code: 500 (user event exceeds configured limit of 512 bytes before encoding)");

    const put = (path: string) => fetch(`http://${SERVER}:8500${path}`, { method: "PUT" });
    expect(await (await put("/v1/event/fire/")).text()).toBe("Missing name");
    const tagOnly = await put("/v1/event/fire/x?tag=a");
    expect([tagOnly.status, await tagOnly.text()]).toEqual([500, "Cannot provide tag filter without service filter"]);
    const badRe = await put("/v1/event/fire/x?service=%5B");
    expect([badRe.status, await badRe.text()]).toEqual([500, "Invalid service filter: error parsing regexp: missing closing ]: `[`"]);
    const get = await fetch(`http://${SERVER}:8500/v1/event/fire/x`);
    expect([get.status, get.headers.get("Allow")]).toEqual([405, "OPTIONS,PUT"]);
    const badIndex = await fetch(`http://${SERVER}:8500/v1/event/list?index=abc`);
    expect([badIndex.status, await badIndex.text()]).toEqual([400, "Invalid index"]);
    const badWait = await fetch(`http://${SERVER}:8500/v1/event/list?index=1&wait=soon`);
    expect([badWait.status, await badWait.text()]).toEqual([400, "Invalid wait time"]);
    await settle();
    expect(await fired()).toEqual(before);
  });
});
