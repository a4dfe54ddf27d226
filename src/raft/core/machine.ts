import { assert } from "./assert.ts";
import { ConfigHistory, decodeConfiguration } from "./conf.ts";
import { stepCandidate, stepFollower } from "./follower.ts";
import { bcastAppend, stepLeader, tickHeartbeat } from "./leader.ts";
import { RaftLog } from "./log.ts";
import { Progress, quorum, quorumValue } from "./progress.ts";
import { ReadOnly } from "./read-only.ts";
import {
  type Configuration,
  type Entry,
  EntryType,
  type Message,
  type RaftConfig,
  type RaftStorage,
  type ReadState,
  type Role,
  type SnapshotMeta,
  type VoteRequest,
} from "./types.ts";

// The Raft state machine behind RaftCore: terms, roles, elections and the rules every role
// shares. Role-specific handling lives in leader.ts and follower.ts; a role is the step
// function it selects (as in etcd's raft.go). Fields are open to those two files only.

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
export type Outgoing = DistributiveOmit<Message, "from">;

export interface Limits {
  electionTicks: number;
  heartbeatTicks: number;
  maxApplyBatch: number;
  maxInflight: number;
  maxMsgEntries: number;
  maxMsgBytes: number;
  leaseTicks: number;
  maxPendingReads: number;
}

const stepFor: Record<Role, (r: Raft, m: Message) => void> = {
  follower: stepFollower,
  precandidate: stepCandidate,
  candidate: stepCandidate,
  leader: stepLeader,
};

export class Raft {
  readonly log: RaftLog;
  readonly confs: ConfigHistory;
  term: number;
  vote: string;
  role: Role = "follower";
  leader = "";
  /** Ticks since this node's incarnation began; dates heartbeats for the lease. */
  ticks = 0;
  /** Followers and candidates: ticks since we heard from a leader or granted a vote. Leaders: since the last quorum check. */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedTimeout = 0;
  /**
   * For one election timeout after boot we may still be part of a quorum backing some leader's
   * lease that we no longer remember; we refuse to vote meanwhile, as if we heard that leader.
   * A node that never left term 0 has acknowledged nobody.
   */
  bootLease: boolean;
  readonly votes = new Map<string, boolean>();
  readonly prs = new Map<string, Progress>();
  /** Leader: index of the newest configuration entry that may be uncommitted. */
  pendingConfIndex = 0;
  transferee = "";
  /** Leader: TimeoutNow went out this term, so voters may already be electing someone else. */
  leaseForfeited = false;
  /** Leader: set by propose so all proposals between two Readies go out in one append per follower. */
  needBcast = false;
  /** The term in which committedInTerm() last held. */
  private committedTerm = -1;
  readonly readOnly: ReadOnly;
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  pendingReads: string[] = [];
  msgs: Message[] = [];
  readStates: ReadState[] = [];

  constructor(
    readonly id: string,
    readonly limits: Limits,
    private readonly randomInt: (lo: number, hi: number) => number,
    storage: RaftStorage,
    bootstrap: Configuration,
  ) {
    const hs = storage.hardState();
    this.term = hs.term;
    this.vote = hs.vote;
    this.bootLease = hs.term > 0;
    this.log = new RaftLog(storage);
    this.readOnly = new ReadOnly(limits.maxPendingReads);
    const snap = storage.snapshotMeta();
    this.confs = new ConfigHistory(snap.index, snap.index > 0 ? snap.config : bootstrap);
    // Configurations after the snapshot are already in force (they count from being appended).
    const last = this.log.lastIndex();
    for (let lo = snap.index + 1; lo <= last; lo += 256) {
      const batch = storage.entries(lo, Math.min(last, lo + 255), 256);
      assert(batch.length === Math.min(last, lo + 255) - lo + 1, `log has a gap in ${lo}..${Math.min(last, lo + 255)}`);
      for (const e of batch) if (e.type === EntryType.Config) this.confs.add(e.index, decodeConfiguration(e.data));
    }
    this.randomizedTimeout = this.drawTimeout();
  }

