import { type Subprocess, spawn, spawnSync } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// Runs the compiled binary as real processes. Every agent gets its own loopback address
// (127.0.0.N) with standard ports, so several run side by side; tests kill only what they
// started, and every wait is bounded.

export const BIN = resolve(import.meta.dir, "../../dist/tsc");

export interface RunningAgent {
  ip: string;
  url: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  dataDir: string;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number>;
  kill9: () => Promise<void>;
}

const tempDirs: string[] = [];

export function tempDir(prefix = "tsc-e2e-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

export function cleanupTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Appends what `stream` carries to `sink`, as text, until it ends. */
export function collect(stream: ReadableStream<Uint8Array>, sink: string[]): void {
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) sink.push(decoder.decode(chunk, { stream: true }));
  })();
}

/**
 * Collects an agent process's output and gives its stop/kill handles. An agent that dies on
 * its own would fail some later assertion far from the cause, so that is said at once.
 */
export function watchAgent(proc: Subprocess<"ignore", "pipe", "pipe">, ip: string, url: string, dataDir: string): RunningAgent {
  const out: string[] = [];
  collect(proc.stdout, out);
  collect(proc.stderr, out);
  let ending = false;
  void proc.exited.then((code) => {
    // Exit 0 is a leave the test asked for (`tsc leave`); a crash exits otherwise.
    if (!ending && code !== 0 && proc.signalCode !== "SIGKILL") console.error(`tsc agent on ${ip} exited by itself (code ${code}); its last output:\n${out.join("").slice(-4000)}`);
  });
  return {
    ip,
    url,
    proc,
    dataDir,
    output: () => out.join(""),
    stop: async (signal = "SIGTERM") => {
      ending = true;
      proc.kill(signal);
      return await withTimeout(proc.exited, 10_000, "agent did not exit");
    },
    kill9: async () => {
      ending = true;
      proc.kill("SIGKILL");
      await withTimeout(proc.exited, 10_000, "agent did not die");
    },
  };
}

/** Starts `tsc agent` on `ip` and waits until it answers /v1/status/leader with a leader. */
export async function startAgent(ip: string, opts: { args?: string[]; dataDir?: string; node?: string; waitLeader?: boolean } = {}): Promise<RunningAgent> {
  const dataDir = opts.dataDir ?? tempDir();
  const args = opts.args ?? ["-server", "-bootstrap-expect", "1"];
  const proc = spawn([BIN, "agent", ...args, "-data-dir", dataDir, "-node", opts.node ?? `n-${ip}`, "-bind", ip, "-client", ip], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const agent = watchAgent(proc, ip, `http://${ip}:8500`, dataDir);
  try {
    if (opts.waitLeader !== false) await waitFor(async () => (await leaderOf(ip)) !== "", 15_000, () => `agent on ${ip} never got a leader:\n${agent.output()}`);
    else await waitFor(async () => (await fetch(`${agent.url}/v1/agent/self`).catch(() => undefined))?.ok === true, 15_000, () => `agent on ${ip} never answered:\n${agent.output()}`);
  } catch (err) {
    proc.kill("SIGKILL"); // an agent that never came up must not outlive the test
    throw err;
  }
  return agent;
}

/** The leader's RPC address as the agent on `ip` reports it; "" when it knows none or does not answer. */
export async function leaderOf(ip: string): Promise<string> {
  try {
    const r = await fetch(`http://${ip}:8500/v1/status/leader`, { signal: AbortSignal.timeout(10_000) });
    return r.ok ? ((await r.json()) as string) : "";
  } catch {
    return "";
  }
}

export async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs: number, why: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await Bun.sleep(50);
  }
  throw new Error(why());
}

