import { assert } from "./assert.ts";
import { applyConfChange, encodeConfiguration } from "./conf.ts";
import { bcastAppend, sendAppend, sendTimeoutNow } from "./leader.ts";
import { Raft, resolveLimits } from "./machine.ts";
import {
  type ConfChange,
  type Configuration,
  EntryType,
  type HardState,
  type Message,
  type ProgressView,
  type RaftConfig,
  type RaftStorage,
  type Ready,
  type Role,
  type SoftState,
} from "./types.ts";

// The Raft core: no sockets, no clock, no disk. Time arrives as tick(), messages as step(),
// durability as advance(), and everything the shell must do leaves through ready().
//
// The shell's loop (etcd's RawNode contract):
//   on a timer:   core.tick()                on a message:  core.step(msg)
//   then, while core.hasReady():
//     rd = core.ready()
//     1. persist rd.snapshot, rd.entries (truncating from entries[0].index), rd.hardState;
//        fsync if rd.mustSync
//     2. send rd.messages (attach the snapshot's bytes to "snapshot" messages)
//     3. restore rd.snapshot into the state machine; apply rd.committed; serve rd.readStates
//        once applied >= their index
//     4. core.advance(rd)
// Only one Ready is out at a time; tick/step/propose may be called while it is.
//
// The rest of the contract:
//  - Ticks come from a monotonic clock, and the shell catches up ticks it missed (after a
//    pause such as SIGSTOP or a long GC) before handling anything that arrived meanwhile and
//    before trusting leaseValid(): the lease is counted in this node's ticks, and a tick
//    that never happened is time the lease did not lose.
//  - A proposal is decided when its index is applied: it won if the entry there is the one
//    proposed, and is lost for good otherwise (a new leader overwrote it). A ReadIndex
//    request dies with the term it was made in: fail it when rd.softState shows the
//    leadership gone, or state.term moved on.
//  - Compaction: the shell snapshots the state machine at the applied index, with
//    appliedConfig() in the snapshot's meta, makes the snapshot durable, then may drop log
//    entries at or below it. storage.snapshotMeta()/firstIndex()/term() report it (no call
//    into the core is needed); the core sends a snapshot to a follower that needs a dropped entry.
//  - Before constructing the core, the shell restores its newest snapshot into the state
//    machine; the core starts with applied = commit = that snapshot's index.

export class NotLeaderError extends Error {
  constructor(readonly leader: string) {
    super(leader === "" ? "No cluster leader" : `not the leader; leader is ${leader}`);
  }
}

/** The leader will not take this proposal now (transfer under way, a change pending); retry later or elsewhere. */
export class ProposalDroppedError extends Error {}

export class RaftCore {
  private readonly r: Raft;
  private inFlight: Ready | undefined;
  private prevHard: HardState;
  private prevSoft: SoftState = { role: "follower", leader: "" };

  constructor(cfg: RaftConfig, storage: RaftStorage) {
    this.r = new Raft(cfg.id, resolveLimits(cfg), cfg.randomInt, storage, { voters: [...cfg.voters], nonvoters: [...(cfg.nonvoters ?? [])] });
    this.prevHard = { ...storage.hardState() };
  }

  get state(): { role: Role; leader: string; term: number; commit: number; applied: number; last: number; transferee: string } {
    const r = this.r;
    return {
      role: r.role,
      leader: r.leader,
      term: r.term,
      commit: r.log.committed,
      applied: r.log.applied,
      last: r.log.lastIndex(),
      transferee: r.transferee,
    };
  }

  get id(): string {
    return this.r.id;
  }

  tick(): void {
    this.r.tick();
  }

  step(m: Message): void {
    this.r.step(m);
  }

  /** Starts an election now, as an election timeout would (a lone voter at boot need not wait one out). */
  campaign(): void {
    this.r.hup(false);
  }

  /** Appends a command at the leader; returns its index. The caller waits for that index to apply. */
  propose(data: Uint8Array): number {
    this.assertLeaderAccepting();
    const index = this.r.appendEntry(EntryType.Command, data);
    this.r.needBcast = true;
    return index;
  }

  /**
   * Appends a membership change; returns its index. One at a time: refused while an earlier
   * change is uncommitted, and until this leader has committed an entry of its term.
   */
  proposeConfChange(cc: ConfChange): number {
    this.assertLeaderAccepting();
    const r = this.r;
    if (r.pendingConfIndex > r.log.committed) throw new ProposalDroppedError("a configuration change is still uncommitted");
    if (!r.committedInTerm()) throw new ProposalDroppedError("the leader has not yet committed an entry of its term");
    const next = applyConfChange(r.config(), cc);
    if (typeof next === "string") throw new Error(next);
    const index = r.appendEntry(EntryType.Config, encodeConfiguration(next));
    r.pendingConfIndex = index;
    r.needBcast = true;
    return index;
  }

  /**
   * Hands leadership to voter `to`: proposals stop, `to` is brought up to date and told to
   * campaign at once (TimeoutNow). Abandoned after an election timeout.
   */
  transferLeadership(to: string): void {
    const r = this.r;
    if (r.role !== "leader") throw new NotLeaderError(r.leader);
    if (to === r.id || r.transferee === to) return;
    if (!r.config().voters.includes(to)) throw new Error(`${to} is not a voter`);
    r.transferee = to;
    r.electionElapsed = 0; // the transfer's deadline
    const pr = r.prs.get(to);
    assert(pr !== undefined, `no progress for voter ${to}`);
    if (pr.match === r.log.lastIndex()) sendTimeoutNow(r, to);
    else sendAppend(r, to, true);
  }

