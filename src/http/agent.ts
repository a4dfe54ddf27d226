import { parseGoBool } from "../lib/go-bool.ts";
import { type Context, Hono } from "hono";
import { type Agent, memberJson } from "../agent/agent.ts";
import { checkInput } from "../agent/anti-entropy.ts";
import type { LocalCheck, LocalService } from "../agent/local.ts";
import { DefinitionError, parseCheckDefinition, parseServiceDefinition } from "../config/definitions.ts";
import { parseDurationMs } from "../lib/duration.ts";
import { ConsulError } from "../lib/errors.ts";
import { compileListFilter } from "../server/endpoints/read.ts";
import { checkJson } from "../state/catalog-json.ts";
import { type HealthStatus, isHealthStatus } from "../state/catalog-types.ts";
import { bodyFields, jsonBody, jsonObjectBody, pathTail } from "./decode.ts";
import type { AgentEnv } from "./env.ts";
import { allowLongPoll, flag } from "./query.ts";
import { json, methodNotAllowed, text } from "./respond.ts";

// /v1/agent: this agent's own services and checks (not Raft-indexed; changes reach the
// catalog by anti-entropy), TTL updates, maintenance mode, reload and self. Writes are PUT
// only: a side effect on GET invites cross-site requests, so GET is 405 as in Consul 1.x.

type Json = Record<string, unknown>;

function agentServiceJson(agent: Agent, s: LocalService): Json {
  const d = s.def;
  const tagged = Object.entries(d.taggedAddresses);
  return {
    ID: d.id,
    Service: d.name,
    Tags: d.tags,
    Meta: d.meta,
    Port: d.port,
    Address: d.address,
    TaggedAddresses: tagged.length ? Object.fromEntries(tagged.map(([k, a]) => [k, { Address: a.address, Port: a.port }])) : undefined,
    Weights: { Passing: d.weights.passing, Warning: d.weights.warning },
    EnableTagOverride: d.enableTagOverride,
    Datacenter: agent.config.datacenter,
  };
}

function agentCheckJson(agent: Agent, c: LocalCheck): Json {
  const svc = c.serviceId ? agent.local.service(c.serviceId) : undefined;
  const { CreateIndex: _c, ModifyIndex: _m, ...rest } = checkJson({
    ...checkInput(agent.config.nodeName, c),
    serviceName: svc?.def.name ?? "",
    serviceTags: svc?.def.tags ?? [],
    createIndex: 0,
    modifyIndex: 0,
  });
  return rest;
}

/** A stable digest of what /v1/agent/service/<id> returns, for `?hash=` blocking. */
function contentHash(body: Json): string {
  return new Bun.CryptoHasher("sha256").update(JSON.stringify(body)).digest("hex").slice(0, 16);
}

function putOnly(handler: (c: Context<AgentEnv>) => Promise<Response> | Response) {
  return (c: Context<AgentEnv>): Promise<Response> | Response => (c.req.method === "PUT" ? handler(c) : methodNotAllowed(c, ["PUT"]));
}

/** DefinitionError is the user's mistake: 400 with its one line. */
function definition<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof DefinitionError) throw new ConsulError(400, err.message);
    throw err;
  }
}

function enableParam(c: Context<AgentEnv>): boolean {
  const v = c.req.query("enable");
  if (v === undefined || v === "") throw new ConsulError(400, "Missing value for enable");
  const b = parseGoBool(v);
  if (b !== undefined) return b;
  throw new ConsulError(400, `Invalid value for enable: ${JSON.stringify(v)}`);
}

function ttlUpdate(status: HealthStatus, prefix: string) {
  return putOnly((c) => {
    const id = pathTail(c, prefix);
    c.var.agent.local.updateTtl(id, status, c.req.query("note") ?? "");
    return c.body(null, 200);
  });
}

const aggregateCode = { passing: 200, warning: 429, critical: 503, maintenance: 503 } as const;

