import { compileFilter, FilterError } from "../../lib/filter.ts";
import { ConsulError } from "../../lib/errors.ts";
import type { CatalogNode } from "../../state/catalog-types.ts";
import type { StateStore } from "../../state/store.ts";
import type { WatchSet } from "../../state/watch.ts";
import { blockingQuery, type QueryMeta, type QueryOptions, type QueryResult } from "../query.ts";
import type { Server } from "../server.ts";

// What every read endpoint of a server shares: the consistency check, the blocking loop,
// the response metadata, and the list filters Consul's RPC arguments carry.

export async function readQuery<T>(
  server: Server,
  q: QueryOptions,
  query: (s: StateStore, ws: WatchSet | undefined) => QueryResult<T>,
  signal?: AbortSignal,
): Promise<{ meta: QueryMeta; value: T }> {
  // A stale read may be served by any server, leader or not; the others need the leader.
  await server.readBarrier(q.consistency);
  const r = await blockingQuery(() => server.store, q, query, signal);
  return { meta: queryMeta(server, r.index, q), value: r.value };
}

export function queryMeta(server: Server, index: number, q: QueryOptions): QueryMeta {
  return {
    index: Math.max(1, index),
    knownLeader: server.knownLeader,
    lastContactMs: server.lastContactMs,
    consistency: q.consistency === "default" ? "leader" : q.consistency,
  };
}

/** `?tag=`, `?node-meta=k:v` and `?filter=` as a list endpoint receives them. */
export interface ListFilters {
  tags: string[];
  nodeMeta: Record<string, string>;
  filter: string;
}

export const noFilters = (): ListFilters => ({ tags: [], nodeMeta: {}, filter: "" });

/** Compiles `?filter=` once per request; Consul answers a bad expression 400 with this prefix. */
export function compileListFilter(expr: string): ((json: unknown) => boolean) | undefined {
  if (expr === "") return undefined;
  try {
    return compileFilter(expr);
  } catch (err) {
    if (err instanceof FilterError) throw new ConsulError(400, `Failed to create boolean expression evaluator: ${err.message}`);
    throw err;
  }
}

/** Every `?node-meta=k:v` pair must match exactly. */
export function nodeMetaMatches(node: CatalogNode, want: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(want)) if (node.meta[k] !== v) return false;
  return true;
}

/** Every `?tag=` must be on the service; Consul compares tags case-insensitively. */
export function hasTags(tags: string[], want: string[]): boolean {
  return want.every((w) => tags.some((t) => t.toLowerCase() === w.toLowerCase()));
}
