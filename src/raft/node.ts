import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { encodeConfiguration } from "./core/conf.ts";
import { NotLeaderError, RaftCore } from "./core/raft.ts";
import { type ConfChange, type Configuration, type Entry, EntryType, type Message, type ProgressView, type Ready } from "./core/types.ts";
import { LogStore } from "./log-store.ts";
import { FileSnapshotStore, MemorySnapshotStore, type SnapshotStore, snapshotConfig } from "./snapshot-store.ts";

// The shell around the Raft core: binds it to a monotonic clock, to SQLite, to the network
// and to the FSM. Every Ready is handled in the core's order: persist (one fsynced transaction
// for everything proposed in this event-loop turn, i.e. group commit) -> send -> install
// snapshot / apply -> advance. A proposal's promise resolves only after its entry is committed
// by a quorum, durable here and applied, so an acknowledged write survives kill -9.

export interface StateMachine {
  apply(index: number, data: Uint8Array): unknown;
  skip(index: number): void;
  /** Captures the state synchronously, at the call; the bytes may be produced later. */
  snapshot(): Uint8Array | Promise<Uint8Array>;
  restore(data: Uint8Array): void;
  /**
   * Raft index of the last entry that replaced the whole state (a user restore), if any: a
   * snapshot past it is taken at once, so the log can let that large entry go and a restart
   * does not replay it.
   */
  readonly replacedAt?: number;
}

export type ReadMode = "default" | "consistent";

export interface RaftNodeOptions {
  id: string;
  /** Where raft.db and snapshots/ live; undefined keeps everything in memory (-dev). */
  dir: string | undefined;
  fsm: StateMachine;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  snapshotThreshold: number;
  /**
   * Consul's raft_snapshot_interval: the threshold is checked every interval to twice that
   * (jittered, so servers do not snapshot together); 0 checks on every loop turn.
   */
  snapshotIntervalMs: number;
  trailingLogs: number;
  /** A fresh node's configuration: [id] bootstraps a lone server; [] waits for bootstrap(). */
  initialVoters: string[];
  /** Delivers a message to a peer, best effort; false if it was dropped. Absent: no peers. */
  send?: (to: string, msg: Message) => boolean;
  randomInt: (lo: number, hi: number) => number;
  warn: (msg: string) => void;
  info: (msg: string) => void;
  /** A server's name for log lines (its ID when unknown). */
  nameOf?: (id: string) => string;
  /** Leadership moved (leader "" while none is known). */
  onLeaderChange?: (leader: string, isLeader: boolean) => void;
  /** Storage failed: the node cannot go on safely. The agent logs and exits. */
  onFatal: (err: Error) => void;
}

interface Pending {
  term: number;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
}

interface PendingRead {
  /** Serve once applied reaches this; undefined until leadership is confirmed. */
  index: number | undefined;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** hashicorp/raft's ErrLeadershipLost: the outcome of the write is unknown. */
export const LEADERSHIP_LOST = "leadership lost while committing log";
/** Missed ticks beyond this many election timeouts change nothing more; do not spin on them. */
const MAX_CATCH_UP_ELECTIONS = 4;

export class RaftNode {
  private readonly log: LogStore;
  private readonly snapshots: SnapshotStore;
  private core: RaftCore;
  private readonly pending = new Map<number, Pending>();
  private readonly reads = new Map<string, PendingRead>();
  private readonly leaderWaiters = new Set<() => void>();
  private ticker: ReturnType<typeof setInterval> | undefined;
  private scheduled = false;
  private stopped = false;
  private snapshotIndex = 0;
  /** A snapshot is being encoded and written; one at a time. */
  private snapshotting = false;
  /** performance.now() of the next snapshot threshold check. */
  private snapshotCheckAt: number;
  private lastAppliedTerm = 0;
  private appliedIndex = 0;
  private readSeq = 0;
  private reportedLeader = "";
  private readonly clockStart = performance.now();
  private ticks = 0;
  /** When the leader was last heard from (performance.now()); for X-Consul-LastContact. */
  private leaderContactAt = 0;