/** Consul's AgentHealthService*: worst status of a service's checks, as a status code too. */
function aggregated(agent: Agent, s: LocalService): { status: keyof typeof aggregateCode; body: Json } {
  const checks = agent.local.listChecks().filter((c) => c.serviceId === s.def.id || c.serviceId === "");
  let status: keyof typeof aggregateCode = "passing";
  for (const c of checks) {
    if (c.type === "maintenance") {
      status = "maintenance";
      break;
    }
    if (c.status === "critical") status = "critical";
    else if (c.status === "warning" && status === "passing") status = "warning";
  }
  return { status, body: { AggregatedStatus: status, Service: agentServiceJson(agent, s), Checks: checks.map((c) => agentCheckJson(agent, c)) } };
}

function healthAnswer(c: Context<AgentEnv>, status: keyof typeof aggregateCode, body: unknown): Response {
  const code = aggregateCode[status];
  if (c.req.query("format") === "text" || c.req.header("Accept") === "text/plain") return text(c, code, status);
  return c.body(JSON.stringify(body), code, { "Content-Type": "application/json" });
}

export const agentRoutes = new Hono<AgentEnv>()
  .get("/self", (c) => json(c, c.var.agent.self()))
  .get("/members", (c) => json(c, c.var.agent.members(flag(c, "wan")).map(memberJson)))
  .all(
    "/join/*",
    putOnly(async (c) => {
      await c.var.agent.join(pathTail(c, "/v1/agent/join/"), flag(c, "wan"));
      return c.body(null, 200);
    }),
  )
  .all(
    "/leave",
    putOnly(async (c) => {
      const agent = c.var.agent;
      await agent.leaveCluster();
      // Answer first, then stop: stopping closes this very connection.
      setTimeout(() => void agent.stop().then(() => agent.onLeave?.()), 50);
      return c.body(null, 200);
    }),
  )
  .all(
    "/force-leave/*",
    putOnly((c) => {
      c.var.agent.forceLeave(pathTail(c, "/v1/agent/force-leave/"), flag(c, "prune"), flag(c, "wan"));
      return c.body(null, 200);
    }),
  )
  .get("/services", (c) => {
    const agent = c.var.agent;
    const filter = compileListFilter(c.req.query("filter") ?? "");
    const out: Json = {};
    for (const s of agent.local.listServices()) {
      const j = agentServiceJson(agent, s);
      if (!filter || filter(j)) out[s.def.id] = j;
    }
    return json(c, out);
  })
  .all(
    "/service/register",
    putOnly(async (c) => {
      const agent = c.var.agent;
      const body = await jsonBody(c);
      const def = definition(() => parseServiceDefinition(body ?? {}));
      agent.local.addService(def, "api", flag(c, "replace-existing-checks"));
      return c.body(null, 200);
    }),
  )
  .all(
    "/service/deregister/*",
    putOnly((c) => {
      c.var.agent.local.removeService(pathTail(c, "/v1/agent/service/deregister/"));
      return c.body(null, 200);
    }),
  )
  .all(
    "/service/maintenance/*",
    putOnly((c) => {
      const id = pathTail(c, "/v1/agent/service/maintenance/");
      if (id === "") throw new ConsulError(400, "Missing service ID");
      if (enableParam(c)) c.var.agent.local.enableServiceMaintenance(id, c.req.query("reason") ?? "");
      else c.var.agent.local.disableServiceMaintenance(id);
      return c.body(null, 200);
    }),
  )
  .get("/service/*", async (c) => {
    const agent = c.var.agent;
    const id = pathTail(c, "/v1/agent/service/");
    const render = (): Json | undefined => {
      const s = agent.local.service(id);
      if (!s) return undefined;
      const body = agentServiceJson(agent, s);
      return { ...body, ContentHash: contentHash(body) };
    };
    let body = render();
    if (!body) return text(c, 404, `unknown service ID: ${id}`);
    const hash = c.req.query("hash");
    if (hash && hash === body.ContentHash) {
      // Hash-blocking: wait until the definition differs from what the caller has.
      const waitMs = Math.min(parseDurationMs(c.req.query("wait") ?? "") || agent.config.defaultQueryTimeMs, agent.config.maxQueryTimeMs);
      allowLongPoll(c, { minIndex: 1, maxWaitMs: waitMs, consistency: "default" });
      const deadline = Date.now() + waitMs;
      while (body && body.ContentHash === hash && Date.now() < deadline) {
        if (!(await agent.local.waitChange(deadline - Date.now(), c.req.raw.signal))) break;
        body = render();
      }
      if (!body) return text(c, 404, `unknown service ID: ${id}`);
    }
    c.header("X-Consul-ContentHash", String(body.ContentHash));
    return json(c, body);
  })
  .get("/checks", (c) => {
    const agent = c.var.agent;
    const filter = compileListFilter(c.req.query("filter") ?? "");
    const out: Json = {};
    for (const chk of agent.local.listChecks()) {
      const j = agentCheckJson(agent, chk);
      if (!filter || filter(j)) out[chk.id] = j;
    }
    return json(c, out);
  })
  .all(
    "/check/register",
    putOnly(async (c) => {
      const body = await jsonBody(c);
      const def = definition(() => parseCheckDefinition(body ?? {}));
      c.var.agent.local.addCheck(def, "api");
      return c.body(null, 200);
    }),
  )
  .all(
    "/check/deregister/*",
    putOnly((c) => {
      c.var.agent.local.removeCheck(pathTail(c, "/v1/agent/check/deregister/"));
      return c.body(null, 200);
    }),
  )
  .all("/check/pass/*", ttlUpdate("passing", "/v1/agent/check/pass/"))
  .all("/check/warn/*", ttlUpdate("warning", "/v1/agent/check/warn/"))
  .all("/check/fail/*", ttlUpdate("critical", "/v1/agent/check/fail/"))
  .all(
    "/check/update/*",
    putOnly(async (c) => {
      const id = pathTail(c, "/v1/agent/check/update/");
      const f = bodyFields(await jsonObjectBody(c), "checkUpdate");
      const status = f.str("Status");
      if (!isHealthStatus(status)) throw new ConsulError(400, `Invalid check status: '${status}'`);
      c.var.agent.local.updateTtl(id, status, f.str("Output"));
      return c.body(null, 200);
    }),
  )
  .all(
    "/maintenance",
    putOnly((c) => {
      if (enableParam(c)) c.var.agent.local.enableNodeMaintenance(c.req.query("reason") ?? "");
      else c.var.agent.local.disableNodeMaintenance();
      return c.body(null, 200);
    }),
  )
  .all(
    "/reload",
    putOnly((c) => {
      c.var.agent.reload();
      return c.body(null, 200);
    }),
  )
  .get("/health/service/id/*", (c) => {
    const agent = c.var.agent;
    const id = pathTail(c, "/v1/agent/health/service/id/");
    const s = agent.local.service(id);
    if (!s) return text(c, 404, `ServiceId ${id} not found`);
    const a = aggregated(agent, s);
    return healthAnswer(c, a.status, a.body);
  })
  .get("/health/service/name/*", (c) => {
    const agent = c.var.agent;
    const name = pathTail(c, "/v1/agent/health/service/name/");
    const all = agent.local.listServices().filter((s) => s.def.name === name).map((s) => aggregated(agent, s));
    if (all.length === 0) return text(c, 404, `ServiceName ${name} Not Found`);
    const order = ["passing", "warning", "critical", "maintenance"] as const;
    const worst = all.reduce((w, a) => (order.indexOf(a.status) > order.indexOf(w) ? a.status : w), "passing" as (typeof order)[number]);
    return healthAnswer(c, worst, all.map((a) => a.body));
  });
