import type { CatalogNode, CheckServiceNode } from "../state/catalog-types.ts";
import type { CatalogEndpoint } from "../server/endpoints/catalog.ts";
import type { HealthEndpoint } from "../server/endpoints/health.ts";
import { noFilters } from "../server/endpoints/read.ts";
import type { QueryOptions } from "../server/query.ts";
import type { CatalogReader, Wanted } from "./lookup.ts";

// DNS on a client agent: it keeps no catalog, so each query first fetches what its name needs
// from a server (stale reads, as dns_config.allow_stale permits by default), and the usual
// lookup then answers from that.

const STALE: QueryOptions = { minIndex: 0, maxWaitMs: 0, consistency: "stale" };

export async function fetchReader(w: Wanted, api: { catalog: CatalogEndpoint; health: HealthEndpoint }): Promise<CatalogReader> {
  let node: CatalogNode | undefined;
  let nodes: CatalogNode[] = [];
  let instances: CheckServiceNode[] = [];
  let serviceName = "";
  switch (w.kind) {
    case "node":
      node = (await api.catalog.nodeServices(w.name, STALE, "")).node;
      break;
    case "service":
      serviceName = w.name.toLowerCase();
      instances = (await api.health.serviceNodes(w.name, false, STALE, noFilters())).nodes;
      break;
    case "servers":
      serviceName = "consul";
      instances = (await api.health.serviceNodes("consul", false, STALE, noFilters())).nodes;
      break;
    case "nodes":
      nodes = (await api.catalog.listNodes(STALE, noFilters())).nodes;
      break;
    case "none":
      break;
  }
  return {
    getNode: (_ws, name) => (node && node.node.toLowerCase() === name.toLowerCase() ? node : undefined),
    checkServiceNodes: (_ws, name) => ({ nodes: name.toLowerCase() === serviceName ? instances : [] }),
    listNodes: () => ({ nodes }),
    listServices: () => ({ services: [] }),
  };
}
