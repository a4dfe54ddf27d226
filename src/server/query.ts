import type { StateStore } from "../state/store.ts";
import type { WatchSet } from "../state/watch.ts";

// Query options and metadata as Consul's structs.QueryOptions/QueryMeta carry them, and the
// one blocking-query loop every read endpoint uses (agent/blockingquery in Consul).

export type Consistency = "default" | "stale" | "consistent";

export interface QueryOptions {
  /** index=N: block until the result's index passes N. 0 means answer at once. */
  minIndex: number;
  /** wait=...: how long to block, already defaulted and capped by the agent. */
  maxWaitMs: number;
  consistency: Consistency;
}

export interface QueryMeta {
  index: number;
  knownLeader: boolean;
  lastContactMs: number;
  consistency: "leader" | "stale" | "consistent";
}

export interface QueryResult<T> {
  index: number;
  value: T;
}

/**
 * Runs `query` once if no index was given; otherwise re-runs it each time one of its
 * watches fires until its index passes `minIndex` or the wait expires (then answers with
 * the unchanged result, as Consul does). A store swap (snapshot restore) fires every watch
 * and answers at once from the new store.
 * Rules for `query`: register watches for everything it reads; return index >= 1 when it can.
 */
export async function blockingQuery<T>(
  store: () => StateStore,
  opts: QueryOptions,
  query: (store: StateStore, ws: WatchSet | undefined) => QueryResult<T>,
  signal?: AbortSignal,
): Promise<QueryResult<T>> {
  if (opts.minIndex === 0) return clampIndex(query(store(), undefined));
  const deadline = Date.now() + opts.maxWaitMs;
  for (;;) {
    const s = store();
    const ws = s.watchSet();
    const result = query(s, ws);
    const remaining = deadline - Date.now();
    if (result.index > opts.minIndex || remaining <= 0 || signal?.aborted) {
      ws.dispose();
      return clampIndex(result);
    }
    const fired = await ws.wait(remaining, signal);
    // A snapshot restore replaced the store: answer from the new one now, whatever its index
    // (it may be lower; clients start over then), as Consul returns on an abandoned store.
    if (!fired || store() !== s) return clampIndex(query(store(), undefined));
  }
}

/** Clients spin on index 0: Consul never reports it. */
function clampIndex<T>(r: QueryResult<T>): QueryResult<T> {
  return r.index < 1 ? { ...r, index: 1 } : r;
}

/** Consul's jitter: up to wait/16 more, so many watchers do not return in lockstep. */
export function jitteredWaitMs(waitMs: number, maxMs: number, random: () => number): number {
  return Math.min(waitMs + random() * (waitMs / 16), maxMs);
}
