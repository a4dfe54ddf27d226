import type { Context } from "hono";
import { parseDurationMs } from "../lib/duration.ts";
import { ConsulError } from "../lib/errors.ts";
import { jitteredWaitMs, type QueryOptions } from "../server/query.ts";
import type { AgentEnv } from "./env.ts";

// Query-string parsing shared by every read endpoint, with Consul's texts and codes.

/** Consul treats these parameters as flags: present with any value (or none) means on. */
export function flag(c: Context<AgentEnv>, name: string): boolean {
  return c.req.query(name) !== undefined;
}

/** ?dc= names another datacenter: there is no WAN federation yet, so Consul's answer. */
export function checkDatacenter(c: Context<AgentEnv>): void {
  const dc = c.req.query("dc");
  if (dc && dc !== c.var.agent.config.datacenter) throw new ConsulError(500, "No path to datacenter");
}

export function queryOptions(c: Context<AgentEnv>): QueryOptions {
  checkDatacenter(c);
  const stale = flag(c, "stale");
  const consistent = flag(c, "consistent");
  if (stale && consistent) throw new ConsulError(400, "Cannot specify ?stale with ?consistent, conflicting semantics.");
  const cfg = c.var.agent.config;
  let waitMs = cfg.defaultQueryTimeMs;
  const wait = c.req.query("wait");
  if (wait) {
    const ms = parseDurationMs(wait);
    if (ms === undefined) throw new ConsulError(400, "Invalid wait time");
    if (ms > 0) waitMs = Math.min(ms, cfg.maxQueryTimeMs);
  }
  let minIndex = 0;
  const index = c.req.query("index");
  if (index) {
    if (!/^\d+$/.test(index) || !Number.isSafeInteger(Number(index))) throw new ConsulError(400, "Invalid index");
    minIndex = Number(index);
  }
  return {
    minIndex,
    maxWaitMs: jitteredWaitMs(waitMs, cfg.maxQueryTimeMs, Math.random),
    consistency: stale ? "stale" : consistent ? "consistent" : "default",
  };
}

/** A uint64 query parameter (flags, cas). Consul answers a bad one 500 with Go's strconv text. */
export function uint64Param(c: Context<AgentEnv>, name: string): bigint | undefined {
  const raw = c.req.query(name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new ConsulError(500, `strconv.ParseUint: parsing ${JSON.stringify(raw)}: invalid syntax`);
  if (BigInt(raw) > 0xffffffffffffffffn) throw new ConsulError(500, `strconv.ParseUint: parsing ${JSON.stringify(raw)}: value out of range`);
  return BigInt(raw);
}

/** Blocking requests may outlive Bun's idle timeout; lift it for this request only. */
export function allowLongPoll(c: Context<AgentEnv>, q: QueryOptions): void {
  if (q.minIndex > 0) c.env.server?.timeout(c.req.raw, 0);
}
