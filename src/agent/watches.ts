import type { ConsolaInstance } from "consola";
import { ApiClient } from "../api/client.ts";
import { formatDurationMs } from "../lib/duration.ts";
import { logFields } from "../lib/logger.ts";
import { HANDLER_DEPRECATED, type WatchDefinition } from "../watch/definition.ts";
import { makeWatchHandler } from "../watch/handlers.ts";
import { runPlan } from "../watch/plan.ts";
import { watcherFor } from "../watch/watchers.ts";

// The config file's watches, run inside the agent as Consul runs them: each plan is a loop
// of blocking queries against the agent's own HTTP API, so it sees what any client would.
// A reload stops every plan and starts the new set; a handler already running finishes.

export const WATCHES_NEED_HTTP = "watch plans require an HTTP or HTTPS endpoint";

export class WatchManager {
  private running: AbortController | undefined;

  constructor(private readonly logger: ConsolaInstance) {}

  /** Replaces the running plans with `defs`, run against the HTTP API at `address` (host:port). */
  reload(defs: WatchDefinition[], address: string | undefined): void {
    this.stop();
    if (defs.length === 0) return;
    if (address === undefined) throw new Error(WATCHES_NEED_HTTP);
    const controller = new AbortController();
    this.running = controller;
    for (const def of defs) this.start(def, address, controller.signal);
  }

  stop(): void {
    this.running?.abort();
    this.running = undefined;
  }

  private start(def: WatchDefinition, address: string, signal: AbortSignal): void {
    const { plan, handler } = def;
    if (handler.kind === "shell") this.logger.warn(HANDLER_DEPRECATED);
    const client = new ApiClient({ address, token: plan.token || undefined, datacenter: plan.datacenter || undefined });
    const planLog = this.logger.withTag("watch");
    const handlerLog = { error: (m: string) => this.logger.error(m), debug: (m: string) => this.logger.debug(m), trace: (m: string) => this.logger.trace(m) };
    void runPlan({
      watcher: watcherFor(plan.query, client),
      handler: makeWatchHandler(handler, handlerLog),
      signal,
      onError: (err, retryMs) => planLog.error(`Watch errored: ${logFields({ type: plan.query.type, error: err.message, retry: formatDurationMs(retryMs) })}`),
    }).catch((err: Error) => this.logger.error(`Failed to run watch: ${logFields({ error: err.message })}`));
  }
}
