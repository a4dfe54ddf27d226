import { join } from "node:path";
import { ConsulError } from "../lib/errors.ts";
import { Prng } from "../lib/prng.ts";
import { NotLeaderError } from "../raft/core/raft.ts";
import type { Message } from "../raft/core/types.ts";
import { RaftNode } from "../raft/node.ts";
import { RPC_HOLD_TIMEOUT_MS } from "../rpc/client.ts";
import type { Consistency } from "./query.ts";
import type { StateStore } from "../state/store.ts";
import { type Command, encodeCommand } from "./commands.ts";
import { type ApplyResult, decodeState, Fsm } from "./fsm.ts";
import { SERF_CHECK_ID } from "../state/catalog-types.ts";
import { type Member, reconcileMember } from "./leader.ts";
import type { Session } from "../state/sessions.ts";
import { SessionTimers } from "./session-timers.ts";

// The server role: Raft + FSM + state store. Writes go through the log on the leader; reads
// are answered from the store after a barrier that makes them linearizable (the leader lease,
// or a ReadIndex round for ?consistent), or at once with ?stale on any server. A follower
// refuses with NotLeaderError and the agent forwards the call to the leader. Leader duties
// that need the log (membership reconcile, tombstone GC, session TTLs) live here too.

export interface ServerOptions {
  nodeName: string;
  /** The node ID: this server's Raft ID. */
  nodeId: string;
  /** -bootstrap (or -bootstrap-expect 1, -dev): a fresh server starts a cluster of one. */
  bootstrapSelf: boolean;
  /** Advertised RPC address (ip:port), reported by /v1/status/leader. */
  rpcAddr: string;
  /** The RPC address of a server by Raft ID, from gossip ("" when unknown). */
  addressOf: (id: string) => string;
  /** A server's node name by Raft ID ("" when unknown). */
  nameOf: (id: string) => string;
  /** Sends a Raft message to a peer; false if it was dropped. */
  send?: (to: string, msg: Message) => boolean;
  dataDir: string | undefined;
  snapshotThreshold: number;
  snapshotIntervalMs: number;
  trailingLogs: number;
  tombstoneTtlMs: number;
  datacenter: string;
  /** Cluster members as gossip sees them; the leader mirrors them into the catalog. */
  members: () => Member[];
  logger: { info: (m: string) => void; warn: (m: string) => void; error: (m: string) => void };
  onFatal: (err: Error) => void;
}

/** Raft's clock: elections after 1-2 s of silence, heartbeats every 200 ms. */
const TICK_MS = 100;
const ELECTION_TICKS = 10;
const HEARTBEAT_TICKS = 2;
/**
 * Autopilot counts a follower healthy while it answered the leader this recently. Consul's
 * 200 ms assumes a heartbeat every 100 ms; ours go every 200 ms, so allow two of them.
 */
export const LAST_CONTACT_THRESHOLD_MS = 2 * HEARTBEAT_TICKS * TICK_MS;
/** How long a leadership transfer may take before it is abandoned (hashicorp/raft: an election timeout). */
const TRANSFER_TIMEOUT_MS = 2 * ELECTION_TICKS * TICK_MS;

/** How long a tombstone must outlive every blocking query that could still be waiting on it. */
const TOMBSTONE_GRANULARITY_MS = 30_000;
/** Consul's reconcile_interval: a full pass even when no member event arrived. */
const RECONCILE_INTERVAL_MS = 60_000;
/** An expired session whose destroy fails is retried this often, backing off from the base. */
const INVALIDATE_ATTEMPTS = 6;
const INVALIDATE_RETRY_BASE_MS = 1_000;

export class Server {
  private readonly fsm = new Fsm();
  private readonly raft: RaftNode;
  private gcTimer: ReturnType<typeof setInterval> | undefined;
  private reconcileTimer: ReturnType<typeof setInterval> | undefined;
  private reconciling: Promise<void> | undefined;
  /** (time, index) marks: tombstones at or below a mark older than the TTL may go. */
  private tombstoneMarks: Array<{ atMs: number; index: number }> = [];
  /** The store the marks were taken on; a restore starts them over. */
  private marksStore: StateStore | undefined;
  private readonly sessionTimers = new SessionTimers((id) => void this.expireSession(id));
  private stopped = false;

