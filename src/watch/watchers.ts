import { type ApiClient, ApiError, encodeKey, type KvPair, parseKvPairs, type Query } from "../api/client.ts";
import { eventIndex } from "../agent/events.ts";
import type { WatchQuery } from "./params.ts";
import type { Watcher } from "./plan.ts";

// What each watch type asks the agent, as Consul's api/watch/funcs.go does through its Go
// client: the same endpoints and parameters, 404 on KV meaning "nothing" (null). KV pairs
// come out in the Go client's field order (api.KVPair); the other types hand on the HTTP
// API's JSON as it is.

const HEALTH_STATES = new Set(["any", "warning", "critical", "passing"]);

export function watcherFor(q: WatchQuery, client: ApiClient): Watcher {
  const stale: Query = "stale" in q && q.stale ? { stale: "" } : {};
  switch (q.type) {
    case "key":
      return async (index, signal) => {
        const r = await client.blockingGet(`/v1/kv/${encodeKey(q.key)}`, stale, index, signal);
        const pairs = kvPairs(r);
        return { index: r.index, result: pairs?.[0] ?? null };
      };
    case "keyprefix":
      return async (index, signal) => {
        const r = await client.blockingGet(`/v1/kv/${encodeKey(q.prefix)}`, { ...stale, recurse: "" }, index, signal);
        return { index: r.index, result: kvPairs(r) ?? null };
      };
    case "services":
      return jsonWatcher(client, () => "/v1/catalog/services", stale);
    case "nodes":
      return jsonWatcher(client, () => "/v1/catalog/nodes", stale);
    case "service": {
      const query: Query = { ...stale, tag: q.tags.length > 0 ? q.tags : undefined, passing: q.passingOnly ? "1" : undefined };
      return jsonWatcher(client, () => `/v1/health/service/${encodeURIComponent(q.service)}`, query);
    }
    case "checks":
      return jsonWatcher(
        client,
        () => {
          if (q.state === "") return `/v1/health/checks/${encodeURIComponent(q.service)}`;
          // The Go client refuses other states itself, so the plan keeps retrying with this error.
          if (!HEALTH_STATES.has(q.state)) throw new Error(`Unsupported state: ${q.state}`);
          return `/v1/health/state/${q.state}`;
        },
        stale,
      );
    case "event":
      return async (index, signal) => {
        const r = await client.blockingGet("/v1/event/list", { name: q.name || undefined }, index, signal);
        const events = decodeOk(r) as Array<{ ID: string }>;
        // Hand on only what came after the event the last answer ended with.
        const seen = index === undefined ? -1 : events.findIndex((e) => eventIndex(e.ID) === index);
        return { index: r.index, result: seen >= 0 ? events.slice(seen + 1) : events };
      };
  }
}

function jsonWatcher(client: ApiClient, path: () => string, query: Query): Watcher {
  return async (index, signal) => {
    const r = await client.blockingGet(path(), query, index, signal);
    return { index: r.index, result: decodeOk(r) };
  };
}

function decodeOk(r: { status: number; body: Uint8Array }): unknown {
  const text = Buffer.from(r.body).toString();
  if (r.status !== 200) throw new ApiError(r.status, text);
  return JSON.parse(text);
}

/** 404 is "no such key"; Go's client answers it with nil. */
function kvPairs(r: { status: number; body: Uint8Array }): ConsulKvPair[] | undefined {
  if (r.status === 404) return undefined;
  const text = Buffer.from(r.body).toString();
  if (r.status !== 200) throw new ApiError(r.status, text);
  return parseKvPairs(text).map(consulKvPair);
}

/** api.KVPair's fields in its order; Session is always written, "" when unheld. */
export interface ConsulKvPair {
  Key: string;
  CreateIndex: number;
  ModifyIndex: number;
  LockIndex: number;
  Flags: bigint;
  Value: string | null;
  Session: string;
}

export function consulKvPair(p: KvPair): ConsulKvPair {
  return { Key: p.Key, CreateIndex: p.CreateIndex, ModifyIndex: p.ModifyIndex, LockIndex: p.LockIndex, Flags: p.Flags, Value: p.Value, Session: p.Session ?? "" };
}
