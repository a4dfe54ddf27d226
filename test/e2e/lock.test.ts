import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Subprocess, spawn } from "bun";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseKvPairs } from "../../src/api/client.ts";
import { BIN, cleanupTempDirs, cli, type RunningAgent, startAgent, tempDir, waitFor, withTimeout } from "./harness.ts";

// `tsc lock` against a real server agent on 127.0.0.180: contenders are real `tsc lock`
// processes whose children log "start <id> <pid>" / "end <id>" lines to one file and run
// until the test creates their stop file, so the test decides who finishes when.

const IP = "127.0.0.180";
const ADDR = `${IP}:8500`;
const NODE = "lock-node";
const LOCK_FLAGS = 0x2ddccbc058a50c18n;
const SEMAPHORE_FLAGS = 0xe0f69a2baa414de0n;

let a: RunningAgent;
let dir: string;
let log: string;
const started: Array<Subprocess<"ignore", "pipe", "pipe">> = [];

beforeAll(async () => {
  a = await startAgent(IP, { node: NODE });
  dir = tempDir();
  log = join(dir, "log");
  writeFileSync(log, "");
  // Lock sessions take the node's serfHealth check: wait until the leader has registered it.
  await waitFor(async () => JSON.stringify(await (await fetch(`${a.url}/v1/health/node/${NODE}`)).json()).includes("serfHealth"), 10_000, () => a.output());
});

afterAll(async () => {
  for (const p of started) p.kill("SIGKILL");
  for (const pid of childPids()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await a?.stop();
  cleanupTempDirs();
});

interface LockRun {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  stdout: () => string;
  stderr: () => string;
}

function collect(stream: ReadableStream<Uint8Array>, sink: string[]): void {
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) sink.push(decoder.decode(chunk, { stream: true }));
  })();
}

