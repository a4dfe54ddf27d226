// Consul's built-in defaults (agent/config/default.go) as a typed AgentConfig, and the extra
// layer that -dev puts on top of them.

import { hostname } from "node:os";
import type { ConfigFragment } from "./schema.ts";
import type { AgentConfig } from "./types.ts";

const HOUR_MS = 3_600_000;

/**
 * The config of an agent started with no files and no flags: a client. Role-dependent values
 * (leave_on_terminate, skip_leave_on_interrupt) are shown for a client; build.ts derives them
 * from the final `server` value unless they were set explicitly.
 */
export function defaultConfig(): AgentConfig {
  const clientAddrs = ["127.0.0.1"];
  return {
    datacenter: "dc1",
    primaryDatacenter: "dc1",
    nodeName: hostname(),
    nodeId: undefined,
    nodeMeta: {},
    dataDir: undefined,
    dev: false,
    server: false,
    bootstrap: false,
    bootstrapExpect: 0,
    bindAddr: "0.0.0.0",
    advertiseAddr: undefined,
    advertiseAddrWan: undefined,
    clientAddrs,
    addresses: { dns: clientAddrs, http: clientAddrs, https: clientAddrs, grpc: clientAddrs },
    ports: { http: 8500, https: -1, dns: 8600, serfLan: 8301, serfWan: 8302, server: 8300, grpc: -1 },
    domain: "consul.",
    altDomain: undefined,
    recursors: [],
    dnsConfig: {
      allowStale: true,
      maxStaleMs: 87_600 * HOUR_MS,
      nodeTtlMs: 0,
      serviceTtlMs: {},
      enableTruncate: false,
      onlyPassing: false,
      recursorStrategy: "sequential",
      recursorTimeoutMs: 2_000,
      disableCompression: false,
      udpAnswerLimit: 3,
      aRecordLimit: 0,
      enableAdditionalNodeMetaTxt: true,
    },
    startJoin: [],
    retryJoin: [],
    retryIntervalMs: 30_000,
    retryMax: 0,
    startJoinWan: [],
    retryJoinWan: [],
    rejoinAfterLeave: false,
    encrypt: undefined,
    ui: false,
    logLevel: "info",
    logJson: false,
    pidFile: undefined,
    enableScriptChecks: false,
    // Product decision, unlike Consul (which defaults it to enable_script_checks): script
    // checks from config files, which only the operator can write, run out of the box.
    enableLocalScriptChecks: true,
    leaveOnTerminate: true,
    skipLeaveOnInterrupt: false,
    reconnectTimeoutMs: 72 * HOUR_MS,
    sessionTtlMinMs: 10_000,
    checkOutputMaxSize: 4096,
    defaultQueryTimeMs: 300_000,
    maxQueryTimeMs: 600_000,
    raftSnapshotThreshold: 16_384,
    raftSnapshotIntervalMs: 30_000,
    raftTrailingLogs: 10_000,
    raftMultiplier: 5,
    rpcHoldTimeoutMs: 7_000,
    limits: { kvMaxValueSize: 524_288, txnMaxReqLen: 524_288, httpMaxConnsPerClient: 200, rpcClientTimeoutMs: 60_000 },
    services: [],
    checks: [],
    watches: [],
  };
}

/**
 * What -dev adds. Like Consul's DevSource it sits between the defaults and the config files,
 * so `-dev -client 0.0.0.0` (the usual container invocation) still listens on all interfaces.
 * A dev server also bootstraps itself; build.ts does that, so `-dev` with `server: false`
 * remains a valid dev client as in Consul.
 */
export function devFragment(): ConfigFragment {
  return {
    server: true,
    bind_addr: "127.0.0.1",
    client_addr: "127.0.0.1",
    ui_config: { enabled: true },
    performance: { raft_multiplier: 1 },
  };
}
