import { parseDurationNs } from "./duration.ts";

// Go's encoding/json matches struct fields case-insensitively and clients rely on it
// (python-consul sends lowercase keys). These helpers read a parsed JSON object that way.

export function field(obj: Record<string, unknown>, name: string): unknown {
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * JSON.parse rounds integers above 2^53; uint64 fields (Flags) must survive exactly.
 * Quotes long integer literals that follow the named keys, so they parse as strings.
 */
export function parseJsonKeepingBigInts(text: string, keys: string[]): unknown {
  const re = new RegExp(`("(?:${keys.join("|")})"\\s*:\\s*)(\\d{16,})`, "gi");
  return JSON.parse(text.replace(re, '$1"$2"'));
}

export interface FieldReaderOptions {
  /** Also ignore underscores in names (config files' snake_case against PascalCase). */
  ignoreUnderscores: boolean;
  /** The error for a field of the wrong type: `where` names the object, `name` the field. */
  error: (where: string, name: string, want: string) => Error;
}

/**
 * Typed reads of one decoded JSON object with Go's case-insensitive field matching; null
 * counts as absent. Only field names are matched loosely: values (Meta keys, header names)
 * come back exactly as sent.
 */
export class FieldReader {
  private readonly byName = new Map<string, unknown>();

  constructor(
    obj: Record<string, unknown>,
    readonly where: string,
    private readonly opts: FieldReaderOptions,
  ) {
    for (const [k, v] of Object.entries(obj)) if (v !== null && v !== undefined && !this.byName.has(this.norm(k))) this.byName.set(this.norm(k), v);
  }

  private norm(k: string): string {
    return (this.opts.ignoreUnderscores ? k.replaceAll("_", "") : k).toLowerCase();
  }

  private bad(name: string, want: string): Error {
    return this.opts.error(this.where, name, want);
  }

  /** The first of `names` present. */
  get(...names: string[]): unknown {
    for (const n of names) {
      const v = this.byName.get(this.norm(n));
      if (v !== undefined) return v;
    }
    return undefined;
  }

  str(...names: string[]): string {
    const v = this.get(...names);
    if (v === undefined) return "";
    if (typeof v !== "string") throw this.bad(names[0]!, "a string");
    return v;
  }

  bool(name: string): boolean {
    const v = this.get(name);
    if (v === undefined) return false;
    if (typeof v !== "boolean") throw this.bad(name, "true or false");
    return v;
  }

  int(name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.get(name);
    if (v === undefined) return 0;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      const range = max !== Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : min !== Number.MIN_SAFE_INTEGER ? ` of at least ${min}` : "";
      throw this.bad(name, `an integer${range}`);
    }
    return v;
  }

  strList(...names: string[]): string[] {
    const v = this.get(...names);
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw this.bad(names[0]!, "an array of strings");
    return [...v] as string[];
  }

  strMap(name: string): Record<string, string> {
    const v = this.get(name);
    if (v === undefined) return {};
    if (!isObject(v) || !Object.values(v).every((x) => typeof x === "string")) throw this.bad(name, "an object of strings");
    return { ...(v as Record<string, string>) };
  }

  /** A Go duration, "10s" or "1m30s", or integer nanoseconds as Consul's decode hook accepts. */
  durationMs(name: string): number {
    const v = this.get(name);
    if (v === undefined || v === "") return 0;
    if (typeof v === "number" && Number.isFinite(v)) return v / 1e6;
    const ns = typeof v === "string" ? parseDurationNs(v) : undefined;
    if (ns === undefined) throw this.bad(name, `a duration such as "10s", not ${JSON.stringify(v)}`);
    return ns / 1e6;
  }

  obj(name: string): FieldReader | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (!isObject(v)) throw this.bad(name, "an object");
    return new FieldReader(v, `${this.where}.${name}`, this.opts);
  }

  objList(name: string): FieldReader[] {
    const v = this.get(name);
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every(isObject)) throw this.bad(name, "an array of objects");
    return v.map((o, i) => new FieldReader(o, `${this.where}.${name}[${i}]`, this.opts));
  }

  /** An object of objects keyed by user data (kept exactly as given). */
  objMap(name: string): Array<[string, FieldReader]> {
    const v = this.get(name);
    if (v === undefined) return [];
    if (!isObject(v) || !Object.values(v).every(isObject)) throw this.bad(name, "an object of objects");
    return Object.entries(v).map(([k, o]) => [k, new FieldReader(o as Record<string, unknown>, `${this.where}.${name}.${k}`, this.opts)]);
  }
}
