import { parseDurationNs } from "../lib/duration.ts";
import { isHealthStatus, type HealthStatus, type ServiceAddress, type Weights } from "../state/catalog-types.ts";
import type { CheckDefinition, CheckKind, DefinitionSource, ServiceDefinition } from "./definition-types.ts";

// One parser for service and check definitions, wherever they come from: config files
// (snake_case) and PUT /v1/agent/service|check/register bodies (PascalCase, or lowercase from
// python-consul). Field names match ignoring case and underscores, as Consul's JSON decoder and
// its snake_case aliases together do; user data (Meta keys, Header names, tagged address names)
// is never touched. As in Consul 1.17 (lib.DecodeJSON disallows unknown fields, the config
// decoder reports unused keys), an unknown field is an error rather than silently dropped.
//
// Decoding comes first and validation second, each in Consul's order, so the first problem
// reported is the one Consul reports, in its words (AgentRegisterService/AgentRegisterCheck,
// CheckType.Validate, ValidateWeights, ValidateServiceMetadata). Minimum intervals are the
// agent's business: values are kept as given.

export type KeyPath = Array<string | number>;

/**
 * A definition Consul would refuse. `message` is the HTTP 400 reason; config files print
 * `reason` after the key path `path` (relative to the definition) instead.
 */
export class DefinitionError extends Error {
  constructor(
    message: string,
    readonly reason: string = message,
    readonly path: KeyPath = [],
    /** Consul's "invalid config key" in a config file: `path` ends with the key. */
    readonly unknownKey = false,
  ) {
    super(message);
    this.name = "DefinitionError";
  }
}

/** A Consul validation failure: the same text over HTTP and in a config file. */
function rejected(text: string, path: KeyPath = []): DefinitionError {
  return new DefinitionError(text, text, path);
}

/** A value of the wrong shape; Consul's decoder fails these as "Request decode failed: …". */
function badValue(path: KeyPath, reason: string): DefinitionError {
  return new DefinitionError(`Request decode failed: ${renderPath(path) || "body"}: ${reason}`, reason, path);
}

function unknownField(path: KeyPath): DefinitionError {
  return new DefinitionError(`Request decode failed: json: unknown field ${JSON.stringify(String(path.at(-1)))}`, "invalid config key", path, true);
}

function renderPath(path: KeyPath): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

// ---- loose field names -------------------------------------------------------------------

/** A field name as compared: `TLSSkipVerify`, `tls_skip_verify` and `tlsskipverify` are one. */
export function fieldKey(name: string): string {
  return name.replaceAll("_", "").toLowerCase();
}

