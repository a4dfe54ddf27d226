import { CliError } from "../../lib/errors.ts";
import { columnize } from "../columnize.ts";
import { defineTscCommand } from "../command.ts";
import { bool, list, str } from "../flags.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";
import { nodeMetaQuery } from "./nodes.ts";

// `tsc catalog services [-tags] [-node N] [-node-meta k=v] [-filter EXPR]`: sorted names,
// with -tags a second column of comma-joined tags.

export function servicesTable(services: Record<string, string[] | null>, withTags: boolean): string {
  const names = Object.keys(services).sort();
  if (!withTags) return names.join("\n");
  return columnize(names.map((n) => [n, [...(services[n] ?? [])].sort().join(",")]));
}

export default defineTscCommand({
  meta: { name: "services", description: "List all registered services in a datacenter" },
  args: {
    ...httpFlags,
    tags: { type: "boolean", description: "Display each service's tags as a comma-separated list" },
    node: { type: "string", description: "Only services on this node" },
    "node-meta": { type: "string", repeatable: true, description: "Only services on nodes with this metadata, key=value (repeatable)" },
    filter: { type: "string", description: "Filter expression (Consul's ?filter= language)" },
  },
  async run(flags) {
    if (flags._.length > 0) throw new CliError("Too many arguments (expected 0)", 1, true);
    const client = clientFrom(flags);
    const node = str(flags.node);
    const meta = nodeMetaQuery(list(flags["node-meta"]));
    const filter = str(flags.filter);
    const services = await call("Error listing services: ", async () => {
      if (!node) return await client.getJson<Record<string, string[] | null>>("/v1/catalog/services", { "node-meta": meta, filter });
      const r = await client.getJson<{ Services: Record<string, { Service: string; Tags: string[] | null }> } | null>(
        `/v1/catalog/node/${encodeURIComponent(node)}`,
        { filter },
      );
      const byName: Record<string, string[]> = {};
      for (const s of Object.values(r?.Services ?? {})) byName[s.Service] = [...new Set([...(byName[s.Service] ?? []), ...(s.Tags ?? [])])];
      return byName;
    });
    if (Object.keys(services).length === 0) {
      process.stderr.write("No services match the given query - try expanding your search.\n");
      return 0;
    }
    out(servicesTable(services, bool(flags.tags)));
    return 0;
  },
});
