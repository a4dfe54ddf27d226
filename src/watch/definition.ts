import { goPercentS, goSharpV } from "../lib/go-format.ts";
import type { HttpHandlerConfig } from "./http-config.ts";
import { type Params, parseWatchParams, WatchParamError, type WatchPlanSpec } from "./params.ts";

// A `watches` entry of a config file, checked as Consul's agent checks it when it (re)loads
// its watches (reloadWatches, makeWatchPlan): the handler type, no connect_ watches, the
// parameters, then exactly one handler: `args` (run directly), `handler` (a shell command,
// deprecated) or handler_type "http" with its http_handler_config.

export type WatchHandler = { kind: "args"; args: string[] } | { kind: "shell"; script: string } | { kind: "http"; config: HttpHandlerConfig };

export interface WatchDefinition {
  plan: WatchPlanSpec;
  handler: WatchHandler;
}

export function parseWatchDefinition(raw: Record<string, unknown>): WatchDefinition {
  const params: Params = new Map(Object.entries(raw));
  if (!params.has("handler_type")) params.set("handler_type", "script");
  else if (params.get("handler_type") !== "http" && params.get("handler_type") !== "script") {
    throw new WatchParamError(`Handler type '${goPercentS(params.get("handler_type"))}' not recognized`);
  }
  const type = params.get("type");
  if (typeof type === "string" && type.startsWith("connect_")) throw new WatchParamError(`Watch type ${type} is not allowed in agent config`);

  let plan: WatchPlanSpec;
  try {
    plan = parseWatchParams(params, ["handler", "args"]);
  } catch (err) {
    if (!(err instanceof WatchParamError)) throw err;
    // Consul prints the parameters the parse had not consumed yet.
    throw new WatchParamError(`Failed to parse watch (${goSharpV(params)}): ${err.message}`);
  }
  const hasHandler = plan.exempt.has("handler");
  const hasArgs = plan.exempt.has("args");
  const script = plan.exempt.get("handler");
  if (hasHandler && typeof script !== "string") throw new WatchParamError("Watch handler must be a string");
  const args = hasArgs ? watchArgs(plan.exempt.get("args")) : [];
  const http = plan.handlerType === "http";
  if ((hasHandler && hasArgs) || (hasHandler && http) || (hasArgs && http)) throw new WatchParamError("Only one watch handler allowed");
  if (!hasHandler && !hasArgs && !http) throw new WatchParamError("Must define a watch handler");
  const handler: WatchHandler = http ? { kind: "http", config: plan.httpHandler! } : hasArgs ? { kind: "args", args } : { kind: "shell", script: script as string };
  return { plan, handler };
}

/** A single string is one argument; a list must hold only strings. */
function watchArgs(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  throw new WatchParamError("Watch args must be a list of strings");
}

/** Consul's warning for the deprecated `handler` field, logged each time watches load. */
export const HANDLER_DEPRECATED =
  "The 'handler' field in watches has been deprecated and replaced with the 'args' field. See https://www.consul.io/docs/agent/watches.html";
