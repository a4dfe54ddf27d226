import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { RaftCore } from "./core/raft.ts";
import { type Entry, EntryType } from "./core/types.ts";
import { LogStore } from "./log-store.ts";
import { FileSnapshotStore, MemorySnapshotStore, type SnapshotStore } from "./snapshot-store.ts";

// The shell around the Raft core: binds it to a timer, to SQLite and to the FSM.
// Every Ready is handled in the documented order: persist (one fsynced transaction for all
// proposals of this event-loop turn, i.e. group commit) -> apply -> advance. A proposal's
// promise resolves only after its entry is durable and applied, so an acknowledged write
// survives kill -9.

export interface StateMachine {
  apply(index: number, data: Uint8Array): unknown;
  skip(index: number): void;
  snapshot(): Uint8Array;
  restore(data: Uint8Array): void;
}

export interface RaftNodeOptions {
  id: string;
  /** Where raft.db and snapshots/ live; undefined keeps everything in memory (-dev). */
  dir: string | undefined;
  fsm: StateMachine;
  tickMs: number;
  electionTicks: number;
  snapshotThreshold: number;
  trailingLogs: number;
  randomInt: (lo: number, hi: number) => number;
  warn: (msg: string) => void;
  info: (msg: string) => void;
  /** Storage failed: the node cannot go on safely. The agent logs and exits. */
  onFatal: (err: Error) => void;
}

interface Pending {
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
}

export class RaftNode {
  private readonly log: LogStore;
  private readonly snapshots: SnapshotStore;
  private readonly core: RaftCore;
  private readonly pending = new Map<number, Pending>();
  private readonly leaderWaiters = new Set<() => void>();
  private ticker: ReturnType<typeof setInterval> | undefined;
  private scheduled = false;
  private stopped = false;
  private snapshotIndex = 0;
  private lastAppliedTerm = 0;
  /** First index of the current leader term; reads are safe once it is applied. */
  private termStartIndex = Number.POSITIVE_INFINITY;
  private reportedLeader = "";

  constructor(private readonly opts: RaftNodeOptions) {
    if (opts.dir) mkdirSync(opts.dir, { recursive: true });
    this.log = new LogStore(opts.dir ? join(opts.dir, "raft.db") : ":memory:");
    this.snapshots = opts.dir ? new FileSnapshotStore(join(opts.dir, "snapshots"), opts.warn) : new MemorySnapshotStore();
    const snap = this.snapshots.latest();
    if (snap) {
      opts.fsm.restore(snap.body);
      this.log.setSnapshot(snap.meta.index, snap.meta.term, { voters: snap.meta.voters, nonvoters: [] });
      this.snapshotIndex = snap.meta.index;
      this.lastAppliedTerm = snap.meta.term;
      opts.info(`raft: restored from snapshot index=${snap.meta.index} term=${snap.meta.term}`);
    }
    if (this.log.lastIndex() > this.snapshotIndex && this.log.firstIndex() > this.snapshotIndex + 1) {
      throw new Error(`raft log starts at ${this.log.firstIndex()} but the newest snapshot ends at ${this.snapshotIndex}`);
    }
    this.core = new RaftCore(
      {
        id: opts.id,
        voters: [opts.id],
        electionTicks: opts.electionTicks,
        heartbeatTicks: 1,
        maxApplyBatch: 1024,
        randomInt: opts.randomInt,
      },
      this.log,
    );
  }

  start(): void {
    this.ticker = setInterval(() => {
      this.core.tick();
      this.schedule();
    }, this.opts.tickMs);
    // A lone voter wins at once; waiting out an election timeout would only delay start-up.
    this.core.campaign();
    this.schedule();
  }

  get isLeader(): boolean {
    return this.core.state.role === "leader";
  }

  get leader(): string {
    return this.core.state.leader;
  }

  /** Leader whose own term has an applied entry: its state includes every committed write. */
  get readable(): boolean {
    const s = this.core.state;
    return s.role === "leader" && s.applied >= this.termStartIndex;
  }

  get stats(): { term: number; commitIndex: number; appliedIndex: number; lastLogIndex: number; snapshotIndex: number; state: string } {
    const s = this.core.state;
    return { term: s.term, commitIndex: s.commit, appliedIndex: s.applied, lastLogIndex: s.last, snapshotIndex: this.snapshotIndex, state: s.role };
  }

  /** Resolves with the FSM's result once the entry is durable and applied. */
  propose(data: Uint8Array): Promise<unknown> {
    if (this.stopped) return Promise.reject(new Error("agent is shutting down"));
    const index = this.core.propose(data);
    const p = new Promise<unknown>((resolve, reject) => this.pending.set(index, { resolve, reject }));
    this.schedule();
    return p;
  }

  /** Waits until this node can serve reads as leader, or the timeout passes. */
  waitReadable(timeoutMs: number): Promise<boolean> {
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
    for (const p of this.pending.values()) p.reject(new Error("agent is shutting down"));
    this.pending.clear();
    this.log.close();
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
      while (this.core.hasReady()) {
        const rd = this.core.ready();
        // A lone voter has no peers: rd.messages is empty and no leader sends it a snapshot.
        this.log.append(rd.entries, rd.hardState);
        for (const e of rd.entries) if (e.type === EntryType.Noop) this.markTermStart(e);
        for (const e of rd.committed) this.applyEntry(e);
        this.core.advance(rd);
      }
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.reportLeader();
    if (this.readable && this.leaderWaiters.size > 0) for (const w of [...this.leaderWaiters]) w();
    this.maybeSnapshot();
  }

  private markTermStart(e: Entry): void {
    if (this.core.state.role === "leader" && e.term === this.core.state.term) this.termStartIndex = e.index;
  }

  private applyEntry(e: Entry): void {
    // A throw here is a corrupt or unknown command: crash rather than diverge.
    const result = e.type === EntryType.Command ? this.opts.fsm.apply(e.index, e.data) : this.opts.fsm.skip(e.index);
    this.lastAppliedTerm = e.term;
    const p = this.pending.get(e.index);
    if (p) {
      this.pending.delete(e.index);
      p.resolve(result);
    }
  }

  private reportLeader(): void {
    const leader = this.core.state.leader;
    if (leader !== this.reportedLeader) {
      this.reportedLeader = leader;
      if (leader !== "") this.opts.info(`raft: New leader elected: ${leader} (term ${this.core.state.term})`);
    }
  }

  private maybeSnapshot(): void {
    const applied = this.core.state.applied;
    if (applied - this.snapshotIndex < this.opts.snapshotThreshold) return;
    try {
      const body = this.opts.fsm.snapshot();
      this.snapshots.save(applied, this.lastAppliedTerm, [this.opts.id], body);
      this.log.setSnapshot(applied, this.lastAppliedTerm, this.core.appliedConfig());
      this.snapshotIndex = applied;
      this.log.compact(applied - this.opts.trailingLogs);
      this.opts.info(`raft: snapshot complete up to index ${applied} (${body.length} bytes)`);
    } catch (err) {
      // A failed snapshot loses nothing: the log still holds every entry. Try again later.
      this.opts.warn(`raft: snapshot failed: ${(err as Error).message}`);
    }
  }

  private fail(err: Error): void {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    for (const p of this.pending.values()) p.reject(new Error(`raft log write failed: ${err.message}`));
    this.pending.clear();
    this.opts.onFatal(err);
  }
}
