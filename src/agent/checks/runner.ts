import type { CheckDefinition } from "../../config/definition-types.ts";
import type { HealthStatus } from "../../state/catalog-types.ts";
import { httpProbe, type Probe, scriptProbe, tcpProbe } from "./probes.ts";
import { TtlRunner } from "./ttl.ts";

// Runs the checks defined on an agent. Interval checks (script, http, tcp) run at a fixed
// rate: the first run is staggered over one interval so thousands of checks do not fire
// together, then each run is due exactly one interval after the previous one was, so the
// schedule never drifts by the runs' own duration. A run still going at its next slot makes
// that slot skipped, never a second concurrent run.

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
  outputMaxSize: number;
  random: () => number;
}

export function createCheckRunner(def: CheckDefinition, host: CheckHost, opts: RunnerOptions): CheckRunner | TtlCheckRunner | undefined {
  switch (def.kind) {
    case "ttl":
      return new TtlRunner(def.ttlMs, host);
    case "script":
      return new IntervalRunner(def, host, opts, scriptProbe(def, opts.outputMaxSize, DEFAULT_SCRIPT_TIMEOUT_MS));
    case "http":
      return new IntervalRunner(def, host, opts, httpProbe(def, opts.outputMaxSize, DEFAULT_NET_TIMEOUT_MS));
    case "tcp":
      return new IntervalRunner(def, host, opts, tcpProbe(def, DEFAULT_NET_TIMEOUT_MS));
    case "alias":
      return undefined;
  }
}

export function isTtlRunner(r: CheckRunner): r is TtlCheckRunner {
  return r instanceof TtlRunner;
}

const DEFAULT_SCRIPT_TIMEOUT_MS = 30_000;
const DEFAULT_NET_TIMEOUT_MS = 10_000;

class IntervalRunner implements CheckRunner {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private abort: AbortController | undefined;
  private nextAt = 0;
  private stopped = false;
  private readonly damper: StatusHandler;

  constructor(
    private readonly def: CheckDefinition,
    private readonly host: CheckHost,
    private readonly opts: RunnerOptions,
    private readonly probe: Probe,
  ) {
    this.damper = new StatusHandler(def, host);
  }

  start(): void {
    this.nextAt = performance.now() + this.opts.random() * this.def.intervalMs;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort?.abort();
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.run(), Math.max(0, this.nextAt - performance.now()));
    this.timer.unref?.();
  }

  private async run(): Promise<void> {
    const abort = (this.abort = new AbortController());
    let result: { status: HealthStatus; output: string };
    try {
      result = await this.probe(abort.signal);
    } catch (err) {
      result = { status: "critical", output: (err as Error).message };
    }
    this.abort = undefined;
    if (this.stopped) return;
    this.damper.update(result.status, result.output);
    // Fixed rate: the next slot after now on the original grid.
    const interval = this.def.intervalMs;
    const now = performance.now();
    this.nextAt += interval;
    if (this.nextAt <= now) this.nextAt += Math.ceil((now - this.nextAt) / interval) * interval;
    this.arm();
  }
}

/**
 * Consul's StatusHandler: a result counts only after enough consecutive ones agree.
 * success_before_passing gates passing/warning; failures_before_warning (defaulting to
 * failures_before_critical) and failures_before_critical gate failures.
 */
export class StatusHandler {
  private successes = 0;
  private failures = 0;

  constructor(
    private readonly def: Pick<CheckDefinition, "id" | "successBeforePassing" | "failuresBeforeWarning" | "failuresBeforeCritical">,
    private readonly host: CheckHost,
  ) {}

  update(status: HealthStatus, output: string): void {
    if (status !== "critical") {
      this.successes++;
      this.failures = 0;
      if (this.successes >= this.def.successBeforePassing) this.host.update(status, output);
      else this.host.logger.warn(`Check passed but has not reached success threshold: check=${this.def.id} status=${status} success_count=${this.successes} success_threshold=${this.def.successBeforePassing}`);
      return;
    }
    this.failures++;
    this.successes = 0;
    const warnAt = this.def.failuresBeforeWarning || this.def.failuresBeforeCritical;
    if (this.failures >= this.def.failuresBeforeCritical) this.host.update("critical", output);
    else if (this.failures >= warnAt) this.host.update("warning", output);
    else this.host.logger.warn(`Check failed but has not reached warning/failure threshold: check=${this.def.id} status=${status} failure_count=${this.failures} warning_threshold=${warnAt} failure_threshold=${this.def.failuresBeforeCritical}`);
  }
}