  /**
   * Linearizable read: a ReadState with `ctx` (unique per request) comes out of a later Ready
   * once leadership is confirmed; serve the read when applied >= its index. A leader that
   * steps down first drops it (the Ready's softState says so).
   */
  readIndex(ctx: string): void {
    const r = this.r;
    if (r.role !== "leader") throw new NotLeaderError(r.leader);
    if (!r.committedInTerm()) {
      if (r.pendingReads.length >= r.limits.maxPendingReads) throw new Error(`too many pending reads (${r.limits.maxPendingReads})`);
      if (!r.pendingReads.includes(ctx)) r.pendingReads.push(ctx);
      return;
    }
    r.serveRead(ctx);
  }

  /**
   * True while no other leader can have been elected: a quorum acknowledged a heartbeat we
   * sent within the last (electionTicks - leaseMarginTicks) ticks, and each of those voters
   * refuses votes for electionTicks of its own ticks after hearing us. Holds as long as no
   * clock runs more than about margin/electionTicks faster than ours (see tick()). A read
   * served while this is true, from state applied up to the commit index at the time of the
   * read, is linearizable.
   */
  leaseValid(): boolean {
    return this.r.leaseValid();
  }

  /** The transport's word on a snapshot it sent (or failed to). */
  reportSnapshot(to: string, ok: boolean): void {
    const pr = this.r.prs.get(to);
    if (this.r.role !== "leader" || !pr || pr.state !== "snapshot") return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the next heartbeat answer before probing.
    pr.probeSent = true;
  }

  /** The configuration in force now (the newest in the log). */
  config(): Configuration {
    return cloneConfig(this.r.config());
  }

  /** The log index of the configuration in force now (0: it predates the log, as a lone server's does). */
  configIndex(): number {
    return this.r.confs.currentIndex();
  }

  /** The configuration in force at the applied index: what a snapshot taken now must carry. */
  appliedConfig(): Configuration {
    return cloneConfig(this.r.confs.at(this.r.log.applied));
  }

  /** Leader only: each peer's replication state (empty otherwise). */
  progress(): ProgressView[] {
    const r = this.r;
    if (r.role !== "leader") return [];
    const voters = new Set(r.config().voters);
    return [...r.prs].map(([id, pr]) => ({
      id,
      voter: voters.has(id),
      match: pr.match,
      next: pr.next,
      state: pr.state,
      lastContactTicks: r.ticks - pr.lastContactTick,
    }));
  }

  /** Term of the entry at `index` in this node's log (unstable included); undefined if absent or compacted. */
  termAt(index: number): number | undefined {
    return this.r.log.term(index);
  }

  /** The commit index is an entry of the current term (a new leader's no-op has committed). */
  committedInTerm(): boolean {
    return this.r.committedInTerm();
  }

  // --- the Ready cycle ---

  hasReady(): boolean {
    if (this.inFlight) return false;
    const r = this.r;
    const log = r.log;
    return (
      r.needBcast ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.term !== this.prevHard.term ||
      r.vote !== this.prevHard.vote ||
      r.role !== this.prevSoft.role ||
      r.leader !== this.prevSoft.leader ||
      log.snapshotToHand() !== undefined ||
      log.hasEntriesToHand() ||
      (log.committed > log.applied && !log.hasPendingSnapshot())
    );
  }

  ready(): Ready {
    assert(this.inFlight === undefined, "ready() before advance() of the previous Ready");
    const r = this.r;
    if (r.needBcast) {
      r.needBcast = false;
      if (r.role === "leader") bcastAppend(r);
    }
    const hard: HardState = { term: r.term, vote: r.vote };
    const hardChanged = hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote;
    const soft: SoftState = { role: r.role, leader: r.leader };
    const softChanged = soft.role !== this.prevSoft.role || soft.leader !== this.prevSoft.leader;
    const rd: Ready = {
      softState: softChanged ? soft : undefined,
      hardState: hardChanged ? hard : undefined,
      snapshot: r.log.snapshotToHand(),
      entries: r.log.entriesToHand(),
      committed: r.log.committedToHand(r.limits.maxApplyBatch),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: false,
    };
    rd.mustSync = hardChanged || rd.entries.length > 0 || rd.snapshot !== undefined;
    r.log.handOut();
    r.msgs = [];
    r.readStates = [];
    this.prevHard = hard;
    this.prevSoft = soft;
    this.inFlight = rd;
    return rd;
  }

  /** The shell has persisted, sent and applied everything in `rd`. */
  advance(rd: Ready): void {
    assert(rd === this.inFlight, "advance() of a Ready that was not handed out");
    this.inFlight = undefined;
    const r = this.r;
    r.log.stableTo(rd.snapshot);
    const lastApplied = rd.committed[rd.committed.length - 1];
    if (lastApplied) r.log.appliedTo(lastApplied.index);
    r.confs.compactTo(r.log.applied);
    // Our own entries count toward the quorum only once durable.
    if (r.role === "leader" && r.maybeCommit() && r.role === "leader") r.needBcast = true;
  }

  private assertLeaderAccepting(): void {
    const r = this.r;
    if (r.role !== "leader") throw new NotLeaderError(r.leader);
    if (r.transferee !== "") throw new ProposalDroppedError(`leadership transfer to ${r.transferee} in progress`);
  }
}

function cloneConfig(c: Configuration): Configuration {
  return { voters: [...c.voters], nonvoters: [...c.nonvoters] };
}
