import type { SerfMember } from "../gossip/serf-node.ts";
import { ConsulError } from "../lib/errors.ts";
import { NotLeaderError } from "../raft/core/raft.ts";
import type { Message } from "../raft/core/types.ts";
import { RaftTransport } from "../raft/transport.ts";
import { RpcClient, type RpcClientOptions } from "../rpc/client.ts";
import { bootstrapStep, type ServerInfo, serverInfo } from "../server/bootstrap.ts";
import type { Server } from "../server/server.ts";

// A server's place among the other servers: Raft traffic to them, forwarding what only the
// leader may answer, -bootstrap-expect, and the leader's autopilot duties (new servers join
// the configuration as nonvoters and are promoted once caught up; servers that left, or have
// been failed a while when quorum allows, are removed). Servers are found through the LAN
// gossip pool by their tags, as Consul finds them.

export interface ClusterOptions {
  nodeId: string;
  nodeName: string;
  /** Our own RPC address, ip:port. */
  rpcAddr: string;
  datacenter: string;
  bootstrapExpect: number;
  lanMembers: () => SerfMember[];
  /** performance.rpc_hold_timeout and limits.rpc_client_timeout. */
  rpc: Required<RpcClientOptions>;
  logger: { info(m: string): void; warn(m: string): void; error(m: string): void; debug(m: string): void };
}

/** A failed server is removed from the configuration after this long, if quorum allows. */
const DEAD_SERVER_CLEANUP_MS = 10_000;
/** A nonvoter must have been caught up this long before it is promoted (autopilot's stabilization). */
const STABILIZATION_MS = 2_000;
const AUTOPILOT_INTERVAL_MS = 500;

export class ServerCluster {
  readonly transport: RaftTransport;
  private readonly rpc: RpcClient;
  private server: Server | undefined;
  private bootstrapOff = false;
  private bootstrapping = false;
  private lastConflict = "";
  private readonly failedSince = new Map<string, number>();
  private readonly caughtUpSince = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private changing = false;

  constructor(private readonly o: ClusterOptions) {
    this.transport = new RaftTransport({ resolve: (id) => this.serverById(id), debug: o.logger.debug });
    this.rpc = new RpcClient(() => [], o.rpc);
  }

  /** Starts the leader's autopilot loop and -bootstrap-expect for `server`. */
  attach(server: Server): void {
    this.server = server;
    if (this.o.bootstrapExpect > 1 && !server.node.pristine) {
      this.o.logger.info("Raft data found, disabling bootstrap mode");
      this.bootstrapOff = true;
    }
    this.timer = setInterval(() => {
      // Bootstrap is retried until done: a server we could not ask may answer next time.
      void this.maybeBootstrap();
      void this.autopilot();
    }, AUTOPILOT_INTERVAL_MS);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.transport.close();
    this.rpc.close();
  }

  send(to: string, msg: Message): boolean {
    return this.transport.send(to, msg);
  }

  /** Alive servers of our datacenter, as gossip tags them. */
  servers(): ServerInfo[] {
    const out: ServerInfo[] = [];
    for (const m of this.o.lanMembers()) {
      const s = serverInfo(m);
      if (s && s.datacenter === this.o.datacenter) out.push(s);
    }
    return out;
  }

  /** A server's RPC (and Raft) address by its ID, "" when gossip does not know it. */
  addressOf(id: string): string {
    return this.serverById(id)?.addr ?? "";
  }

  private serverById(id: string): ServerInfo | undefined {
    return this.servers().find((s) => s.id === id);
  }

  /** A server's node name by its ID, "" when gossip does not know it. */
  nameOf(id: string): string {
    return this.serverById(id)?.name ?? "";
  }

  /** The voters' RPC addresses, as /v1/status/peers lists them. */
  peers(): string[] {
    const server = this.server;
    if (!server) return [];
    return server.node
      .configuration()
      .voters.map((id) => (id === this.o.nodeId ? this.o.rpcAddr : this.addressOf(id)))
      .filter((a) => a !== "");
  }

  /**
   * Wraps a server endpoint so each call runs where it must: ?stale reads here, everything else
   * on the leader, forwarded over RPC when that is another server. Without a leader a call
   * waits up to rpc_hold_timeout for one, then fails with Consul's "No cluster leader".
   */
  forwarding<T extends object>(target: T, service: string): T {
    return new Proxy(target, {
      get: (t, prop) => {
        const fn = (t as Record<string | symbol, unknown>)[prop];
        if (typeof fn !== "function") return fn;
        return async (...args: unknown[]) => {
          if (args.some((a) => isStale(a))) return fn.apply(t, args);
          const deadline = Date.now() + this.o.rpc.holdMs;
          for (;;) {
            const server = this.server!;
            if (server.isLeader) {
              try {
                return await fn.apply(t, args);
              } catch (err) {
                if (!(err instanceof NotLeaderError)) throw err; // lost leadership mid-call: find the new leader
              }
            } else {
              const leader = this.serverById(server.node.leader);
              if (leader && leader.id !== this.o.nodeId) return await this.rpc.callServer(leader, `${service}.${String(prop)}`, args.filter((a) => !(a instanceof AbortSignal)));
            }
            if (Date.now() >= deadline) throw new ConsulError(500, "No cluster leader");
            await Bun.sleep(50);
          }
        };
      },
    });
  }