  constructor(private readonly opts: ServerOptions) {
    const prng = Prng.fromEntropy();
    this.raft = new RaftNode({
      id: opts.nodeId,
      dir: opts.dataDir ? join(opts.dataDir, "raft") : undefined,
      fsm: this.fsm,
      tickMs: TICK_MS,
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: HEARTBEAT_TICKS,
      initialVoters: opts.bootstrapSelf ? [opts.nodeId] : [],
      send: opts.send,
      nameOf: (id) => (id === opts.nodeId ? opts.nodeName : opts.nameOf(id)),
      onLeaderChange: (_leader, isLeader) => {
        if (isLeader) {
          void this.reconcile();
          void this.startSessionTimers();
        } else {
          this.sessionTimers.clearAll();
        }
      },
      snapshotThreshold: opts.snapshotThreshold,
      snapshotIntervalMs: opts.snapshotIntervalMs,
      trailingLogs: opts.trailingLogs,
      randomInt: (lo, hi) => prng.int(lo, hi),
      info: opts.logger.info,
      warn: opts.logger.warn,
      onFatal: opts.onFatal,
    });
  }

  async start(timeoutMs = 10_000): Promise<void> {
    this.raft.start();
    // A lone server is its own leader at once; a cluster elects one when a quorum is up.
    const c = this.raft.configuration();
    if (c.voters.length === 1 && c.voters[0] === this.opts.nodeId && !(await this.raft.waitLeader(timeoutMs))) {
      throw new Error("no cluster leader after start-up");
    }
    this.gcTimer = setInterval(() => void this.tombstoneGc(), TOMBSTONE_GRANULARITY_MS);
    this.gcTimer.unref?.();
    await this.reconcile();
    this.reconcileTimer = setInterval(() => void this.reconcile(), RECONCILE_INTERVAL_MS);
    this.reconcileTimer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sessionTimers.clearAll();
    if (this.gcTimer) clearInterval(this.gcTimer);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    await this.raft.stop();
  }

  /** The current store; a snapshot restore replaces it, so never cache it. */
  get store(): StateStore {
    return this.fsm.store;
  }

  /** The Raft node, for the agent's membership and operator duties. */
  get node(): RaftNode {
    return this.raft;
  }

  get isLeader(): boolean {
    return this.raft.isLeader;
  }

  /** The leader's RPC address, "" when no leader is known. */
  get leaderAddr(): string {
    const id = this.raft.leader;
    if (id === "") return "";
    return id === this.opts.nodeId ? this.opts.rpcAddr : this.opts.addressOf(id);
  }

  get knownLeader(): boolean {
    return this.raft.leader !== "";
  }

  get lastContactMs(): number {
    const ms = this.raft.lastContactMs;
    return Number.isFinite(ms) ? ms : 0;
  }

  get logger(): ServerOptions["logger"] {
    return this.opts.logger;
  }

  get raftStats(): RaftNode["stats"] {
    return this.raft.stats;
  }

  /**
   * Before a graceful leave: hand leadership to the most caught-up voter, so the cluster does
   * not wait out an election timeout. False when there is nobody to hand it to.
   */
  async transferLeadershipAway(): Promise<boolean> {
    if (!this.raft.isLeader) return true;
    const best = this.transferTarget();
    if (!best) return false;
    this.opts.logger.info(`raft: transferring leadership to ${best} before leaving`);
    try {
      return await this.transferLeadership(best);
    } catch (err) {
      this.opts.logger.warn(`raft: leadership transfer failed: ${(err as Error).message}`);
      return false;
    }
  }

  /** Leader only: the most caught-up other voter (hashicorp/raft's pickServer), if any. */
  transferTarget(): string | undefined {
    const voters = new Set(this.raft.configuration().voters);
    return this.raft
      .progress()
      .filter((p) => p.id !== this.opts.nodeId && voters.has(p.id))
      .sort((a, b) => b.match - a.match)[0]?.id;
  }

  /** Hands leadership to voter `id`: true once this server is no longer leader, false on timeout. */
  transferLeadership(id: string): Promise<boolean> {
    return this.raft.transferLeadership(id, TRANSFER_TIMEOUT_MS);
  }

  /** Raft traffic from a peer. */
  receive(msg: Message): void {
    this.raft.receive(msg);
  }

  /**
   * Makes a read here see every write committed before it: nothing for ?stale; the leader
   * lease or a quorum round otherwise. NotLeaderError on a follower, for the caller to forward.
   */
  async readBarrier(consistency: Consistency): Promise<void> {
    if (consistency === "stale") return;
    try {
      await this.raft.readBarrier(consistency === "consistent" ? "consistent" : "default");
    } catch (err) {
      if (err instanceof NotLeaderError) throw err;
      throw new ConsulError(500, (err as Error).message);
    }
  }

