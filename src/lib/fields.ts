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