  /** Gossip moved: maybe bootstrap, and let the leader bring the configuration along. */
  onMembershipChange(): void {
    void this.maybeBootstrap();
    void this.autopilot();
  }

  // ---- -bootstrap-expect --------------------------------------------------------------------

  private async maybeBootstrap(): Promise<void> {
    const server = this.server;
    if (!server || this.bootstrapOff || this.bootstrapping || this.o.bootstrapExpect < 2) return;
    if (!server.node.pristine) {
      this.bootstrapOff = true;
      return;
    }
    const step = bootstrapStep({ datacenter: this.o.datacenter, expect: this.o.bootstrapExpect }, this.o.lanMembers());
    if (step.kind === "conflict") {
      if (step.message !== this.lastConflict) this.o.logger.error(step.message);
      this.lastConflict = step.message;
      return;
    }
    if (step.kind === "wait") return;
    this.bootstrapping = true;
    try {
      // Any server already in a cluster means we are joining one: the leader will add us.
      for (const s of step.servers) {
        if (s.id === this.o.nodeId) continue;
        let peers: unknown;
        try {
          peers = await this.rpc.callServer(s, "Status.peers", []);
        } catch (err) {
          this.o.logger.warn(`Failed to confirm peer status for server ${s.name} (will retry): ${(err as Error).message}`);
          return;
        }
        if (Array.isArray(peers) && peers.length > 0) {
          this.o.logger.info(`Existing Raft peers reported by server, disabling bootstrap mode: server=${s.name}`);
          this.bootstrapOff = true;
          return;
        }
      }
      if (!server.node.pristine) return;
      this.o.logger.info(`Found expected number of peers, attempting bootstrap: ${step.servers.map((s) => s.addr).join(",")}`);
      server.node.bootstrap(step.servers.map((s) => s.id));
      this.bootstrapOff = true;
    } finally {
      this.bootstrapping = false;
    }
  }

  // ---- autopilot (leader only) --------------------------------------------------------------

  private async autopilot(): Promise<void> {
    const server = this.server;
    if (!server?.isLeader || this.changing) return;
    const raft = server.node;
    const now = Date.now();
    const config = raft.configuration();
    const members = new Set([...config.voters, ...config.nonvoters]);
    const gossip = new Map<string, ServerInfo>();
    for (const m of this.o.lanMembers()) {
      const s = serverInfo(m);
      if (s && s.datacenter === this.o.datacenter) gossip.set(s.id, s);
    }
    for (const [id, s] of gossip) {
      if (s.status === "failed") this.failedSince.set(id, this.failedSince.get(id) ?? now);
      else this.failedSince.delete(id);
    }
    const progress = new Map(raft.progress().map((p) => [p.id, p]));
    const commit = raft.stats.commitIndex;
    let change: { op: "addNonvoter" | "promote" | "remove"; id: string; why: string } | undefined;
    // 1. Servers that left go first: they will not be back to vote.
    for (const id of members) {
      const s = gossip.get(id);
      if (id !== this.o.nodeId && s?.status === "left") change ??= { op: "remove", id, why: `server ${s.name} left` };
    }
    // 2. New alive servers join as nonvoters, so they catch up before they count for quorum.
    for (const [id, s] of gossip) if (s.status === "alive" && !members.has(id)) change ??= { op: "addNonvoter", id, why: `adding server ${s.name}` };
    // 3. A nonvoter that has kept up for the stabilization time becomes a voter.
    for (const id of config.nonvoters) {
      const p = progress.get(id);
      if (!p || p.match < commit || gossip.get(id)?.status !== "alive") {
        this.caughtUpSince.delete(id);
        continue;
      }
      const since = this.caughtUpSince.get(id) ?? now;
      this.caughtUpSince.set(id, since);
      if (now - since >= STABILIZATION_MS) change ??= { op: "promote", id, why: `promoting server ${gossip.get(id)!.name} to voter` };
    }
    // 4. Dead servers: removed once failed a while, and only if the rest still make a quorum.
    for (const id of members) {
      const since = this.failedSince.get(id);
      if (id === this.o.nodeId || since === undefined || now - since < DEAD_SERVER_CLEANUP_MS) continue;
      const voters = config.voters.filter((v) => v !== id);
      const healthy = voters.filter((v) => v === this.o.nodeId || gossip.get(v)?.status === "alive").length;
      if (healthy >= Math.floor(voters.length / 2) + 1) change ??= { op: "remove", id, why: `removing dead server ${gossip.get(id)!.name}` };
    }
    if (!change) return;
    this.changing = true;
    try {
      this.o.logger.info(`autopilot: ${change.why}`);
      await raft.changeMembership({ op: change.op, id: change.id });
      if (change.op === "remove") this.transport.drop(change.id);
    } catch (err) {
      this.o.logger.debug(`autopilot: ${change.why} failed: ${(err as Error).message}`);
    } finally {
      this.changing = false;
    }
  }
}

function isStale(a: unknown): boolean {
  return typeof a === "object" && a !== null && (a as { consistency?: unknown }).consistency === "stale";
}
