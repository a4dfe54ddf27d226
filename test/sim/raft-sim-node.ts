import type { Prng } from "../../src/lib/prng.ts";
import { NotLeaderError, ProposalDroppedError, RaftCore } from "../../src/raft/core/raft.ts";
import { type Entry, EntryType, type Message, type Ready } from "../../src/raft/core/types.ts";
import { MemoryStorage } from "../raft/memory-storage.ts";
import type { EventQueue } from "./event-queue.ts";
import { decodeCommand, encodeCommand, type KvCommand, KvFsm } from "./kv-fsm.ts";
import type { KvOutput } from "./linearizability.ts";
import { DiskHashes, type RaftChecker, SafetyViolation } from "./raft-checks.ts";
import type { Reply, Request } from "./raft-sim-clients.ts";

// One simulated server: a Raft core, its disk (what survives a crash), and a shell that does
// what a real server's shell does with each Ready, in the documented order, and answers KV
// clients the way a Consul server would. Everything it observes goes through the checker.

export const TICK_MS = 10;
export const ELECTION_TICKS = 10;
const HEARTBEAT_TICKS = 2;

export interface Bugs {
  /** Voters' rejections go out as grants: more than one vote per term. */
  doubleVote?: boolean;
  /** A node that believes it leads answers reads from its own state, without ReadIndex or lease. */
  unsafeReads?: boolean;
  /** After a pause (SIGSTOP, a long GC) the shell does not catch up the ticks it missed. */
  noTickCatchUp?: boolean;
}

export interface NodeHost {
  readonly q: EventQueue;
  readonly checker: RaftChecker;
  readonly bugs: Bugs;
  readonly stats: { maxTerm: number; leaseReads: number };
  /** How long an fsync of this Ready takes. */
  diskDelay(): number;
  send(from: SimNode, m: Message): void;
  trace(line: string): void;
  /** Every entry any node applies (the world watches configurations and its liveness probe). */
  applied(node: SimNode, e: Entry, cmd: KvCommand | undefined): void;
}

interface PendingWrite {
  client: number;
  seq: number;
  reply: (r: Reply) => void;
}

interface PendingRead {
  req: Request;
  term: number;
  reply: (r: Reply) => void;
}

export class SimNode {
  readonly disk = new MemoryStorage();
  readonly hashes = new DiskHashes();
  /** Its clock's tick period relative to TICK_MS (bounded drift). */
  readonly drift: number;
  up = false;
  decommissioned = false;
  /** In a committed configuration at some point (the founders from the start). */
  wasMember: boolean;
  core: RaftCore | undefined;
  fsm = new KvFsm();
  appliedIndex = 0;
  private appliedTerm = 0;
  private incarnation = 0;
  private busy = false;
  private seenCommit = 0;
  private ledTerm = 0;
  private writes = new Map<number, PendingWrite>();
  private reads = new Map<string, PendingRead>();
  private readWaits: { index: number; read: PendingRead }[] = [];
  private readSeq = 0;
  /** Stopped (SIGSTOP): events wait in `held`, ticks are counted but not run. */
  private paused = false;
  private missedTicks = 0;
  private held: { f: () => void; client: boolean }[] = [];

  constructor(
    readonly id: string,
    /** The configuration it boots with while its disk holds none: founders know each other, newcomers nobody. */
    private readonly bootstrap: string[],
    private readonly rng: Prng,
    driftMax: number,
    private readonly host: NodeHost,
  ) {
    this.wasMember = bootstrap.includes(id);
    this.drift = 1 + (rng.float() * 2 - 1) * driftMax;
  }

  /** Starts (or restarts) from the disk alone. */
  boot(): void {
    this.incarnation++;
    this.up = true;
    this.busy = false;
    const snap = this.disk.snapshotMeta();
    this.fsm = KvFsm.restore(this.disk.snapData);
    this.appliedIndex = snap.index;
    this.appliedTerm = snap.term;
    this.seenCommit = snap.index;
    this.writes = new Map();
    this.reads = new Map();
    this.readWaits = [];
    const rng = this.rng;
    this.core = new RaftCore(
      {
        id: this.id,
        voters: this.bootstrap,
        electionTicks: ELECTION_TICKS,
        heartbeatTicks: HEARTBEAT_TICKS,
        // Small bounds, so batching, pipelining and apply batches all get exercised.
        maxApplyBatch: 32,
        maxInflight: 4,
        maxMsgEntries: 8,
        maxMsgBytes: 2048,
        randomInt: (lo, hi) => rng.int(lo, hi),
      },
      this.disk,
    );
    const inc = this.incarnation;
    const tick = (): void => {
      if (this.incarnation !== inc || !this.up) return;
      if (this.paused) this.missedTicks++;
      else {
        this.core!.tick();
        this.touch();
      }
      this.host.q.after(TICK_MS * this.drift, tick);
    };
    this.host.q.after(TICK_MS * this.drift * rng.float(), tick);
  }

