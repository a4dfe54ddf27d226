import { type ApiClient, encodeKey } from "./client.ts";
import type { AgentService } from "./agent.ts";

// /v1/catalog reads, typed as Consul returns them (its api package's Node, CatalogService,
// CatalogNode). Composes ApiClient: the transport, dc/stale/token and error texts stay there.

export interface CatalogNode {
  ID: string;
  Node: string;
  Address: string;
  Datacenter: string;
  TaggedAddresses: Record<string, string> | null;
  Meta: Record<string, string> | null;
  CreateIndex: number;
  ModifyIndex: number;
}

/** One instance of a service with its node, from /v1/catalog/service/<name>. */
export interface CatalogService {
  ID: string;
  Node: string;
  Address: string;
  Datacenter: string;
  TaggedAddresses: Record<string, string> | null;
  NodeMeta: Record<string, string> | null;
  ServiceID: string;
  ServiceName: string;
  ServiceAddress: string;
  ServiceTags: string[] | null;
  ServiceMeta: Record<string, string> | null;
  ServicePort: number;
  ServiceEnableTagOverride: boolean;
  CreateIndex: number;
  ModifyIndex: number;
}

/** /v1/catalog/node/<name>: the node and its services keyed by ID; null for an unknown node. */
export interface CatalogNodeServices {
  Node: CatalogNode | null;
  Services: Record<string, AgentService> | null;
}

/** The read options Consul's CLI passes (api.QueryOptions: Near, NodeMeta, Filter). */
export interface CatalogQuery {
  near?: string;
  /** key -> value; sent as repeated node-meta=key:value, as Consul's client does. */
  nodeMeta?: Record<string, string>;
  filter?: string;
}

function params(q: CatalogQuery): Record<string, string | string[] | undefined> {
  const meta = Object.entries(q.nodeMeta ?? {}).map(([k, v]) => `${k}:${v}`);
  return { near: q.near || undefined, filter: q.filter || undefined, "node-meta": meta.length > 0 ? meta : undefined };
}

export class CatalogApi {
  constructor(private readonly client: ApiClient) {}

  datacenters(): Promise<string[]> {
    return this.client.getJson<string[]>("/v1/catalog/datacenters");
  }

  async nodes(q: CatalogQuery = {}): Promise<CatalogNode[]> {
    return (await this.client.getJson<CatalogNode[] | null>("/v1/catalog/nodes", params(q))) ?? [];
  }

  async services(q: CatalogQuery = {}): Promise<Record<string, string[] | null>> {
    return (await this.client.getJson<Record<string, string[] | null> | null>("/v1/catalog/services", params(q))) ?? {};
  }

  async service(name: string, q: CatalogQuery = {}): Promise<CatalogService[]> {
    return (await this.client.getJson<CatalogService[] | null>(`/v1/catalog/service/${encodeKey(name)}`, params(q))) ?? [];
  }

  /** null when the node is unknown (Consul answers 200 with `null`). */
  node(name: string, q: CatalogQuery = {}): Promise<CatalogNodeServices | null> {
    return this.client.getJson<CatalogNodeServices | null>(`/v1/catalog/node/${encodeKey(name)}`, params(q));
  }
}