  constructor(private readonly opts: RaftNodeOptions) {
    if (opts.dir) mkdirSync(opts.dir, { recursive: true });
    this.log = new LogStore(opts.dir ? join(opts.dir, "raft.db") : ":memory:");
    this.snapshots = opts.dir ? new FileSnapshotStore(join(opts.dir, "snapshots"), opts.warn) : new MemorySnapshotStore();
    const snap = this.snapshots.latest();
    if (snap) {
      opts.fsm.restore(snap.body);
      const config = snapshotConfig(snap.meta);
      // A crash between saving an installed snapshot and clearing the log leaves a log that
      // ends before the snapshot: it is from before the install and must go.
      if (this.log.lastStored < snap.meta.index) this.log.reset(snap.meta.index, snap.meta.term, config);
      else this.log.setSnapshot(snap.meta.index, snap.meta.term, config);
      this.snapshotIndex = snap.meta.index;
      this.appliedIndex = snap.meta.index;
      this.lastAppliedTerm = snap.meta.term;
      opts.info(`raft: restored from snapshot index=${snap.meta.index} term=${snap.meta.term}`);
    }
    if (this.log.lastIndex() > this.snapshotIndex && this.log.firstIndex() > this.snapshotIndex + 1) {
      throw new Error(`raft log starts at ${this.log.firstIndex()} but the newest snapshot ends at ${this.snapshotIndex}`);
    }
    this.core = this.newCore();
    this.snapshotCheckAt = this.nextSnapshotCheck(performance.now());
  }

  private nextSnapshotCheck(now: number): number {
    const every = this.opts.snapshotIntervalMs;
    return every > 0 ? now + this.opts.randomInt(every, 2 * every) : now;
  }

  private newCore(): RaftCore {
    return new RaftCore(
      {
        id: this.opts.id,
        voters: this.opts.initialVoters,
        electionTicks: this.opts.electionTicks,
        heartbeatTicks: this.opts.heartbeatTicks,
        maxApplyBatch: 1024,
        randomInt: this.opts.randomInt,
      },
      this.log,
    );
  }

  start(): void {
    this.ticker = setInterval(() => {
      this.catchUpTicks();
      this.schedule();
    }, this.opts.tickMs);
    // A lone voter wins at once; waiting out an election timeout would only delay start-up.
    const c = this.core.config();
    if (c.voters.length === 1 && c.voters[0] === this.opts.id) this.core.campaign();
    this.schedule();
  }

  /** True when this node has no log, no snapshot and no configuration: it may be bootstrapped. */
  get pristine(): boolean {
    const c = this.core.config();
    return this.log.lastIndex() === 0 && c.voters.length === 0 && c.nonvoters.length === 0;
  }

  /**
   * hashicorp/raft's BootstrapCluster: write the first configuration as entry 1 of term 1.
   * Every server bootstrapping the same configuration writes the same entry, so their logs
   * agree; the first leader commits it with its no-op.
   */
  bootstrap(voters: string[]): void {
    if (!this.pristine) throw new Error("bootstrap only works on new clusters");
    const config: Configuration = { voters: [...voters], nonvoters: [] };
    this.log.append([{ index: 1, term: 1, type: EntryType.Config, data: encodeConfiguration(config) }], { term: 1, vote: "" });
    this.core = this.newCore();
    this.opts.info(`raft: bootstrapped a cluster of ${voters.length}: ${voters.join(", ")}`);
    this.schedule();
  }

  /** A message from a peer's transport. */
  receive(msg: Message): void {
    if (this.stopped || msg.to !== this.opts.id) return;
    try {
      this.core.step(msg);
    } catch (err) {
      // A message the core refuses is a bug or garbage on the wire: drop it, never crash on input.
      this.opts.warn(`raft: dropped a ${msg.type} from ${msg.from}: ${(err as Error).message}`);
      return;
    }
    // After the step, so a new leader's first message counts as contact too.
    if ((msg.type === "append" || msg.type === "heartbeat" || msg.type === "snapshot") && msg.from === this.core.state.leader) {
      this.leaderContactAt = performance.now();
    }
    this.schedule();
  }

