import { ConsulError } from "../../lib/errors.ts";
import { nodeJson, serviceJson, serviceNodeJson } from "../../state/catalog-json.ts";
import type { CatalogNode, DeregisterRequest, NodeService, RegisterRequest, ServiceNode } from "../../state/catalog-types.ts";
import type { QueryMeta, QueryOptions } from "../query.ts";
import type { Server } from "../server.ts";
import { compileListFilter, hasTags, type ListFilters, nodeMetaMatches, readQuery } from "./read.ts";

// The Catalog RPC endpoint (Consul's Catalog.Register/Deregister/ListNodes/ListServices/
// ServiceNodes/NodeServices): checks a request as Consul's server does, then writes through
// the log or reads from the store.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class CatalogEndpoint {
  constructor(
    private readonly server: Server,
    private readonly datacenter: string,
    /** Datacenters the WAN pool knows of; just ours without one. */
    private readonly knownDatacenters: () => string[] = () => [datacenter],
  ) {}

  async register(req: RegisterRequest): Promise<void> {
    if (req.node === "") throw new ConsulError(500, "Must provide node");
    if (req.address === "" && !req.skipNodeUpdate) throw new ConsulError(500, "Must provide address if SkipNodeUpdate is not set");
    if (req.id !== "" && !UUID.test(req.id)) throw new ConsulError(500, `Bad node ID: uuid string is wrong length`);
    const service = req.service;
    if (service) {
      if (service.id === "" && service.service !== "") service.id = service.service;
      if (service.id !== "" && service.service === "") throw new ConsulError(500, "Must provide service name with ID");
      if (service.address === "0.0.0.0" || service.address === "::" || service.address === "[::]") {
        throw new ConsulError(500, "Invalid service address");
      }
    }
    for (const check of req.checks) {
      if (check.checkId === "") check.checkId = check.name;
      if (check.node === "") check.node = req.node;
      if (check.node !== req.node) {
        throw new ConsulError(500, `Node '${check.node}' for check '${check.checkId}' doesn't match register request node '${req.node}'`);
      }
    }
    await this.server.apply({ type: "register", ...req, datacenter: req.datacenter || this.datacenter });
  }

  async deregister(req: DeregisterRequest): Promise<void> {
    if (req.node === "") throw new ConsulError(500, "Must provide node");
    await this.server.apply({ type: "deregister", ...req });
  }

  /** Ours first (Consul sorts by round-trip time, and ours is nearest), then by name. */
  async datacenters(): Promise<string[]> {
    const others = this.knownDatacenters().filter((dc) => dc !== this.datacenter);
    return [this.datacenter, ...[...new Set(others)].sort()];
  }

  async listNodes(q: QueryOptions, f: ListFilters, signal?: AbortSignal): Promise<{ meta: QueryMeta; nodes: CatalogNode[] }> {
    const filter = compileListFilter(f.filter);
    const { meta, value } = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const { index, nodes } = s.catalog.listNodes(ws);
        return { index, value: nodes.filter((n) => nodeMetaMatches(n, f.nodeMeta) && (!filter || filter(nodeJson(n)))) };
      },
      signal,
    );
    return { meta, nodes: value };
  }

  /** Service name -> union of tags, over instances on nodes that pass the filters. */
  async listServices(q: QueryOptions, f: ListFilters, signal?: AbortSignal): Promise<{ meta: QueryMeta; services: Map<string, string[]> }> {
    const filter = compileListFilter(f.filter);
    const { meta, value } = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const { index, services } = s.catalog.listServices(ws);
        const out = new Map<string, string[]>();
        for (const svc of services) {
          const kept = svc.instances.filter((i) => nodeMetaMatches(i.node, f.nodeMeta) && (!filter || filter(serviceNodeJson(i))));
          if (kept.length === 0) continue;
          const tags = new Set<string>();
          for (const i of kept) for (const t of i.service.tags) tags.add(t);
          out.set(svc.name, [...tags].sort());
        }
        return { index, value: out };
      },
      signal,
    );
    return { meta, services: value };
  }

  async serviceNodes(name: string, q: QueryOptions, f: ListFilters, signal?: AbortSignal): Promise<{ meta: QueryMeta; nodes: ServiceNode[] }> {
    const filter = compileListFilter(f.filter);
    const { meta, value } = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const { index, nodes } = s.catalog.serviceNodes(ws, name);
        const kept = nodes.filter(
          (e) => hasTags(e.service.tags, f.tags) && nodeMetaMatches(e.node, f.nodeMeta) && (!filter || filter(serviceNodeJson(e))),
        );
        return { index, value: kept };
      },
      signal,
    );
    return { meta, nodes: value };
  }

  async nodeServices(
    node: string,
    q: QueryOptions,
    filterExpr: string,
    signal?: AbortSignal,
  ): Promise<{ meta: QueryMeta; node: CatalogNode | undefined; services: NodeService[] }> {
    const filter = compileListFilter(filterExpr);
    const { meta, value } = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const r = s.catalog.nodeServices(ws, node);
        const services = filter ? r.services.filter((svc) => filter(serviceJson(svc))) : r.services;
        return { index: r.index, value: { node: r.node, services } };
      },
      signal,
    );
    return { meta, ...value };
  }
}
