// Pure helpers for what the pages show: check status totals and KV values. No DOM.

export type Status = "passing" | "warning" | "critical";

export interface Counts {
  passing: number;
  warning: number;
  critical: number;
}

export function countStatuses(checks: ReadonlyArray<{ Status: string }>): Counts {
  const c: Counts = { passing: 0, warning: 0, critical: 0 };
  for (const k of checks) if (k.Status === "passing" || k.Status === "warning" || k.Status === "critical") c[k.Status]++;
  return c;
}

/** The worst status among counts, Consul's order: critical, then warning, then passing. */
export function worst(c: Counts): Status | "none" {
  return c.critical > 0 ? "critical" : c.warning > 0 ? "warning" : c.passing > 0 ? "passing" : "none";
}

export type DecodedValue = { kind: "text"; text: string } | { kind: "binary"; base64: string; size: number };

/** A KV Value (base64, or null for an empty value): text when it is valid UTF-8, else binary. */
export function decodeValue(base64: string | null): DecodedValue {
  if (!base64) return { kind: "text", text: "" };
  const bin = atob(base64);
  const bytes = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    // NUL and other C0 controls (tab, newline and CR aside) mean bytes, not text.
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(text)) return { kind: "binary", base64, size: bytes.length };
    return { kind: "text", text };
  } catch {
    return { kind: "binary", base64, size: bytes.length };
  }
}

/** Flags are a uint64: read them from the JSON text, since JSON.parse would round them. */
export function rawFlags(json: string): string {
  return /"Flags":\s*(\d+)/.exec(json)?.[1] ?? "0";
}
