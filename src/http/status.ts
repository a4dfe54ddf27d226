import { Hono } from "hono";
import type { AgentEnv } from "./env.ts";
import { checkDatacenter } from "./query.ts";
import { json } from "./respond.ts";

// /v1/status: the leader's and the voters' RPC addresses. Works with no leader ("").

export const status = new Hono<AgentEnv>()
  .get("/leader", async (c) => {
    checkDatacenter(c);
    return json(c, await c.var.agent.status().leader());
  })
  .get("/peers", async (c) => {
    checkDatacenter(c);
    return json(c, await c.var.agent.status().peers());
  });
