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

function collect(stream: ReadableStream<Uint8Array>, sink: string[]): void {
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) sink.push(decoder.decode(chunk, { stream: true }));
  })();
}

/** Starts `tsc agent` on `ip` and waits until it answers /v1/status/leader with a leader. */
export async function startAgent(ip: string, opts: { args?: string[]; dataDir?: string; node?: string; waitLeader?: boolean } = {}): Promise<RunningAgent> {
  const dataDir = opts.dataDir ?? tempDir();
  const args = opts.args ?? ["-server", "-bootstrap-expect", "1"];
  const out: string[] = [];
  const proc = spawn([BIN, "agent", ...args, "-data-dir", dataDir, "-node", opts.node ?? `n-${ip}`, "-bind", ip, "-client", ip], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  collect(proc.stdout, out);
  collect(proc.stderr, out);
  const url = `http://${ip}:8500`;
  // An agent that dies on its own fails some later assertion far from the cause: say so here.
  let ending = false;
  void proc.exited.then((code) => {
    if (!ending && proc.signalCode !== "SIGKILL") console.error(`tsc agent on ${ip} exited by itself (code ${code}); its last output:\n${out.join("").slice(-4000)}`);
  });
  const agent: RunningAgent = {
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
  try {
    if (opts.waitLeader !== false) await waitFor(async () => (await leaderOf(url)) !== "", 15_000, () => `agent on ${ip} never got a leader:\n${agent.output()}`);
    else await waitFor(async () => (await fetch(`${url}/v1/agent/self`).catch(() => undefined))?.ok === true, 15_000, () => `agent on ${ip} never answered:\n${agent.output()}`);
  } catch (err) {
    proc.kill("SIGKILL"); // an agent that never came up must not outlive the test
    throw err;
  }
  return agent;
}

/** The leader's RPC address as the agent at `url` reports it; "" when none or unreachable. */
export async function leaderOf(url: string): Promise<string> {
  try {
    const r = await fetch(`${url}/v1/status/leader`);
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
