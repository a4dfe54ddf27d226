import type { CheckDefinition } from "../../config/definition-types.ts";
import type { HealthStatus } from "../../state/catalog-types.ts";
import { httpProbe } from "./http.ts";
import { DEFAULT_OUTPUT_MAX_SIZE } from "./output.ts";
import { scriptProbe } from "./script.ts";
import { StatusHandler } from "./status-handler.ts";
import { tcpProbe } from "./tcp.ts";
import { TtlRunner } from "./ttl.ts";

// The runners behind the checks defined on an agent. Interval checks (script, http, tcp) run
// at a fixed rate: the first run comes after a random stagger within one interval, so
// thousands of checks do not fire together; each later run is due one interval after the
// previous one was due, so the schedule does not drift by the runs' own duration. A run still
// going when its next slot comes makes that slot skipped: runs of a check never overlap.

export interface CheckHost {
  /** A result after flap damping; the host stores it, logs transitions, syncs it. */
  update(status: HealthStatus, output: string): void;
  logger: { warn(msg: string): void; debug(msg: string): void };
}

export interface CheckRunner {
  start(): void;
  stop(): void;
}

export interface TtlCheckRunner extends CheckRunner {
  /** pass/warn/fail/update from the API: records the result and restarts the TTL timer. */
  set(status: HealthStatus, output: string): void;
}

export interface RunnerOptions {
  outputMaxSize: number; // cap for Output in bytes (default agent cap 4096)
  random: () => number; // [0,1) for first-run jitter; tests pass a fixed one
}

export interface ProbeResult {
  status: HealthStatus;
  output: string;
  /** Reported as is, past flap damping: Consul does so for a script's timeout or failed start. */
  undamped?: boolean;
}

/** One run of an interval check. Never rejects; after `signal` aborts its result is ignored. */
export type Probe = (signal: AbortSignal) => Promise<ProbeResult>;

const SCRIPT_TIMEOUT_MS = 30_000;
const NET_TIMEOUT_MS = 10_000;

/** Returns the runner for def.kind ("script" | "http" | "tcp" | "ttl"); "alias" -> undefined (the agent handles it). */
export function createCheckRunner(def: CheckDefinition, host: CheckHost, opts: RunnerOptions): CheckRunner | TtlCheckRunner | undefined {
  // The smaller of the agent's cap and the check's own, as Consul's agent picks it.
  let max = opts.outputMaxSize > 0 ? opts.outputMaxSize : DEFAULT_OUTPUT_MAX_SIZE;
  if (def.outputMaxSize > 0 && def.outputMaxSize < max) max = def.outputMaxSize;
  switch (def.kind) {
    case "ttl":
      return new TtlRunner(def.id, def.ttlMs, host);
    case "script":
      return new IntervalRunner(def, host, opts, scriptProbe(def, max, def.timeoutMs || SCRIPT_TIMEOUT_MS, host.logger));
    case "http":
      return new IntervalRunner(def, host, opts, httpProbe(def, max, def.timeoutMs || NET_TIMEOUT_MS, host.logger));
    case "tcp":
      return new IntervalRunner(def, host, opts, tcpProbe(def, def.timeoutMs || NET_TIMEOUT_MS));
    case "alias":
      return undefined;
  }
}

export function isTtlRunner(r: CheckRunner): r is TtlCheckRunner {
  return r instanceof TtlRunner;
}

class IntervalRunner implements CheckRunner {
  private readonly intervalMs: number;
  private readonly damper: StatusHandler;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Set while started; aborted by stop(), which kills whatever the current run is doing. */
  private abort: AbortController | undefined;
  private dueAt = 0;

  constructor(
    def: CheckDefinition,
    private readonly host: CheckHost,
    private readonly opts: RunnerOptions,
    private readonly probe: Probe,
  ) {
    // Not clamped (the agent enforces Consul's 1s minimum); only a degenerate 0 is kept from spinning.
    this.intervalMs = Math.max(def.intervalMs, 1);
    this.damper = new StatusHandler(def, host);
  }

  start(): void {
    if (this.abort) return;
    this.abort = new AbortController();
    this.dueAt = performance.now() + this.opts.random() * this.intervalMs;
    this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    this.abort = undefined;
  }

  private arm(): void {
    this.timer = setTimeout(this.run, Math.max(0, this.dueAt - performance.now()));
    this.timer.unref();
  }

  private readonly run = async (): Promise<void> => {
    const abort = this.abort;
    if (!abort) return;
    this.timer = undefined;
    let r: ProbeResult;
    try {
      r = await this.probe(abort.signal);
    } catch (err) {
      r = { status: "critical", output: (err as Error).message };
    }
    if (abort.signal.aborted) return; // stopped meanwhile: nothing may reach the host now
    try {
      if (r.undamped) this.host.update(r.status, r.output);
      else this.damper.update(r.status, r.output);
    } catch (err) {
      // The host's failure must not end the schedule.
      this.host.logger.warn(`Check result could not be recorded: error="${(err as Error).message}"`);
    }
    // The next slot on the original grid that is still ahead of us.
    const now = performance.now();
    this.dueAt += this.intervalMs;
    if (this.dueAt <= now) this.dueAt += Math.ceil((now - this.dueAt) / this.intervalMs) * this.intervalMs;
    this.arm();
  };
}
