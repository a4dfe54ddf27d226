import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Server, spawn, type Subprocess } from "bun";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, cleanupTempDirs, cli, type RunningAgent, startAgent, tempDir, waitFor, withTimeout } from "./harness.ts";

// Watches end to end: one server agent on 127.0.0.175 whose config file holds a script watch,
// an http watch (to a tiny server on 127.0.0.176) and a failing one; `tsc watch` processes
// against it, with and without a child. A recorder script appends "$CONSUL_INDEX <stdin>" to
// a file, so each line is one handler run.

const AGENT = "127.0.0.175";
const HOOK = "127.0.0.176";
const ADDR = `${AGENT}:8500`;

interface HookCall {
  method: string;
  path: string;
  index: string | null;
  test: string | null;
  type: string | null;
  body: string;
}

let agent: RunningAgent;
let hook: Server<undefined>;
const hookCalls: HookCall[] = [];
let dir: string;
let configFile: string;
let recorder: string;
const watches: Subprocess[] = [];

/** The lines a recorder finished writing, each as [CONSUL_INDEX, decoded JSON]. */
function runs(file: string): Array<[string, unknown]> {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, "utf8").split("\n");
  return lines
    .slice(0, -1) // the last is "" or a run still being written
    .map((l) => {
      const space = l.indexOf(" ");
      return [l.slice(0, space), JSON.parse(l.slice(space + 1))];
    });
}

async function kvPut(key: string, value: string): Promise<void> {
  const r = await fetch(`http://${ADDR}/v1/kv/${key}`, { method: "PUT", body: value });
  expect(await r.text()).toBe("true");
}

async function kvGet(key: string): Promise<Record<string, unknown>> {
  const r = await fetch(`http://${ADDR}/v1/kv/${key}`);
  return ((await r.json()) as Array<Record<string, unknown>>)[0]!;
}

/** `tsc watch ARGS` left running with a recorder child writing to `out`. */
function startWatch(args: string[], out: string): Subprocess<"ignore", "pipe", "pipe"> {
  const proc = spawn([BIN, "watch", "-http-addr", ADDR, ...args, "/bin/sh", recorder, out], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  watches.push(proc);
  return proc;
}

function b64(s: string): string {
  return Buffer.from(s).toString("base64");
}

beforeAll(async () => {
  dir = tempDir("tsc-watch-");
  recorder = join(dir, "record.sh");
  writeFileSync(recorder, 'printf \'%s \' "$CONSUL_INDEX" >> "$1"\ncat >> "$1"\n');
  hook = Bun.serve({
    hostname: HOOK,
    port: 8080,
    async fetch(req) {
      const h = req.headers;
      hookCalls.push({ method: req.method, path: new URL(req.url).pathname, index: h.get("x-consul-index"), test: h.get("x-test"), type: h.get("content-type"), body: await req.text() });
      return new Response("ok");
    },
  });
  configFile = join(dir, "watches.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      watches: [
        { type: "key", key: "cfg/k", args: ["/bin/sh", recorder, join(dir, "cfg-script.out")] },
        { type: "keyprefix", prefix: "cfg/", handler_type: "http", http_handler_config: { path: `http://${HOOK}:8080/hook`, header: { "X-Test": ["yes"] } } },
        { type: "key", key: "cfg/k", handler: "exit 2" },
      ],
    }),
  );
  agent = await startAgent(AGENT, { args: ["-server", "-bootstrap-expect", "1", "-config-file", configFile] });
}, 60_000);

afterAll(async () => {
  for (const w of watches) w.kill("SIGKILL");
  await agent?.kill9();
  hook?.stop(true);
  cleanupTempDirs();
});

