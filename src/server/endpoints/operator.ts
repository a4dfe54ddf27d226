import { ConsulError } from "../../lib/errors.ts";
import { isMember } from "../../raft/core/conf.ts";
import { NotLeaderError, ProposalDroppedError } from "../../raft/core/raft.ts";
import { type HealthReply, healthReply, type PeerView } from "../autopilot-health.ts";
import type { ServerInfo } from "../bootstrap.ts";
import type { QueryOptions } from "../query.ts";
import { LAST_CONTACT_THRESHOLD_MS, type Server } from "../server.ts";

// The Operator RPC endpoint (Consul's Operator.RaftGetConfiguration, RaftRemovePeerByID/
// ByAddress, ServerHealth, and the operator service's TransferLeader): what /v1/operator/raft/*
// and /v1/operator/autopilot/health call on a server. Reads with ?stale answer from this
// server's own view; everything else runs on the leader (the agent's forwarding proxy sees to it).

export interface RaftServerView {
  id: string;
  /** The server's node name, "(unknown)" when gossip does not know it. */
  node: string;
  /** ip:port of its server (RPC and Raft) port; "" when unknown. */
  address: string;
  leader: boolean;
  protocolVersion: string;
  voter: boolean;
}

export interface RaftConfigurationReply {
  servers: RaftServerView[];
  /** The log index of this configuration. */
  index: number;
}

/** What the endpoint needs to know of the other servers, from gossip. */
export interface OperatorPeers {
  /** Servers in the LAN pool, whatever their status. */
  servers(): ServerInfo[];
  /** This server as it describes itself when gossip does not list it (gossip disabled). */
  self: { id: string; name: string; addr: string; version: string };
  /** A server left the configuration: close its Raft connection. */
  forget(id: string): void;
  logger: { info(m: string): void; warn(m: string): void };
}

/** Consul's autopilot default: a server this many entries behind the leader is unhealthy. */
const MAX_TRAILING_LOGS = 250;
/** A removal waits out an autopilot change under way (one change at a time) this long. */
const CHANGE_RETRY_MS = 3000;

export class OperatorEndpoint {
  /** Each server's health as last reported, so StableSince only moves when health flips. */
  private lastHealth = new Map<string, { healthy: boolean; stableSinceMs: number }>();

  constructor(
    private readonly server: Server,
    private readonly peers: OperatorPeers,
  ) {}

  async raftGetConfiguration(_q: QueryOptions): Promise<RaftConfigurationReply> {
    const node = this.server.node;
    const config = node.configuration();
    const known = this.known();
    const view = (id: string, voter: boolean): RaftServerView => {
      const s = known.get(id);
      return { id, node: s?.name ?? "(unknown)", address: s?.addr ?? "", leader: id === node.leader, protocolVersion: s?.raftVsn ?? "unknown", voter };
    };
    return {
      servers: [...config.voters.map((id) => view(id, true)), ...config.nonvoters.map((id) => view(id, false))],
      // A lone server's configuration predates its log; hashicorp/raft writes it at index 1.
      index: Math.max(1, node.configurationIndex()),
    };
  }

  async raftRemovePeerById(id: string): Promise<void> {
    if (!isMember(this.server.node.configuration(), id)) throw new ConsulError(500, `id ${JSON.stringify(id)} was not found in the Raft configuration`);
    await this.remove(id);
    this.peers.logger.warn(`Removed Raft peer with id: peer_id=${id}`);
  }

  async raftRemovePeerByAddress(address: string): Promise<void> {
    const c = this.server.node.configuration();
    const known = this.known();
    const id = [...c.voters, ...c.nonvoters].find((m) => known.get(m)?.addr === address);
    if (id === undefined) throw new ConsulError(500, `address ${JSON.stringify(address)} was not found in the Raft configuration`);
    await this.remove(id);
    this.peers.logger.warn(`Removed Raft server: address=${address}`);
  }

  /**
   * Hands leadership to `id`, or to the most caught-up voter when `id` is "". Errors carry
   * hashicorp/raft's texts; the HTTP layer adds the gRPC wrapping Consul's answer has.
   */
  /** Consul serves this over its gRPC operator service, so its errors are gRPC statuses. */
  async transferLeader(id: string): Promise<{ success: boolean }> {
    try {
      return await this.transferLeaderTo(id);
    } catch (err) {
      if (err instanceof ConsulError && err.status === 500) throw new ConsulError(500, grpcUnknown(err.message));
      throw err;
    }
  }

