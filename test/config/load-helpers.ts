// loadConfig shorthands shared by the loading and rules tests.

import { loadConfig, type LoadOptions } from "../../src/config/load.ts";
import { ConfigError } from "../../src/lib/errors.ts";

/** loadConfig with a data_dir flag unless the test gives flags of its own. */
export function load(opts: Partial<LoadOptions>) {
  return loadConfig({ configDirs: [], configFiles: [], flags: { data_dir: "/var/lib/tsc" }, ...opts });
}

/** The ConfigError message `fn` throws; any other outcome fails the test. */
export function configErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

/** The ConfigError message loading would throw. */
export function loadError(opts: Partial<LoadOptions>): string {
  return configErrorOf(() => load(opts));
}