  /** Commits a command; resolves with the FSM's result once it is durable and applied. */
  async apply(cmd: Command): Promise<ApplyResult> {
    let result: ApplyResult;
    try {
      result = (await this.raft.propose(encodeCommand(cmd))) as ApplyResult;
    } catch (err) {
      // A follower's NotLeaderError goes up to be forwarded; the rest (leadership lost,
      // shutting down, the log write failed) are the caller's 500.
      if (err instanceof NotLeaderError) throw err;
      throw new ConsulError(500, (err as Error).message);
    }
    if (result instanceof Error) throw new ConsulError(500, result.message);
    return result;
  }

  /** A point-in-time copy of the whole state, with where it stands: store index, Raft term, servers. */
  async captureState(): Promise<{ index: number; term: number; servers: Array<{ id: string; address: string; voter: boolean }>; state: Uint8Array }> {
    const c = this.raft.configuration();
    const addr = (id: string): string => (id === this.opts.nodeId ? this.opts.rpcAddr : this.opts.addressOf(id));
    // Everything is read in this turn; only the encoding of the captured state runs later.
    const index = this.store.index;
    const term = this.raft.appliedTerm;
    const state = this.fsm.snapshot();
    return {
      index,
      term,
      servers: [...c.voters.map((id) => ({ id, address: addr(id), voter: true })), ...c.nonvoters.map((id) => ({ id, address: addr(id), voter: false }))],
      state: await state,
    };
  }

  /**
   * Replaces the state on every server with `state` (Fsm.snapshot() bytes) through the log,
   * then redoes the leader's duties on it, as Consul reasserts them after a restore.
   */
  async restoreState(state: Uint8Array): Promise<void> {
    try {
      decodeState(state);
    } catch (err) {
      throw new ConsulError(500, `Raft error when restoring snapshot: ${(err as Error).message}`);
    }
    await this.apply({ type: "restore", state });
    this.opts.logger.info(`restored a snapshot: ${state.length} bytes of state, now at index ${this.store.index}`);
    await this.reconciling; // a pass begun on the old state; the next one sees the new
    await this.reconcile();
  }

  /** Leader duty: bring the catalog in line with membership. One pass at a time. */
  reconcile(): Promise<void> {
    // Cleared in a callback, never inside the pass: a pass that returns at once (not leader)
    // would clear before this assignment and leave a settled promise here for good.
    this.reconciling ??= this.reconcilePass().finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }

  private async reconcilePass(): Promise<void> {
    try {
      if (!this.raft.isLeader) return;
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
    }
  }

  /** Leader duty: a session created or renewed here (re)starts its TTL timer. */
  resetSessionTimer(s: Pick<Session, "id" | "ttl">): void {
    if (this.raft.isLeader) this.sessionTimers.reset(s);
  }

  clearSessionTimer(id: string): void {
    this.sessionTimers.clear(id);
  }

  /**
   * A new leader times every session afresh, once its store has every committed write (a
   * session created under the last leader must not be missed).
   */
  private async startSessionTimers(): Promise<void> {
    if (!(await this.raft.waitLeader(RPC_HOLD_TIMEOUT_MS)) || this.stopped) return;
    for (const s of this.store.sessions.list(undefined).sessions) this.sessionTimers.reset(s);
  }

  /** A TTL ran out: destroy the session through the log, retrying while we lead. */
  private async expireSession(id: string): Promise<void> {
    for (let attempt = 0; attempt < INVALIDATE_ATTEMPTS; attempt++) {
      if (this.stopped || !this.raft.isLeader || !this.store.sessions.get(undefined, id).session) return;
      try {
        await this.apply({ type: "session-destroy", id });
        return;
      } catch (err) {
        if (err instanceof NotLeaderError) return;
        this.opts.logger.warn(`session TTL: invalidation of ${id} failed: ${(err as Error).message}`);
      }
      await Bun.sleep(INVALIDATE_RETRY_BASE_MS * 2 ** attempt);
    }
    this.opts.logger.error(`session TTL: maximum revoke attempts reached for session ${id}`);
  }

  private async tombstoneGc(): Promise<void> {
    const now = Date.now();
    if (this.marksStore !== this.store) {
      this.marksStore = this.store;
      this.tombstoneMarks = [];
    }
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
