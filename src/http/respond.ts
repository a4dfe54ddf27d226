import type { Context } from "hono";
import { goJson } from "../lib/json.ts";
import type { QueryMeta } from "../server/query.ts";
import type { AgentEnv } from "./env.ts";

// One place that writes Consul's response shape: Go-style JSON and the X-Consul-* headers.

export function setMeta(c: Context<AgentEnv>, m: QueryMeta): void {
  c.header("X-Consul-Index", String(Math.max(1, m.index)));
  c.header("X-Consul-KnownLeader", m.knownLeader ? "true" : "false");
  c.header("X-Consul-LastContact", String(Math.max(0, Math.floor(m.lastContactMs))));
  c.header("X-Consul-Effective-Consistency", m.consistency);
}

export function json(c: Context<AgentEnv>, value: unknown, status: 200 | 409 | 429 = 200): Response {
  return c.body(goJson(value, c.var.pretty), status, { "Content-Type": "application/json" });
}

/** Plain-text error body, as Consul writes errors. */
export function text(c: Context<AgentEnv>, status: number, body: string): Response {
  return c.body(body, status as 400, { "Content-Type": "text/plain; charset=utf-8" });
}

/** 405 as Consul: `Allow: OPTIONS,<methods>`; OPTIONS itself is a 200 with that header. */
export function methodNotAllowed(c: Context<AgentEnv>, allowed: string[]): Response {
  c.header("Allow", ["OPTIONS", ...allowed].join(","));
  if (c.req.method === "OPTIONS") return c.body(null, 200);
  return text(c, 405, `method ${c.req.method} not allowed`);
}