/** The first of `name`, `aliases` present (not null) in `obj`, matched as fieldKey does. */
export function looseField(obj: Record<string, unknown>, name: string, ...aliases: string[]): unknown {
  for (const want of [name, ...aliases].map(fieldKey)) {
    for (const [k, v] of Object.entries(obj)) if (v !== null && v !== undefined && fieldKey(k) === want) return v;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const knownSet = (names: string[]): ReadonlySet<string> => new Set(names.map(fieldKey));

/** Typed reads of one JSON object whose field names are known in advance. */
class Fields {
  private readonly byKey = new Map<string, [key: string, value: unknown]>();

  constructor(
    readonly raw: Record<string, unknown>,
    readonly path: KeyPath,
    known: ReadonlySet<string>,
  ) {
    for (const [k, v] of Object.entries(raw)) {
      const f = fieldKey(k);
      if (!known.has(f)) throw unknownField([...path, k]);
      // null means absent, as for Go's decoder; of two spellings of one field the first counts.
      if (v !== null && v !== undefined && !this.byKey.has(f)) this.byKey.set(f, [k, v]);
    }
  }

  static of(raw: unknown, path: KeyPath, known: ReadonlySet<string>): Fields {
    if (!isObject(raw)) throw badValue(path, "must be a JSON object");
    return new Fields(raw, path, known);
  }

  /** The value of the first of `names` present, and its path as the user spelled the key. */
  get(...names: string[]): { value: unknown; path: KeyPath } | undefined {
    for (const n of names) {
      const hit = this.byKey.get(fieldKey(n));
      if (hit) return { value: hit[1], path: [...this.path, hit[0]] };
    }
    return undefined;
  }

  str(...names: string[]): string {
    const f = this.get(...names);
    if (!f) return "";
    if (typeof f.value !== "string") throw badValue(f.path, "must be a string");
    return f.value;
  }

  bool(name: string): boolean {
    const f = this.get(name);
    if (!f) return false;
    if (typeof f.value !== "boolean") throw badValue(f.path, "must be true or false");
    return f.value;
  }

  int(name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const f = this.get(name);
    if (!f) return undefined;
    if (typeof f.value !== "number" || !Number.isInteger(f.value) || f.value < min || f.value > max) {
      const range = max !== Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : min !== Number.MIN_SAFE_INTEGER ? ` >= ${min}` : "";
      throw badValue(f.path, `must be an integer${range}`);
    }
    return f.value;
  }

  strList(...names: string[]): string[] {
    const f = this.get(...names);
    if (!f) return [];
    if (!Array.isArray(f.value)) throw badValue(f.path, "must be an array of strings");
    return f.value.map((v, i) => {
      if (typeof v !== "string") throw badValue([...f.path, i], "must be a string");
      return v;
    });
  }

  /** A map keyed by user data (kept exactly as given) of strings. */
  strMap(name: string): Record<string, string> {
    const f = this.get(name);
    if (!f) return {};
    if (!isObject(f.value)) throw badValue(f.path, "must be an object of strings");
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(f.value)) {
      if (typeof v !== "string") throw badValue([...f.path, k], "must be a string");
      out[k] = v;
    }
    return out;
  }

  /** A Go duration ("10s", "1m30s") or a JSON number of nanoseconds, as Consul's decoder takes. */
  durationMs(name: string): number {
    const f = this.get(name);
    if (!f) return 0;
    // Go converts the float64 to time.Duration, dropping any fraction of a nanosecond.
    if (typeof f.value === "number" && Number.isFinite(f.value)) return Math.trunc(f.value) / 1e6;
    const ns = typeof f.value === "string" ? parseDurationNs(f.value) : undefined;
    if (ns === undefined) throw badValue(f.path, `invalid duration ${JSON.stringify(f.value)}, want a duration such as "10s" or a number of nanoseconds`);
    return ns / 1e6;
  }
}

/**
 * Whether an object decodes to Go's zero value (what CheckType.Empty() tests): only null, "",
 * 0 and false inside. An array or object, even an empty one, decodes to a non-nil slice, map
 * or pointer, so it counts.
 */
function isZero(v: unknown): boolean {
  const scalarZero = (x: unknown) => x === null || x === undefined || x === "" || x === 0 || x === false;
  return isObject(v) ? Object.values(v).every(scalarZero) : scalarZero(v);
}

// ---- checks ----------------------------------------------------------------------------

// Consul 1.17's CheckDefinition/CheckType fields plus their snake_case aliases, and `script`,
// the Consul 0.x shell command this agent still runs. Embedded and standalone checks share the
// list: an embedded check's service_id is ignored (as Consul's decoder does), and either kind
// of check may name its ID as `id` or `check_id`.
const CHECK_FIELDS = knownSet([
  "id", "check_id", "name", "notes", "status", "service_id", "token",
  "script", "script_args", "args", "shell",
  "http", "header", "method", "body", "disable_redirects", "tls_server_name", "tls_skip_verify",
  "tcp", "tcp_use_tls", "udp", "grpc", "grpc_use_tls", "h2ping", "h2ping_use_tls",
  "docker_container_id", "os_service", "alias_node", "alias_service", "proxy_http", "proxy_grpc",
  "interval", "timeout", "ttl", "deregister_critical_service_after",
  "success_before_passing", "failures_before_warning", "failures_before_critical", "output_max_size",
]);

/** A check as decoded, before Consul's validation and defaults. */
interface DecodedCheck {
  path: KeyPath;
  id: string;
  name: string;
  status: string;
  serviceId: string;
  def: Omit<CheckDefinition, "id" | "name" | "status" | "serviceId" | "kind">;
  // Kinds Consul runs and this agent does not.
  udp: string;
  grpc: string;
  h2ping: string;
  dockerContainerId: string;
  osService: string;
  tcpUseTls: boolean;
  zero: boolean;
}

function decodeCheck(raw: unknown, path: KeyPath): DecodedCheck {
  const f = Fields.of(raw, path, CHECK_FIELDS);
  const header: Record<string, string[]> = {};
  const h = f.get("header");
  if (h) {
    if (!isObject(h.value)) throw badValue(h.path, "must be an object of string arrays");
    for (const [k, v] of Object.entries(h.value)) {
      if (v === null) continue;
      if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw badValue([...h.path, k], "must be an array of strings");
      header[k] = [...(v as string[])];
    }
  }
  // Accepted and unused: tokens (no ACLs here) and options of kinds this agent does not run.
  for (const name of ["token", "shell", "proxy_http", "proxy_grpc"]) f.str(name);
  for (const name of ["grpc_use_tls", "h2ping_use_tls"]) f.bool(name);
  const count = (name: string) => f.int(name, 0) ?? 0;
  return {
    path,
    id: f.str("id", "check_id"),
    name: f.str("name"),
    status: f.str("status"),
    serviceId: f.str("service_id"),
    def: {
      notes: f.str("notes"),
      script: f.str("script"),
      args: f.strList("script_args", "args"),
      http: f.str("http"),
      method: f.str("method"),
      header,
      body: f.str("body"),
      tlsServerName: f.str("tls_server_name"),
      tlsSkipVerify: f.bool("tls_skip_verify"),
      disableRedirects: f.bool("disable_redirects"),
      tcp: f.str("tcp"),
      ttlMs: f.durationMs("ttl"),
      aliasNode: f.str("alias_node"),
      aliasService: f.str("alias_service"),
      intervalMs: f.durationMs("interval"),
      // Consul treats a timeout or deregister delay <= 0 as unset.
      timeoutMs: Math.max(0, f.durationMs("timeout")),
      deregisterCriticalServiceAfterMs: Math.max(0, f.durationMs("deregister_critical_service_after")),
      successBeforePassing: count("success_before_passing"),
      failuresBeforeWarning: count("failures_before_warning"),
      failuresBeforeCritical: count("failures_before_critical"),
      // Negative sizes decode; CheckType.Validate rejects them below.
      outputMaxSize: f.int("output_max_size") ?? 0,
    },
    udp: f.str("udp"),
    grpc: f.str("grpc"),
    h2ping: f.str("h2ping"),
    dockerContainerId: f.str("docker_container_id"),
    osService: f.str("os_service"),
    tcpUseTls: f.bool("tcp_use_tls"),
    zero: isZero(f.raw),
  };
}

const isScript = (c: DecodedCheck) => c.def.script !== "" || c.def.args.length > 0;
const isAlias = (c: DecodedCheck) => c.def.aliasNode !== "" || c.def.aliasService !== "";

/** Consul's CheckType.Validate, in its order and words. */
function checkTypeProblem(c: DecodedCheck): string | undefined {
  const d = c.def;
  const intervalCheck = isScript(c) || d.http !== "" || d.tcp !== "" || c.udp !== "" || c.grpc !== "" || c.h2ping !== "" || c.osService !== "";
  if (d.intervalMs > 0 && d.ttlMs > 0) return "Interval and TTL cannot both be specified";
  if (intervalCheck && d.intervalMs <= 0) return "Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks";
  if (intervalCheck && isAlias(c)) return "Interval cannot be set for Alias checks";
  if (isAlias(c) && d.ttlMs > 0) return "TTL must be not be set for Alias checks";
  if (!intervalCheck && !isAlias(c) && d.ttlMs <= 0) return "TTL must be > 0 for TTL checks";
  if (d.outputMaxSize < 0) return "MaxOutputMaxSize must be positive";
  if (d.failuresBeforeWarning > d.failuresBeforeCritical) return "FailuresBeforeWarning can't be higher than FailuresBeforeCritical";
  return undefined;
}

/**
 * What runs the (valid) check, chosen in the order of Consul's Agent.addCheck switch, so a
 * definition naming two kinds runs the one Consul would run. A kind this agent lacks throws.
 */
function runnerKind(c: DecodedCheck): CheckKind {
  const unsupported = (what: string) => rejected(`Invalid check: ${what} checks are not supported by this agent`, c.path);
  if (c.def.ttlMs > 0) return "ttl";
  if (c.def.http !== "") return "http";
  if (c.def.tcp !== "") {
    if (c.tcpUseTls) throw unsupported("TCP-over-TLS");
    return "tcp";
  }
  if (c.udp !== "") throw unsupported("UDP");
  if (c.grpc !== "") throw unsupported("gRPC");
  if (isScript(c) && c.dockerContainerId !== "") throw unsupported("Docker");
  if (c.osService !== "") throw unsupported("OS service");
  if (isScript(c)) return "script";
  if (c.h2ping !== "") throw unsupported("H2PING");
  return "alias"; // Validate let nothing else through
}

function finish(c: DecodedCheck, id: string, name: string, serviceId: string, kind: CheckKind): CheckDefinition {
  const status: HealthStatus = isHealthStatus(c.status) ? c.status : "critical";
  return { id, name, serviceId, status, kind, ...c.def };
}

/**
 * A check on its own (PUT /v1/agent/check/register, `check`/`checks` in a config file): a node
 * check, or a service's check naming it with service_id. The ID defaults to the name.
 */
export function parseCheckDefinition(raw: unknown, source: DefinitionSource = "api"): CheckDefinition {
  const c = decodeCheck(raw, []);
  // Consul's config loader accepts a check with an ID and no name; its HTTP handler does not.
  if (c.name === "" && (source === "api" || c.id === "")) throw rejected("Missing check name");
  if (c.status !== "" && !isHealthStatus(c.status)) throw rejected("Bad check status");
  const problem = checkTypeProblem(c);
  if (problem) throw rejected(`Invalid check: ${problem}`);
  return finish(c, c.id || c.name, c.name, c.serviceId, runnerKind(c));
}

// ---- services --------------------------------------------------------------------------

// Consul 1.17's ServiceDefinition fields. Kind, SocketPath, Proxy and Connect describe things
// this agent cannot do and are refused when set; Token and Locality change nothing here.
const SERVICE_FIELDS = knownSet([
  "id", "name", "tags", "address", "tagged_addresses", "meta", "port", "weights", "enable_tag_override",
  "check", "checks", "token", "kind", "socket_path", "proxy", "connect", "locality",
]);
const WEIGHTS_FIELDS = knownSet(["passing", "warning"]);
const ADDRESS_FIELDS = knownSet(["address", "port"]);
const LOCALITY_FIELDS = knownSet(["region", "zone"]);

/**
 * A service from a config file (`service`/`services`) or PUT /v1/agent/service/register. Its
 * ID defaults to its name; its checks get Consul's IDs ("service:<id>", or "service:<id>:<n>"
 * when it has several) and names ("Service '<name>' check") unless they name themselves.
 */
export function parseServiceDefinition(raw: unknown, source: DefinitionSource = "api"): ServiceDefinition {
  const f = Fields.of(raw, [], SERVICE_FIELDS);
  const name = f.str("name");
  const id = f.str("id") || name;
  const tags = f.strList("tags");
  const address = f.str("address");
  const taggedAddresses = decodeTaggedAddresses(f);
  const meta = f.strMap("meta");
  const port = f.int("port", 0, 65535) ?? 0;
  const weights = decodeWeights(f, source);
  const enableTagOverride = f.bool("enable_tag_override");
  const checks = decodeServiceChecks(f, source);
  f.str("token");
  const kind = f.str("kind");
  const socketPath = f.str("socket_path");
  const locality = f.get("locality");
  if (locality) {
    const l = Fields.of(locality.value, locality.path, LOCALITY_FIELDS);
    l.str("region");
    l.str("zone");
  }

  // Validation, in AgentRegisterService's order.
  if (name === "") throw rejected("Missing service name");
  if (address === "0.0.0.0" || address === "::" || address === "[::]") throw rejected("Invalid service address");
  const weightsProblem = weightsProblemOf(weights);
  if (weightsProblem) throw rejected(`Invalid Weights: ${weightsProblem}`);
  const metaProblem = metaProblemOf(meta);
  if (metaProblem) throw rejected(`Invalid Service Meta: ${metaProblem}`);
  for (const c of checks) {
    const problem = checkTypeProblem(c);
    if (problem) throw rejected(`Invalid check: ${problem}`, c.path);
  }
  for (const c of checks) {
    if (c.status !== "" && !isHealthStatus(c.status)) throw rejected("Status for checks must 'passing', 'warning', 'critical'", c.path);
  }
  if (kind !== "") throw rejected(`Service kind ${JSON.stringify(kind)} is not supported by this agent`, f.get("kind")?.path);
  if (socketPath !== "") throw rejected("Services on a Unix socket (SocketPath) are not supported by this agent", f.get("socket_path")?.path);
  for (const [field, what] of [["proxy", "Connect proxy settings (Proxy)"], ["connect", "Connect (service mesh) settings"]] as const) {
    const v = f.get(field);
    if (v && !isZero(v.value)) throw rejected(`${what} are not supported by this agent`, v.path);
  }

  const kinds = checks.map(runnerKind);
  return {
    id,
    name,
    tags,
    address,
    taggedAddresses,
    meta,
    port,
    weights,
    enableTagOverride,
    checks: checks.map((c, i) =>
      finish(c, c.id || (checks.length === 1 ? `service:${id}` : `service:${id}:${i + 1}`), c.name || `Service '${name}' check`, id, kinds[i]!),
    ),
  };
}

/**
 * The embedded checks in the order Consul numbers them: over HTTP `Check` then `Checks`, an
 * empty `Check` block skipped (ServiceDefinition.CheckTypes); from a config file `checks` then
 * `check` (the config builder's serviceVal).
 */
function decodeServiceChecks(f: Fields, source: DefinitionSource): DecodedCheck[] {
  const one = f.get("check");
  const many = f.get("checks");
  const single: DecodedCheck[] = [];
  if (one) {
    const c = decodeCheck(one.value, one.path);
    if (source === "config" || !c.zero) single.push(c);
  }
  const list: DecodedCheck[] = [];
  if (many) {
    if (!Array.isArray(many.value)) throw badValue(many.path, "must be an array of objects");
    many.value.forEach((v, i) => list.push(decodeCheck(v, [...many.path, i])));
  }
  return source === "config" ? [...list, ...single] : [...single, ...list];
}

function decodeTaggedAddresses(f: Fields): Record<string, ServiceAddress> {
  const out: Record<string, ServiceAddress> = {};
  const ta = f.get("tagged_addresses");
  if (!ta) return out;
  if (!isObject(ta.value)) throw badValue(ta.path, "must be an object of addresses");
  for (const [name, v] of Object.entries(ta.value)) {
    if (v === null) continue;
    const a = Fields.of(v, [...ta.path, name], ADDRESS_FIELDS);
    out[name] = { address: a.str("address"), port: a.int("port", 0, 65535) ?? 0 };
  }
  return out;
}

/**
 * Weights default to 1/1. Over HTTP a Weights object replaces them whole (an omitted field is
 * Go's 0); the config builder only overrides the fields given.
 */
function decodeWeights(f: Fields, source: DefinitionSource): Weights {
  const w = f.get("weights");
  if (!w) return { passing: 1, warning: 1 };
  const r = Fields.of(w.value, w.path, WEIGHTS_FIELDS);
  const missing = source === "config" ? 1 : 0;
  return { passing: r.int("passing") ?? missing, warning: r.int("warning") ?? missing };
}

/** Consul's ValidateWeights. */
function weightsProblemOf(w: Weights): string | undefined {
  if (w.passing < 1) return "Passing must be greater than 0";
  if (w.warning < 0) return "Warning must be greater or equal than 0";
  if (w.passing > 65535 || w.warning > 65535) return "DNS Weight must be between 0 and 65535";
  return undefined;
}

const META_MAX_PAIRS = 64;
const META_KEY_MAX = 128;
const META_VALUE_MAX = 512;
const META_KEY = /^[a-zA-Z0-9_-]+$/;

/** Consul's ValidateServiceMetadata (its count text says "Node" for services too). */
function metaProblemOf(meta: Record<string, string>): string | undefined {
  if (Object.keys(meta).length > META_MAX_PAIRS) return `Node metadata cannot contain more than ${META_MAX_PAIRS} key/value pairs`;
  for (const [k, v] of Object.entries(meta)) {
    let why: string | undefined;
    if (k === "") why = "Key cannot be blank";
    else if (!META_KEY.test(k)) why = "Key contains invalid characters";
    else if (k.length > META_KEY_MAX) why = `Key is too long (limit: ${META_KEY_MAX} characters)`;
    else if (k.startsWith("consul-")) why = "Key prefix 'consul-' is reserved for internal use";
    // Go measures the value in UTF-8 bytes.
    else if (Buffer.byteLength(v) > META_VALUE_MAX) why = `Value is too long (limit: ${META_VALUE_MAX} characters)`;
    if (why) return `Couldn't load metadata pair ('${k}', '${v}'): ${why}`;
  }
  return undefined;
}
