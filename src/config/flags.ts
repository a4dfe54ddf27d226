// `tsc agent` flags, spelled as Consul spells them (agent/config/flags.go), and their mapping
// onto config keys. Flags become one snake_case fragment that load.ts validates and merges
// like a file, so a flag and a config key can never disagree about what a value means.

import { parseGoBool } from "../lib/go-bool.ts";
import { ConfigError } from "../lib/errors.ts";
import { parseFragment, type FragmentProblem, keyPath } from "./schema.ts";

export interface AgentFlag {
  type: "boolean" | "string";
  description: string;
  /** May be given several times; the values accumulate in order. */
  repeatable?: boolean;
  valueHint?: string;
  /** The dotted snake_case config key this flag sets; absent for flags that are not config. */
  configKey?: string;
  /** The value is a base-10 integer (ports, counts). */
  integer?: boolean;
}

const text = (configKey: string, description: string, valueHint?: string): AgentFlag => ({
  type: "string", description, configKey, ...(valueHint ? { valueHint } : {}),
});
const int = (configKey: string, description: string): AgentFlag => ({
  type: "string", description, configKey, integer: true, valueHint: "int",
});
const flag = (configKey: string, description: string): AgentFlag => ({ type: "boolean", description, configKey });
const list = (configKey: string, description: string, valueHint: string): AgentFlag => ({
  type: "string", description, configKey, repeatable: true, valueHint,
});

export const agentFlags = {
  "advertise": text("advertise_addr", "Sets the advertise address to use.", "addr"),
  "advertise-wan": text("advertise_addr_wan", "Sets address to advertise on WAN instead of -advertise address.", "addr"),
  "alt-domain": text("alt_domain", "Alternate domain to use for DNS interface.", "domain"),
  "bind": text("bind_addr", "Sets the bind address for cluster communication.", "addr"),
  "bootstrap": flag("bootstrap", "Sets server to bootstrap mode."),
  "bootstrap-expect": int("bootstrap_expect", "Sets server to expect bootstrap mode."),
  "client": text("client_addr", "Sets the address to bind for client access. This includes DNS and HTTP; several addresses are separated by spaces.", "addrs"),
  "config-dir": {
    type: "string", repeatable: true, valueHint: "dir",
    description: "Path to a directory to read configuration files from. This will read every file ending in '.json' as configuration in this directory in alphabetical order. Can be specified multiple times.",
  },
  "config-file": {
    type: "string", repeatable: true, valueHint: "file",
    description: "Path to a file in JSON format. Can be specified multiple times.",
  },
  "data-dir": text("data_dir", "Path to a data directory to store agent state.", "path"),
  "datacenter": text("datacenter", "Datacenter of the agent.", "name"),
  "default-query-time": text("default_query_time", "The amount of time a blocking query will wait before Consul will force a response. This value can be overridden by the 'wait' query parameter.", "duration"),
  "dev": { type: "boolean", description: "Starts the agent in development mode." },
  "dns-port": int("ports.dns", "DNS port to use."),
  "domain": text("domain", "Domain to use for DNS interface.", "domain"),
  "enable-local-script-checks": flag("enable_local_script_checks", "Enables health check scripts from configuration file."),
  "enable-script-checks": flag("enable_script_checks", "Enables health check scripts."),
  "encrypt": text("encrypt", "Provides the gossip encryption key.", "key"),
  "grpc-port": int("ports.grpc", "Sets the gRPC API port to listen on."),
  "http-port": int("ports.http", "Sets the HTTP API port to listen on."),
  "https-port": int("ports.https", "Sets the HTTPS API port to listen on."),
  "join": list("start_join", "Address of an agent to join at start time. Can be specified multiple times.", "addr"),
  "join-wan": list("start_join_wan", "Address of an agent to join -wan at start time. Can be specified multiple times.", "addr"),
  "log-json": flag("log_json", "Output logs in JSON format."),
  "log-level": text("log_level", "Log level of the agent.", "level"),
  "max-query-time": text("max_query_time", "The maximum amount of time a blocking query can wait before Consul will force a response.", "duration"),
  "node": text("node_name", "Name of this node. Must be unique in the cluster.", "name"),
  "node-id": text("node_id", "A unique ID for this node across space and time. Defaults to a randomly-generated ID that persists in the data-dir.", "uuid"),
  "node-meta": list("node_meta", "An arbitrary metadata key/value pair for this node, of the format `key:value`. Can be specified multiple times.", "key:value"),
  "pid-file": text("pid_file", "Path to file to store agent PID.", "path"),
  "protocol": int("protocol", "Sets the protocol version. Accepted for compatibility and ignored."),
  "raft-protocol": int("raft_protocol", "Sets the Raft protocol version. Accepted for compatibility and ignored."),
  "recursor": list("recursors", "Address of an upstream DNS server. Can be specified multiple times.", "addr"),
  "rejoin": flag("rejoin_after_leave", "Ignores a previous leave and attempts to rejoin the cluster."),
  "retry-interval": text("retry_interval", "Time to wait between join attempts.", "duration"),
  "retry-join": list("retry_join", "Address of an agent to join at start time with retries enabled. Can be specified multiple times.", "addr"),
  "retry-join-wan": list("retry_join_wan", "Address of an agent to join -wan at start time with retries enabled. Can be specified multiple times.", "addr"),
  "retry-max": int("retry_max", "Maximum number of join attempts. Defaults to 0, which will retry indefinitely."),
  "serf-lan-port": int("ports.serf_lan", "Sets the Serf LAN port to listen on."),
  "serf-wan-port": int("ports.serf_wan", "Sets the Serf WAN port to listen on."),
  "server": flag("server", "Switches agent to server mode."),
  "server-port": int("ports.server", "Sets the server port to listen on."),
  // Modern Consul maps -ui to ui_config.enabled; the top-level `ui` key is deprecated.
  "ui": flag("ui_config.enabled", "Enables the built-in static web UI server."),
} satisfies Record<string, AgentFlag>;

