import { CliError } from "../../lib/errors.ts";
import { columnize } from "../columnize.ts";
import { defineTscCommand } from "../command.ts";
import { bool, list, str } from "../flags.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";

// `tsc catalog nodes [-detailed] [-service S] [-node-meta k=v] [-filter EXPR]`, laid out as Consul's.

export interface CatalogNodeJson {
  ID: string;
  Node: string;
  Address: string;
  Datacenter: string;
  TaggedAddresses: Record<string, string> | null;
  Meta: Record<string, string> | null;
}

/** Consul's node table: short IDs unless -detailed, which adds tagged addresses and meta. */
export function nodesTable(nodes: CatalogNodeJson[], detailed: boolean): string {
  const pairs = (m: Record<string, string> | null): string =>
    Object.keys(m ?? {})
      .sort()
      .map((k) => `${k}=${m![k]}`)
      .join(", ");
  const header = detailed ? ["Node", "ID", "Address", "DC", "TaggedAddresses", "Meta"] : ["Node", "ID", "Address", "DC"];
  const rows = [...nodes]
    .sort((a, b) => (a.Node < b.Node ? -1 : a.Node > b.Node ? 1 : 0))
    .map((n) => {
      const row = [n.Node, detailed ? n.ID : n.ID.slice(0, 8), n.Address, n.Datacenter];
      return detailed ? [...row, pairs(n.TaggedAddresses), pairs(n.Meta)] : row;
    });
  return columnize([header, ...rows]);
}

/** -node-meta key=value, as Consul's flag takes it, becomes the API's key:value. */
export function nodeMetaQuery(values: string[]): string[] {
  return values.map((kv) => {
    const i = kv.indexOf("=");
    return i < 0 ? `${kv}:` : `${kv.slice(0, i)}:${kv.slice(i + 1)}`;
  });
}

export default defineTscCommand({
  meta: { name: "nodes", description: "List all nodes in the catalog" },
  args: {
    ...httpFlags,
    detailed: { type: "boolean", description: "Output detailed information about the nodes" },
    service: { type: "string", description: "Only nodes providing this service" },
    "node-meta": { type: "string", repeatable: true, description: "Only nodes with this metadata, key=value (repeatable)" },
    near: { type: "string", description: "Accepted for Consul command lines; sorting by RTT needs coordinates" },
    filter: { type: "string", description: "Filter expression (Consul's ?filter= language)" },
  },
  async run(flags) {
    if (flags._.length > 0) throw new CliError("Too many arguments (expected 0)", 1, true);
    const client = clientFrom(flags);
    const meta = nodeMetaQuery(list(flags["node-meta"]));
    const filter = str(flags.filter);
    const service = str(flags.service);
    const nodes = await call("Error listing nodes: ", async () => {
      const q = { filter, "node-meta": meta };
      if (!service) return await client.getJson<CatalogNodeJson[]>("/v1/catalog/nodes", q);
      const instances = await client.getJson<Array<CatalogNodeJson & { NodeMeta: Record<string, string> | null }>>(
        `/v1/catalog/service/${encodeURIComponent(service)}`,
        q,
      );
      // One row per node, even when it runs the service twice.
      const seen = new Map<string, CatalogNodeJson>();
      for (const i of instances) seen.set(i.Node, { ID: i.ID, Node: i.Node, Address: i.Address, Datacenter: i.Datacenter, TaggedAddresses: i.TaggedAddresses, Meta: i.NodeMeta });
      return [...seen.values()];
    });
    if (nodes.length === 0) {
      process.stderr.write("No nodes match the given query - try expanding your search.\n");
      return 0;
    }
    out(nodesTable(nodes, bool(flags.detailed)));
    return 0;
  },
});
