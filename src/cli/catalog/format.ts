import type { CatalogNode, CatalogService } from "../../api/catalog.ts";
import { columnize } from "../columnize.ts";

// Consul's catalog tables, pure so they can be tested without an agent.

/** Sorted key=value pairs joined by ", " (Consul's mapToKV); "" for none. */
function pairs(m: Record<string, string> | null): string {
  const keys = Object.keys(m ?? {}).sort();
  return keys.map((k) => `${k}=${m![k]}`).join(", ");
}

/** A node ID shortened to its first group, as Consul's table shows it ("a3c8d4f1"). */
export function shortId(id: string): string {
  const i = id.indexOf("-");
  return i > 0 ? id.slice(0, i) : id;
}

/**
 * `catalog nodes`: Node, ID, Address, DC (+ TaggedAddresses, Meta with -detailed, which also
 * keeps the full ID), in the order the API answered: by name, or by distance with -near.
 */
export function nodesTable(nodes: CatalogNode[], detailed: boolean): string {
  const header = detailed ? ["Node", "ID", "Address", "DC", "TaggedAddresses", "Meta"] : ["Node", "ID", "Address", "DC"];
  const rows = nodes.map((n) =>
    detailed
      ? [n.Node, n.ID, n.Address, n.Datacenter, pairs(n.TaggedAddresses), pairs(n.Meta)]
      : [n.Node, shortId(n.ID), n.Address, n.Datacenter],
  );
  return columnize([header, ...rows]);
}

/** -service: one row per instance, as Consul maps each CatalogService to its node. */
export function nodesOfInstances(instances: CatalogService[]): CatalogNode[] {
  return instances.map((s) => ({
    ID: s.ID,
    Node: s.Node,
    Address: s.Address,
    Datacenter: s.Datacenter,
    TaggedAddresses: s.TaggedAddresses,
    Meta: s.NodeMeta,
    CreateIndex: s.CreateIndex,
    ModifyIndex: s.ModifyIndex,
  }));
}

/**
 * `catalog services`: names in byte order, one a line; with -tags a second column of the
 * sorted, comma-joined tags, laid out by Go's tabwriter (padding 6) and trimmed as a whole.
 */
export function servicesList(services: Record<string, string[] | null>, withTags: boolean): string {
  const names = Object.keys(services).sort();
  if (!withTags) return names.join("\n");
  const width = Math.max(...names.map(runes)) + 6;
  const lines = names.map((n) => `${n}${" ".repeat(width - runes(n))}${[...(services[n] ?? [])].sort().join(",")}`);
  return lines.join("\n").trim();
}

function runes(s: string): number {
  return [...s].length;
}
