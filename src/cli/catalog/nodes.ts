import { CatalogApi } from "../../api/catalog.ts";
import { defineTscCommand } from "../command.ts";
import { bool, list, str } from "../flags.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";
import { mapFlag } from "../flag-values.ts";
import { noArguments } from "./args.ts";
import { loadFilter } from "./filter.ts";
import { nodesOfInstances, nodesTable } from "./format.ts";

// `tsc catalog nodes [-detailed] [-service S] [-node-meta k=v]... [-near N] [-filter EXPR]`.

export default defineTscCommand({
  meta: { name: "nodes", description: "Lists all nodes in the given datacenter" },
  args: {
    ...httpFlags,
    detailed: { type: "boolean", description: "Output detailed information about the nodes including their addresses and metadata" },
    service: { type: "string", valueHint: "id or name", description: "Only nodes which are providing the given service" },
    "node-meta": { type: "string", valueHint: "key=value", repeatable: true, description: "Only nodes with this metadata" },
    near: { type: "string", description: 'Sort by estimated round-trip time from this node ("_agent": this agent)' },
    filter: { type: "string", description: "Filter expression; @file or - (stdin) read it from there" },
  },
  async run(flags) {
    const nodeMeta = mapFlag("node-meta", list(flags["node-meta"]));
    noArguments(flags._);
    const catalog = new CatalogApi(clientFrom(flags));
    const q = { near: str(flags.near), nodeMeta, filter: await loadFilter(str(flags.filter)) };
    const service = str(flags.service);
    const nodes = service
      ? nodesOfInstances(await call("Error listing nodes for service: ", () => catalog.service(service, q)))
      : await call("Error listing nodes: ", () => catalog.nodes(q));
    if (nodes.length === 0) {
      process.stderr.write("No nodes match the given query - try expanding your search.\n");
      return 0;
    }
    out(nodesTable(nodes, bool(flags.detailed)));
    return 0;
  },
});
