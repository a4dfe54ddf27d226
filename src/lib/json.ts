// JSON as Go's encoding/json writes it, because Consul's responses are the contract:
// bigint (uint64 Flags) printed exactly, byte arrays as base64, <>& escaped as \u003c…,
// and `?pretty` indented with four spaces plus a trailing newline.

const goEscapes: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};
const needsGoEscape = /[<>&\u2028\u2029]/g;

export function goString(s: string): string {
  const json = JSON.stringify(s);
  return needsGoEscape.test(json) ? json.replace(needsGoEscape, (c) => goEscapes[c]!) : json;
}

// Field names repeat in every response: encode each once. User-chosen keys (Meta) also land
// here, so the cache stops growing at a bound instead of holding every key ever seen.
const keyCache = new Map<string, string>();
const KEY_CACHE_MAX = 4096;

function keyString(k: string): string {
  let out = keyCache.get(k);
  if (out === undefined) {
    out = goString(k);
    if (keyCache.size < KEY_CACHE_MAX) keyCache.set(k, out);
  }
  return out;
}

export function goJson(value: unknown, pretty = false): string {
  const out = encode(value, pretty ? "\n" : "", pretty);
  return pretty ? `${out}\n` : out;
}

function encode(v: unknown, nl: string, pretty: boolean): string {
  switch (typeof v) {
    case "string":
      return goString(v);
    case "number":
      return Number.isFinite(v) ? String(v) : "null";
    case "bigint":
      return v.toString();
    case "boolean":
      return v ? "true" : "false";
    case "undefined":
      return "null";
    case "object":
      break;
    default:
      throw new TypeError(`cannot encode ${typeof v} as JSON`);
  }
  if (v === null) return "null";
  if (v instanceof Uint8Array) return `"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64")}"`;
  const inner = pretty ? `${nl}    ` : "";
  const sep = pretty ? ": " : ":";
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    const items = v.map((x) => encode(x, inner, pretty));
    return `[${inner}${items.join(`,${inner}`)}${nl}]`;
  }
  if (typeof (v as { toJSON?: unknown }).toJSON === "function") {
    return encode((v as { toJSON: () => unknown }).toJSON(), nl, pretty);
  }
  const parts: string[] = [];
  const obj = v as Record<string, unknown>;
  for (const k in obj) {
    if (!Object.hasOwn(obj, k)) continue;
    const x = obj[k];
    if (x === undefined) continue; // omitempty-style: absent fields are not written
    parts.push(`${keyString(k)}${sep}${encode(x, inner, pretty)}`);
  }
  if (parts.length === 0) return "{}";
  return `{${inner}${parts.join(`,${inner}`)}${nl}}`;
}
