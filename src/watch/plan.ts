import { goJson } from "../lib/json.ts";

// The watch loop of Consul's api/watch/plan.go: ask (a blocking query from the last index),
// skip an answer whose index did not move, skip one whose result deep-equals the last one
// handed out, otherwise call the handler and wait for it before asking again. A failure backs
// off 5s × failures², at most 3 minutes, and forgets the index, so the next answer is handed
// out even if nothing changed. Runs until `signal` aborts.

export interface WatchAnswer {
  /** X-Consul-Index of the answer (uint64). */
  index: bigint;
  /** What the handler gets, as JSON-ready data (null for a missing key). */
  result: unknown;
}

/** One query; `lastIndex` is undefined for the first (non-blocking) one and after a failure. */
export type Watcher = (lastIndex: bigint | undefined, signal: AbortSignal) => Promise<WatchAnswer>;

export type WatchHandlerFn = (index: bigint, result: unknown) => Promise<void> | void;

export interface PlanOptions {
  watcher: Watcher;
  handler: WatchHandlerFn;
  signal: AbortSignal;
  /** Called before each back-off wait, with how long it will be. */
  onError: (err: Error, retryMs: number) => void;
  retryIntervalMs?: number;
  maxBackoffMs?: number;
}

/** Consul's retryInterval and maxBackoffTime. */
export const RETRY_INTERVAL_MS = 5_000;
export const MAX_BACKOFF_MS = 180_000;

/** The wait after the n-th failure in a row: interval × n², capped. */
export function retryDelayMs(failures: number, intervalMs = RETRY_INTERVAL_MS, maxMs = MAX_BACKOFF_MS): number {
  return Math.min(intervalMs * failures * failures, maxMs);
}

export async function runPlan(o: PlanOptions): Promise<void> {
  let failures = 0;
  let lastIndex: bigint | undefined;
  let lastResult: string | undefined;
  while (!o.signal.aborted) {
    let answer: WatchAnswer;
    try {
      answer = await o.watcher(lastIndex, o.signal);
    } catch (err) {
      if (o.signal.aborted) return;
      failures++;
      lastIndex = undefined;
      const retryMs = retryDelayMs(failures, o.retryIntervalMs, o.maxBackoffMs);
      o.onError(err as Error, retryMs);
      await sleep(retryMs, o.signal);
      continue;
    }
    if (o.signal.aborted) return;
    failures = 0;
    if (lastIndex !== undefined && lastIndex === answer.index) continue;
    const previous = lastIndex;
    lastIndex = answer.index;
    // Go's reflect.DeepEqual on decoded JSON; equal encodings of the same API's answers are equal values.
    const encoded = goJson(answer.result);
    if (previous !== undefined && encoded === lastResult) continue;
    lastResult = encoded;
    await o.handler(answer.index, answer.result);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
