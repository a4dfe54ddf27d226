import type { HealthStatus, ServiceAddress, Weights } from "../state/catalog-types.ts";

// Services and checks as an operator defines them on an agent: in config files
// (`service`/`services`, `check`/`checks`) or with PUT /v1/agent/service|check/register.
// definitions.ts turns raw JSON (any key casing, snake_case or PascalCase) into these.
// Durations are milliseconds, 0 when unset.

export type CheckKind = "script" | "http" | "tcp" | "ttl" | "alias";

export interface CheckDefinition {
  id: string; // defaults to name; "service:<sid>" (or "service:<sid>:<n>") inside a service
  name: string;
  notes: string;
  serviceId: string; // "" for a node check
  /** Initial status; Consul starts checks critical unless told otherwise. */
  status: HealthStatus;
  kind: CheckKind;
  /** script: run by `/bin/sh -c` (Consul 0.x `script`) */
  script: string;
  /** script: argv run without a shell (Consul 1.x `args`) */
  args: string[];
  http: string;
  method: string; // "" means GET
  header: Record<string, string[]>;
  body: string;
  tlsServerName: string;
  tlsSkipVerify: boolean;
  disableRedirects: boolean;
  tcp: string;
  ttlMs: number;
  aliasNode: string;
  aliasService: string;
  intervalMs: number;
  timeoutMs: number; // 0: the kind's default (10s http/tcp, 30s script)
  deregisterCriticalServiceAfterMs: number;
  successBeforePassing: number;
  failuresBeforeWarning: number;
  failuresBeforeCritical: number;
  outputMaxSize: number; // 0: the agent's check_output_max_size
}

export interface ServiceDefinition {
  id: string; // defaults to name
  name: string;
  tags: string[];
  address: string;
  taggedAddresses: Record<string, ServiceAddress>;
  meta: Record<string, string>;
  port: number;
  weights: Weights;
  enableTagOverride: boolean;
  /** Embedded checks, already given their ids and serviceId. */
  checks: CheckDefinition[];
}

/** Where a definition came from: config files are reloaded, API ones persist in the data dir. */
export type DefinitionSource = "config" | "api";
