import { parseGoBool } from "../lib/go-bool.ts";
import { type Context, Hono } from "hono";
import { ConsulError } from "../lib/errors.ts";
import { checkJson, checkServiceNodeJson } from "../state/catalog-json.ts";
import { listFilters, pathTail } from "./decode.ts";
import type { AgentEnv } from "./env.ts";
import { allowLongPoll, queryOptions } from "./query.ts";
import { json, setMeta, text } from "./respond.ts";

// /v1/health: checks by node, by service and by state, and the instances of a service with
// their checks (`?passing` keeps those whose every check passes). All blocking.

/** ?passing as Consul reads it (Go's ParseBool); bare `?passing` means true. */
function passingParam(c: Context<AgentEnv>): boolean {
  const v = c.req.query("passing");
  if (v === undefined) return false;
  if (v === "") return true;
  const b = parseGoBool(v);
  if (b !== undefined) return b;
  throw new ConsulError(400, "Invalid value for ?passing");
}

export const healthRoutes = new Hono<AgentEnv>()
  .get("/node/*", async (c) => {
    const node = pathTail(c, "/v1/health/node/");
    if (node === "") return text(c, 400, "Missing node name");
    const q = queryOptions(c);
    allowLongPoll(c, q);
    const r = await c.var.agent.health().nodeChecks(node, q, c.req.query("filter") ?? "", c.req.raw.signal);
    setMeta(c, r.meta);
    return json(c, r.checks.map(checkJson));
  })
  .get("/checks/*", async (c) => {
    const service = pathTail(c, "/v1/health/checks/");
    if (service === "") return text(c, 400, "Missing service name");
    const q = queryOptions(c);
    allowLongPoll(c, q);
    const r = await c.var.agent.health().serviceChecks(service, q, listFilters(c), c.req.raw.signal);
    setMeta(c, r.meta);
    return json(c, r.checks.map(checkJson));
  })
  .get("/service/*", async (c) => {
    const service = pathTail(c, "/v1/health/service/");
    if (service === "") return text(c, 400, "Missing service name");
    const passing = passingParam(c);
    const q = queryOptions(c);
    allowLongPoll(c, q);
    const r = await c.var.agent.health().serviceNodes(service, passing, q, listFilters(c), c.req.raw.signal);
    setMeta(c, r.meta);
    return json(c, r.nodes.map(checkServiceNodeJson));
  })
  .get("/state/*", async (c) => {
    const state = pathTail(c, "/v1/health/state/");
    if (state === "") return text(c, 400, "Missing check state");
    const q = queryOptions(c);
    allowLongPoll(c, q);
    const r = await c.var.agent.health().checksInState(state, q, listFilters(c), c.req.raw.signal);
    setMeta(c, r.meta);
    return json(c, r.checks.map(checkJson));
  });