/** Starts `tsc lock ARGS` in the background. */
function lock(args: string[]): LockRun {
  const out: string[] = [];
  const err: string[] = [];
  const proc = spawn([BIN, "lock", "-http-addr", ADDR, ...args], {
    env: { ...process.env, CONSUL_HTTP_ADDR: "", SHELL: "/bin/sh" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  started.push(proc);
  collect(proc.stdout, out);
  collect(proc.stderr, err);
  return { proc, stdout: () => out.join(""), stderr: () => err.join("") };
}

/** `tsc lock ARGS` run to the end. */
function lockOnce(args: string[], stdin?: string) {
  return cli(["lock", "-http-addr", ADDR, ...args], { env: { SHELL: "/bin/sh" }, stdin });
}

/** A child that logs its start (with its pid) and end, and runs until stop(id). */
function child(id: string, trapTerm = false): string {
  const trap = trapTerm ? `trap 'echo got TERM ${id} >> ${log}; exit 0' TERM; ` : "";
  return `${trap}echo start ${id} $$ >> ${log}; while [ ! -e ${join(dir, `stop-${id}`)} ]; do sleep 0.1; done; echo end ${id} >> ${log}`;
}

const stop = (id: string) => writeFileSync(join(dir, `stop-${id}`), "");
const lines = () => readFileSync(log, "utf8").split("\n").filter((l) => l !== "");
const starts = () => lines().flatMap((l) => (l.startsWith("start ") ? [l.split(" ")[1]!] : []));
const childPids = () => (existsSync(log) ? lines().flatMap((l) => (l.startsWith("start ") ? [Number(l.split(" ")[2])] : [])) : []);
const pidOf = (id: string) => Number(lines().find((l) => l.startsWith(`start ${id} `))!.split(" ")[2]);
const exited = (r: LockRun, ms = 15_000) => withTimeout(r.proc.exited, ms, `tsc lock did not exit:\n${r.stdout()}\n${r.stderr()}`);

/** The most children the log shows running at once. */
function mostAtOnce(prefixIds: string[]): number {
  let running = 0;
  let most = 0;
  for (const l of lines()) {
    const [what, id] = l.split(" ");
    if (!prefixIds.includes(id!)) continue;
    if (what === "start") most = Math.max(most, ++running);
    if (what === "end") running--;
  }
  return most;
}

async function kv(prefix: string) {
  const r = await fetch(`${a.url}/v1/kv/${prefix}?recurse`);
  return r.status === 404 ? [] : parseKvPairs(await r.text());
}

async function sessions(): Promise<Array<Record<string, unknown>>> {
  return (await (await fetch(`${a.url}/v1/session/list`)).json()) as Array<Record<string, unknown>>;
}

const destroySession = (id: string) => fetch(`${a.url}/v1/session/destroy/${id}`, { method: "PUT" });

describe("tsc lock: one holder at a time", () => {
  let holder: LockRun;
  let other: LockRun;
  let ids: [string, string];

  test("two contenders: one child runs, holding PREFIX/.lock as Consul's api.Lock does; the other takes over when it exits", async () => {
    const runs = { A: lock(["app/leader", child("A")]), B: lock(["app/leader", child("B")]) };
    await waitFor(() => starts().length >= 1, 15_000, () => `no child started:\n${runs.A.stderr()}${runs.B.stderr()}`);
    await Bun.sleep(1500);
    expect(starts()).toHaveLength(1);
    const first = starts()[0] as "A" | "B";
    const second = first === "A" ? "B" : "A";
    [holder, other, ids] = [runs[first], runs[second], [first, second]];

    const [pair] = await kv("app/leader/.lock");
    expect(pair).toMatchObject({ Key: "app/leader/.lock", Flags: LOCK_FLAGS, Value: null, LockIndex: 1 });
    const [session] = (await (await fetch(`${a.url}/v1/session/info/${pair!.Session}`)).json()) as Array<Record<string, unknown>>;
    expect(session).toMatchObject({ Name: `Consul lock for '${child(first)}' at 'app/leader'`, TTL: "15s", Behavior: "release", LockDelay: 15e9, Node: NODE });
    // The waiting contender has its own session already.
    expect((await sessions()).filter((s) => String(s.Name).endsWith("at 'app/leader'"))).toHaveLength(2);

    stop(first);
    expect(await exited(holder)).toBe(0);
    expect(holder.stdout()).toBe("");
    expect(holder.stderr()).toBe("");
    await waitFor(() => starts().length === 2, 10_000, () => `the other never took over:\n${other.stderr()}`);
    expect(lines().map((l) => l.replace(/ \d+$/, ""))).toEqual([`start ${first}`, `end ${first}`, `start ${second}`]);
    expect(mostAtOnce(["A", "B"])).toBe(1);
    // The holder that left destroyed its session.
    expect((await sessions()).map((s) => s.ID)).not.toContain(session!.ID);
  });

  test("kill -9 of the holder leaves its session holding the lock; once that session is destroyed, the next contender takes over after the lock-delay", async () => {
    const [, holding] = ids;
    holder = other;
    const next = lock(["app/leader", child("C")]);
    await Bun.sleep(1000);
    const [before] = await kv("app/leader/.lock");
    holder.proc.kill("SIGKILL");
    await exited(holder);
    process.kill(pidOf(holding), "SIGKILL"); // its orphaned child would go on believing it leads
    await Bun.sleep(1000);
    const [after] = await kv("app/leader/.lock");
    expect(after!.Session).toBe(before!.Session!);
    expect(starts()).not.toContain("C");

    const destroyedAt = Date.now();
    await destroySession(after!.Session!);
    await waitFor(() => starts().includes("C"), 25_000, () => `C never took over from ${holding}:\n${next.stderr()}`);
    // Consul's lock-delay (15s by default) keeps the key from anyone after an invalidation.
    expect(Date.now() - destroyedAt).toBeGreaterThan(14_000);
    stop("C");
    expect(await exited(next)).toBe(0);
    expect(await kv("app/leader")).toEqual([]);
  }, 40_000);
});

test("-n 2: two children run at once and a third waits; contender keys and the .lock JSON are Consul's api.Semaphore layout", async () => {
  const runs = ["S1", "S2", "S3"].map((id) => ({ id, run: lock(["-n", "2", "app/sem", child(id)]) }));
  await waitFor(() => starts().filter((s) => s.startsWith("S")).length >= 2, 15_000, () => runs.map((r) => r.run.stderr()).join(""));
  // The third has made its contender key too.
  await waitFor(async () => (await kv("app/sem")).length === 4, 10_000, () => "no third contender key");
  await Bun.sleep(1000);
  const running = starts().filter((s) => s.startsWith("S"));
  expect(running).toHaveLength(2);

  const pairs = await kv("app/sem");
  const lockPair = pairs.find((p) => p.Key === "app/sem/.lock")!;
  const contenders = pairs.filter((p) => p !== lockPair);
  expect(lockPair).toMatchObject({ Flags: SEMAPHORE_FLAGS, LockIndex: 0 });
  expect(lockPair.Session).toBeUndefined();
  for (const c of contenders) expect(c).toMatchObject({ Key: `app/sem/${c.Session}`, Flags: SEMAPHORE_FLAGS, Value: null, LockIndex: 1 });
  const value = Buffer.from(lockPair.Value!, "base64").toString();
  const holders = Object.keys((JSON.parse(value) as { Holders: Record<string, boolean> }).Holders);
  expect(holders).toHaveLength(2);
  expect(value).toBe(`{"Limit":2,"Holders":{${[...holders].sort().map((h) => `"${h}":true`).join(",")}}}`);
  for (const h of holders) expect(contenders.map((c) => c.Session)).toContain(h);
  const mine = (await sessions()).filter((s) => contenders.some((c) => c.Session === s.ID));
  expect(mine.map((s) => s.Behavior)).toEqual(["delete", "delete", "delete"]);

  stop(running[0]!);
  await waitFor(() => starts().filter((s) => s.startsWith("S")).length === 3, 10_000, () => "the third never got a slot");
  for (const r of runs) stop(r.id);
  for (const r of runs) expect(await exited(r.run)).toBe(0);
  expect(mostAtOnce(["S1", "S2", "S3"])).toBe(2);
  expect(await kv("app/sem")).toEqual([]);
  expect((await sessions()).filter((s) => contenders.some((c) => c.Session === s.ID))).toEqual([]);
});

test("-try/-timeout and SIGINT give up with Consul's message; a lock and a semaphore on one prefix conflict; nothing is left behind", async () => {
  const holder = lock(["app/try", child("T")]);
  await waitFor(() => starts().includes("T"), 15_000, () => holder.stderr());
  const sessionsBefore = (await sessions()).length;
  const t0 = Date.now();
  expect(lockOnce(["-try", "1s", "app/try", "true"])).toEqual({ code: 1, stdout: "", stderr: "Shutdown triggered or timeout during lock acquisition\n" });
  expect(Date.now() - t0).toBeLessThan(5_000);
  expect(lockOnce(["-timeout", "300ms", "app/try", "echo never"])).toEqual({ code: 1, stdout: "", stderr: "Shutdown triggered or timeout during lock acquisition\n" });
  expect(lockOnce(["-n", "2", "app/try", "true"])).toEqual({ code: 1, stdout: "", stderr: "Lock acquisition failed: Existing key does not match semaphore use\n" });
  await fetch(`${a.url}/v1/kv/app/plain/.lock`, { method: "PUT", body: "mine" });
  expect(lockOnce(["app/plain", "true"])).toEqual({ code: 1, stdout: "", stderr: "Lock acquisition failed: Existing key does not match lock use\n" });
  const interrupted = lock(["app/try", "echo never"]);
  // Waiting once its session exists (its signal handlers are in place by then).
  await waitFor(async () => (await sessions()).some((s) => s.Name === "Consul lock for 'echo never' at 'app/try'"), 10_000, () => interrupted.stderr());
  interrupted.proc.kill("SIGINT");
  expect(await exited(interrupted)).toBe(1);
  expect(interrupted.stderr()).toBe("Shutdown triggered or timeout during lock acquisition\n");
  // Every give-up destroyed its session; the semaphore's contender key went with it.
  expect((await sessions()).length).toBe(sessionsBefore);
  expect((await kv("app/try")).map((p) => p.Key)).toEqual(["app/try/.lock"]);
  stop("T");
  expect(await exited(holder)).toBe(0);
});

test("SIGTERM to tsc lock reaches the child, then the lock is released for the next contender at once", async () => {
  const holder = lock(["-verbose", "app/term", child("H", true)]);
  await waitFor(() => starts().includes("H"), 15_000, () => holder.stderr());
  const next = lock(["app/term", child("N")]);
  await Bun.sleep(1000);
  const [pair] = await kv("app/term/.lock");
  holder.proc.kill("SIGTERM");
  expect(await exited(holder)).toBe(0);
  const pid = pidOf("H");
  expect(lines()).toContain("got TERM H");
  expect(holder.stdout()).toMatch(
    new RegExp(
      `^Setting up lock at path: app/term/\\.lock\nAttempting lock acquisition\nStarting handler\nShutdown triggered, killing child\nTerminating child pid ${pid}\nChild terminated\n(Cleanup succeeded|Cleanup aborted, lock in use)\n$`,
    ),
  );
  expect(holder.stderr()).toBe("");
  await waitFor(() => starts().includes("N"), 5_000, () => `the next contender did not take over:\n${next.stderr()}`);
  expect((await sessions()).map((s) => s.ID)).not.toContain(pair!.Session);
  stop("N");
  expect(await exited(next)).toBe(0);
});

test("a lost lock (its session destroyed) kills the child: Consul's 'Lock lost, killing child'", async () => {
  const holder = lock(["-verbose", "app/lost", child("L")]);
  await waitFor(() => starts().includes("L"), 15_000, () => holder.stderr());
  const [pair] = await kv("app/lost/.lock");
  await destroySession(pair!.Session!);
  expect(await exited(holder)).toBe(0);
  expect(holder.stdout()).toContain("Starting handler\nLock lost, killing child\nTerminating child pid ");
  expect(holder.stderr()).toBe("Error running handler: signal: terminated\n");
  expect(lines()).not.toContain("end L");
});

describe("tsc lock runs the child as Consul does", () => {
  test("the child's output only; flags after the prefix are the child's; -shell=false runs it directly", () => {
    expect(lockOnce(["-shell=false", "app/run", "echo", "-n", "hi"])).toEqual({ code: 0, stdout: "hi", stderr: "" });
    expect(lockOnce(["app/run", "echo", "$CONSUL_LOCK_HELD"])).toEqual({ code: 0, stdout: "true\n", stderr: "" });
    expect(lockOnce(["-shell=false", "app/run", "no-such-program-xyz"])).toEqual({ code: 0, stdout: "", stderr: 'Error starting handler: exec: "no-such-program-xyz": executable file not found in $PATH\n' });
  });

  test("stdin only with -pass-stdin", () => {
    expect(lockOnce(["-pass-stdin", "app/run", "cat"], "hello")).toEqual({ code: 0, stdout: "hello", stderr: "" });
    expect(lockOnce(["app/run", "cat"], "hello")).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  test("a failing child is exit 0, or 2 with -child-exit-code", () => {
    expect(lockOnce(["app/run", "exit 3"])).toEqual({ code: 0, stdout: "", stderr: "Error running handler: exit status 3\n" });
    expect(lockOnce(["-child-exit-code", "app/run", "exit 3"])).toEqual({ code: 2, stdout: "", stderr: "Error running handler: exit status 3\n" });
  });

  test("bad input: Consul's one-line errors, exit 1", () => {
    const run = (args: string[]) => cli(["lock", ...args]);
    expect(run([])).toEqual({ code: 1, stdout: "", stderr: "Key prefix and child command must be specified\n" });
    expect(run(["app/x"])).toEqual({ code: 1, stdout: "", stderr: "Key prefix and child command must be specified\n" });
    expect(run(["-n", "0", "app/x", "true"])).toEqual({ code: 1, stdout: "", stderr: "Lock holder limit must be positive\n" });
    expect(run(["-timeout", "-1s", "app/x", "true"])).toEqual({ code: 1, stdout: "", stderr: "Timeout must be positive\n" });
    expect(run(["-monitor-retry", "-1", "app/x", "true"])).toEqual({ code: 1, stdout: "", stderr: "Number for 'monitor-retry' must be >= 0\n" });
    expect(run(["-timeout", "soon", "app/x", "true"]).stderr).toStartWith('invalid value "soon" for flag -timeout: parse error\n');
    expect(run(["-http-addr", "127.0.0.184:8500", "app/x", "true"])).toEqual({
      code: 1,
      stdout: "",
      stderr: 'Error querying Consul agent: Get "http://127.0.0.184:8500/v1/agent/self": dial tcp 127.0.0.184:8500: connect: connection refused\n',
    });
  });
});
