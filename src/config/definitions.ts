import { FieldReader, isObject } from "../lib/fields.ts";
import { isHealthStatus, type ServiceAddress, type Weights } from "../state/catalog-types.ts";
import type { CheckDefinition, CheckKind, ServiceDefinition } from "./definition-types.ts";

// One parser for service and check definitions, wherever they come from: config files
// (snake_case) and PUT /v1/agent/service|check/register bodies (PascalCase, or lowercase
// from python-consul). Field names match ignoring case and underscores, as Consul's decoder
// and its snake_case translation together do; user data (Meta keys, Header names, tagged
// address names) is never touched. Errors carry Consul's texts, as its HTTP handler words
// them (400 "Invalid check: ...").

export class DefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DefinitionError";
  }
}

function loose(raw: unknown, what: string): FieldReader {
  if (!isObject(raw)) throw new DefinitionError(`${what} must be a JSON object`);
  return new FieldReader(raw, what, { ignoreUnderscores: true, error: (w, name, want) => new DefinitionError(`${w}: ${name} must be ${want}`) });
}

// ---- services --------------------------------------------------------------------------

export function parseServiceDefinition(raw: unknown): ServiceDefinition {
  const o = loose(raw, "service");
  const name = o.str("name", "service");
  if (name === "") throw new DefinitionError("Missing service name");
  const id = o.str("id") || name;

  const meta = o.strMap("meta");
  const metaProblem = validateMeta(meta);
  if (metaProblem) throw new DefinitionError(`Invalid Service Meta: ${metaProblem}`);

  let weights: Weights = { passing: 1, warning: 1 };
  const w = o.get("weights");
  if (w !== undefined) {
    const wl = loose(w, "service weights");
    weights = { passing: wl.int("passing"), warning: wl.int("warning") };
    if (weights.passing < 1) throw new DefinitionError("Invalid Weights: Passing must be greater than 0");
    if (weights.warning < 0) throw new DefinitionError("Invalid Weights: Warning must be greater or equal than 0");
  }

  const taggedAddresses: Record<string, ServiceAddress> = {};
  const ta = o.get("tagged_addresses");
  if (ta !== undefined) {
    if (!isObject(ta)) throw new DefinitionError("service: tagged_addresses must be an object");
    for (const [k, v] of Object.entries(ta)) {
      const a = loose(v, `service tagged address ${k}`);
      taggedAddresses[k] = { address: a.str("address"), port: a.int("port", 0, 65535) };
    }
  }

  const rawChecks: unknown[] = [];
  const one = o.get("check");
  if (one !== undefined) rawChecks.push(one);
  const many = o.get("checks");
  if (many !== undefined) {
    if (!Array.isArray(many)) throw new DefinitionError("service: checks must be an array of objects");
    rawChecks.push(...many);
  }
  // Consul's defaults: "service:<id>" for a lone check, "service:<id>:<n>" (1-based) otherwise.
  const checks = rawChecks.map((c, i) =>
    parseCheck(c, {
      serviceId: id,
      defaultId: rawChecks.length === 1 ? `service:${id}` : `service:${id}:${i + 1}`,
      defaultName: `Service '${name}' check`,
    }),
  );

  return {
    id,
    name,
    tags: o.strList("tags"),
    address: o.str("address"),
    taggedAddresses,
    meta,
    port: o.int("port", 0, 65535),
    weights,
    enableTagOverride: o.bool("enable_tag_override"),
    checks,
  };
}

const META_MAX_PAIRS = 64;
const META_KEY = /^[a-zA-Z0-9_-]+$/;

/** Consul's ValidateServiceMetadata, in its words. */
function validateMeta(meta: Record<string, string>): string | undefined {
  if (Object.keys(meta).length > META_MAX_PAIRS) return `Service metadata cannot contain more than ${META_MAX_PAIRS} key/value pairs`;
  for (const [k, v] of Object.entries(meta)) {
    let why: string | undefined;
    if (k === "") why = "Key cannot be blank";
    else if (!META_KEY.test(k)) why = "Key contains invalid characters";
    else if (k.length > 128) why = "Key is too long (limit: 128 characters)";
    else if (k.startsWith("consul-")) why = "Key prefix 'consul-' is reserved for internal use";
    else if (v.length > 512) why = "Value is too long (limit: 512 characters)";
    if (why) return `Couldn't load metadata pair ('${k}', '${v}'): ${why}`;
  }
  return undefined;
}

