import { Hono } from "hono";
import type { Agent } from "../agent/agent.ts";
import { ConsulError } from "../lib/errors.ts";
import { agentRoutes } from "./agent.ts";
import { catalogRoutes } from "./catalog.ts";
import type { AgentEnv } from "./env.ts";
import { eventRoutes } from "./event.ts";
import { kv } from "./kv.ts";
import { operatorRoutes } from "./operator.ts";
import { operatorRaftRoutes } from "./operator-raft.ts";
import { healthRoutes } from "./health.ts";
import { internalUiRoutes } from "./internal-ui.ts";
import { flag } from "./query.ts";
import { text } from "./respond.ts";
import { sessionRoutes } from "./session.ts";
import { snapshotRoutes } from "./snapshot.ts";
import { status } from "./status.ts";
import { txnRoutes } from "./txn.ts";
import { uiRoutes } from "./ui.ts";

// The HTTP API: one Hono sub-app per endpoint group, mounted under /v1, and one error
// handler that turns ConsulError into its status and one line of text. Anything else is a
// bug: logged with its stack, answered 500 without it.

export function createApp(agent: Agent): Hono<AgentEnv> {
  const app = new Hono<AgentEnv>();
  app.use(async (c, next) => {
    c.set("agent", agent);
    c.set("pretty", agent.config.dev || flag(c, "pretty"));
    await next();
  });
  app.route("/v1/kv", kv);
  app.route("/v1/txn", txnRoutes);
  app.route("/v1/session", sessionRoutes);
  app.route("/v1/status", status);
  app.route("/v1/agent", agentRoutes);
  app.route("/v1/catalog", catalogRoutes);
  app.route("/v1/health", healthRoutes);
  app.route("/v1/operator", operatorRoutes);
  app.route("/v1/operator", operatorRaftRoutes);
  app.route("/v1/event", eventRoutes);
  app.route("/v1/snapshot", snapshotRoutes);
  app.route("/v1/internal/ui", internalUiRoutes);
  if (agent.config.ui) {
    app.get("/ui", (c) => c.redirect("/ui/", 301));
    app.route("/ui", uiRoutes);
  }
  app.get("/", (c) =>
    agent.config.ui
      ? c.redirect("/ui/", 301)
      : c.text("Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration and restart."),
  );
  app.notFound((c) =>
    text(
      c,
      404,
      new URL(c.req.url).pathname.includes("/v1/")
        ? "Invalid URL path: not a recognized HTTP API endpoint\n"
        : "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n",
    ),
  );
  app.onError((err, c) => {
    if (err instanceof ConsulError) return text(c, err.status, err.message);
    agent.logger.error(`http: request ${c.req.method} ${new URL(c.req.url).pathname} failed: ${err.stack ?? err.message}`);
    return text(c, 500, "internal error");
  });
  return app;
}
