import { type HttpHandlerConfig, parseHttpHandlerConfig } from "./http-config.ts";

// A watch's parameters as Consul's api/watch Parse and its per-type factories read them:
// `tsc watch` builds them from flags, config files give them as JSON. Each parameter is taken
// out of the map as it is read, in Consul's order, so the first complaint is Consul's and
// whatever is left at the end is "Invalid parameters". The caller keeps the map: Consul's
// agent prints what is left of it when parsing fails.

export const WATCH_TYPES = ["key", "keyprefix", "services", "nodes", "service", "checks", "event"] as const;
export type WatchType = (typeof WATCH_TYPES)[number];

/** What a plan asks the agent, one shape per watch type. */
export type WatchQuery =
  | { type: "key"; key: string; stale: boolean }
  | { type: "keyprefix"; prefix: string; stale: boolean }
  | { type: "services"; stale: boolean }
  | { type: "nodes"; stale: boolean }
  | { type: "service"; service: string; tags: string[]; passingOnly: boolean; stale: boolean }
  | { type: "checks"; service: string; state: string; stale: boolean }
  | { type: "event"; name: string };

export interface WatchPlanSpec {
  datacenter: string;
  token: string;
  /** "" from the CLI; "script" or "http" from a config file. */
  handlerType: string;
  query: WatchQuery;
  httpHandler: HttpHandlerConfig | undefined;
  /** The exempt parameters (a config watch's `handler`, `args`) as given. */
  exempt: Map<string, unknown>;
}

/** A watch Consul would refuse, in its words. */
export class WatchParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WatchParamError";
  }
}

export type Params = Map<string, unknown>;

export function parseWatchParams(params: Params, exempt: readonly string[] = []): WatchPlanSpec {
  const datacenter = takeString(params, "datacenter") ?? "";
  const token = takeString(params, "token") ?? "";
  const type = takeString(params, "type") ?? "";
  if (type === "") throw new WatchParamError("Watch type must be specified");
  const handlerType = takeString(params, "handler_type") ?? "";
  let httpHandler: HttpHandlerConfig | undefined;
  if (handlerType === "http") {
    if (!params.has("http_handler_config")) throw new WatchParamError("Handler type 'http' requires 'http_handler_config' to be set");
    try {
      httpHandler = parseHttpHandlerConfig(params.get("http_handler_config"));
    } catch (err) {
      throw new WatchParamError(`Failed to parse 'http_handler_config': ${(err as Error).message}`);
    }
    params.delete("http_handler_config");
  }
  const factory = factories.get(type);
  if (!factory) throw new WatchParamError(`Unsupported watch type: ${type}`);
  const query = factory(params);
  const kept = new Map<string, unknown>();
  for (const name of exempt) {
    if (!params.has(name)) continue;
    kept.set(name, params.get(name));
    params.delete(name);
  }
  if (params.size > 0) throw new WatchParamError(`Invalid parameters: [${[...params.keys()].sort().join(" ")}]`);
  return { datacenter, token, handlerType, query, httpHandler, exempt: kept };
}

// ---- the per-type factories (api/watch/funcs.go) -------------------------------------------

const factories = new Map<string, (p: Params) => WatchQuery>([
  ["key", (p) => ({ type: "key", stale: takeBool(p, "stale"), key: takeRequired(p, "key") })],
  ["keyprefix", (p) => ({ type: "keyprefix", stale: takeBool(p, "stale"), prefix: takeRequired(p, "prefix") })],
  ["services", (p) => ({ type: "services", stale: takeBool(p, "stale") })],
  ["nodes", (p) => ({ type: "nodes", stale: takeBool(p, "stale") })],
  [
    "service",
    (p) => {
      const stale = takeBool(p, "stale");
      const service = takeRequired(p, "service");
      const tags = takeStringList(p, "tag");
      const passingOnly = takeBool(p, "passingonly");
      return { type: "service", service, tags, passingOnly, stale };
    },
  ],
  [
    "checks",
    (p) => {
      const stale = takeBool(p, "stale");
      const service = takeString(p, "service") ?? "";
      let state = takeString(p, "state") ?? "";
      if (service !== "" && state !== "") throw new WatchParamError("Cannot specify service and state");
      if (service === "" && state === "") state = "any";
      return { type: "checks", service, state, stale };
    },
  ],
  // Events are agent-local, so stale does not apply: given, it is an invalid parameter.
  ["event", (p) => ({ type: "event", name: takeString(p, "name") ?? "" })],
]);

// ---- taking typed values out of the map (assignValue and friends) --------------------------

function takeString(p: Params, name: string): string | undefined {
  if (!p.has(name)) return undefined;
  const v = p.get(name);
  if (typeof v !== "string") throw new WatchParamError(`Expecting ${name} to be a string`);
  p.delete(name);
  return v;
}

/** The one key, prefix or service a watch is about. */
function takeRequired(p: Params, name: string): string {
  const v = takeString(p, name) ?? "";
  if (v === "") throw new WatchParamError(`Must specify a single ${name} to watch`);
  return v;
}

function takeBool(p: Params, name: string): boolean {
  if (!p.has(name)) return false;
  const v = p.get(name);
  if (typeof v !== "boolean") throw new WatchParamError(`Expecting ${name} to be a boolean`);
  p.delete(name);
  return v;
}

function takeStringList(p: Params, name: string): string[] {
  if (!p.has(name)) return [];
  const v = p.get(name);
  let out: string[];
  if (typeof v === "string") out = [v];
  else if (Array.isArray(v)) {
    out = v.map((x, i) => {
      if (typeof x !== "string") throw new WatchParamError(`Index ${i} of ${name} expected to be string`);
      return x;
    });
  } else throw new WatchParamError(`Expecting ${name} to be a string or []string`);
  p.delete(name);
  return out;
}
