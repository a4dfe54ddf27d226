// Autopilot's view of server health, as /v1/operator/autopilot/health reports it and
// `operator raft list-peers` reads it (Commit Index, Trails Leader By). The leader builds one
// PeerView per server in the Raft configuration from its replication progress and gossip;
// the rules are Consul's ServerHealth.IsHealthy. Pure: the caller keeps the previous answer
// so StableSince only moves when a server's health flips.

export type SerfStatus = "none" | "alive" | "leaving" | "left" | "failed";

export interface PeerView {
  id: string;
  name: string;
  address: string;
  serfStatus: SerfStatus;
  version: string;
  leader: boolean;
  voter: boolean;
  /** Since the server last answered the leader (0 for the leader itself). */
  lastContactMs: number;
  /** Term of the newest entry the server is known to hold. */
  lastTerm: number;
  /** Newest log index the server is known to hold. */
  lastIndex: number;
}

export interface HealthConfig {
  lastContactThresholdMs: number;
  maxTrailingLogs: number;
}

export interface ServerHealth extends PeerView {
  healthy: boolean;
  /** When `healthy` last changed (epoch ms). */
  stableSinceMs: number;
}

export interface HealthReply {
  healthy: boolean;
  failureTolerance: number;
  servers: ServerHealth[];
}

/** Alive in gossip, heard from recently, on the leader's term, and not too far behind. */
export function isHealthy(p: PeerView, leader: PeerView | undefined, cfg: HealthConfig): boolean {
  if (p.serfStatus !== "alive") return false;
  if (p.lastContactMs > cfg.lastContactThresholdMs || p.lastContactMs < 0) return false;
  if (!leader || p.lastTerm !== leader.lastTerm) return false;
  return !(leader.lastIndex > cfg.maxTrailingLogs && p.lastIndex < leader.lastIndex - cfg.maxTrailingLogs);
}

/**
 * The whole reply: healthy when every server is; the failure tolerance is how many healthy
 * voters the cluster could lose and keep a quorum.
 */
export function healthReply(peers: PeerView[], previous: ReadonlyMap<string, { healthy: boolean; stableSinceMs: number }>, nowMs: number, cfg: HealthConfig): HealthReply {
  const leader = peers.find((p) => p.leader);
  const servers = peers.map((p): ServerHealth => {
    const healthy = isHealthy(p, leader, cfg);
    const before = previous.get(p.id);
    return { ...p, healthy, stableSinceMs: before && before.healthy === healthy ? before.stableSinceMs : nowMs };
  });
  const voters = servers.filter((s) => s.voter);
  const healthyVoters = voters.filter((s) => s.healthy).length;
  const quorum = Math.floor(voters.length / 2) + 1;
  return {
    healthy: servers.length > 0 && servers.every((s) => s.healthy),
    failureTolerance: Math.max(0, healthyVoters - quorum),
    servers,
  };
}
