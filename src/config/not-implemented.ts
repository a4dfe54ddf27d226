// Keys Consul accepts that we do not act on yet. They load without error so that an existing
// Consul config directory works unchanged, and each one found becomes a warning naming it.

import { isJsonObject } from "./merge.ts";

/** Section ("" is the top level) -> keys accepted there but not implemented. */
const NOT_IMPLEMENTED: Record<string, readonly string[]> = {
  "": [
    "acl", "acl_agent_master_token", "acl_agent_token", "acl_datacenter", "acl_default_policy",
    "acl_down_policy", "acl_enable_key_list_policy", "acl_enforce_version_8", "acl_master_token",
    "acl_replication_token", "acl_token", "acl_ttl", "advertise_addr_ipv4", "advertise_addr_ipv6",
    "advertise_addr_wan_ipv4", "advertise_addr_wan_ipv6", "advertise_reconnect_timeout", "audit",
    "auto_config", "auto_encrypt", "auto_reload_config", "autopilot", "ca_file", "ca_path", "cache",
    "cert_file", "check_update_interval", "config_entries", "connect", "disable_coordinates",
    "disable_host_node_id", "disable_http_unprintable_char_filter", "disable_keyring_file",
    "disable_remote_exec", "discard_check_output", "discovery_max_stale", "enable_acl_replication",
    "enable_agent_tls_for_checks", "enable_central_service_config", "enable_debug", "enable_syslog",
    "encrypt_verify_incoming", "encrypt_verify_outgoing", "experiments", "gossip_lan", "gossip_wan",
    "http_config", "key_file", "license_path", "locality", "log_file", "log_rotate_bytes",
    "log_rotate_duration", "log_rotate_max_files", "non_voting_server", "partition", "peering",
    "primary_gateways", "primary_gateways_interval", "protocol", "raft_boltdb", "raft_logstore",
    "raft_protocol", "read_replica", "reconnect_timeout_wan", "retry_interval_wan", "retry_max_wan",
    "rpc", "segment", "segments", "serf_lan", "serf_lan_allowed_cidrs", "serf_wan",
    "serf_wan_allowed_cidrs", "server_name", "server_rejoin_age_max", "snapshot_agent",
    "syslog_facility", "tagged_addresses", "telemetry", "tls", "tls_cipher_suites", "tls_min_version",
    "tls_prefer_server_cipher_suites", "translate_wan_addrs", "ui_content_path", "ui_dir",
    "unix_sockets", "use_streaming_backend", "verify_incoming", "verify_incoming_https",
    "verify_incoming_rpc", "verify_outgoing", "verify_server_hostname", "xds",
  ],
  addresses: ["grpc_tls"],
  dns_config: ["soa", "use_cache", "cache_max_age", "prefer_namespace"],
  limits: [
    "https_handshake_timeout", "rpc_handshake_timeout",
    "rpc_max_conns_per_client", "rpc_rate", "rpc_max_burst", "request_limits",
  ],
  performance: ["leave_drain_time"],
  ports: [
    "grpc_tls", "proxy_min_port", "proxy_max_port", "sidecar_min_port", "sidecar_max_port",
    "expose_min_port", "expose_max_port",
  ],
  ui_config: [
    "dir", "content_path", "metrics_provider", "metrics_provider_files",
    "metrics_provider_options_json", "metrics_proxy", "dashboard_url_templates",
  ],
};

/**
 * Returns `raw` without the not-implemented keys (copying only what it changes) and the
 * dotted names of those it removed, so the strict schema never sees them.
 */
export function stripNotImplemented(raw: unknown): { rest: unknown; found: string[] } {
  if (!isJsonObject(raw)) return { rest: raw, found: [] };
  const rest: Record<string, unknown> = { ...raw };
  const found: string[] = [];
  for (const [section, keys] of Object.entries(NOT_IMPLEMENTED)) {
    const original = section === "" ? rest : rest[section];
    // A section of the wrong type is left for the schema to report.
    if (!isJsonObject(original)) continue;
    const kept: Record<string, unknown> = section === "" ? rest : { ...original };
    for (const key of keys) {
      if (!Object.hasOwn(kept, key)) continue;
      delete kept[key];
      found.push(section === "" ? key : `${section}.${key}`);
    }
    if (section !== "") rest[section] = kept;
  }
  return { rest, found };
}

export function notImplementedWarning(key: string): string {
  return `config key ${key} is accepted but not implemented`;
}
