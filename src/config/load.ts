// Builds the one AgentConfig an agent runs with. Layers, last wins for scalars:
//   defaults -> -dev layer -> list-valued flags -> config files in argument order -> other flags
// Flag lists go before the files because Consul does so (they come first in the final list);
// see merge.ts splitLists.

import { ConfigError } from "../lib/errors.ts";
import { buildConfig } from "./build.ts";
import { devFragment } from "./defaults.ts";
import { mergeFragments, splitLists } from "./merge.ts";
import { checkConfig } from "./rules.ts";
import { describeProblem, parseFragment, type ConfigFragment } from "./schema.ts";
import { readConfigPath } from "./sources.ts";
import type { LoadedConfig } from "./types.ts";

export interface LoadOptions {
  configDirs: string[];
  configFiles: string[];
  /** The snake_case fragment built from CLI flags (flags.ts flagsToFragment). */
  flags: Record<string, unknown>;
  dev?: boolean;
}

/** Loads the agent's config; throws ConfigError (one line) on the first problem. */
export function loadConfig(opts: LoadOptions): LoadedConfig {
  return resolveConfig([...opts.configDirs, ...opts.configFiles], opts.flags, {
    dev: opts.dev ?? false,
    requireDataDir: true,
  });
}

export interface ResolveOptions {
  dev: boolean;
  requireDataDir: boolean;
}

/** The whole pipeline, shared by `agent` (loadConfig) and `validate` (validatePaths). */
export function resolveConfig(paths: string[], flags: Record<string, unknown>, opts: ResolveOptions): LoadedConfig {
  const warnings: string[] = [];
  const files: string[] = [];
  const fileFragments: ConfigFragment[] = [];
  for (const path of paths) {
    const read = readConfigPath(path);
    warnings.push(...read.warnings);
    for (const s of read.sources) {
      files.push(s.file);
      fileFragments.push(s.fragment);
    }
  }
  const parsedFlags = parseFragment(flags);
  if (!parsedFlags.ok) throw new ConfigError(`command-line flags: ${describeProblem(parsedFlags.problem)}`);
  warnings.push(...parsedFlags.warnings.map((w) => `command-line flags: ${w}`));

  const { lists, scalars } = splitLists(parsedFlags.fragment);
  const layers = [opts.dev ? devFragment() : {}, lists, ...fileFragments, scalars];
  const merged = layers.reduce(mergeFragments);
  const built = buildConfig(merged, opts.dev);
  warnings.push(...built.warnings, ...checkConfig(built.config, opts.requireDataDir));
  return { config: built.config, warnings, sources: files };
}