  config(): Configuration {
    return this.confs.current();
  }

  promotable(): boolean {
    return this.config().voters.includes(this.id);
  }

  /**
   * The commit index holds an entry of the current term. Once true it stays true for the term
   * (commit only grows, and what follows this term's first entry is this term's), so it is
   * remembered: every lease read asks, and the entry's term may be on disk.
   */
  committedInTerm(): boolean {
    if (this.committedTerm === this.term) return true;
    if (this.log.term(this.log.committed) !== this.term) return false;
    this.committedTerm = this.term;
    return true;
  }

  send(m: Outgoing): void {
    this.msgs.push({ ...m, from: this.id } as Message);
  }

  // --- time ---

  tick(): void {
    this.ticks++;
    if (this.role === "leader") {
      tickHeartbeat(this);
      return;
    }
    this.electionElapsed++;
    if (this.electionElapsed >= this.limits.electionTicks) this.bootLease = false;
    if (this.promotable() && this.electionElapsed >= this.randomizedTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  /** Heard from a live leader (or booted) within the minimum election timeout. */
  inLease(): boolean {
    return (this.leader !== "" || this.bootLease) && this.electionElapsed < this.limits.electionTicks;
  }

  // --- the one way in for messages ---

  step(m: Message): void {
    assert(m.to === this.id, `message for ${m.to} delivered to ${this.id}`);
    if (m.term > this.term) {
      if ((m.type === "vote" || m.type === "preVote") && !m.transfer && this.inLease()) return;
      if (m.type === "preVote" || (m.type === "preVoteResp" && !m.reject)) {
        // Polls move no terms: a node that could not win must not disrupt anyone.
      } else {
        const fromLeader = m.type === "append" || m.type === "heartbeat" || m.type === "snapshot";
        this.becomeFollower(m.term, fromLeader ? m.from : "");
      }
    } else if (m.term < this.term) {
      if (m.type === "append" || m.type === "heartbeat") {
        // A stale leader back from a partition: PreVote kept our term from rising to meet it, so tell it ours.
        this.send({ type: "appendResp", to: m.from, term: this.term, index: 0, reject: true, rejectHint: 0, logTerm: 0 });
      } else if (m.type === "preVote") {
        this.send({ type: "preVoteResp", to: m.from, term: this.term, reject: true });
      }
      return;
    }
    if (m.type === "vote" || m.type === "preVote") {
      this.handleVote(m);
      return;
    }
    stepFor[this.role](this, m);
  }

  private handleVote(m: VoteRequest): void {
    const resp = m.type === "vote" ? "voteResp" : "preVoteResp";
    const canVote = this.vote === m.from || (this.vote === "" && this.leader === "") || (m.type === "preVote" && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      // A granted poll answers in the poll's term, so the pre-candidate counts it.
      this.send({ type: resp, to: m.from, term: m.term, reject: false });
      if (m.type === "vote") {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: resp, to: m.from, term: this.term, reject: true });
    }
  }

  // --- elections ---

  hup(transfer: boolean): void {
    // A snapshot not yet durable is no base to lead from: its entries are gone and storage does not have it yet.
    if (this.role === "leader" || !this.promotable() || this.log.hasPendingSnapshot()) return;
    this.campaign(transfer ? "vote" : "preVote", transfer);
  }

  campaign(kind: "vote" | "preVote", transfer: boolean): void {
    let voteTerm: number;
    if (kind === "preVote") {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    if (this.poll(this.id, true) === "won") {
      if (kind === "preVote") this.campaign("vote", false);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const v of this.config().voters) {
      if (v !== this.id) this.send({ type: kind, to: v, term: voteTerm, lastIndex, lastTerm, transfer });
    }
  }

  poll(id: string, granted: boolean): "won" | "lost" | "pending" {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    const voters = this.config().voters;
    let yes = 0;
    let no = 0;
    for (const v of voters) {
      const g = this.votes.get(v);
      if (g === true) yes++;
      else if (g === false) no++;
    }
    const q = quorum(voters.length);
    if (yes >= q) return "won";
    return no > voters.length - q ? "lost" : "pending";
  }

  // --- roles ---

  becomeFollower(term: number, leader: string): void {
    this.reset(term);
    this.role = "follower";
    this.leader = leader;
  }

  private becomePreCandidate(): void {
    assert(this.role !== "leader", "leader cannot become pre-candidate");
    // Term and vote stay: a poll changes nothing that must be persisted.
    this.role = "precandidate";
    this.leader = "";
    this.votes.clear();
  }

  private becomeCandidate(): void {
    assert(this.role !== "leader", "leader cannot become candidate");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = "candidate";
  }

  becomeLeader(): void {
    assert(this.role === "candidate", `${this.role} cannot become leader`);
    this.reset(this.term);
    this.role = "leader";
    this.leader = this.id;
    this.leaseForfeited = false;
    this.syncProgress();
    // Anything up to here may carry an uncommitted configuration: no change until our no-op commits.
    this.pendingConfIndex = this.log.lastIndex();
    this.appendEntry(EntryType.Noop, new Uint8Array(0));
    bcastAppend(this);
  }

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = "";
    }
    this.leader = "";
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedTimeout = this.drawTimeout();
    this.transferee = "";
    this.needBcast = false;
    this.votes.clear();
    this.prs.clear();
    this.readOnly.reset();
    this.pendingReads = [];
  }

