import { posix } from "node:path";
import type { ApiClient } from "../api/client.ts";
import { ERR_LOCK_IN_USE, Lock } from "../api/lock.ts";
import { type Acquired, LockError, type LockTiming, sleep, WAIT_TIME_MS } from "../api/lock-session.ts";
import { ERR_SEMAPHORE_IN_USE, SEMAPHORE_KEY, Semaphore } from "../api/semaphore.ts";
import { CliError } from "../lib/errors.ts";
import { defineTscCommand } from "./command.ts";
import { durationFlag, intFlag } from "./flag-values.ts";
import { bool, str } from "./flags.ts";
import { type Child, childArgv, startChild } from "./lock-child.ts";
import { call, clientFrom, httpFlags, out } from "./http-flags.ts";

// `tsc lock [options] PREFIX CHILD...`: holds a lock (or, with -n > 1, a semaphore slot) at
// PREFIX while CHILD runs, as Consul's command/lock: the child is told to stop (SIGTERM,
// SIGKILL after a grace period) when the lock is lost or we are signalled; the lock is
// released and cleaned up when it ends. Exit 0, 1 when the lock could not be had or let go,
// and with -child-exit-code 2 when the child failed.

/** lockKillGracePeriod: between the child's SIGTERM and its SIGKILL. */
const KILL_GRACE_MS = 5_000;
/** defaultMonitorRetryTime of the command (the api's own default is 2s). */
const MONITOR_RETRY_MS = 1_000;

/** What a lock and a semaphore have in common for the command (Consul's LockUnlock). */
interface Holder {
  acquire(stop: AbortSignal): Promise<Acquired>;
  release(): Promise<void>;
  destroy(): Promise<void>;
  inUse: string;
}

interface Options {
  verbose: boolean;
  passStdin: boolean;
  shell: boolean;
  childExitCode: boolean;
}

const info = (verbose: boolean, line: string) => verbose && out(line);
const error = (line: string) => void process.stderr.write(`${line}\n`);

