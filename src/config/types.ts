import type { WatchDefinition } from "../watch/definition.ts";
import type { CheckDefinition, ServiceDefinition } from "./definition-types.ts";

// The one typed, validated configuration an agent runs with: built-in defaults, then
// config files (each -config-dir in lexical order, each -config-file), then flags.
// Durations are milliseconds; names follow Consul's config keys in camelCase.

export interface PortsConfig {
  http: number; // -1 disables
  https: number;
  dns: number; // -1 disables
  serfLan: number;
  serfWan: number;
  server: number;
  grpc: number;
}

/** Per-listener bind addresses; each defaults to clientAddrs, as Consul's `addresses` block. */
export interface AddressesConfig {
  dns: string[];
  http: string[];
  https: string[];
  grpc: string[];
}

export interface DnsConfig {
  allowStale: boolean;
  maxStaleMs: number;
  nodeTtlMs: number;
  serviceTtlMs: Record<string, number>;
  enableTruncate: boolean;
  onlyPassing: boolean;
  recursorStrategy: "sequential" | "random";
  recursorTimeoutMs: number;
  disableCompression: boolean;
  udpAnswerLimit: number;
  aRecordLimit: number;
  enableAdditionalNodeMetaTxt: boolean;
}

export interface LimitsConfig {
  kvMaxValueSize: number;
  txnMaxReqLen: number;
  httpMaxConnsPerClient: number;
  /** limits.rpc_client_timeout: how long an RPC call waits for its answer (a blocking query: its wait plus the hold); 0 for ever. */
  rpcClientTimeoutMs: number;
}

export interface AgentConfig {
  datacenter: string;
  primaryDatacenter: string;
  nodeName: string;
  nodeId: string | undefined;
  nodeMeta: Record<string, string>;
  dataDir: string | undefined;
  dev: boolean;
  server: boolean;
  bootstrap: boolean;
  bootstrapExpect: number;
  bindAddr: string;
  advertiseAddr: string | undefined;
  advertiseAddrWan: string | undefined;
  clientAddrs: string[]; // space-separated in config, as Consul
  addresses: AddressesConfig;
  ports: PortsConfig;
  domain: string; // always ends with "."
  altDomain: string | undefined;
  recursors: string[];
  dnsConfig: DnsConfig;
  startJoin: string[];
  retryJoin: string[];
  retryIntervalMs: number;
  retryMax: number;
  startJoinWan: string[];
  retryJoinWan: string[];
  rejoinAfterLeave: boolean;
  encrypt: string | undefined;
  ui: boolean;
  logLevel: "trace" | "debug" | "info" | "warn" | "error";
  logJson: boolean;
  pidFile: string | undefined;
  enableScriptChecks: boolean;
  enableLocalScriptChecks: boolean;
  leaveOnTerminate: boolean;
  skipLeaveOnInterrupt: boolean;
  reconnectTimeoutMs: number;
  sessionTtlMinMs: number;
  checkOutputMaxSize: number;
  defaultQueryTimeMs: number;
  maxQueryTimeMs: number;
  raftSnapshotThreshold: number;
  raftSnapshotIntervalMs: number;
  raftTrailingLogs: number;
  raftMultiplier: number; // performance.raft_multiplier: scales Raft timeouts, 1 (fast) to 10; 5 by default
  rpcHoldTimeoutMs: number; // performance.rpc_hold_timeout: how long a request waits for a leader (or a server) to appear
  limits: LimitsConfig;
  services: ServiceDefinition[];
  checks: CheckDefinition[];
  watches: WatchDefinition[];
}

/** Which source supplied the config, for `tsc validate` and start-up messages. */
export interface LoadedConfig {
  config: AgentConfig;
  warnings: string[];
  sources: string[];
}