  // --- the log and configuration ---

  /** Leader: appends one entry of its term; returns its index. */
  appendEntry(type: EntryType, data: Uint8Array): number {
    assert(this.role === "leader", "only a leader appends its own entries");
    const e: Entry = { index: this.log.lastIndex() + 1, term: this.term, type, data };
    this.log.append([e]);
    if (type === EntryType.Config) {
      this.confs.add(e.index, decodeConfiguration(data));
      this.onConfigChange();
    }
    return e.index;
  }

  /** Follower: entries written from the first conflict on; their configurations take over at once. */
  noteAppended(appended: Entry[]): void {
    if (appended.length === 0) return;
    this.confs.truncateFrom(appended[0]!.index);
    for (const e of appended) if (e.type === EntryType.Config) this.confs.add(e.index, decodeConfiguration(e.data));
  }

  /** Follower: a leader's snapshot replaces our log; false if we already have what it covers. */
  restore(meta: SnapshotMeta, data: Uint8Array | undefined): boolean {
    if (meta.index <= this.log.committed) return false;
    if (this.log.term(meta.index) === meta.term) {
      this.log.commitTo(meta.index);
      return false;
    }
    this.log.restore({ meta, data });
    this.confs.reset(meta.index, meta.config);
    return true;
  }

  private onConfigChange(): void {
    this.syncProgress();
    if (this.transferee !== "" && !this.config().voters.includes(this.transferee)) this.transferee = "";
    // A smaller quorum may already hold entries the old one did not.
    if (this.maybeCommit() && this.role === "leader") this.needBcast = true;
  }

  private syncProgress(): void {
    const c = this.config();
    const members = new Set([...c.voters, ...c.nonvoters]);
    members.delete(this.id);
    for (const id of this.prs.keys()) if (!members.has(id)) this.prs.delete(id);
    for (const id of members) {
      if (!this.prs.has(id)) this.prs.set(id, new Progress(this.log.lastIndex() + 1, this.limits.maxInflight, this.ticks));
    }
  }

  /** Leader: commits what a quorum of voters holds, if it is of our term (§5.4.2). */
  maybeCommit(): boolean {
    const voters = this.config().voters;
    if (voters.length === 0) return false;
    const idx = quorumValue(voters.map((v) => (v === this.id ? this.log.stableIndex() : (this.prs.get(v)?.match ?? 0))));
    if (idx <= this.log.committed || this.log.term(idx) !== this.term) return false;
    this.log.commitTo(idx);
    this.onLeaderCommit();
    return true;
  }

