// Go's time.Duration text form ("10s", "1m30s", "9.98172569s", "120000ms"), because
// Consul's HTTP parameters and config files speak it and clients send it verbatim.

const unitNs: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3, // U+00B5 micro sign
  "μs": 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const part = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;

/**
 * Parses a Go duration into nanoseconds. Returns undefined for text Go would reject.
 * Nanoseconds are kept in a double: exact below 2^53 ns (104 days), which covers every
 * timeout; larger values (max_stale = 87600h) lose sub-microsecond precision only.
 */
export function parseDurationNs(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") return undefined;
  let total = 0;
  while (s.length > 0) {
    const m = part.exec(s);
    if (!m) return undefined;
    const [whole, intPart = "", fracPart] = m;
    if (intPart === "" && (fracPart === undefined || fracPart === "")) return undefined;
    const unit = unitNs[m[3]!]!;
    total += Number(intPart || "0") * unit;
    if (fracPart) total += Number(`0.${fracPart}`) * unit;
    s = s.slice(whole.length);
  }
  return sign * total;
}

/** Parses a Go duration into milliseconds (fractional), or undefined. */
export function parseDurationMs(text: string): number | undefined {
  const ns = parseDurationNs(text);
  return ns === undefined ? undefined : ns / 1e6;
}

/** Formats nanoseconds as Go's Duration.String() does: "1m30s", "1.5s", "150ms", "0s". */
export function formatDurationNs(nsIn: number): string {
  let ns = Math.round(nsIn);
  if (ns === 0) return "0s";
  const neg = ns < 0;
  if (neg) ns = -ns;
  let out: string;
  if (ns < 1e9) {
    // Sub-second: one unit with a fractional part, as Go does.
    const [unit, size] = ns < 1e3 ? ["ns", 1] : ns < 1e6 ? ["µs", 1e3] : ["ms", 1e6];
    out = trimFraction(ns / (size as number)) + unit;
  } else {
    const h = Math.floor(ns / 3600e9);
    ns -= h * 3600e9;
    const m = Math.floor(ns / 60e9);
    ns -= m * 60e9;
    const sec = trimFraction(ns / 1e9);
    out = (h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m` : "") + `${sec}s`;
  }
  return neg ? `-${out}` : out;
}

export function formatDurationMs(ms: number): string {
  return formatDurationNs(ms * 1e6);
}

function trimFraction(n: number): string {
  // Go prints up to 9 fractional digits with trailing zeros removed.
  return n.toFixed(9).replace(/\.?0+$/, "");
}

/**
 * The error Go's time.ParseDuration gives for `text`, or undefined if it parses. Consul
 * passes these through verbatim (`Session TTL 'x' invalid: time: unknown unit ...`).
 */
export function durationError(text: string): string | undefined {
  const quoted = JSON.stringify(text);
  const invalid = `time: invalid duration ${quoted}`;
  let s = text.replace(/^[-+]/, "");
  if (s === "0") return undefined;
  if (s === "") return invalid;
  while (s !== "") {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    if (num[1] === "" && !num[2]) return invalid;
    s = s.slice(num[0].length);
    const unit = /^[^.\d]*/.exec(s)![0];
    if (unit === "") return `time: missing unit in duration ${quoted}`;
    if (!(unit in unitNs)) return `time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`;
    s = s.slice(unit.length);
  }
  return parseDurationNs(text) === undefined ? invalid : undefined;
}
