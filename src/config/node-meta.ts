// Node metadata rules, with Consul's own wording (agent/structs validateMetaPair), because
// users search for these messages and scripts may match them.

export const NODE_META_PAIRS_MAX = 64;
const KEY_LENGTH_MAX = 128;
const VALUE_LENGTH_MAX = 512;
const RESERVED_PREFIX = "consul-";
const keyFormat = /^[A-Za-z0-9_-]+$/;

/** Why one node_meta pair is unacceptable, or undefined when it is fine. */
export function nodeMetaPairProblem(key: string, value: string): string | undefined {
  if (key === "") return "Key cannot be blank";
  if (!keyFormat.test(key)) return "Key contains invalid characters";
  if (key.length > KEY_LENGTH_MAX) return `Key is too long (limit: ${KEY_LENGTH_MAX} characters)`;
  if (key.startsWith(RESERVED_PREFIX)) return `Key prefix '${RESERVED_PREFIX}' is reserved for internal use`;
  if (value.length > VALUE_LENGTH_MAX) return `Value is too long (limit: ${VALUE_LENGTH_MAX} characters)`;
  return undefined;
}

export function nodeMetaCountProblem(meta: Record<string, string>): string | undefined {
  return Object.keys(meta).length > NODE_META_PAIRS_MAX
    ? `Node metadata cannot contain more than ${NODE_META_PAIRS_MAX} key/value pairs`
    : undefined;
}