  private onLeaderCommit(): void {
    if (this.pendingReads.length > 0) {
      const reads = this.pendingReads;
      this.pendingReads = [];
      for (const ctx of reads) this.serveRead(ctx);
    }
    if (!this.promotable() && this.confs.currentIndex() <= this.log.committed) this.stepDownRemoved();
  }

  /** Our own removal committed: tell followers, hand over to the most caught-up voter, and step down. */
  private stepDownRemoved(): void {
    bcastAppend(this);
    let best: string | undefined;
    for (const v of this.config().voters) {
      const pr = this.prs.get(v);
      if (pr && pr.match === this.log.lastIndex() && best === undefined) best = v;
    }
    if (best !== undefined) this.send({ type: "timeoutNow", to: best, term: this.term });
    this.becomeFollower(this.term, "");
  }

  // --- reads ---

  serveRead(ctx: string): void {
    if (!this.readOnly.add(ctx, this.log.committed)) return;
    const acks = this.promotable() ? this.readOnly.recvAck(this.id, ctx) : undefined;
    if (acks && this.readQuorum(acks)) {
      this.releaseReads(ctx);
      return;
    }
    for (const id of this.prs.keys()) this.sendHeartbeat(id, ctx);
  }

  readQuorum(acks: ReadonlySet<string>): boolean {
    const voters = this.config().voters;
    return voters.filter((v) => acks.has(v)).length >= quorum(voters.length);
  }

  /** Confirmed: `ctx` and every read queued before it may be served at their recorded index. */
  releaseReads(ctx: string): void {
    for (const rs of this.readOnly.release(ctx)) this.readStates.push(rs);
  }

  sendHeartbeat(to: string, ctx: string): void {
    const pr = this.prs.get(to);
    if (!pr) return;
    this.send({ type: "heartbeat", to, term: this.term, commit: Math.min(pr.match, this.log.committed), ctx, sentTick: this.ticks });
  }

  leaseValid(): boolean {
    if (this.role !== "leader" || this.transferee !== "" || this.leaseForfeited || !this.committedInTerm()) return false;
    const voters = this.config().voters;
    if (voters.length === 0) return false;
    const acked = quorumValue(voters.map((v) => (v === this.id ? this.ticks : (this.prs.get(v)?.ackedTick ?? Number.NEGATIVE_INFINITY))));
    return this.ticks - acked < this.limits.leaseTicks;
  }

  private drawTimeout(): number {
    const e = this.limits.electionTicks;
    const t = this.randomInt(e, 2 * e - 1);
    assert(t >= e && t <= 2 * e - 1, `randomInt(${e}, ${2 * e - 1}) returned ${t}`);
    return t;
  }
}

export function resolveLimits(cfg: RaftConfig): Limits {
  assert(cfg.electionTicks > cfg.heartbeatTicks && cfg.heartbeatTicks >= 1, "electionTicks must exceed heartbeatTicks >= 1");
  const margin = cfg.leaseMarginTicks ?? Math.max(1, Math.floor(cfg.electionTicks / 5));
  assert(margin >= 1 && margin < cfg.electionTicks, "leaseMarginTicks must be in [1, electionTicks)");
  return {
    electionTicks: cfg.electionTicks,
    heartbeatTicks: cfg.heartbeatTicks,
    maxApplyBatch: cfg.maxApplyBatch,
    maxInflight: cfg.maxInflight ?? 64,
    maxMsgEntries: cfg.maxMsgEntries ?? 256,
    maxMsgBytes: cfg.maxMsgBytes ?? 1024 * 1024,
    leaseTicks: cfg.electionTicks - margin,
    maxPendingReads: cfg.maxPendingReads ?? 4096,
  };
}
