import type { AgentCheck, AgentService } from "./agent-types.ts";
import { type ApiClient, encodeKey } from "./client.ts";

// /v1/agent calls the CLI makes, typed as Consul's api package has them. Composes ApiClient.

export type { AgentCheck, AgentService };

/** GET /v1/agent/self; only what the CLI reads is typed, the rest stays open. */
export interface AgentSelf {
  Config?: { NodeName?: string; Datacenter?: string; NodeID?: string; Server?: boolean; Version?: string; [k: string]: unknown };
  Stats?: Record<string, unknown>;
  [k: string]: unknown;
}

/** A check inside a registration (api.AgentServiceCheck); durations are Go strings ("10s"). */
export interface AgentServiceCheck {
  CheckID?: string;
  Name?: string;
  Notes?: string;
  Status?: string;
  /** Consul 0.x's shell script check; this agent still takes it. */
  Script?: string;
  ScriptArgs?: string[];
  HTTP?: string;
  Method?: string;
  Header?: Record<string, string[]>;
  Body?: string;
  TLSServerName?: string;
  TLSSkipVerify?: boolean;
  DisableRedirects?: boolean;
  TCP?: string;
  TTL?: string;
  AliasNode?: string;
  AliasService?: string;
  Interval?: string;
  Timeout?: string;
  DeregisterCriticalServiceAfter?: string;
  SuccessBeforePassing?: number;
  FailuresBeforeWarning?: number;
  FailuresBeforeCritical?: number;
  OutputMaxSize?: number;
}

/** PUT /v1/agent/service/register's body (api.AgentServiceRegistration); unset fields are omitted. */
export interface AgentServiceRegistration {
  ID?: string;
  Name?: string;
  Tags?: string[];
  Port?: number;
  Address?: string;
  TaggedAddresses?: Record<string, { Address: string; Port: number }>;
  EnableTagOverride?: boolean;
  Meta?: Record<string, string>;
  Weights?: { Passing: number; Warning: number };
  Checks?: AgentServiceCheck[];
}

export class AgentApi {
  constructor(private readonly client: ApiClient) {}

  self(): Promise<AgentSelf> {
    return this.client.getJson<AgentSelf>("/v1/agent/self");
  }

  /** As Consul's Agent.NodeName: Config.NodeName from /v1/agent/self. */
  async nodeName(): Promise<string> {
    const name = (await this.self()).Config?.NodeName;
    return typeof name === "string" ? name : "";
  }

  async checks(): Promise<Record<string, AgentCheck>> {
    return (await this.client.getJson<Record<string, AgentCheck> | null>("/v1/agent/checks")) ?? {};
  }

  reload(): Promise<void> {
    return this.client.put("/v1/agent/reload");
  }

  serviceRegister(reg: AgentServiceRegistration): Promise<void> {
    return this.client.put("/v1/agent/service/register", {}, reg);
  }

  serviceDeregister(id: string): Promise<void> {
    return this.client.put(`/v1/agent/service/deregister/${encodeKey(id)}`);
  }

  /** Node maintenance on (with an optional reason; the agent supplies a default) or off. */
  nodeMaintenance(enable: boolean, reason = ""): Promise<void> {
    return this.client.put("/v1/agent/maintenance", maintQuery(enable, reason));
  }

  serviceMaintenance(id: string, enable: boolean, reason = ""): Promise<void> {
    return this.client.put(`/v1/agent/service/maintenance/${encodeKey(id)}`, maintQuery(enable, reason));
  }
}

function maintQuery(enable: boolean, reason: string): Record<string, string | undefined> {
  return { enable: String(enable), reason: enable && reason !== "" ? reason : undefined };
}