const flagTable: Record<string, AgentFlag> = agentFlags;

type ParsedValue = string | boolean | string[] | undefined;

/**
 * The config fragment the parsed flags describe. Keys that are not agent flags (the parser's
 * positional `_`) and flags that are not config (-dev, -config-dir, -config-file) are skipped:
 * the caller reads those itself. Throws ConfigError naming the flag for a bad value.
 */
export function flagsToFragment(parsed: Record<string, ParsedValue>): Record<string, unknown> {
  const fragment: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parsed)) {
    const def = lookup(name);
    if (def?.configKey === undefined || value === undefined) continue;
    setPath(fragment, def.configKey.split("."), convert(name, def, value));
  }
  const checked = parseFragment(fragment);
  if (!checked.ok) throw new ConfigError(flagProblem(parsed, checked.problem));
  return fragment;
}

function lookup(name: string): AgentFlag | undefined {
  return Object.hasOwn(flagTable, name) ? flagTable[name] : undefined;
}

function convert(name: string, def: AgentFlag, value: string | boolean | string[]): unknown {
  if (def.type === "boolean") return typeof value === "boolean" ? value : parseBoolFlag(name, String(value));
  const values = (Array.isArray(value) ? value : [value]).map((v) => {
    if (typeof v === "boolean") throw new ConfigError(`flag needs an argument: -${name}`);
    return v;
  });
  if (def.configKey === "node_meta") return Object.fromEntries(values.map(splitMetaPair));
  if (def.repeatable) return values;
  // Go's flag package keeps the last of a repeated single-valued flag.
  const last = values[values.length - 1] ?? "";
  return def.integer ? parseInteger(name, last) : last;
}

/** Consul's -node-meta splits at the first ":"; a pair without one has an empty value. */
function splitMetaPair(pair: string): [string, string] {
  const at = pair.indexOf(":");
  return at < 0 ? [pair, ""] : [pair.slice(0, at), pair.slice(at + 1)];
}

function parseInteger(name: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value.trim())) {
    throw new ConfigError(`invalid value ${JSON.stringify(value)} for flag -${name}: must be an integer`);
  }
  return Number(value);
}

function parseBoolFlag(name: string, value: string): boolean {
  const b = parseGoBool(value);
  if (b !== undefined) return b;
  throw new ConfigError(`invalid value ${JSON.stringify(value)} for flag -${name}: must be a boolean`);
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const child = (target[head] ??= {}) as Record<string, unknown>;
  setPath(child, rest, value);
}

/** `invalid value "x" for flag -log-level: must be one of …`: the flag, not the config key. */
function flagProblem(parsed: Record<string, ParsedValue>, problem: FragmentProblem): string {
  const key = keyPath(problem.path);
  for (const [name, def] of Object.entries(flagTable)) {
    const configKey = def.configKey;
    if (configKey === undefined || parsed[name] === undefined) continue;
    if (key !== configKey && !key.startsWith(`${configKey}.`) && !key.startsWith(`${configKey}[`)) continue;
    const raw = offendingValue(parsed[name], problem.path[configKey.split(".").length]);
    const shown = raw === undefined ? "" : ` ${JSON.stringify(raw)}`;
    return `invalid value${shown} for flag -${name}: ${problem.reason}`;
  }
  return `command-line flags: ${key}: ${problem.reason}`;
}

/** The argument the user typed that produced the bad value, when it can be singled out. */
function offendingValue(value: ParsedValue, below: string | number | undefined): string | undefined {
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) return undefined;
  if (typeof below === "number") return value[below];
  // A node_meta problem names the key; show the last pair that set it.
  return below === undefined ? undefined : value.findLast((pair) => splitMetaPair(pair)[0] === below);
}
