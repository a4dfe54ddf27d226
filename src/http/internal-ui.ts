import { type Context, Hono } from "hono";
import { ConsulError } from "../lib/errors.ts";
import type { QueryOptions } from "../server/query.ts";
import { nodeInfoJson } from "../state/catalog-json.ts";
import { pathTail } from "./decode.ts";
import type { AgentEnv } from "./env.ts";
import { allowLongPoll, queryOptions } from "./query.ts";
import { json, setMeta, text } from "./respond.ts";
import { serviceSummaries } from "./ui-summary.ts";

// /v1/internal/ui: what Consul's web UI reads (nodes with their services and checks, one
// node, services with health counts), in Consul's shapes, blocking like any read. As in
// Consul, they are served whether or not the UI is enabled.

/** Consul's UI endpoints retry a read that found no leader as a stale one: the UI still shows something. */
async function staleIfNoLeader<T>(q: QueryOptions, read: (q: QueryOptions) => Promise<T>): Promise<T> {
  try {
    return await read(q);
  } catch (err) {
    if (q.consistency === "stale" || !(err instanceof ConsulError) || !err.message.includes("No cluster leader")) throw err;
    return await read({ ...q, consistency: "stale" });
  }
}

function options(c: Context<AgentEnv>): QueryOptions {
  const q = queryOptions(c);
  allowLongPoll(c, q);
  return q;
}

export const internalUiRoutes = new Hono<AgentEnv>()
  .get("/nodes", async (c) => {
    const filter = c.req.query("filter") ?? "";
    const r = await staleIfNoLeader(options(c), (q) => c.var.agent.health().nodeDump(q, filter, c.req.raw.signal));
    setMeta(c, r.meta);
    return json(c, r.nodes.map(nodeInfoJson));
  })
  .get("/node/*", async (c) => {
    const node = pathTail(c, "/v1/internal/ui/node/");
    if (node === "") return text(c, 400, "Missing node name");
    const r = await staleIfNoLeader(options(c), (q) => c.var.agent.health().nodeInfo(node, q, c.req.raw.signal));
    setMeta(c, r.meta);
    if (!r.node) return c.body(null, 404);
    return json(c, nodeInfoJson(r.node));
  })
  .get("/services", async (c) => {
    const filter = c.req.query("filter") ?? "";
    const r = await staleIfNoLeader(options(c), (q) => c.var.agent.health().serviceDump(q, filter, c.req.raw.signal));
    setMeta(c, r.meta);
    return json(c, serviceSummaries(r.nodes));
  });
