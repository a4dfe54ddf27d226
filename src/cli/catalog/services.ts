import { CatalogApi } from "../../api/catalog.ts";
import { defineTscCommand } from "../command.ts";
import { bool, list, str } from "../flags.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";
import { mapFlag } from "../flag-values.ts";
import { noArguments } from "./args.ts";
import { loadFilter } from "./filter.ts";
import { servicesList } from "./format.ts";

// `tsc catalog services [-tags] [-node N] [-node-meta k=v]... [-filter EXPR]`. -filter is ours
// (Consul's command lacks it); the API takes it on both endpoints used here.

export default defineTscCommand({
  meta: { name: "services", description: "Lists all registered services in a datacenter" },
  args: {
    ...httpFlags,
    tags: { type: "boolean", description: "Display each service's tags as a comma-separated list beside each service entry" },
    node: { type: "string", valueHint: "id or name", description: "Node for which to list services" },
    "node-meta": { type: "string", valueHint: "key=value", repeatable: true, description: "Only services on nodes with this metadata" },
    filter: { type: "string", description: "Filter expression; @file or - (stdin) read it from there" },
  },
  async run(flags) {
    const nodeMeta = mapFlag("node-meta", list(flags["node-meta"]));
    noArguments(flags._);
    const catalog = new CatalogApi(clientFrom(flags));
    const q = { nodeMeta, filter: await loadFilter(str(flags.filter)) };
    const node = str(flags.node);
    let services: Record<string, string[] | null> = {};
    if (node) {
      const found = await call("Error listing services for node: ", () => catalog.node(node, q));
      // As Consul: every instance's tags appended under its service name, duplicates and all.
      for (const s of Object.values(found?.Services ?? {})) services[s.Service] = [...(services[s.Service] ?? []), ...(s.Tags ?? [])];
    } else {
      services = await call("Error listing services: ", () => catalog.services(q));
    }
    if (Object.keys(services).length === 0) {
      process.stderr.write("No services match the given query - try expanding your search.\n");
      return 0;
    }
    out(servicesList(services, bool(flags.tags)));
    return 0;
  },
});
