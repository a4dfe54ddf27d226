import {
  CONSUL_SERVICE_ID,
  CONSUL_SERVICE_NAME,
  type RegisterRequest,
  SERF_CHECK_ALIVE_OUTPUT,
  SERF_CHECK_FAILED_OUTPUT,
  SERF_CHECK_ID,
  SERF_CHECK_NAME,
  emptyDefinition,
} from "../state/catalog-types.ts";
import type { StateStore } from "../state/store.ts";

// The leader keeps the catalog true to cluster membership (Consul's leader.go reconcile):
// an alive member is registered with serfHealth passing (and, for a server, the service
// "consul"); a failed one keeps its registration with serfHealth critical; a member that left
// is deregistered. Gossip feeds members in; until then the only member is the server itself.

export type MemberStatus = "alive" | "failed" | "left";

export interface Member {
  name: string;
  id: string;
  address: string;
  status: MemberStatus;
  /** Set for servers: the RPC port the "consul" service advertises. */
  serverPort: number | undefined;
  build: string;
}

export type ReconcileAction = { type: "register"; req: RegisterRequest } | { type: "deregister"; node: string };

/** What to write so the catalog matches `m`; undefined when it already does. */
export function reconcileMember(store: StateStore, m: Member, datacenter: string): ReconcileAction | undefined {
  const existing = store.catalog.getNode(undefined, m.name);
  if (m.status === "left") return existing ? { type: "deregister", node: m.name } : undefined;

  const status = m.status === "alive" ? "passing" : "critical";
  const output = m.status === "alive" ? SERF_CHECK_ALIVE_OUTPUT : SERF_CHECK_FAILED_OUTPUT;
  const check = store.catalog.getCheck(m.name, SERF_CHECK_ID);
  const service = m.serverPort === undefined ? undefined : consulService(m.serverPort, m.build);
  const current = store.catalog.getService(m.name, CONSUL_SERVICE_ID);
  if (
    existing &&
    existing.address === m.address &&
    check?.status === status &&
    (service === undefined || (current !== undefined && current.port === service.port && current.meta.version === service.meta.version))
  ) {
    return undefined;
  }
  return {
    type: "register",
    req: {
      node: m.name,
      id: m.id,
      address: m.address,
      datacenter,
      // Keep what the node's own agent registered, so the two writers never flap.
      taggedAddresses: existing?.taggedAddresses ?? {},
      nodeMeta: existing?.meta ?? {},
      skipNodeUpdate: false,
      service,
      checks: [
        {
          node: m.name,
          checkId: SERF_CHECK_ID,
          name: SERF_CHECK_NAME,
          status,
          notes: "",
          output,
          serviceId: "",
          type: "",
          definition: emptyDefinition(),
        },
      ],
    },
  };
}

function consulService(port: number, build: string): NonNullable<RegisterRequest["service"]> {
  return {
    id: CONSUL_SERVICE_ID,
    service: CONSUL_SERVICE_NAME,
    tags: [],
    address: "",
    taggedAddresses: {},
    meta: { non_voter: "false", raft_version: "3", read_replica: "false", serf_protocol_current: "2", serf_protocol_max: "5", serf_protocol_min: "1", version: build },
    port,
    weights: { passing: 1, warning: 1 },
    enableTagOverride: false,
  };
}