  /** Memory is gone, and with it any Ready taken but not yet persisted. */
  crash(why: string): void {
    if (!this.up) return;
    this.host.trace(`${why} ${this.id}${this.busy ? " (losing an unpersisted Ready)" : ""}`);
    this.up = false;
    this.core = undefined;
    this.busy = false;
    this.paused = false;
    this.held = [];
    this.incarnation++;
  }

  get running(): boolean {
    return this.up && !this.paused;
  }

  pause(): void {
    if (!this.running) return;
    this.paused = true;
    this.missedTicks = 0;
    this.host.trace(`pause ${this.id}`);
  }

  /**
   * Back from a pause. A shell ticks from a monotonic clock, so it first runs the ticks it
   * missed (its lease and election timers see the time that passed), then what arrived meanwhile.
   */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const missed = this.host.bugs.noTickCatchUp ? 0 : this.missedTicks;
    this.host.trace(`resume ${this.id} (${this.missedTicks} ticks missed${missed === 0 ? ", not caught up" : ""})`);
    this.missedTicks = 0;
    for (let i = 0; i < missed && this.up; i++) {
      this.core!.tick();
      this.touch();
    }
    // Sockets are read in no fixed order: clients' requests may come before the Raft traffic.
    const held = this.held;
    this.held = [];
    const clientsFirst = this.rng.float() < 0.5;
    for (const h of held) if (h.client === clientsFirst) h.f();
    for (const h of held) if (h.client !== clientsFirst) h.f();
  }

  private whenRunning(f: () => void, client = false): void {
    if (this.paused) this.held.push({ f, client });
    else f();
  }

  get state(): RaftCore["state"] | undefined {
    return this.core?.state;
  }

  step(m: Message): void {
    if (!this.up) return;
    this.whenRunning(() => {
      if (!this.up) return;
      this.core!.step(m);
      this.touch();
    });
  }

  /** After anything happened: check what can be seen from outside, then run the shell. */
  touch(): void {
    if (!this.up) return;
    const core = this.core!;
    const s = core.state;
    const checker = this.host.checker;
    if (s.term > this.host.stats.maxTerm) this.host.stats.maxTerm = s.term;
    if (s.role === "leader") {
      checker.electionSafety(this.id, s.term);
      if (this.ledTerm !== s.term) {
        this.ledTerm = s.term;
        this.host.trace(`${this.id} leads term ${s.term} (last ${s.last}, commit ${s.commit})`);
        checker.leaderCompleteness(this.id, s.term, (i) => core.termAt(i), this.disk.snapshotMeta().index);
      }
    }
    checker.commitSeen(this.id, s.term, this.seenCommit, s.commit, (i) => core.termAt(i));
    this.seenCommit = s.commit;
    // A ReadIndex request dies with the leadership (term) it was made in.
    for (const [ctx, r] of this.reads) {
      if (s.role === "leader" && r.term === s.term) continue;
      this.reads.delete(ctx);
      r.reply({ kind: "redirect", leader: s.leader });
    }
    this.pump();
  }

  private pump(): void {
    if (!this.up || this.busy || !this.core!.hasReady()) return;
    const rd = this.core!.ready();
    this.busy = true;
    const inc = this.incarnation;
    if (rd.softState) this.host.trace(`${this.id} ${rd.softState.role} (leader ${rd.softState.leader || "-"}) term ${this.core!.state.term}`);
    this.host.q.after(rd.mustSync ? this.host.diskDelay() : 0, () => {
      if (this.incarnation === inc) this.whenRunning(() => this.incarnation === inc && this.handleReady(rd));
    });
  }

  /** The shell's contract: persist -> send -> install/apply -> advance. */
  private handleReady(rd: Ready): void {
    this.disk.persist(rd);
    this.host.checker.persisted(this.id, this.hashes, rd.snapshot?.meta, rd.entries);
    for (const m of rd.messages) this.host.send(this, m);
    if (rd.snapshot) {
      const meta = rd.snapshot.meta;
      if (rd.snapshot.data === undefined) throw new Error(`${this.id} got a snapshot without data`);
      this.fsm = KvFsm.restore(rd.snapshot.data);
      this.appliedIndex = meta.index;
      this.appliedTerm = meta.term;
      this.host.checker.snapshotInstalled(this.id, meta.index, this.fsm.digest());
      this.host.trace(`${this.id} installed snapshot ${meta.index}/${meta.term}`);
    }
    for (const e of rd.committed) this.apply(e);
    for (const rs of rd.readStates) {
      const read = this.reads.get(rs.ctx);
      if (!read) continue;
      this.reads.delete(rs.ctx);
      this.readWaits.push({ index: rs.index, read });
    }
    this.serveReads();
    this.core!.advance(rd);
    this.busy = false;
    this.touch();
  }

  private apply(e: Entry): void {
    if (e.index !== this.appliedIndex + 1) throw new SafetyViolation(`apply order: ${this.id} applied ${e.index} after ${this.appliedIndex}`);
    let out: KvOutput | undefined;
    let cmd: KvCommand | undefined;
    if (e.type === EntryType.Command) {
      cmd = decodeCommand(e.data);
      if (cmd.client >= 0) out = this.fsm.apply(e.index, cmd);
    }
    this.appliedIndex = e.index;
    this.appliedTerm = e.term;
    this.host.checker.entryApplied(this.id, e, this.fsm.digest());
    this.host.applied(this, e, cmd);
    const w = this.writes.get(e.index);
    if (w) {
      this.writes.delete(e.index);
      if (cmd && out && cmd.client === w.client && cmd.seq === w.seq) w.reply({ kind: "ok", out, index: e.index });
      else w.reply({ kind: "fail", why: "overwritten" }); // another entry won this index: ours is gone for good
    }
  }

  private serveReads(): void {
    if (this.readWaits.length === 0) return;
    const keep: typeof this.readWaits = [];
    for (const w of this.readWaits) {
      if (w.index > this.appliedIndex) keep.push(w);
      else this.answerRead(w.read.req, w.read.reply);
    }
    this.readWaits = keep;
  }

  private answerRead(req: Request, reply: (r: Reply) => void): void {
    this.host.checker.readServed(this.id, req.call, this.appliedIndex, `get ${req.key}`);
    reply({ kind: "ok", out: this.fsm.get(req.key), index: this.appliedIndex });
  }

  /** A client's request, handled as a server would: redirect unless leader, then read or propose. */
  request(req: Request, reply: (r: Reply) => void): void {
    if (!this.up) return; // lost with the node: the client times out
    if (this.paused) {
      this.whenRunning(() => this.request(req, reply), true);
      return;
    }
    const core = this.core!;
    const s = core.state;
    if (req.input.f === "get") {
      if (this.host.bugs.unsafeReads && s.role === "leader") return this.answerRead(req, reply);
      if (s.role !== "leader") return reply({ kind: "redirect", leader: s.leader });
      const read: PendingRead = { req, term: s.term, reply };
      if (req.lease && core.leaseValid()) {
        // No other leader can exist: serve once applied up to the commit index we have now.
        this.host.stats.leaseReads++;
        this.readWaits.push({ index: s.commit, read });
        this.serveReads();
        return;
      }
      const ctx = `${this.id}/${this.incarnation}/${this.readSeq++}`;
      core.readIndex(ctx);
      this.reads.set(ctx, read);
      this.touch();
      return;
    }
    try {
      const index = core.propose(encodeCommand({ client: req.client, seq: req.seq, key: req.key, input: req.input }));
      this.writes.set(index, { client: req.client, seq: req.seq, reply });
    } catch (err) {
      if (err instanceof NotLeaderError) return reply({ kind: "redirect", leader: err.leader });
      if (err instanceof ProposalDroppedError) return reply({ kind: "fail", why: err.message });
      throw err;
    }
    this.touch();
  }

  /** Writes a snapshot at the applied index and compacts the log behind it, keeping `keep` entries. */
  snapshot(keep: number): void {
    if (!this.up || this.appliedIndex <= this.disk.snapshotMeta().index) return;
    const meta = { index: this.appliedIndex, term: this.appliedTerm, config: this.core!.appliedConfig() };
    this.disk.saveSnapshot(meta, this.fsm.snapshot());
    const upTo = Math.max(0, meta.index - keep);
    this.disk.compact(upTo);
    this.host.checker.compacted(this.hashes, upTo);
    this.host.trace(`${this.id} snapshot at ${meta.index}, log from ${this.disk.firstIndex()}`);
  }

  describe(): string {
    if (!this.up) return `${this.id}:down`;
    const s = this.core!.state;
    return `${this.id}:${s.role}/t${s.term}/c${s.commit}/a${this.appliedIndex}`;
  }
}