export async function withTimeout<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(why)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the CLI once and returns what the user sees. */
export function cli(args: string[], opts: { env?: Record<string, string>; stdin?: string; bin?: string } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync([opts.bin ?? BIN, ...args], {
    env: { ...process.env, CONSUL_HTTP_ADDR: "", TSC_HTTP_ADDR: "", ...opts.env },
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    timeout: 20_000,
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/**
 * Waits until servers `among` (indexes into `ips`) all name the same leader, one of `among`
 * and not `not`, each asked through `leaderOf`; returns its index.
 */
export async function agreeOnLeader(ips: string[], leaderOf: (i: number) => Promise<string>, among: number[], timeoutMs: number, not?: number): Promise<number> {
  let found = -1;
  await waitFor(
    async () => {
      const seen = await Promise.all(among.map(leaderOf));
      const idx = ips.findIndex((ip) => `${ip}:8300` === seen[0]);
      found = seen.every((l) => l === seen[0]) && among.includes(idx) && idx !== not ? idx : -1;
      return found >= 0;
    },
    timeoutMs,
    () => `servers ${among.map((i) => ips[i]).join(", ")} agreed on no leader${not === undefined ? "" : ` other than ${ips[not]}`}`,
  );
  return found;
}

/**
 * Servers of one -bootstrap-expect cluster on `ips`, each joining all the others with
 * -retry-join, each keeping its data dir across restarts. Tracks every process it started so
 * shutdown() can end them all, paused (SIGSTOP) ones included.
 */
export class TestCluster {
  readonly dirs: string[];
  readonly agents: Array<RunningAgent | undefined>;
  private readonly started: RunningAgent[] = [];

  constructor(
    readonly ips: string[],
    private readonly opts: { expect?: number; args?: string[] } = {},
  ) {
    this.dirs = ips.map(() => tempDir());
    this.agents = ips.map(() => undefined);
  }

  rpcAddr(i: number): string {
    return `${this.ips[i]}:8300`;
  }

  /** Starts server i (again) with its data dir; waits only until its HTTP API answers. */
  async start(i: number): Promise<RunningAgent> {
    const ip = this.ips[i]!;
    const join = this.ips.filter((other) => other !== ip).flatMap((other) => ["-retry-join", other]);
    const args = ["-server", "-bootstrap-expect", String(this.opts.expect ?? this.ips.length), ...join, "-retry-interval", "1s", ...(this.opts.args ?? [])];
    const a = await startAgent(ip, { node: `s${i}`, dataDir: this.dirs[i], args, waitLeader: false });
    this.agents[i] = a;
    this.started.push(a);
    return a;
  }

  /** Starts every server at once and waits until all agree on a leader; returns its index. */
  async startAll(timeoutMs = 20_000): Promise<number> {
    await Promise.all(this.ips.map((_, i) => this.start(i)));
    return await this.agreedLeader(this.ips.map((_, i) => i), timeoutMs);
  }

  /** Waits until servers `among` all name the same leader, one of `among`; returns its index. */
  agreedLeader(among: number[], timeoutMs = 15_000, not?: number): Promise<number> {
    return agreeOnLeader(this.ips, (i) => leaderOf(this.ips[i]!), among, timeoutMs, not);
  }

  /** Ends every process this cluster started; a paused one is continued first so it can go. */
  async shutdown(): Promise<void> {
    for (const a of this.started.splice(0)) {
      a.proc.kill("SIGCONT");
      await a.stop().catch(() => a.kill9().catch(() => undefined));
    }
  }
}

/** PUT /v1/kv/<key>: the status and body the agent on `ip` answers (status 0: no answer in time). */
export async function kvPut(ip: string, key: string, value: string, timeoutMs = 15_000): Promise<{ status: number; body: string }> {
  try {
    const r = await fetch(`http://${ip}:8500/v1/kv/${key}`, { method: "PUT", body: value, signal: AbortSignal.timeout(timeoutMs) });
    return { status: r.status, body: (await r.text()).trim() };
  } catch (err) {
    return { status: 0, body: (err as Error).message };
  }
}

/** GET /v1/kv/<prefix>?recurse plus `query`: key -> value as the agent on `ip` answers them. */
export async function kvValues(ip: string, prefix: string, query = ""): Promise<Map<string, string>> {
  const r = await fetch(`http://${ip}:8500/v1/kv/${prefix}?recurse${query ? `&${query}` : ""}`, { signal: AbortSignal.timeout(15_000) });
  if (r.status === 404) return new Map();
  if (r.status !== 200) throw new Error(`GET /v1/kv/${prefix} on ${ip}: ${r.status} ${await r.text()}`);
  const rows = (await r.json()) as Array<{ Key: string; Value: string | null }>;
  return new Map(rows.map((e) => [e.Key, Buffer.from(e.Value ?? "", "base64").toString()]));
}
