import { join } from "node:path";
import { ConsulError } from "../lib/errors.ts";
import { Prng } from "../lib/prng.ts";
import { RaftNode } from "../raft/node.ts";
import type { StateStore } from "../state/store.ts";
import { type Command, encodeCommand } from "./commands.ts";
import { type ApplyResult, Fsm } from "./fsm.ts";
import { SERF_CHECK_ID } from "../state/catalog-types.ts";
import { type Member, reconcileMember } from "./leader.ts";

// The server role: Raft + FSM + state store. Writes go through the log; reads are answered
// from the store once this node is a leader whose term has applied an entry (so it has seen
// every committed write). Leader duties that need the log (tombstone GC) live here too.

export interface ServerOptions {
  nodeName: string;
  /** Advertised RPC address (ip:port), reported by /v1/status/leader. */
  rpcAddr: string;
  dataDir: string | undefined;
  snapshotThreshold: number;
  trailingLogs: number;
  tombstoneTtlMs: number;
  datacenter: string;
  /** Cluster members as gossip sees them; the leader mirrors them into the catalog. */
  members: () => Member[];
  logger: { info: (m: string) => void; warn: (m: string) => void; error: (m: string) => void };
  onFatal: (err: Error) => void;
}

/** How long a tombstone must outlive every blocking query that could still be waiting on it. */
const TOMBSTONE_GRANULARITY_MS = 30_000;
/** Consul's reconcile_interval: a full pass even when no member event arrived. */
const RECONCILE_INTERVAL_MS = 60_000;

export class Server {
  private readonly fsm = new Fsm();
  private readonly raft: RaftNode;
  private gcTimer: ReturnType<typeof setInterval> | undefined;
  private reconcileTimer: ReturnType<typeof setInterval> | undefined;
  private reconciling: Promise<void> | undefined;
  /** (time, index) marks: tombstones at or below a mark older than the TTL may go. */
  private readonly tombstoneMarks: Array<{ atMs: number; index: number }> = [];

  constructor(private readonly opts: ServerOptions) {
    const prng = Prng.fromEntropy();
    this.raft = new RaftNode({
      id: opts.nodeName,
      dir: opts.dataDir ? join(opts.dataDir, "raft") : undefined,
      fsm: this.fsm,
      tickMs: 100,
      electionTicks: 10,
      snapshotThreshold: opts.snapshotThreshold,
      trailingLogs: opts.trailingLogs,
      randomInt: (lo, hi) => prng.int(lo, hi),
      info: opts.logger.info,
      warn: opts.logger.warn,
      onFatal: opts.onFatal,
    });
  }

  async start(timeoutMs = 10_000): Promise<void> {
    this.raft.start();
    if (!(await this.raft.waitReadable(timeoutMs))) throw new Error("no cluster leader after start-up");
    this.gcTimer = setInterval(() => void this.tombstoneGc(), TOMBSTONE_GRANULARITY_MS);
    this.gcTimer.unref?.();
    await this.reconcile();
    this.reconcileTimer = setInterval(() => void this.reconcile(), RECONCILE_INTERVAL_MS);
    this.reconcileTimer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.gcTimer) clearInterval(this.gcTimer);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    await this.raft.stop();
  }

  /** The current store; a snapshot restore replaces it, so never cache it. */
  get store(): StateStore {
    return this.fsm.store;
  }

  get leaderAddr(): string {
    return this.raft.leader === "" ? "" : this.opts.rpcAddr;
  }

  get knownLeader(): boolean {
    return this.raft.leader !== "";
  }

  get raftStats(): RaftNode["stats"] {
    return this.raft.stats;
  }

  /** Throws Consul's "No cluster leader" unless reads here see every committed write. */
  checkReadable(): void {
    if (!this.raft.readable) throw new ConsulError(500, "No cluster leader");
  }

  /** Commits a command; resolves with the FSM's result once it is durable and applied. */
  async apply(cmd: Command): Promise<ApplyResult> {
    let result: ApplyResult;
    try {
      result = (await this.raft.propose(encodeCommand(cmd))) as ApplyResult;
    } catch (err) {
      // Not the leader ("No cluster leader"), shutting down, or the log write failed.
      throw new ConsulError(500, (err as Error).message);
    }
    if (result instanceof Error) throw new ConsulError(500, result.message);
    return result;
  }

  /** Leader duty: bring the catalog in line with membership. One pass at a time. */
  reconcile(): Promise<void> {
    this.reconciling ??= (async () => {
      try {
        if (!this.raft.readable) return;
        const members = this.opts.members();
        for (const m of members) {
          const action = reconcileMember(this.store, m, this.opts.datacenter);
          if (!action) continue;
          if (action.type === "register") await this.apply({ type: "register", ...action.req });
          else await this.apply({ type: "deregister", node: action.node, serviceId: "", checkId: "" });
        }
        // Nodes gossip has reaped (or never knew) but the catalog still links to serfHealth.
        const known = new Set(members.map((m) => m.name.toLowerCase()));
        for (const c of this.store.catalog.checksInState(undefined, "any").checks) {
          if (c.checkId === SERF_CHECK_ID && !known.has(c.node.toLowerCase())) {
            await this.apply({ type: "deregister", node: c.node, serviceId: "", checkId: "" });
          }
        }
      } catch (err) {
        this.opts.logger.warn(`failed to reconcile members: ${(err as Error).message}`);
      } finally {
        this.reconciling = undefined;
      }
    })();
    return this.reconciling;
  }

  private async tombstoneGc(): Promise<void> {
    const now = Date.now();
    const kv = this.store.kv;
    if (kv.tombstoneCount > 0) this.tombstoneMarks.push({ atMs: now, index: kv.index });
    let reapUpTo = 0;
    while (this.tombstoneMarks.length > 0 && now - this.tombstoneMarks[0]!.atMs >= this.opts.tombstoneTtlMs) {
      reapUpTo = this.tombstoneMarks.shift()!.index;
    }
    if (reapUpTo === 0 || !this.raft.isLeader) return;
    try {
      await this.apply({ type: "tombstone-reap", index: reapUpTo });
    } catch (err) {
      this.opts.logger.warn(`tombstone GC failed: ${(err as Error).message}`);
    }
  }
}
