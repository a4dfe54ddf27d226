import { Hono } from "hono";
import type { AgentEnv } from "./env.ts";
import { json } from "./respond.ts";

// /v1/agent endpoints of the foundation: self. (Services, checks and membership arrive
// with the catalog and gossip work.)

export const agentRoutes = new Hono<AgentEnv>().get("/self", (c) => json(c, c.var.agent.self()));
