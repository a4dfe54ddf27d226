import type { CheckServiceNode, HealthCheck } from "../state/catalog-types.ts";

// /v1/internal/ui/services: one row per service name, in the shape of Consul's
// ServiceListingSummary (CE, no mesh): instance and node counts, the union of tags, and
// checks counted once per (node, check ID), so a node check shared by two instances on the
// same node counts once, as Consul counts it.

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface Acc {
  name: string;
  datacenter: string;
  tags: Set<string>;
  nodes: Set<string>;
  sources: string[];
  instances: number;
  checks: Map<string, HealthCheck>;
}

export function serviceSummaries(dump: CheckServiceNode[]): Record<string, unknown>[] {
  const byName = new Map<string, Acc>();
  for (const e of dump) {
    const name = e.service.service;
    let acc = byName.get(name);
    if (!acc) byName.set(name, (acc = { name, datacenter: "", tags: new Set(), nodes: new Set(), sources: [], instances: 0, checks: new Map() }));
    acc.datacenter = e.node.datacenter;
    acc.instances++;
    acc.nodes.add(e.node.node);
    for (const t of e.service.tags) acc.tags.add(t);
    const source = e.service.meta["external-source"];
    if (source && !acc.sources.includes(source)) acc.sources.push(source);
    for (const c of e.checks) acc.checks.set(`${e.node.node}\0${c.checkId}`, c);
  }
  return [...byName.values()].sort((a, b) => byString(a.name, b.name)).map(summaryJson);
}

function summaryJson(a: Acc): Record<string, unknown> {
  const count = (status: string) => [...a.checks.values()].filter((c) => c.status === status).length;
  return {
    Name: a.name,
    Datacenter: a.datacenter,
    // Go's nil slices: no tags or sources is null, not [].
    Tags: a.tags.size === 0 ? null : [...a.tags].sort(byString),
    Nodes: [...a.nodes].sort(byString),
    ExternalSources: a.sources.length === 0 ? null : a.sources,
    InstanceCount: a.instances,
    ChecksPassing: count("passing"),
    ChecksWarning: count("warning"),
    ChecksCritical: count("critical"),
    GatewayConfig: {},
    TransparentProxy: false,
    ConnectNative: false,
    ConnectedWithProxy: false,
    ConnectedWithGateway: false,
  };
}
