// Turns the merged snake_case fragment into the typed AgentConfig: defaults fill whatever no
// source set, and the values Consul derives rather than reads are derived here, as its builder does.

import { defaultConfig } from "./defaults.ts";
import type { ConfigFragment } from "./schema.ts";
import type { AgentConfig } from "./types.ts";

export function buildConfig(f: ConfigFragment, dev: boolean): { config: AgentConfig; warnings: string[] } {
  const d = defaultConfig();
  const warnings: string[] = [];
  const server = f.server ?? d.server;
  // A dev server has no peers to wait for, so it elects itself unless told otherwise.
  let bootstrap = f.bootstrap ?? (dev && server);
  let bootstrapExpect = f.bootstrap_expect ?? d.bootstrapExpect;
  if (bootstrapExpect === 1) {
    // Consul rewrites this before validating, so the bootstrap rules then apply to it.
    bootstrap = true;
    bootstrapExpect = 0;
    warnings.push("BootstrapExpect is set to 1; this is the same as Bootstrap mode.");
  }
  if (f.ui !== undefined) warnings.push("The 'ui' field is deprecated. Use the 'ui_config.enabled' field instead.");

  const clientAddrs = f.client_addr === undefined ? d.clientAddrs : fields(f.client_addr);
  const listenAddrs = (value: string | undefined) => (value === undefined ? clientAddrs : fields(value));
  const datacenter = f.datacenter ?? d.datacenter;
  const dns = f.dns_config ?? {};
  const dd = d.dnsConfig;
  const config: AgentConfig = {
    datacenter,
    primaryDatacenter: f.primary_datacenter ?? datacenter,
    nodeName: f.node_name ?? d.nodeName,
    nodeId: f.node_id,
    nodeMeta: f.node_meta ?? d.nodeMeta,
    dataDir: f.data_dir || undefined,
    dev,
    server,
    bootstrap,
    bootstrapExpect,
    bindAddr: f.bind_addr ?? d.bindAddr,
    advertiseAddr: f.advertise_addr || undefined,
    advertiseAddrWan: f.advertise_addr_wan || undefined,
    clientAddrs,
    addresses: {
      dns: listenAddrs(f.addresses?.dns),
      http: listenAddrs(f.addresses?.http),
      https: listenAddrs(f.addresses?.https),
      grpc: listenAddrs(f.addresses?.grpc),
    },
    ports: {
      http: port(f.ports?.http, d.ports.http),
      https: port(f.ports?.https, d.ports.https),
      dns: port(f.ports?.dns, d.ports.dns),
      serfLan: port(f.ports?.serf_lan, d.ports.serfLan),
      serfWan: port(f.ports?.serf_wan, d.ports.serfWan),
      server: port(f.ports?.server, d.ports.server),
      grpc: port(f.ports?.grpc, d.ports.grpc),
    },
    domain: fqdn(f.domain ?? d.domain),
    altDomain: f.alt_domain ? fqdn(f.alt_domain) : undefined,
    // Consul splits each entry on whitespace and drops repeats, keeping first-seen order.
    recursors: [...new Set((f.recursors ?? []).flatMap(fields))],
    dnsConfig: {
      allowStale: dns.allow_stale ?? dd.allowStale,
      maxStaleMs: dns.max_stale ?? dd.maxStaleMs,
      nodeTtlMs: dns.node_ttl ?? dd.nodeTtlMs,
      serviceTtlMs: { ...dd.serviceTtlMs, ...dns.service_ttl },
      enableTruncate: dns.enable_truncate ?? dd.enableTruncate,
      onlyPassing: dns.only_passing ?? dd.onlyPassing,
      recursorStrategy: dns.recursor_strategy ?? dd.recursorStrategy,
      recursorTimeoutMs: dns.recursor_timeout ?? dd.recursorTimeoutMs,
      disableCompression: dns.disable_compression ?? dd.disableCompression,
      udpAnswerLimit: dns.udp_answer_limit ?? dd.udpAnswerLimit,
      aRecordLimit: dns.a_record_limit ?? dd.aRecordLimit,
      enableAdditionalNodeMetaTxt: dns.enable_additional_node_meta_txt ?? dd.enableAdditionalNodeMetaTxt,
    },
    startJoin: f.start_join ?? [],
    retryJoin: f.retry_join ?? [],
    retryIntervalMs: f.retry_interval ?? d.retryIntervalMs,
    retryMax: f.retry_max ?? d.retryMax,
    startJoinWan: f.start_join_wan ?? [],
    retryJoinWan: f.retry_join_wan ?? [],
    rejoinAfterLeave: f.rejoin_after_leave ?? d.rejoinAfterLeave,
    encrypt: f.encrypt || undefined,
    // ui_config.enabled replaced the deprecated `ui`; Consul lets the new key win.
    ui: f.ui_config?.enabled ?? f.ui ?? d.ui,
    logLevel: f.log_level ?? d.logLevel,
    logJson: f.log_json ?? d.logJson,
    pidFile: f.pid_file || undefined,
    enableScriptChecks: f.enable_script_checks ?? d.enableScriptChecks,
    enableLocalScriptChecks: f.enable_local_script_checks ?? d.enableLocalScriptChecks,
    // Consul 0.7+: servers stay in the cluster on SIGTERM/SIGINT, clients leave.
    leaveOnTerminate: f.leave_on_terminate ?? !server,
    skipLeaveOnInterrupt: f.skip_leave_on_interrupt ?? server,
    reconnectTimeoutMs: f.reconnect_timeout ?? d.reconnectTimeoutMs,
    sessionTtlMinMs: f.session_ttl_min ?? d.sessionTtlMinMs,
    checkOutputMaxSize: f.check_output_max_size ?? d.checkOutputMaxSize,
    defaultQueryTimeMs: f.default_query_time ?? d.defaultQueryTimeMs,
    maxQueryTimeMs: f.max_query_time ?? d.maxQueryTimeMs,
    raftSnapshotThreshold: f.raft_snapshot_threshold ?? d.raftSnapshotThreshold,
    raftSnapshotIntervalMs: f.raft_snapshot_interval ?? d.raftSnapshotIntervalMs,
    raftTrailingLogs: f.raft_trailing_logs ?? d.raftTrailingLogs,
    raftMultiplier: f.performance?.raft_multiplier ?? d.raftMultiplier,
    rpcHoldTimeoutMs: f.performance?.rpc_hold_timeout ?? d.rpcHoldTimeoutMs,
    limits: {
      kvMaxValueSize: f.limits?.kv_max_value_size ?? d.limits.kvMaxValueSize,
      txnMaxReqLen: f.limits?.txn_max_req_len ?? d.limits.txnMaxReqLen,
      httpMaxConnsPerClient: f.limits?.http_max_conns_per_client ?? d.limits.httpMaxConnsPerClient,
      rpcClientTimeoutMs: f.limits?.rpc_client_timeout ?? d.limits.rpcClientTimeoutMs,
    },
    services: f.services ?? [],
    checks: f.checks ?? [],
    watches: f.watches ?? [],
  };
  return { config, warnings };
}

/** Consul's space-separated address lists (client_addr, addresses.*). */
function fields(text: string): string[] {
  return text.split(/\s+/).filter((s) => s !== "");
}

/** Consul treats any port <= 0 as "disabled", which we spell -1 throughout. */
function port(value: number | undefined, fallback: number): number {
  const p = value ?? fallback;
  return p <= 0 ? -1 : p;
}

/** DNS matching is case-insensitive and on fully qualified names. */
function fqdn(domain: string): string {
  const lower = domain.toLowerCase();
  return lower.endsWith(".") ? lower : `${lower}.`;
}