describe("tsc watch", () => {
  test("without a child: the first result as indented JSON, in the Go client's field order", async () => {
    await kvPut("x", "hello");
    const pair = await kvGet("x");
    const r = cli(["watch", "-http-addr", ADDR, "-type", "key", "-key", "x"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        "{",
        '    "Key": "x",',
        `    "CreateIndex": ${pair.CreateIndex},`,
        `    "ModifyIndex": ${pair.ModifyIndex},`,
        '    "LockIndex": 0,',
        '    "Flags": 0,',
        `    "Value": "${b64("hello")}",`,
        '    "Session": ""',
        "}",
        "",
      ].join("\n"),
    );
    const missing = cli(["watch", "-http-addr", ADDR, "-type", "key", "-key", "nothing/here"]);
    expect(missing).toEqual({ code: 0, stdout: "null\n", stderr: "" });
  });

  test("with a child: runs it on the first result and on each change, until a signal", async () => {
    const out = join(dir, "prefix.out");
    const proc = startWatch(["-type", "keyprefix", "-prefix", "app/"], out);
    await waitFor(() => runs(out).length === 1, 10_000, () => `no first run: ${readFileSync(out, "utf8")}`);
    expect(runs(out)[0]![1]).toBeNull();
    await kvPut("app/a", "1");
    await waitFor(() => runs(out).length === 2, 10_000, () => "no run for app/a");
    await kvPut("app/b", "2");
    await waitFor(() => runs(out).length === 3, 10_000, () => "no run for app/b");
    const [index, pairs] = runs(out)[2]!;
    expect((pairs as Array<{ Key: string; Value: string }>).map((p) => [p.Key, p.Value])).toEqual([
      ["app/a", b64("1")],
      ["app/b", b64("2")],
    ]);
    expect(index).toBe(String((await kvGet("app/b")).ModifyIndex));
    // Writing the same value again changes nothing a watcher can see.
    await kvPut("app/a", "1");
    proc.kill("SIGINT");
    expect(await withTimeout(proc.exited, 5_000, "watch ignored SIGINT")).toBe(0);
    expect(runs(out)).toHaveLength(3);
  });

  test("an event watch hands on only the events fired since the last run", async () => {
    const out = join(dir, "event.out");
    const proc = startWatch(["-type", "event", "-name", "deploy"], out);
    await waitFor(() => runs(out).length === 1, 10_000, () => "no first run");
    const ids: string[] = [];
    for (const payload of ["v1", "v2"]) {
      const fired = cli(["event", "-http-addr", ADDR, "-name", "deploy", payload]);
      expect(fired.code).toBe(0);
      ids.push(/Event ID: (\S+)/.exec(fired.stdout)![1]!);
      await waitFor(() => runs(out).length === ids.length + 1, 10_000, () => `no run for ${payload}`);
      const events = runs(out).at(-1)![1] as Array<{ ID: string; Name: string; Payload: string }>;
      expect(events.map((e) => [e.ID, e.Name, e.Payload])).toEqual([[ids.at(-1)!, "deploy", b64(payload)]]);
    }
    proc.kill("SIGTERM");
    expect(await withTimeout(proc.exited, 5_000, "watch ignored SIGTERM")).toBe(0);
  });

  test("a failing child ends the watch with Consul's message and exit 1", () => {
    expect(cli(["watch", "-http-addr", ADDR, "-type", "key", "-key", "x", "exit 3"])).toEqual({ code: 1, stdout: "", stderr: "Error executing handler: exit status 3\n" });
    const direct = cli(["watch", "-http-addr", ADDR, "-shell=false", "-type", "key", "-key", "x", "no-such-handler"]);
    expect(direct).toEqual({ code: 1, stdout: "", stderr: 'Error starting handler: exec: "no-such-handler": executable file not found in $PATH\n' });
  });

  test("bad parameters get Consul's errors before the agent is asked", () => {
    const cases: Array<[string[], string]> = [
      [["-type", "key"], "Must specify a single key to watch"],
      [["-type", "keys", "-key", "x"], "Unsupported watch type: keys"],
      [["-type", "checks", "-service", "web", "-state", "critical"], "Cannot specify service and state"],
      [["-type", "event", "-stale"], "Invalid parameters: [stale]"],
      [["-type", "service", "-service", "web", "-passingonly", "maybe"], 'Failed to parse passingonly flag: strconv.ParseBool: parsing "maybe": invalid syntax'],
    ];
    for (const [args, message] of cases) {
      expect(cli(["watch", "-http-addr", "127.0.0.179:1", ...args])).toEqual({ code: 1, stdout: "", stderr: `${message}\n` });
    }
    const none = cli(["watch", "-http-addr", ADDR]);
    expect(none.code).toBe(1);
    expect(none.stderr).toStartWith("Watch type must be specified\n\n");
  });
});

describe("watches in the config file", () => {
  const scriptOut = () => join(dir, "cfg-script.out");

  test("script and http handlers fire on KV changes; failures are logged", async () => {
    await waitFor(() => runs(scriptOut()).length === 1 && hookCalls.length === 1, 15_000, () => `no first runs:\n${agent.output()}`);
    expect(runs(scriptOut())[0]![1]).toBeNull();
    await kvPut("cfg/k", "v1");
    await waitFor(() => runs(scriptOut()).length === 2 && hookCalls.length === 2, 10_000, () => "the watches did not fire for cfg/k");
    const pair = await kvGet("cfg/k");
    const [index, result] = runs(scriptOut())[1]!;
    expect(index).toBe(String(pair.ModifyIndex));
    expect(result).toMatchObject({ Key: "cfg/k", Value: b64("v1"), Session: "" });
    const call = hookCalls[1]!;
    expect(call).toMatchObject({ method: "POST", path: "/hook", index: String(pair.ModifyIndex), test: "yes", type: "application/json" });
    expect(call.body.endsWith("\n")).toBe(true);
    expect((JSON.parse(call.body) as Array<{ Key: string }>).map((p) => p.Key)).toEqual(["cfg/k"]);
    const log = agent.output();
    expect(log).toContain("[WARN]  agent: The 'handler' field in watches has been deprecated and replaced with the 'args' field.");
    expect(log).toContain('[ERROR] agent: Failed to run watch handler: watch_handler="exit 2" error="exit status 2"');
  });

  test("a reload replaces the watches: removed ones stop firing, new ones start", async () => {
    const newOut = join(dir, "cfg-new.out");
    writeFileSync(configFile, JSON.stringify({ watches: [{ type: "key", key: "cfg/new", args: ["/bin/sh", recorder, newOut] }] }));
    expect(cli(["reload", "-http-addr", ADDR])).toEqual({ code: 0, stdout: "Configuration reload triggered\n", stderr: "" });
    await waitFor(() => runs(newOut).length === 1, 10_000, () => "the new watch did not start");
    const [scriptRuns, hookRuns] = [runs(scriptOut()).length, hookCalls.length];
    await kvPut("cfg/k", "v2");
    await kvPut("cfg/new", "n1");
    await waitFor(() => runs(newOut).length === 2, 10_000, () => "the new watch did not fire");
    // The old watches would have fired for cfg/k before the new one fired for the later write.
    await Bun.sleep(300);
    expect(runs(scriptOut())).toHaveLength(scriptRuns);
    expect(hookCalls).toHaveLength(hookRuns);
  });

  test("a bad watch stops validation with Consul's reason", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ data_dir: dir, watches: [{ type: "service", args: ["true"] }] }));
    const r = cli(["validate", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Config validation failed: ${bad}: watches[0]: Failed to parse watch (map[string]interface {}{"args":[]interface {}{"true"}}): Must specify a single service to watch\n`);
  });
});
