// The JSON shapes /v1/agent reads answer, as Consul's api package has them. No imports, so the
// browser side (src/ui) can use them too without pulling in the Bun-side client.

export interface AgentService {
  ID: string;
  Service: string;
  Tags: string[] | null;
  Meta: Record<string, string> | null;
  Port: number;
  Address: string;
  TaggedAddresses?: Record<string, { Address: string; Port: number }>;
  Weights: { Passing: number; Warning: number };
  EnableTagOverride: boolean;
}

export interface AgentCheck {
  Node: string;
  CheckID: string;
  Name: string;
  Status: string;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags?: string[] | null;
  Type?: string;
}
