// RE2 patterns (Go's regexp, which Consul's filters take) as JS RegExps, with Go's error text.

/** JavaScriptCore's messages (and V8's) to RE2's error codes. */
const GO_ERRORS: Array<[RegExp, string]> = [
  [/missing \)|unterminated group/i, "missing closing )"],
  [/unmatched paren|unmatched '\)'/i, "unexpected )"],
  [/missing terminating \]|unterminated character class/i, "missing closing ]"],
  [/nothing to repeat/i, "missing argument to repetition operator"],
  [/\\ at end of pattern/i, "trailing backslash at end of expression"],
  [/range out of order/i, "invalid character class range"],
  [/numbers out of order/i, "invalid repeat count"],
  [/duplicate (group|capture)/i, "duplicate capture group name"],
  [/escape|backreference/i, "invalid escape sequence"],
];

/** A pattern Go would reject: its message reads as Go's `error parsing regexp: ...`. */
export class GoRegExpError extends Error {}

/** Compiles an RE2 pattern; escapes are consumed in pairs so `\\z` stays literal. */
export function goRegExp(pattern: string): RegExp {
  const lead = /^\(\?([ims]+)\)/.exec(pattern);
  const flags = [...new Set(lead?.[1] ?? "")].join("");
  const body = pattern
    .slice(lead?.[0].length ?? 0)
    .replace(/\\[\s\S]|\(\?P</g, (m) => (m === "\\A" ? "(?<![^])" : m === "\\z" ? "(?![^])" : m === "(?P<" ? "(?<" : m));
  try {
    return new RegExp(body, flags + "u"); // runes, \p{..}, as in Go
  } catch (err) {
    try {
      return new RegExp(body, flags); // RE2 allows escaping any punctuation; unicode mode doesn't
    } catch {
      const js = (err as Error).message;
      const go = GO_ERRORS.find(([re]) => re.test(js))?.[1] ?? "invalid or unsupported Perl syntax";
      throw new GoRegExpError(`error parsing regexp: ${go}: \`${pattern}\``);
    }
  }
}
