// Consul's merge of config sources (agent/config/merge.go): a later scalar replaces an earlier
// one, lists append, objects merge key by key. Pure, so the load order is the only policy.

import type { ConfigFragment } from "./schema.ts";

export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Merges fragment `b` over fragment `a`; neither is modified. */
export function mergeFragments(a: ConfigFragment, b: ConfigFragment): ConfigFragment {
  // Merging two valid fragments key by key yields a valid fragment: same keys, same value types.
  return mergeValues(withSingularsListed(a), withSingularsListed(b)) as ConfigFragment;
}

function mergeValues(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (isJsonObject(a) && isJsonObject(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [key, value] of Object.entries(b)) out[key] = mergeValues(a[key], value);
    return out;
  }
  return b;
}

/**
 * Moves a singular `service`/`check` to the end of its fragment's `services`/`checks`, as
 * Consul does before merging; otherwise a later file's `service` would replace an earlier one.
 */
function withSingularsListed(f: ConfigFragment): ConfigFragment {
  const { service, check, ...rest } = f;
  if (service !== undefined) rest.services = [...(rest.services ?? []), service];
  if (check !== undefined) rest.checks = [...(rest.checks ?? []), check];
  return rest;
}

/**
 * Splits the flags' fragment into its lists and everything else. Consul merges flag lists
 * before the config files and flag scalars after them, so `-retry-join`/`-recursor` values
 * come first in the final list while a scalar flag still wins over every file.
 */
export function splitLists(f: ConfigFragment): { lists: ConfigFragment; scalars: ConfigFragment } {
  const lists: Record<string, unknown> = {};
  const scalars: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(f)) (Array.isArray(value) ? lists : scalars)[key] = value;
  // Each half holds a subset of a valid fragment's keys with their values unchanged.
  return { lists: lists as ConfigFragment, scalars: scalars as ConfigFragment };
}