  get isLeader(): boolean {
    return this.core.state.role === "leader";
  }

  /** The leader's ID, "" when none is known. */
  get leader(): string {
    return this.core.state.leader;
  }

  get id(): string {
    return this.opts.id;
  }

  /** Milliseconds since the leader was last heard from; 0 on the leader itself. */
  get lastContactMs(): number {
    if (this.isLeader) return 0;
    return this.leaderContactAt === 0 ? Number.POSITIVE_INFINITY : performance.now() - this.leaderContactAt;
  }

  get stats(): { term: number; commitIndex: number; appliedIndex: number; lastLogIndex: number; snapshotIndex: number; state: string } {
    const s = this.core.state;
    return { term: s.term, commitIndex: s.commit, appliedIndex: this.appliedIndex, lastLogIndex: s.last, snapshotIndex: this.snapshotIndex, state: s.role === "precandidate" ? "candidate" : s.role };
  }

  configuration(): Configuration {
    return this.core.config();
  }

  /** The log index of configuration(): what Consul's raft/configuration calls its Index. */
  configurationIndex(): number {
    return this.core.configIndex();
  }

  /** Term of the last applied entry: with appliedIndex, where the FSM's state stands. */
  get appliedTerm(): number {
    return this.lastAppliedTerm;
  }

  progress(): ProgressView[] {
    return this.core.progress();
  }

  /** Term of the entry at `index` in this node's log; undefined if absent or compacted. */
  termAt(index: number): number | undefined {
    return this.core.termAt(index);
  }

  /** How long one tick is: ProgressView counts time in ticks. */
  get tickMs(): number {
    return this.opts.tickMs;
  }

  /** Resolves with the FSM's result once the entry is committed, durable and applied. */
  propose(data: Uint8Array): Promise<unknown> {
    return this.track(() => this.core.propose(data));
  }

  /** A membership change; resolves once it has committed. */
  async changeMembership(cc: ConfChange): Promise<void> {
    await this.track(() => this.core.proposeConfChange(cc));
  }

  /** Appends through `append` and waits for that index to apply with our term (else: lost). */
  private track(append: () => number): Promise<unknown> {
    if (this.stopped) return Promise.reject(new Error("agent is shutting down"));
    let index: number;
    try {
      index = append();
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const p = new Promise<unknown>((resolve, reject) => this.pending.set(index, { term: this.core.state.term, resolve, reject }));
    this.schedule();
    return p;
  }

  /** Hands leadership to `to` (a caught-up voter); resolves when we are no longer leader. */
  async transferLeadership(to: string, timeoutMs: number): Promise<boolean> {
    this.core.transferLeadership(to);
    this.schedule();
    const deadline = Date.now() + timeoutMs;
    while (this.isLeader && Date.now() < deadline && !this.stopped) await Bun.sleep(this.opts.tickMs);
    return !this.isLeader;
  }

  /**
   * Waits until a read on this node sees every write committed before the call (linearizable).
   * "consistent" always confirms leadership with a quorum (ReadIndex); "default" uses the
   * leader lease when it holds and falls back to ReadIndex when it does not. Throws
   * NotLeaderError on a follower.
   */
  async readBarrier(mode: ReadMode): Promise<void> {
    if (this.stopped) throw new Error("agent is shutting down");
    if (!this.isLeader) throw new NotLeaderError(this.leader);
    if (mode === "default") {
      this.catchUpTicks(); // a paused process must not trust ticks it never counted
      // The lease speaks for the commit index only once this leader has committed in its term.
      if (this.core.leaseValid() && this.core.committedInTerm()) {
        const commit = this.core.state.commit;
        if (this.appliedIndex >= commit) return;
        await this.queueRead(commit);
        return;
      }
    }
    const ctx = this.nextReadCtx();
    const done = this.queueRead(undefined, ctx);
    try {
      this.core.readIndex(ctx);
    } catch (err) {
      this.reads.delete(ctx);
      throw err;
    }
    this.schedule();
    await done;
  }

  private nextReadCtx(): string {
    return `${this.opts.id}/${++this.readSeq}`;
  }

  /** A read served once applied reaches `index` (undefined: until ReadIndex confirms one). */
  private queueRead(index: number | undefined, ctx = this.nextReadCtx()): Promise<void> {
    return new Promise<void>((resolve, reject) => this.reads.set(ctx, { index, resolve, reject }));
  }

  /** Leader that has committed in its term and applied all of it: its state has every committed write. */
  get readable(): boolean {
    return this.isLeader && this.core.committedInTerm() && this.appliedIndex >= this.core.state.commit;
  }

  /** Waits until this node is a leader that can serve reads (see readable), or the timeout passes. */
  waitLeader(timeoutMs: number): Promise<boolean> {
    if (this.readable) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.leaderWaiters.delete(done);
        resolve(this.readable);
      };
      const timer = setTimeout(done, timeoutMs);
      this.leaderWaiters.add(done);
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    if (this.ticker) clearInterval(this.ticker);
    this.process(); // flush what is already proposed
    this.stopped = true;
    this.failAll(new Error("agent is shutting down"));
    this.log.close();
  }

