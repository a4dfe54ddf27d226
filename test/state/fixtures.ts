import { type CheckInput, emptyDefinition, type RegisterRequest, type ServiceInput } from "../../src/state/catalog-types.ts";

// Catalog records for state tests, with every field a registration carries.

export const node = (name: string, extra: Partial<RegisterRequest> = {}): RegisterRequest => ({
  node: name,
  id: "",
  address: "127.0.0.1",
  datacenter: "dc1",
  taggedAddresses: {},
  nodeMeta: {},
  skipNodeUpdate: false,
  service: undefined,
  checks: [],
  ...extra,
});
export const svc = (id: string, name = id, tags: string[] = []): ServiceInput => ({
  id,
  service: name,
  tags,
  address: "",
  taggedAddresses: {},
  meta: {},
  port: 80,
  weights: { passing: 1, warning: 1 },
  enableTagOverride: false,
});
export const chk = (nodeName: string, checkId: string, status: CheckInput["status"], serviceId = ""): CheckInput => ({
  node: nodeName,
  checkId,
  name: checkId,
  status,
  notes: "",
  output: "",
  serviceId,
  type: "ttl",
  definition: emptyDefinition(),
});
