// The catalog's records, as Consul's structs package names them (camelCase here; the HTTP
// layer writes Consul's PascalCase JSON). Durations are milliseconds.

export type HealthStatus = "passing" | "warning" | "critical";
export const HEALTH_STATUSES: readonly HealthStatus[] = ["passing", "warning", "critical"];

export function isHealthStatus(s: unknown): s is HealthStatus {
  return s === "passing" || s === "warning" || s === "critical";
}

/** The node check the leader keeps for every member: passing while gossip sees it alive. */
export const SERF_CHECK_ID = "serfHealth";
export const SERF_CHECK_NAME = "Serf Health Status";
export const SERF_CHECK_ALIVE_OUTPUT = "Agent alive and reachable";
export const SERF_CHECK_FAILED_OUTPUT = "Agent not live or unreachable";
/** The service every server is registered as. */
export const CONSUL_SERVICE_ID = "consul";
export const CONSUL_SERVICE_NAME = "consul";
export const NODE_MAINTENANCE_CHECK_ID = "_node_maintenance";
export const SERVICE_MAINTENANCE_PREFIX = "_service_maintenance:";

export interface CatalogNode {
  id: string; // node UUID, "" when the registrant gave none
  node: string;
  address: string;
  datacenter: string;
  taggedAddresses: Record<string, string>;
  meta: Record<string, string>;
  createIndex: number;
  modifyIndex: number;
}

export interface ServiceAddress {
  address: string;
  port: number;
}

export interface Weights {
  passing: number;
  warning: number;
}

export interface NodeService {
  id: string;
  service: string;
  tags: string[];
  address: string;
  taggedAddresses: Record<string, ServiceAddress>;
  meta: Record<string, string>;
  port: number;
  weights: Weights;
  enableTagOverride: boolean;
  createIndex: number;
  modifyIndex: number;
}

/** How a check is run, kept with it in the catalog (Consul's HealthCheckDefinition). */
export interface HealthCheckDefinition {
  http: string;
  header: Record<string, string[]>;
  method: string;
  body: string;
  tlsServerName: string;
  tlsSkipVerify: boolean;
  tcp: string;
  intervalMs: number;
  timeoutMs: number;
  deregisterCriticalServiceAfterMs: number;
}

export interface HealthCheck {
  node: string;
  checkId: string;
  name: string;
  status: HealthStatus;
  notes: string;
  output: string;
  serviceId: string; // "" for a node check
  serviceName: string; // filled in from the service by the store
  serviceTags: string[];
  type: string; // "ttl", "http", "tcp", "script", "alias", "serf", "maintenance", ""
  definition: HealthCheckDefinition;
  createIndex: number;
  modifyIndex: number;
}

type Unindexed<T> = Omit<T, "createIndex" | "modifyIndex">;
export type ServiceInput = Unindexed<NodeService>;
export type CheckInput = Omit<Unindexed<HealthCheck>, "serviceName" | "serviceTags">;

/** Consul's RegisterRequest: a node, optionally one service and some checks, in one write. */
export interface RegisterRequest {
  node: string;
  id: string;
  address: string;
  datacenter: string;
  taggedAddresses: Record<string, string>;
  nodeMeta: Record<string, string>;
  /** Register or update only the service/checks; the node must already exist. */
  skipNodeUpdate: boolean;
  service: ServiceInput | undefined;
  checks: CheckInput[];
}

/** Consul's DeregisterRequest: the whole node, or one of its services (with its checks), or one check. */
export interface DeregisterRequest {
  node: string;
  serviceId: string;
  checkId: string;
}

/** One instance of a service as /v1/catalog/service lists it. */
export interface ServiceNode {
  node: CatalogNode;
  service: NodeService;
}

/** One instance with its node and every check that bears on it (/v1/health/service). */
export interface CheckServiceNode {
  node: CatalogNode;
  service: NodeService;
  checks: HealthCheck[];
}

export function emptyDefinition(): HealthCheckDefinition {
  return {
    http: "",
    header: {},
    method: "",
    body: "",
    tlsServerName: "",
    tlsSkipVerify: false,
    tcp: "",
    intervalMs: 0,
    timeoutMs: 0,
    deregisterCriticalServiceAfterMs: 0,
  };
}

/** A node with everything registered on it (Consul's NodeInfo, the UI's node dump). */
export interface NodeInfo {
  node: CatalogNode;
  services: NodeService[];
  checks: HealthCheck[];
}
