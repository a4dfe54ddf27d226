// Reads config paths the way Consul does (agent/config/builder.go sourcesFromPath): a file is
// one source; a directory contributes its *.json files in byte order, not recursing, following
// symlinks. Each failure is a ConfigError of one line: `<file>: <key path>: <reason>`.

import { readdirSync, readFileSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../lib/errors.ts";
import { parseJson } from "./parse-json.ts";
import { describeProblem, parseFragment, type ConfigFragment } from "./schema.ts";
import { fsReason } from "../lib/fs-reason.ts";

export interface ConfigSource {
  file: string;
  fragment: ConfigFragment;
}

export interface ReadResult {
  sources: ConfigSource[];
  warnings: string[];
}

/** Reads one -config-dir/-config-file argument (either may name a file or a directory). */
export function readConfigPath(path: string): ReadResult {
  if (!stat(path).isDirectory()) return readFile(path, true);
  const result: ReadResult = { sources: [], warnings: [] };
  for (const name of byteOrder(listDir(path))) {
    const file = join(path, name);
    // statSync follows symlinks, so a link to a file loads and a dangling link is an error.
    if (stat(file).isDirectory()) continue;
    if (name.endsWith(".json")) {
      const one = readFile(file, false);
      result.sources.push(...one.sources);
      result.warnings.push(...one.warnings);
    } else if (name.endsWith(".hcl")) {
      result.warnings.push(`skipping ${file}: ${HCL_UNSUPPORTED}`);
    } else {
      result.warnings.push(`skipping file ${file}, extension must be .json`);
    }
  }
  return result;
}

/**
 * One file. A file named on the command line is JSON whatever its extension, except .hcl,
 * which fails rather than start an agent without settings the operator asked for.
 */
function readFile(file: string, named: boolean): ReadResult {
  if (named && file.endsWith(".hcl")) throw new ConfigError(`${file}: ${HCL_UNSUPPORTED}`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`${file}: ${fsReason(e)}`);
  }
  // A leading byte-order mark (Windows editors) is not JSON but carries no meaning either.
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  // Consul skips empty sources (ErrNoData) rather than failing on them.
  if (text.trim() === "") return { sources: [], warnings: [] };
  const json = parseJson(text);
  if (!json.ok) throw new ConfigError(`${file}: ${json.error}`);
  const parsed = parseFragment(json.value);
  if (!parsed.ok) throw new ConfigError(`${file}: ${describeProblem(parsed.problem)}`);
  return { sources: [{ file, fragment: parsed.fragment }], warnings: parsed.warnings.map((w) => `${file}: ${w}`) };
}

// No HCL parser on npm is both pure JavaScript and maintained (the candidates are one-release
// GopherJS or WebAssembly builds of Go's parser), so .hcl waits for one of our own.
const HCL_UNSUPPORTED = "HCL config is not supported yet, use JSON";

function stat(path: string): Stats {
  try {
    return statSync(path);
  } catch (e) {
    throw new ConfigError(`${path}: ${fsReason(e)}`);
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    throw new ConfigError(`${dir}: ${fsReason(e)}`);
  }
}

/** Go sorts names by UTF-8 bytes; JavaScript's default sort uses UTF-16 units, which differs. */
function byteOrder(names: string[]): string[] {
  return names.toSorted((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
