import { defineTscCommand } from "./command.ts";
import { call, clientFrom, httpFlags, out } from "./http-flags.ts";

// `tsc info`: the agent's Stats from /v1/agent/self, sections and keys sorted, as Consul prints them.

export function formatStats(stats: Record<string, Record<string, unknown>>): string[] {
  const lines: string[] = [];
  for (const section of Object.keys(stats).sort()) {
    lines.push(`${section}:`);
    const values = stats[section] ?? {};
    for (const key of Object.keys(values).sort()) lines.push(`\t${key} = ${String(values[key])}`);
  }
  return lines;
}

export default defineTscCommand({
  meta: { name: "info", description: "Provides debugging information for operators" },
  args: { ...httpFlags },
  async run(flags) {
    const client = clientFrom(flags);
    const self = await call("Error querying agent: ", () => client.agentSelf());
    for (const line of formatStats((self.Stats ?? {}) as Record<string, Record<string, unknown>>)) out(line);
    return 0;
  },
});
