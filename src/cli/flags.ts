import { parseGoBool } from "../lib/go-bool.ts";
import { CliError } from "../lib/errors.ts";

// Go-style flags as Consul's CLI takes them: -name, --name, -name=value, -name value,
// booleans as -flag or -flag=false, repeatable flags accumulate. Unlike Go's flag package,
// flags may also follow positional arguments (`tsc kv put web/key1 great --cas 1061`),
// because that is how our users type them.
//
// citty's parser reads -config-dir as a bundle of one-letter flags, so we parse here and
// keep citty for command definitions, lazy subcommands and usage.

export interface FlagDef {
  type: "boolean" | "string" | "positional";
  description: string;
  valueHint?: string;
  required?: boolean;
  default?: string | boolean;
  /** May be given several times; the values accumulate in order. */
  repeatable?: boolean;
  /** Other names (one letter ones included) that mean this flag. */
  alias?: string[];
  /** A boolean that also takes a value matching this (e.g. `-cas 1061`). */
  optionalValue?: RegExp;
}

export type FlagSpec = Record<string, FlagDef>;
export type FlagValue = string | boolean | string[];
export type ParsedFlags = Record<string, FlagValue | undefined> & { _: string[] };

export function isHelpFlag(arg: string): boolean {
  return arg === "-h" || arg === "-help" || arg === "--help" || arg === "--h";
}

export interface ParseOptions {
  /** As Go's flag package: flags end at the first argument; the rest is a child's command line. */
  stopAtFirstArg?: boolean;
}

export function parseFlags(argv: readonly string[], spec: FlagSpec, opts: ParseOptions = {}): ParsedFlags {
  const byName = new Map<string, [string, FlagDef]>();
  for (const [name, def] of Object.entries(spec)) {
    if (def.type === "positional") continue;
    byName.set(name, [name, def]);
    for (const a of def.alias ?? []) byName.set(a, [name, def]);
  }
  const out: ParsedFlags = { _: [] };
  for (const [name, def] of Object.entries(spec)) {
    if (def.type !== "positional" && def.default !== undefined) out[name] = def.default;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      out._.push(...argv.slice(i + 1));
      break;
    }
    if (!isFlagToken(arg)) {
      if (opts.stopAtFirstArg) {
        out._.push(...argv.slice(i));
        break;
      }
      out._.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const given = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    const found = byName.get(given);
    if (!found) throw new CliError(`flag provided but not defined: -${given}`, 1, true);
    const [name, def] = found;
    let value: string | boolean;
    if (def.type === "boolean") {
      if (inline !== undefined) {
        const b = parseGoBool(inline);
        if (b !== undefined) value = b;
        else if (def.optionalValue?.test(inline)) value = inline;
        else throw new CliError(`invalid boolean value "${inline}" for -${given}: parse error`, 1, true);
      } else if (def.optionalValue && i + 1 < argv.length && def.optionalValue.test(argv[i + 1]!)) {
        value = argv[++i]!;
      } else {
        value = true;
      }
    } else if (inline !== undefined) {
      value = inline;
    } else if (i + 1 < argv.length) {
      value = argv[++i]!;
    } else {
      throw new CliError(`flag needs an argument: -${given}`, 1, true);
    }
    if (def.repeatable) {
      const prev = out[name];
      out[name] = [...(Array.isArray(prev) ? prev : []), String(value)];
    } else {
      out[name] = value;
    }
  }
  for (const [name, def] of Object.entries(spec)) {
    if (def.type !== "positional" && def.required && out[name] === undefined) {
      throw new CliError(`Missing required flag: -${name}`, 1, true);
    }
  }
  return out;
}

/** How many leading tokens are flags (with their values) when flags end at the first argument. */
export function flagPrefixLength(argv: readonly string[], spec: FlagSpec): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--" || !isFlagToken(arg)) return i;
    const body = arg.replace(/^--?/, "");
    const def = spec[body] ?? Object.values(spec).find((d) => d.alias?.includes(body));
    if (!body.includes("=") && def?.type === "string") i++;
  }
  return argv.length;
}

/** "-x", "--x", "-x=1"; not "-" (stdin) and not a negative number. */
function isFlagToken(arg: string): boolean {
  return arg.length > 1 && arg.startsWith("-") && !/^-\d/.test(arg);
}

export function str(v: FlagValue | undefined): string | undefined {
  if (v === undefined || typeof v === "boolean") return undefined;
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function list(v: FlagValue | undefined): string[] {
  if (v === undefined || typeof v === "boolean") return [];
  return Array.isArray(v) ? v : [v];
}

export function bool(v: FlagValue | undefined): boolean {
  return v === true || (typeof v === "string" && v !== "");
}