// ---- checks ----------------------------------------------------------------------------

/** A check on its own: a node check, or one naming its service with service_id. */
export function parseCheckDefinition(raw: unknown): CheckDefinition {
  return parseCheck(raw, undefined);
}

const UNSUPPORTED: Array<[string, string]> = [
  ["grpc", "gRPC"],
  ["h2ping", "H2PING"],
  ["udp", "UDP"],
  ["docker_container_id", "Docker"],
  ["os_service", "OS service"],
];

function parseCheck(raw: unknown, inService: { serviceId: string; defaultId: string; defaultName: string } | undefined): CheckDefinition {
  const o = loose(raw, "check");
  for (const [field, kind] of UNSUPPORTED) {
    if (o.get(field) !== undefined) throw new DefinitionError(`Invalid check: ${kind} checks are not supported by this agent`);
  }
  let name = o.str("name");
  let id = o.str("id", "check_id");
  if (inService) {
    name ||= inService.defaultName;
    id ||= inService.defaultId;
  } else {
    if (name === "") throw new DefinitionError("Missing check name");
    id ||= name;
  }
  const status = o.str("status") || "critical";
  if (!isHealthStatus(status)) throw new DefinitionError("Status for checks must 'passing', 'warning', 'critical'");

  const script = o.str("script");
  const args = o.strList("args", "script_args");
  const http = o.str("http");
  const tcp = o.str("tcp");
  const aliasNode = o.str("alias_node");
  const aliasService = o.str("alias_service");
  const intervalMs = o.durationMs("interval");
  const ttlMs = o.durationMs("ttl");
  const outputMaxSize = o.int("output_max_size");

  // Consul's CheckType.Validate, in its order and words.
  const isScript = script !== "" || args.length > 0;
  const isAlias = aliasNode !== "" || aliasService !== "";
  const intervalCheck = isScript || http !== "" || tcp !== "";
  let problem: string | undefined;
  if (intervalMs > 0 && ttlMs > 0) problem = "Interval and TTL cannot both be specified";
  else if (intervalCheck && intervalMs <= 0) problem = "Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks";
  else if (intervalCheck && isAlias) problem = "Interval cannot be set for Alias checks";
  else if (isAlias && ttlMs > 0) problem = "TTL must be not be set for Alias checks";
  else if (!intervalCheck && !isAlias && ttlMs <= 0) problem = "TTL must be > 0 for TTL checks";
  else if (outputMaxSize < 0) problem = "MaxOutputMaxSize must be positive";
  if (problem) throw new DefinitionError(`Invalid check: ${problem}`);

  const kind: CheckKind = isScript ? "script" : http ? "http" : tcp ? "tcp" : isAlias ? "alias" : "ttl";
  const header: Record<string, string[]> = {};
  const h = o.get("header");
  if (h !== undefined) {
    if (!isObject(h)) throw new DefinitionError("check: header must be an object of string arrays");
    for (const [k, v] of Object.entries(h)) {
      if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw new DefinitionError(`check: header ${k} must be an array of strings`);
      header[k] = [...v];
    }
  }

  return {
    id,
    name,
    notes: o.str("notes"),
    serviceId: inService ? inService.serviceId : o.str("service_id"),
    status,
    kind,
    script,
    args,
    http,
    method: o.str("method"),
    header,
    body: o.str("body"),
    tlsServerName: o.str("tls_server_name"),
    tlsSkipVerify: o.bool("tls_skip_verify"),
    disableRedirects: o.bool("disable_redirects"),
    tcp,
    ttlMs,
    aliasNode,
    aliasService,
    intervalMs,
    timeoutMs: o.durationMs("timeout"),
    deregisterCriticalServiceAfterMs: o.durationMs("deregister_critical_service_after"),
    successBeforePassing: o.int("success_before_passing", 0),
    failuresBeforeWarning: o.int("failures_before_warning", 0),
    failuresBeforeCritical: o.int("failures_before_critical", 0),
    outputMaxSize,
  };
}