  private async transferLeaderTo(id: string): Promise<{ success: boolean }> {
    const server = this.server;
    if (!server.isLeader) throw new NotLeaderError(server.node.leader);
    let target = id;
    if (id !== "") {
      if (!this.known().has(id)) throw new ConsulError(500, `Could not find address for server id ${id}`);
      if (id === this.peers.self.id) throw new ConsulError(500, "cannot transfer leadership to itself");
      if (!isMember(server.node.configuration(), id)) throw new ConsulError(500, `cannot find replication state for ${id}`);
    } else {
      target = server.transferTarget() ?? "";
      if (target === "") throw new ConsulError(500, "cannot find peer");
    }
    let moved: boolean;
    try {
      moved = await server.transferLeadership(target);
    } catch (err) {
      if (err instanceof NotLeaderError) throw err;
      throw new ConsulError(500, (err as Error).message);
    }
    if (!moved) throw new ConsulError(500, "leadership transfer timeout");
    this.peers.logger.info(`raft: transferred leadership to ${target} on request`);
    return { success: true };
  }

  /** Autopilot's health of every server in the configuration; null where this server has no view (not the leader). */
  async serverHealth(_q: QueryOptions): Promise<HealthReply | null> {
    const peers = this.peerViews();
    if (!peers) return null;
    const reply = healthReply(peers, this.lastHealth, Date.now(), { lastContactThresholdMs: LAST_CONTACT_THRESHOLD_MS, maxTrailingLogs: MAX_TRAILING_LOGS });
    this.lastHealth = new Map(reply.servers.map((s) => [s.id, { healthy: s.healthy, stableSinceMs: s.stableSinceMs }]));
    return reply;
  }

  /** Only the leader tracks its followers' progress; undefined elsewhere. */
  private peerViews(): PeerView[] | undefined {
    const node = this.server.node;
    if (!node.isLeader) return undefined;
    const config = node.configuration();
    const known = this.known();
    const progress = new Map(node.progress().map((p) => [p.id, p]));
    const last = node.stats.lastLogIndex;
    const view = (id: string, voter: boolean): PeerView => {
      const s = known.get(id);
      const base = { id, name: s?.name ?? "", address: s?.addr ?? "", serfStatus: s?.status ?? ("none" as const), version: s?.version ?? "", voter };
      if (id === node.id) return { ...base, leader: true, lastContactMs: 0, lastTerm: node.termAt(last) ?? 0, lastIndex: last };
      const p = progress.get(id);
      const match = p?.match ?? 0;
      return { ...base, leader: false, lastContactMs: p ? p.lastContactTicks * node.tickMs : -1, lastTerm: node.termAt(match) ?? 0, lastIndex: match };
    };
    return [...config.voters.map((id) => view(id, true)), ...config.nonvoters.map((id) => view(id, false))];
  }

  /** Servers by ID: gossip's view, with this server added when gossip does not list it. */
  private known(): Map<string, ServerInfo> {
    const out = new Map(this.peers.servers().map((s) => [s.id, s]));
    const self = this.peers.self;
    if (!out.has(self.id)) {
      const [ip = "", port = "0"] = self.addr.split(/:(?=\d+$)/);
      out.set(self.id, { name: self.name, id: self.id, ip, port: Number(port), addr: self.addr, datacenter: "", expect: 0, bootstrap: false, status: "alive", raftVsn: "3", version: self.version });
    }
    return out;
  }

  /** A membership change goes one at a time: wait out one autopilot may have under way. */
  private async remove(id: string): Promise<void> {
    const deadline = Date.now() + CHANGE_RETRY_MS;
    for (;;) {
      try {
        await this.server.node.changeMembership({ op: "remove", id });
        break;
      } catch (err) {
        if (err instanceof NotLeaderError) throw err;
        if (!(err instanceof ProposalDroppedError) || Date.now() >= deadline) throw new ConsulError(500, (err as Error).message);
      }
      await Bun.sleep(50);
    }
    if (id !== this.peers.self.id) this.peers.forget(id);
  }
}

/** A gRPC status error's text, as grpc-go words an error without a code. */
export function grpcUnknown(message: string): string {
  return message.startsWith("rpc error: code = ") ? message : `rpc error: code = Unknown desc = ${message}`;
}
