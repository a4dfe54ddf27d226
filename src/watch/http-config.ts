import { parseGoBool } from "../lib/go-bool.ts";
import { parseDurationMs } from "../lib/duration.ts";

// A config watch's `http_handler_config`, read as Consul reads it: mapstructure's strict
// decode first, then its weak one (numbers and booleans become strings, a single header value
// becomes a list, "true" a boolean), then the defaults: POST, a 10s timeout.

export interface HttpHandlerConfig {
  path: string;
  method: string;
  header: Array<[string, string[]]>;
  timeoutMs: number;
  tlsSkipVerify: boolean;
}

/** Consul's watch.DefaultTimeout. */
const DEFAULT_TIMEOUT_MS = 10_000;

/** Throws an Error with Consul's reason; the caller words it as a watch parameter problem. */
export function parseHttpHandlerConfig(raw: unknown): HttpHandlerConfig {
  try {
    return decode(raw, false);
  } catch {
    return decode(raw, true);
  }
}

function decode(raw: unknown, weak: boolean): HttpHandlerConfig {
  const fields = fieldsOf(raw);
  const errors: string[] = [];
  const attempt = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (err) {
      errors.push((err as Error).message);
      return fallback;
    }
  };
  const path = attempt(() => toString(fields, "path", weak), "");
  let method = attempt(() => toString(fields, "method", weak), "");
  const timeoutText = attempt(() => toString(fields, "timeout", weak), "");
  const header = attempt(() => toHeader(fields, weak), []);
  const tlsSkipVerify = attempt(() => toBool(fields, "tls_skip_verify", weak), false);
  if (errors.length > 0) throw new Error(`${errors.length} error(s) decoding: ${errors.map((e) => `* ${e}`).join(" ")}`);

  if (path === "") throw new Error("Requires 'path' to be set");
  if (method === "") method = "POST";
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (timeoutText !== "") {
    const ms = parseDurationMs(timeoutText);
    if (ms === undefined) throw new Error(`Failed to parse timeout: time: invalid duration ${JSON.stringify(timeoutText)}`);
    timeoutMs = ms;
  }
  return { path, method, header, timeoutMs, tlsSkipVerify };
}

/** mapstructure matches a field's name exactly, else ignoring case; other keys are ignored. */
function fieldsOf(raw: unknown): (name: string) => unknown {
  if (raw === null || raw === undefined) return () => undefined;
  if (typeof raw !== "object" || Array.isArray(raw)) throw new Error(`'' expected a map, got '${goKind(raw)}'`);
  const obj = raw as Record<string, unknown>;
  return (name) => {
    if (name in obj) return obj[name];
    const key = Object.keys(obj).find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : obj[key];
  };
}

function toString(fields: (name: string) => unknown, name: string, weak: boolean): string {
  const v = fields(name);
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (weak && typeof v === "boolean") return v ? "1" : "0";
  if (weak && typeof v === "number") return goFloatF(v);
  throw new Error(`'${name}' expected type 'string', got unconvertible type '${goType(v)}'`);
}

function toBool(fields: (name: string) => unknown, name: string, weak: boolean): boolean {
  const v = fields(name);
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (weak && typeof v === "number") return v !== 0;
  if (weak && typeof v === "string") {
    if (v === "") return false;
    const b = parseGoBool(v);
    if (b === undefined) throw new Error(`cannot parse '${name}' as bool: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
    return b;
  }
  throw new Error(`'${name}' expected type 'bool', got unconvertible type '${goType(v)}'`);
}

/** map[string][]string; header names keep their spelling and their order. */
function toHeader(fields: (name: string) => unknown, weak: boolean): Array<[string, string[]]> {
  const v = fields("header");
  if (v === undefined || v === null) return [];
  if (typeof v !== "object" || Array.isArray(v)) throw new Error(`'header' expected a map, got '${goKind(v)}'`);
  return Object.entries(v as Record<string, unknown>).map(([name, values]) => {
    const at = `header[${name}]`;
    if (Array.isArray(values)) return [name, values.map((x, i) => toString(() => x, `${at}[${i}]`, weak))];
    if (weak && values !== null && typeof values !== "object") return [name, [toString(() => values, at, weak)]];
    throw new Error(`'${at}': source data must be an array or slice, got ${goKind(values)}`);
  });
}

/** mapstructure writes a weakly converted float with strconv's 'f' format: never an exponent. */
function goFloatF(n: number): string {
  return Number.isInteger(n) ? BigInt(n).toString() : String(n);
}

function goType(v: unknown): string {
  if (Array.isArray(v)) return "[]interface {}";
  if (v !== null && typeof v === "object") return "map[string]interface {}";
  return goKind(v);
}

function goKind(v: unknown): string {
  if (v === null || v === undefined) return "invalid";
  if (Array.isArray(v)) return "slice";
  switch (typeof v) {
    case "string":
      return "string";
    case "number":
      return "float64";
    case "boolean":
      return "bool";
    default:
      return "map";
  }
}