  // ---- the loop ------------------------------------------------------------------------------

  /** Ticks from the monotonic clock, including any a pause (SIGSTOP, GC) kept from firing. */
  private catchUpTicks(): void {
    const due = Math.floor((performance.now() - this.clockStart) / this.opts.tickMs);
    const cap = MAX_CATCH_UP_ELECTIONS * 2 * this.opts.electionTicks;
    if (due - this.ticks > cap) this.ticks = due - cap;
    while (this.ticks < due) {
      this.core.tick();
      this.ticks++;
    }
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    // setImmediate, not a microtask: every request parsed in this turn joins the same batch.
    setImmediate(() => {
      this.scheduled = false;
      this.process();
    });
  }

  private process(): void {
    if (this.stopped) return;
    try {
      while (this.core.hasReady()) this.handle(this.core.ready());
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.reportLeader();
    if (this.leaderWaiters.size > 0 && this.readable) for (const w of [...this.leaderWaiters]) w();
    this.maybeSnapshot();
  }

  private handle(rd: Ready): void {
    // 1. persist
    if (rd.snapshot) {
      const data = rd.snapshot.data;
      if (!data) throw new Error("assertion failed: a snapshot to install came without its bytes");
      const { meta } = rd.snapshot;
      this.snapshots.save(meta.index, meta.term, meta.config, data);
      this.log.reset(meta.index, meta.term, meta.config);
    }
    this.log.append(rd.entries, rd.hardState);
    // 2. send
    for (const m of rd.messages) this.sendMessage(m);
    // 3. install, apply, serve reads
    if (rd.snapshot) {
      this.opts.fsm.restore(rd.snapshot.data!);
      this.snapshotIndex = rd.snapshot.meta.index;
      this.appliedIndex = rd.snapshot.meta.index;
      this.lastAppliedTerm = rd.snapshot.meta.term;
      this.opts.info(`raft: installed snapshot index=${rd.snapshot.meta.index} term=${rd.snapshot.meta.term} from the leader`);
    }
    for (const e of rd.committed) this.applyEntry(e);
    for (const rs of rd.readStates) {
      const r = this.reads.get(rs.ctx);
      if (r) r.index = rs.index;
    }
    if (rd.softState && rd.softState.role !== "leader") {
      // Leadership lost: what it was committing may or may not commit under the next leader.
      for (const [i, p] of this.pending) {
        this.pending.delete(i);
        p.reject(new Error(LEADERSHIP_LOST));
      }
      for (const [ctx, r] of this.reads) {
        this.reads.delete(ctx);
        r.reject(new Error("leadership lost while confirming a read"));
      }
    }
    this.serveReads();
    this.core.advance(rd);
  }

  private sendMessage(m: Message): void {
    const send = this.opts.send;
    if (!send) return;
    if (m.type !== "snapshot") {
      send(m.to, m);
      return;
    }
    // The core names what the follower needs; we send the newest snapshot we have, which
    // covers it (it is at or past the core's, and its meta travels with it).
    const snap = this.snapshots.latest();
    if (!snap) {
      this.core.reportSnapshot(m.to, false);
      return;
    }
    const meta = { index: snap.meta.index, term: snap.meta.term, config: snapshotConfig(snap.meta) };
    const ok = send(m.to, { ...m, meta, data: snap.body });
    this.opts.info(`raft: sending snapshot index=${meta.index} (${snap.body.length} bytes) to ${m.to}`);
    this.core.reportSnapshot(m.to, ok);
  }

  private applyEntry(e: Entry): void {
    // A throw here is a corrupt or unknown command: crash rather than diverge.
    const result = e.type === EntryType.Command ? this.opts.fsm.apply(e.index, e.data) : this.opts.fsm.skip(e.index);
    this.lastAppliedTerm = e.term;
    this.appliedIndex = e.index;
    const p = this.pending.get(e.index);
    if (!p) return;
    this.pending.delete(e.index);
    // Another leader's entry took the index we were promised: ours was lost.
    if (e.term !== p.term) p.reject(new Error(LEADERSHIP_LOST));
    else p.resolve(result);
  }

  private serveReads(): void {
    for (const [ctx, r] of this.reads) {
      if (r.index === undefined || r.index > this.appliedIndex) continue;
      this.reads.delete(ctx);
      r.resolve();
    }
  }

  private reportLeader(): void {
    const leader = this.core.state.leader;
    if (leader === this.reportedLeader) return;
    this.reportedLeader = leader;
    if (leader !== "") this.opts.info(`raft: New leader elected: ${this.opts.nameOf?.(leader) || leader} (term ${this.core.state.term})`);
    this.opts.onLeaderChange?.(leader, this.isLeader);
  }

  /**
   * Past the threshold, snapshots the FSM and compacts the log behind it. The state is captured
   * now; encoding and the file write run while the loop goes on, so a big store does not stall
   * commits. A snapshot installed from the leader meanwhile makes this one stale: it is dropped.
   */
  private maybeSnapshot(): void {
    const applied = this.appliedIndex;
    const replaced = (this.opts.fsm.replacedAt ?? 0) > this.snapshotIndex;
    if (this.snapshotting) return;
    if (!replaced) {
      const now = performance.now();
      if (now < this.snapshotCheckAt) return;
      this.snapshotCheckAt = this.nextSnapshotCheck(now);
      if (applied - this.snapshotIndex < this.opts.snapshotThreshold) return;
    }
    const term = this.lastAppliedTerm;
    const config = this.core.appliedConfig();
    const overtaken = (): boolean => this.stopped || this.snapshotIndex >= applied;
    this.snapshotting = true;
    void (async () => {
      try {
        const body = await this.opts.fsm.snapshot();
        if (overtaken()) return;
        await this.snapshots.saveAsync(applied, term, config, body);
        if (overtaken()) return;
        this.log.setSnapshot(applied, term, config);
        this.snapshotIndex = applied;
        this.log.compact(applied - this.opts.trailingLogs);
        this.opts.info(`raft: snapshot complete up to index ${applied} (${body.length} bytes)`);
      } catch (err) {
        // A failed snapshot loses nothing: the log still holds every entry. Try again later.
        this.opts.warn(`raft: snapshot failed: ${(err as Error).message}`);
      } finally {
        this.snapshotting = false;
      }
    })();
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const r of this.reads.values()) r.reject(err);
    this.reads.clear();
  }

  private fail(err: Error): void {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.failAll(new Error(`raft log write failed: ${err.message}`));
    this.opts.onFatal(err);
  }
}
