import { Hono } from "hono";
import { formatDurationMs } from "../lib/duration.ts";
import { ConsulError } from "../lib/errors.ts";
import type { HealthReply } from "../server/autopilot-health.ts";
import { grpcUnknown, type RaftConfigurationReply } from "../server/endpoints/operator.ts";
import type { AgentEnv } from "./env.ts";
import { checkDatacenter, queryOptions } from "./query.ts";
import { json, methodNotAllowed } from "./respond.ts";

// /v1/operator/raft/* and /v1/operator/autopilot/health, as Consul's operator endpoints.
// Like Consul's, these answers carry no X-Consul-Index headers: the reply is not a QueryMeta.

export const operatorRaftRoutes = new Hono<AgentEnv>()
  .all("/raft/configuration", async (c) => {
    if (c.req.method !== "GET") return methodNotAllowed(c, ["GET"]);
    const reply = await c.var.agent.operator().raftGetConfiguration(queryOptions(c));
    return json(c, raftConfigurationJson(reply));
  })
  .all("/raft/peer", async (c) => {
    if (c.req.method !== "DELETE") return methodNotAllowed(c, ["DELETE"]);
    checkDatacenter(c);
    const id = c.req.query("id");
    const address = c.req.query("address");
    if (id === undefined && address === undefined) throw new ConsulError(400, "Must specify either ?id with the server's ID or ?address with IP:port of peer to remove");
    if (id !== undefined && address !== undefined) throw new ConsulError(400, "Must specify only one of ?id or ?address");
    const op = c.var.agent.operator();
    if (id !== undefined) await op.raftRemovePeerById(id);
    else await op.raftRemovePeerByAddress(address!);
    return c.body(null, 200);
  })
  .all("/raft/transfer-leader", async (c) => {
    if (c.req.method !== "POST") return methodNotAllowed(c, ["POST"]);
    try {
      const r = await c.var.agent.operator().transferLeader(c.req.query("id") ?? "");
      return json(c, { Success: r.success });
    } catch (err) {
      // Consul serves this one over its gRPC operator service; errors met on the way (no leader,
      // no server) come back in gRPC's words too.
      if (err instanceof ConsulError && err.status === 500) throw new ConsulError(500, grpcUnknown(err.message));
      throw err;
    }
  })
  .all("/autopilot/health", async (c) => {
    if (c.req.method !== "GET") return methodNotAllowed(c, ["GET"]);
    const reply = await c.var.agent.operator().serverHealth(queryOptions(c));
    const out = healthJson(reply);
    // 429 tells a load balancer or script "unhealthy" without parsing the body.
    return json(c, out, out.Healthy ? 200 : 429);
  });

export function raftConfigurationJson(r: RaftConfigurationReply): Record<string, unknown> {
  return {
    Servers: r.servers.map((s) => ({ ID: s.id, Node: s.node, Address: s.address, Leader: s.leader, ProtocolVersion: s.protocolVersion, Voter: s.voter })),
    Index: r.index,
  };
}

/** api.OperatorHealthReply; a server with no view of its own (not the leader) answers the zero value. */
export function healthJson(r: HealthReply | null): { Healthy: boolean; FailureTolerance: number; Servers: unknown[] | null } {
  if (!r) return { Healthy: false, FailureTolerance: 0, Servers: null };
  return {
    Healthy: r.healthy,
    FailureTolerance: r.failureTolerance,
    Servers: r.servers.map((s) => ({
      ID: s.id,
      Name: s.name,
      Address: s.address,
      SerfStatus: s.serfStatus,
      Version: s.version,
      Leader: s.leader,
      LastContact: formatDurationMs(s.lastContactMs),
      LastTerm: s.lastTerm,
      LastIndex: s.lastIndex,
      Healthy: s.healthy,
      Voter: s.voter,
      StableSince: new Date(Math.round(s.stableSinceMs / 1000) * 1000).toISOString().replace(".000Z", "Z"),
    })),
  };
}