export default defineTscCommand({
  meta: { name: "lock", description: "Execute a command holding a lock" },
  stopAtFirstArg: true,
  args: {
    ...httpFlags,
    "child-exit-code": { type: "boolean", description: "Exit 2 if the child process exited with an error; otherwise the child's failure is not propagated." },
    n: { type: "string", description: "Limit on the number of concurrent lock holders; above 1 a semaphore is used.", valueHint: "int", default: "1" },
    "monitor-retry": { type: "string", description: "Times to retry a 500 error while monitoring the lock (1s apart); 0 disables retries.", valueHint: "int", default: "3" },
    name: { type: "string", description: "Name of the lock session (default: from the child command).", valueHint: "name" },
    "pass-stdin": { type: "boolean", description: "Pass stdin to the child process." },
    shell: { type: "boolean", description: "Run the command through a shell ($SHELL, else /bin/sh); -shell=false runs it directly. Default true." },
    timeout: { type: "string", description: "Maximum time to wait to acquire the lock, e.g. 1s or 3h (0: wait for ever).", valueHint: "duration", default: "0" },
    try: { type: "string", description: "DEPRECATED. Use -timeout instead.", valueHint: "duration" },
    verbose: { type: "boolean", description: "Enable verbose (debugging) output." },
    prefix: { type: "positional", description: "KV prefix of the lock", required: true },
    child: { type: "positional", description: "Command to run while holding the lock", required: true },
  },
  async run(flags) {
    const limit = intFlag("n", str(flags.n)!);
    const monitorRetries = intFlag("monitor-retry", str(flags["monitor-retry"])!);
    const timeoutMs = durationFlag(flags.try !== undefined ? "try" : "timeout", str(flags.try) ?? str(flags.timeout)!);
    if (limit <= 0) throw new CliError("Lock holder limit must be positive");
    const extra = flags._;
    if (extra.length < 2) throw new CliError("Key prefix and child command must be specified");
    const prefix = extra[0]!.replace(/^\//, "");
    const args = extra.slice(1);
    if (timeoutMs < 0) throw new CliError("Timeout must be positive");
    const name = str(flags.name) || `Consul lock for '${args.join(" ")}' at '${prefix}'`;
    if (monitorRetries < 0) throw new CliError("Number for 'monitor-retry' must be >= 0");
    // Consul's lock reads with its own consistency (monitoring is consistent); -stale does not apply.
    const client = clientFrom({ ...flags, stale: undefined });
    await call("Error querying Consul agent: ", () => client.agentSelf());
    const opts: Options = { verbose: bool(flags.verbose), passStdin: bool(flags["pass-stdin"]), shell: flags.shell !== false, childExitCode: bool(flags["child-exit-code"]) };
    const timing: LockTiming = { tryOnce: timeoutMs > 0, waitMs: timeoutMs > 0 ? timeoutMs : WAIT_TIME_MS, monitorRetries, monitorRetryMs: MONITOR_RETRY_MS };
    const holder = setup(client, prefix, limit, name, timing, opts.verbose);
    const signals = new Signals();
    try {
      return await holdWhileRunning(holder, args, opts, signals);
    } finally {
      signals.dispose();
    }
  },
});

function setup(client: ApiClient, prefix: string, limit: number, name: string, timing: LockTiming, verbose: boolean): Holder {
  if (limit === 1) {
    // The semaphore's key, so a lock and a semaphore on one prefix conflict visibly.
    const key = posix.join(prefix, SEMAPHORE_KEY);
    info(verbose, `Setting up lock at path: ${key}`);
    const lock = new Lock(client, key, name, timing);
    return { acquire: (stop) => lock.lock(stop), release: () => lock.unlock(), destroy: () => lock.destroy(), inUse: ERR_LOCK_IN_USE };
  }
  info(verbose, `Setting up semaphore (limit ${limit}) at prefix: ${prefix}`);
  if (prefix === "") throw new CliError("Lock setup failed: missing prefix");
  const sem = new Semaphore(client, prefix, limit, name, timing);
  return { acquire: (stop) => sem.acquire(stop), release: () => sem.release(), destroy: () => sem.destroy(), inUse: ERR_SEMAPHORE_IN_USE };
}

async function holdWhileRunning(holder: Holder, args: string[], opts: Options, signals: Signals): Promise<number> {
  info(opts.verbose, "Attempting lock acquisition");
  let held: Acquired;
  try {
    held = await holder.acquire(signals.shutdown);
  } catch (err) {
    if (!(err instanceof LockError)) throw err;
    error(`Lock acquisition failed: ${err.message}`);
    return 1;
  }
  if (!held) {
    error("Shutdown triggered or timeout during lock acquisition");
    return 1;
  }
  let childCode = 0;
  if (signals.shutdown.aborted) {
    error("Shutdown triggered during lock acquisition");
  } else {
    info(opts.verbose, "Starting handler");
    if (opts.passStdin) info(opts.verbose, "Stdin passed to handler process");
    const child = startChild(childArgv(args, opts.shell), opts.passStdin, error);
    signals.child = child;
    const ended = await Promise.race([
      child.done.then((why) => ({ kind: "child" as const, why })),
      held.lost.then(() => ({ kind: "lost" as const })),
      new Promise<{ kind: "shutdown" }>((resolve) => signals.shutdown.addEventListener("abort", () => resolve({ kind: "shutdown" }), { once: true })),
    ]);
    if (ended.kind === "child") {
      if (ended.why !== undefined) childCode = 2;
      info(opts.verbose, "Child terminated, releasing lock");
    } else {
      info(opts.verbose, ended.kind === "lost" ? "Lock lost, killing child" : "Shutdown triggered, killing child");
      await killChild(child, opts.verbose).catch((err: Error) => error(err.message));
    }
  }
  return await releaseAndCleanUp(holder, opts.verbose, opts.childExitCode ? childCode : 0);
}

async function releaseAndCleanUp(holder: Holder, verbose: boolean, code: number): Promise<number> {
  try {
    await holder.release();
  } catch (err) {
    if (!(err instanceof LockError)) throw err;
    error(`Lock release failed: ${err.message}`);
    return 1;
  }
  try {
    await holder.destroy();
    info(verbose, "Cleanup succeeded");
  } catch (err) {
    if (!(err instanceof LockError)) throw err;
    if (err.message !== holder.inUse) {
      error(`Lock cleanup failed: ${err.message}`);
      return 1;
    }
    info(verbose, "Cleanup aborted, lock in use");
  }
  return code;
}

/** SIGTERM, then SIGKILL if it is still there after the grace period. */
async function killChild(child: Child, verbose: boolean): Promise<void> {
  const proc = child.proc;
  if (!proc) {
    info(verbose, "No child process to kill");
    return;
  }
  info(verbose, `Terminating child pid ${proc.pid}`);
  if (!signal(proc.pid, "SIGTERM")) throw new Error(`Failed to terminate ${proc.pid}: os: process already finished`);
  const grace = new AbortController();
  const exited = await Promise.race([child.done.then(() => true), sleep(KILL_GRACE_MS, grace.signal).then(() => false)]);
  grace.abort();
  if (exited) {
    info(verbose, "Child terminated");
    return;
  }
  info(verbose, `Child did not exit after grace period of ${KILL_GRACE_MS / 1000}s`);
  info(verbose, `Killing child pid ${proc.pid}`);
  if (!signal(proc.pid, "SIGKILL")) throw new Error(`Failed to kill ${proc.pid}: os: process already finished`);
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGINT and SIGTERM for the whole run (Consul's shutdown channel): each triggers the
 * shutdown, and while a child runs it is also passed on to the child (agent.ForwardSignals).
 */
class Signals {
  child: Child | undefined;
  private readonly controller = new AbortController();
  private readonly handlers: Array<[NodeJS.Signals, () => void]>;

  constructor() {
    this.handlers = (["SIGINT", "SIGTERM"] as const).map((sig) => [sig, () => this.on(sig)]);
    for (const [sig, fn] of this.handlers) process.on(sig, fn);
  }

  get shutdown(): AbortSignal {
    return this.controller.signal;
  }

  private on(sig: NodeJS.Signals): void {
    const proc = this.child?.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      try {
        proc.kill(sig);
      } catch (err) {
        error(`Warning, could not forward signal: ${(err as Error).message}`);
      }
    }
    this.controller.abort();
  }

  dispose(): void {
    for (const [sig, fn] of this.handlers) process.off(sig, fn);
  }
}
