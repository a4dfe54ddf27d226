// Go's fmt verbs applied to decoded JSON (map[string]interface{}, []interface{}, string,
// float64, bool, nil), for the Consul messages that print a user's value with them:
//   Failed to parse watch (map[string]interface {}{"key":"x", "type":"key"}): ...

/** `%#v`: maps with their keys sorted (Go does since 1.12), elements separated by ", ". */
export function goSharpV(v: unknown): string {
  if (v === null || v === undefined) return "interface {}(nil)";
  if (Array.isArray(v)) return `[]interface {}{${v.map(goSharpV).join(", ")}}`;
  if (v instanceof Map) return sharpMap([...v.entries()]);
  if (typeof v === "object") return sharpMap(Object.entries(v as Record<string, unknown>));
  return goScalar(v);
}

function sharpMap(entries: Array<[string, unknown]>): string {
  const sorted = entries.toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[string]interface {}{${sorted.map(([k, x]) => `${JSON.stringify(k)}:${goSharpV(x)}`).join(", ")}}`;
}

/** `%s` of an interface value: a string as it is, anything else flagged the way fmt does. */
export function goPercentS(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return "%!s(<nil>)";
  if (typeof v === "number") return `%!s(float64=${goFloat(v)})`;
  if (typeof v === "boolean") return `%!s(bool=${v})`;
  return goSharpV(v);
}

function goScalar(v: unknown): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      return goFloat(v);
    case "bigint":
      return v.toString();
    case "boolean":
      return String(v);
    default:
      return String(v);
  }
}

/** A float64 as %v prints it: %g with the shortest digits, so 1e+06 and 1e-05 in exponent form. */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : "-Inf";
  if (n === 0) return Object.is(n, -0) ? "-0" : "0";
  const [mantissa, expText] = n.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  // strconv's %g with the shortest digits uses %e when the exponent is < -4 or >= 6.
  if (exp < -4 || exp >= 6) return `${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return String(n);
}
