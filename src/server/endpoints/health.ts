import { CHECKS, SERVICES } from "../../state/catalog.ts";
import { checkJson, checkServiceNodeJson, nodeInfoJson } from "../../state/catalog-json.ts";
import type { CheckServiceNode, HealthCheck, HealthStatus, NodeInfo } from "../../state/catalog-types.ts";
import type { StateStore } from "../../state/store.ts";
import type { WatchSet } from "../../state/watch.ts";
import type { QueryMeta, QueryOptions } from "../query.ts";
import type { Server } from "../server.ts";
import { compileListFilter, hasTags, type ListFilters, nodeMetaMatches, readQuery } from "./read.ts";

// The Health RPC endpoint (Consul's Health.NodeChecks/ServiceChecks/ServiceNodes/
// ChecksInState): catalog reads with their checks, filtered as Consul's server filters them.
// Also the dumps behind the UI (Consul's Internal.NodeDump/NodeInfo/ServiceDump): whole
// tables at once, answered with the catalog's overall index.

export class HealthEndpoint {
  constructor(private readonly server: Server) {}

  async nodeChecks(node: string, q: QueryOptions, filterExpr: string, signal?: AbortSignal): Promise<{ meta: QueryMeta; checks: HealthCheck[] }> {
    const filter = compileListFilter(filterExpr);
    const { meta, value } = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const r = s.catalog.nodeChecks(ws, node);
        return { index: r.index, value: filter ? r.checks.filter((c) => filter(checkJson(c))) : r.checks };
      },
      signal,
    );
    return { meta, checks: value };
  }

  async serviceChecks(service: string, q: QueryOptions, f: ListFilters, signal?: AbortSignal): Promise<{ meta: QueryMeta; checks: HealthCheck[] }> {
    const filter = compileListFilter(f.filter);
    const { meta, value } = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const r = s.catalog.serviceChecks(ws, service);
        return { index: r.index, value: r.checks.filter((c) => keepCheck(s, c, f.nodeMeta, filter)) };
      },
      signal,
    );
    return { meta, checks: value };
  }

  /** `passingOnly` drops an instance if any of its checks (node or service) is not passing. */
  async serviceNodes(
    service: string,
    passingOnly: boolean,
    q: QueryOptions,
    f: ListFilters,
    signal?: AbortSignal,
  ): Promise<{ meta: QueryMeta; nodes: CheckServiceNode[] }> {
    const filter = compileListFilter(f.filter);
    const { meta, value } = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const r = s.catalog.checkServiceNodes(ws, service);
        const nodes = r.nodes.filter(
          (e) =>
            hasTags(e.service.tags, f.tags) &&
            nodeMetaMatches(e.node, f.nodeMeta) &&
            (!passingOnly || e.checks.every((c) => c.status === "passing")) &&
            (!filter || filter(checkServiceNodeJson(e))),
        );
        return { index: r.index, value: nodes };
      },
      signal,
    );
    return { meta, nodes: value };
  }

  /** Unknown states simply match nothing, as in Consul. */
  async checksInState(state: string, q: QueryOptions, f: ListFilters, signal?: AbortSignal): Promise<{ meta: QueryMeta; checks: HealthCheck[] }> {
    const filter = compileListFilter(f.filter);
    const { meta, value } = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const r = s.catalog.checksInState(ws, state as HealthStatus | "any");
        return { index: r.index, value: r.checks.filter((c) => keepCheck(s, c, f.nodeMeta, filter)) };
      },
      signal,
    );
    return { meta, checks: value };
  }

  async nodeDump(q: QueryOptions, filterExpr: string, signal?: AbortSignal): Promise<{ meta: QueryMeta; nodes: NodeInfo[] }> {
    const filter = compileListFilter(filterExpr);
    const { meta, value } = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const { nodes } = s.catalog.listNodes(ws);
        ws?.table(SERVICES);
        ws?.table(CHECKS);
        const infos = nodes.map((n) => nodeInfo(s, undefined, n.node)!);
        return { index: s.catalog.index, value: filter ? infos.filter((i) => filter(nodeInfoJson(i))) : infos };
      },
      signal,
    );
    return { meta, nodes: value };
  }

  async nodeInfo(node: string, q: QueryOptions, signal?: AbortSignal): Promise<{ meta: QueryMeta; node: NodeInfo | undefined }> {
    const { meta, value } = await readQuery(this.server, q, (s, ws) => ({ index: s.catalog.index, value: nodeInfo(s, ws, node) }), signal);
    return { meta, node: value };
  }

  /** Every instance of every service with its node and checks, ordered by service name. */
  async serviceDump(q: QueryOptions, filterExpr: string, signal?: AbortSignal): Promise<{ meta: QueryMeta; nodes: CheckServiceNode[] }> {
    const filter = compileListFilter(filterExpr);
    const { meta, value } = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const all = s.catalog.listServices(ws).services.flatMap((svc) => s.catalog.checkServiceNodes(ws, svc.name).nodes);
        return { index: s.catalog.index, value: filter ? all.filter((e) => filter(checkServiceNodeJson(e))) : all };
      },
      signal,
    );
    return { meta, nodes: value };
  }
}

/** One node's rows; the reads register the node's own watches. */
function nodeInfo(s: StateStore, ws: WatchSet | undefined, name: string): NodeInfo | undefined {
  const { node, services } = s.catalog.nodeServices(ws, name);
  if (!node) return undefined;
  return { node, services, checks: s.catalog.nodeChecks(ws, name).checks };
}

/** ?node-meta on a check list looks at the check's node; ?filter at the check itself. */
function keepCheck(s: StateStore, c: HealthCheck, nodeMeta: Record<string, string>, filter: ((json: unknown) => boolean) | undefined): boolean {
  if (Object.keys(nodeMeta).length > 0) {
    const node = s.catalog.getNode(undefined, c.node);
    if (!node || !nodeMetaMatches(node, nodeMeta)) return false;
  }
  return !filter || filter(checkJson(c));
}
