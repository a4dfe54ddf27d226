import { type Context, Hono } from "hono";
import { durationError, parseDurationNs } from "../lib/duration.ts";
import { field } from "../lib/fields.ts";
import type { SessionCreateArgs } from "../server/endpoints/session.ts";
import type { QueryMeta, QueryOptions } from "../server/query.ts";
import { SERF_CHECK_ID } from "../state/catalog-types.ts";
import type { ServiceCheckRef, Session } from "../state/sessions.ts";
import { decodeFailed, jsonObjectBody, pathTail } from "./decode.ts";
import type { AgentEnv } from "./env.ts";
import { allowLongPoll, checkDatacenter, queryOptions } from "./query.ts";
import { json, methodNotAllowed, setMeta, text } from "./respond.ts";

// /v1/session: create, destroy and renew (PUT), info, node and list (GET, blocking).
// Bodies, defaults, texts and codes as Consul's agent/session_endpoint.go.

/** A session as Consul's structs.Session writes it: LockDelay in ns, Checks only when set. */
export function sessionJson(s: Session): Record<string, unknown> {
  return {
    ID: s.id,
    Name: s.name,
    Node: s.node,
    LockDelay: s.lockDelayNs,
    Behavior: s.behavior,
    TTL: s.ttl,
    NodeChecks: s.nodeChecks,
    ServiceChecks: s.serviceChecks?.map((c) => ({ ID: c.id, Namespace: c.namespace })) ?? null,
    Checks: s.checks && s.checks.length > 0 ? s.checks : undefined,
    CreateIndex: s.createIndex,
    ModifyIndex: s.modifyIndex,
  };
}

/** Below this a numeric LockDelay is taken as seconds: clients send 15 meaning 15s. */
const LOCK_DELAY_MIN_THRESHOLD_NS = 1000;

function goKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  return typeof v === "object" ? "object" : typeof v;
}

function wrongType(name: string, v: unknown, goType: string): Error {
  return decodeFailed(`json: cannot unmarshal ${goKind(v)} into Go struct field Session.${name} of type ${goType}`);
}

/** A string field; null leaves the default, as Go's decoder does. */
function str(body: Record<string, unknown>, name: string, fallback: string): string {
  const v = field(body, name);
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "string") throw wrongType(name, v, "string");
  return v;
}

/** A list field: absent keeps the default, null clears it, as Go's decoder does. */
function strList(body: Record<string, unknown>, name: string, fallback: string[] | null): string[] | null {
  const v = field(body, name);
  if (v === undefined) return fallback;
  if (v === null) return null;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw wrongType(name, v, "[]string");
  return [...v] as string[];
}

function serviceChecks(body: Record<string, unknown>): ServiceCheckRef[] | null {
  const v = field(body, "ServiceChecks");
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) throw wrongType("ServiceChecks", v, "[]structs.ServiceCheck");
  return v.map((c) => {
    if (typeof c !== "object" || c === null || Array.isArray(c)) throw wrongType("ServiceChecks", c, "structs.ServiceCheck");
    const o = c as Record<string, unknown>;
    return { id: str(o, "ID", ""), namespace: str(o, "Namespace", "") };
  });
}

/** LockDelay as a Go duration string or a number of ns; tiny values are seconds. */
function lockDelayNs(body: Record<string, unknown>): number {
  const v = field(body, "LockDelay");
  if (v === undefined || v === null) return 15e9;
  let ns: number;
  if (typeof v === "string") {
    const err = durationError(v);
    if (err !== undefined) throw decodeFailed(err);
    ns = parseDurationNs(v)!;
  } else if (typeof v === "number") {
    ns = v;
  } else {
    ns = 0; // Consul's decoder ignores other JSON types here
  }
  ns = Math.trunc(ns);
  return ns < LOCK_DELAY_MIN_THRESHOLD_NS ? ns * 1e9 : ns;
}

/**
 * The create body over Consul's defaults (this agent's node, serfHealth, 15s, release), with
 * Consul's pre-1.7 rule: an explicit "Checks" (even empty) replaces the default NodeChecks.
 */
function createArgs(body: Record<string, unknown>, nodeName: string): SessionCreateArgs {
  let nodeChecks = strList(body, "NodeChecks", [SERF_CHECK_ID]);
  let checks = strList(body, "Checks", [SERF_CHECK_ID]);
  if (checks === null || checks.length === 0) nodeChecks = [];
  else if (checks.length === 1 && checks[0] === SERF_CHECK_ID) checks = null;
  else if (nodeChecks === null || nodeChecks.length === 0) checks = null;
  return {
    name: str(body, "Name", ""),
    node: str(body, "Node", nodeName),
    lockDelayNs: lockDelayNs(body),
    behavior: str(body, "Behavior", "release"),
    ttl: str(body, "TTL", ""),
    nodeChecks,
    serviceChecks: serviceChecks(body),
    checks,
  };
}

async function create(c: Context<AgentEnv>): Promise<Response> {
  if (c.req.method !== "PUT") return methodNotAllowed(c, ["PUT"]);
  checkDatacenter(c);
  const args = createArgs(await jsonObjectBody(c), c.var.agent.config.nodeName);
  const id = await c.var.agent.session().create(args);
  return json(c, { ID: id });
}

async function destroy(c: Context<AgentEnv>): Promise<Response> {
  if (c.req.method !== "PUT") return methodNotAllowed(c, ["PUT"]);
  checkDatacenter(c);
  const id = pathTail(c, "/v1/session/destroy/");
  if (id === "") return text(c, 400, "Missing session");
  await c.var.agent.session().destroy(id);
  return json(c, true);
}

async function renew(c: Context<AgentEnv>): Promise<Response> {
  if (c.req.method !== "PUT") return methodNotAllowed(c, ["PUT"]);
  checkDatacenter(c);
  const id = pathTail(c, "/v1/session/renew/");
  if (id === "") return text(c, 400, "Missing session");
  const sessions = await c.var.agent.session().renew(id);
  if (sessions.length === 0) return text(c, 404, `Session id '${id}' not found`);
  return json(c, sessions.map(sessionJson));
}

/** The blocking reads: info/<id>, node/<node>, list. */
function read(prefix: string | undefined, missing: string, run: (c: Context<AgentEnv>, arg: string) => Promise<{ meta: QueryMeta; sessions: Session[] }>) {
  return async (c: Context<AgentEnv>): Promise<Response> => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return methodNotAllowed(c, ["GET"]);
    const arg = prefix === undefined ? "" : pathTail(c, prefix);
    if (prefix !== undefined && arg === "") return text(c, 400, missing);
    const r = await run(c, arg);
    setMeta(c, r.meta);
    return json(c, r.sessions.map(sessionJson));
  };
}

function opts(c: Context<AgentEnv>): QueryOptions {
  const q = queryOptions(c);
  allowLongPoll(c, q);
  return q;
}

export const sessionRoutes = new Hono<AgentEnv>()
  .all("/create", create)
  .all("/destroy/*", destroy)
  .all("/renew/*", renew)
  .all("/info/*", read("/v1/session/info/", "Missing session", (c, id) => c.var.agent.session().get(id, opts(c), c.req.raw.signal)))
  .all("/node/*", read("/v1/session/node/", "Missing node name", (c, node) => c.var.agent.session().nodeSessions(node, opts(c), c.req.raw.signal)))
  .all("/list", read(undefined, "", (c) => c.var.agent.session().list(opts(c), c.req.raw.signal)));
