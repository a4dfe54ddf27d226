import { AgentApi } from "../api/agent.ts";
import { CliError } from "../lib/errors.ts";
import { defineTscCommand } from "./command.ts";
import { call, clientFrom, clientHttpFlags, out } from "./http-flags.ts";

// `tsc info`: the Stats of /v1/agent/self as Consul prints them: `section:`, then a tab and
// `key = value` per entry, sections and keys sorted.

/** The lines, and the error Consul stops at when a section is not an object. */
export function formatStats(stats: Record<string, unknown>): { lines: string[]; error?: string } {
  const lines: string[] = [];
  for (const section of Object.keys(stats).sort()) {
    lines.push(`${section}:`);
    const values = stats[section];
    // Go's failed type assertion leaves a nil map, which %v prints as map[].
    if (!isMap(values)) return { lines, error: "Got invalid subkey in stats: map[]" };
    for (const key of Object.keys(values).sort()) lines.push(`\t${key} = ${goS(values[key])}`);
  }
  return { lines };
}

export default defineTscCommand({
  meta: { name: "info", description: "Provides debugging information for operators" },
  args: { ...clientHttpFlags },
  async run(flags) {
    const agent = new AgentApi(clientFrom(flags));
    const self = await call("Error querying agent: ", () => agent.self());
    if (self.Stats === undefined) throw new CliError(`Agent response did not contain 'Stats' key: ${goV(self)}`);
    const { lines, error } = formatStats(isMap(self.Stats) ? self.Stats : {});
    for (const line of lines) out(line);
    if (error) throw new CliError(error);
    return 0;
  },
});

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Go's %s of an interface{}: strings as they are, anything else as fmt marks a wrong verb. */
function goS(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return `%!s(float64=${v})`;
  if (typeof v === "boolean") return `%!s(bool=${v})`;
  if (v === null || v === undefined) return "%!s(<nil>)";
  return goV(v);
}

/** Go's %v of decoded JSON: map[k:v ...] with sorted keys, [a b], <nil>. */
function goV(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return `[${v.map(goV).join(" ")}]`;
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goV(v[k])}`).join(" ")}]`;
  return String(v);
}
