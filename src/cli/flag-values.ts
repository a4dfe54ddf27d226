import { parseDurationNs } from "../lib/duration.ts";
import { CliError } from "../lib/errors.ts";

// Typed flag values as Go's flag package and Consul's flags.FlagMapValue parse them, with
// their error texts (`invalid value "x" for flag -meta: ...`, then usage, exit 1).

function invalid(flag: string, value: string, why: string): CliError {
  return new CliError(`invalid value ${JSON.stringify(value)} for flag -${flag}: ${why}`, 1, true);
}

/** flags.FlagMapValue: repeated key=value (split at the first "="); a later key wins. */
export function mapFlag(flag: string, values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i < 0) throw invalid(flag, v, `Missing "=" value in argument: ${v}`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** flag.IntVar: strconv.ParseInt(s, 0, 64), so 0x1f, 0o17, 017 and 0b101 are numbers too. */
export function intFlag(flag: string, value: string): number {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO]?[0-7]+|[1-9][0-9]*|0)$/.exec(value);
  if (!m) throw invalid(flag, value, "parse error");
  const digits = m[2]!;
  const literal = /^0[0-7]/.test(digits) ? `0o${digits.slice(1)}` : digits.replace(/^0O/, "0o");
  const n = BigInt(literal) * (m[1] === "-" ? -1n : 1n);
  // Go's bound is int64; ours is what a JSON number carries exactly.
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw invalid(flag, value, "value out of range");
  return Number(n);
}

/** flag.DurationVar: a Go duration ("1s", "1m30s", "-2h"), in ms. */
export function durationFlag(flag: string, value: string): number {
  const ns = parseDurationNs(value);
  if (ns === undefined) throw invalid(flag, value, "parse error");
  return ns / 1e6;
}

/** api.ParseServiceAddr: "host:port" (IPv6 in brackets) as net.SplitHostPort and Atoi read it. */
export function parseServiceAddr(hostport: string): { Address: string; Port: number } {
  const [host, port] = splitHostPort(hostport);
  if (!/^[+-]?\d+$/.test(port)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax`);
  return { Address: host, Port: Number(port) };
}

function splitHostPort(hostport: string): [string, string] {
  const fail = (why: string) => new Error(`address ${hostport}: ${why}`);
  const i = hostport.lastIndexOf(":");
  if (i < 0) throw fail("missing port in address");
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    if (end < 0) throw fail("missing ']' in address");
    if (end + 1 === hostport.length) throw fail("missing port in address");
    if (end + 1 !== i) throw fail(hostport[end + 1] === ":" ? "too many colons in address" : "missing port in address");
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(":")) throw fail("too many colons in address");
  }
  if (hostport.slice(j).includes("[")) throw fail("unexpected '[' in address");
  if (hostport.slice(k).includes("]")) throw fail("unexpected ']' in address");
  return [host, hostport.slice(i + 1)];
}
