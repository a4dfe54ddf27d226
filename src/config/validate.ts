// `tsc validate <paths…>`: the agent's own loading and checks, without starting anything.

import { ConfigError } from "../lib/errors.ts";
import { resolveConfig } from "./load.ts";

export type ValidateResult = { ok: true; warnings: string[] } | { ok: false; error: string };

export function validatePaths(paths: string[]): ValidateResult {
  if (paths.length === 0) return { ok: false, error: "Must specify at least one config file or directory" };
  try {
    // data_dir is not required: files under validation often leave it to a -data-dir flag.
    const { warnings } = resolveConfig(paths, {}, { dev: false, requireDataDir: false });
    return { ok: true, warnings };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, error: e.message };
    throw e;
  }
}
