import type { Server as BunServer } from "bun";
import type { Agent } from "../agent/agent.ts";

/** What every handler can read: the agent it serves, and the Bun server (per-request timeouts). */
export interface AgentEnv {
  Bindings: { server: BunServer<undefined> | undefined };
  Variables: { agent: Agent; pretty: boolean };
}
