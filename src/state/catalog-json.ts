import { formatDurationMs as formatDuration } from "../lib/duration.ts";
import type {
  CatalogNode,
  CheckServiceNode,
  HealthCheck,
  HealthCheckDefinition,
  NodeInfo,
  NodeService,
  ServiceAddress,
  ServiceNode,
} from "./catalog-types.ts";

// Catalog records in Consul's JSON shape (field names, order, and Go's zero values), shared
// by the HTTP API and by `?filter=` expressions, which select on these very field names.
// Connect-only fields (Proxy, Connect) are written empty, as an OSS agent without mesh does.

type Json = Record<string, unknown>;

const emptyProxy = (): Json => ({ Mode: "", MeshGateway: {}, Expose: {} });

export function nodeJson(n: CatalogNode): Json {
  return {
    ID: n.id,
    Node: n.node,
    Address: n.address,
    Datacenter: n.datacenter,
    TaggedAddresses: n.taggedAddresses,
    Meta: n.meta,
    CreateIndex: n.createIndex,
    ModifyIndex: n.modifyIndex,
  };
}

function taggedJson(t: Record<string, ServiceAddress>): Json | undefined {
  const keys = Object.keys(t);
  if (keys.length === 0) return undefined; // omitempty
  return Object.fromEntries(keys.map((k) => [k, { Address: t[k]!.address, Port: t[k]!.port }]));
}

/** A service as a node holds it: catalog/node, health/service's "Service", agent/service. */
export function serviceJson(s: NodeService): Json {
  return {
    ID: s.id,
    Service: s.service,
    Tags: s.tags,
    Address: s.address,
    TaggedAddresses: taggedJson(s.taggedAddresses),
    Meta: s.meta,
    Port: s.port,
    Weights: { Passing: s.weights.passing, Warning: s.weights.warning },
    EnableTagOverride: s.enableTagOverride,
    Proxy: emptyProxy(),
    Connect: {},
    CreateIndex: s.createIndex,
    ModifyIndex: s.modifyIndex,
  };
}

/** One entry of /v1/catalog/service/<name>: node fields beside Service-prefixed ones. */
export function serviceNodeJson({ node: n, service: s }: ServiceNode): Json {
  return {
    ID: n.id,
    Node: n.node,
    Address: n.address,
    Datacenter: n.datacenter,
    TaggedAddresses: n.taggedAddresses,
    NodeMeta: n.meta,
    ServiceKind: "",
    ServiceID: s.id,
    ServiceName: s.service,
    ServiceTags: s.tags,
    ServiceAddress: s.address,
    ServiceTaggedAddresses: taggedJson(s.taggedAddresses),
    ServiceWeights: { Passing: s.weights.passing, Warning: s.weights.warning },
    ServiceMeta: s.meta,
    ServicePort: s.port,
    ServiceSocketPath: "",
    ServiceEnableTagOverride: s.enableTagOverride,
    ServiceProxy: emptyProxy(),
    ServiceConnect: {},
    CreateIndex: s.createIndex,
    ModifyIndex: s.modifyIndex,
  };
}

/** Consul writes a check's definition with omitempty fields and durations as Go strings. */
function definitionJson(d: HealthCheckDefinition): Json {
  const out: Json = {};
  if (d.http) out.HTTP = d.http;
  if (d.tlsServerName) out.TLSServerName = d.tlsServerName;
  if (d.tlsSkipVerify) out.TLSSkipVerify = true;
  if (Object.keys(d.header).length > 0) out.Header = d.header;
  if (d.method) out.Method = d.method;
  if (d.body) out.Body = d.body;
  if (d.tcp) out.TCP = d.tcp;
  if (d.intervalMs) out.Interval = formatDuration(d.intervalMs);
  if (d.timeoutMs) out.Timeout = formatDuration(d.timeoutMs);
  if (d.deregisterCriticalServiceAfterMs) out.DeregisterCriticalServiceAfter = formatDuration(d.deregisterCriticalServiceAfterMs);
  return out;
}

export function checkJson(c: HealthCheck): Json {
  return {
    Node: c.node,
    CheckID: c.checkId,
    Name: c.name,
    Status: c.status,
    Notes: c.notes,
    Output: c.output,
    ServiceID: c.serviceId,
    ServiceName: c.serviceName,
    ServiceTags: c.serviceTags,
    Type: c.type,
    Interval: c.definition.intervalMs ? formatDuration(c.definition.intervalMs) : "",
    Timeout: c.definition.timeoutMs ? formatDuration(c.definition.timeoutMs) : "",
    ExposedPort: 0,
    Definition: definitionJson(c.definition),
    CreateIndex: c.createIndex,
    ModifyIndex: c.modifyIndex,
  };
}

export function checkServiceNodeJson(e: CheckServiceNode): Json {
  return { Node: nodeJson(e.node), Service: serviceJson(e.service), Checks: e.checks.map(checkJson) };
}

/** Consul's NodeInfo: the node's fields (no Datacenter, no indexes), its services and checks. */
export function nodeInfoJson(n: NodeInfo): Json {
  return {
    ID: n.node.id,
    Node: n.node.node,
    Address: n.node.address,
    TaggedAddresses: n.node.taggedAddresses,
    Meta: n.node.meta,
    Services: n.services.map(serviceJson),
    Checks: n.checks.map(checkJson),
  };
}
