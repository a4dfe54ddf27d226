import type { CheckHost, CheckRunner, RunnerOptions } from "../../../src/agent/checks/runner.ts";
import { createCheckRunner } from "../../../src/agent/checks/runner.ts";
import { parseCheckDefinition } from "../../../src/config/definitions.ts";
import type { CheckDefinition } from "../../../src/config/definition-types.ts";
import type { HealthStatus } from "../../../src/state/catalog-types.ts";

// A real host for the runners: it records what reaches it and lets a test await the next result.

export type Result = { status: HealthStatus; output: string };

export interface RecordingHost extends CheckHost {
  results: Result[];
  warnings: string[];
  next(): Promise<Result>;
}

export function recordingHost(): RecordingHost {
  const results: Result[] = [];
  const warnings: string[] = [];
  const waiters: Array<(r: Result) => void> = [];
  return {
    results,
    warnings,
    update(status, output) {
      const r = { status, output };
      results.push(r);
      waiters.shift()?.(r);
    },
    logger: { warn: (m) => void warnings.push(m), debug() {} },
    next: () => new Promise<Result>((resolve) => waiters.push(resolve)),
  };
}

/** A definition from Consul-style JSON, with millisecond overrides Consul's parser would refuse. */
export function checkDef(raw: Record<string, unknown>, ms: Partial<Pick<CheckDefinition, "intervalMs" | "timeoutMs" | "ttlMs">> = {}): CheckDefinition {
  return { ...parseCheckDefinition({ name: "c", ...raw }), ...ms };
}

export const OPTS: RunnerOptions = { outputMaxSize: 4096, random: () => 0 };

/** Starts a check, waits for its first result (the stagger is 0), stops it. */
export async function runOnce(raw: Record<string, unknown>, opts: Partial<RunnerOptions> & { timeoutMs?: number } = {}): Promise<Result> {
  const h = recordingHost();
  const def = checkDef({ interval: "10s", ...raw }, opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {});
  const r = createCheckRunner(def, h, { ...OPTS, ...opts }) as CheckRunner;
  const first = h.next();
  r.start();
  try {
    return await first;
  } finally {
    r.stop();
  }
}
