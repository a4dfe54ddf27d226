import { type Entry, EntryType, type HardState, type RaftConfig, type RaftStorage, type Ready, type Role } from "./types.ts";

// The Raft core: no sockets, no clock, no disk. Time arrives as tick(), durability as
// advance(), and everything the shell must do leaves through ready().
//
// This is the single-voter cluster a lone server runs (Consul's -bootstrap/-bootstrap-expect 1/-dev):
// it campaigns on its first election timeout, wins with its own vote, appends a no-op and
// commits whatever it has persisted. The shape (terms, votes, match indexes, the commit rule
// of §5.4.2) is the general one; message exchange with peers arrives with replication.

export class NotLeaderError extends Error {
  constructor(readonly leader: string) {
    super(leader === "" ? "No cluster leader" : `not the leader; leader is ${leader}`);
  }
}

export class RaftCore {
  private hard: HardState;
  private role: Role = "follower";
  private leaderId = "";
  private commitIndex: number;
  private appliedIndex: number;
  private lastIndex: number;
  private lastTerm: number;
  /** Highest index the shell has made durable. */
  private persistedIndex: number;
  /** Appended but not yet handed to the shell for persisting. */
  private unstable: Entry[] = [];
  /** Durable entries not yet applied, kept so applying needs no read back from disk. */
  private recent: Entry[] = [];
  private readonly match = new Map<string, number>();
  private electionElapsed = 0;
  private electionTimeout: number;
  private hardDirty = false;
  private inFlight: Ready | undefined;

  constructor(
    private readonly cfg: RaftConfig,
    private readonly storage: RaftStorage,
  ) {
    if (cfg.voters.length !== 1 || cfg.voters[0] !== cfg.id) {
      throw new Error("assertion failed: this build's Raft runs a single voter; multi-server replication is not built yet");
    }
    this.hard = { ...storage.hardState() };
    const snap = storage.snapshotMeta();
    this.commitIndex = snap.index;
    this.appliedIndex = snap.index;
    this.lastIndex = storage.lastIndex();
    this.lastTerm = storage.term(this.lastIndex) ?? snap.term;
    this.persistedIndex = this.lastIndex;
    this.electionTimeout = this.randomizedTimeout();
  }

  get state(): { role: Role; leader: string; term: number; commit: number; applied: number; last: number } {
    return {
      role: this.role,
      leader: this.leaderId,
      term: this.hard.term,
      commit: this.commitIndex,
      applied: this.appliedIndex,
      last: this.lastIndex,
    };
  }

  tick(): void {
    if (this.role === "leader") return; // heartbeats exist only once there are peers
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) this.campaign();
  }

  /** Appends a command at the leader; returns its index. The caller waits for it to apply. */
  propose(data: Uint8Array): number {
    if (this.role !== "leader") throw new NotLeaderError(this.leaderId);
    return this.append(EntryType.Command, data);
  }

  hasReady(): boolean {
    return this.inFlight === undefined && (this.hardDirty || this.unstable.length > 0 || this.commitIndex > this.appliedIndex);
  }

  ready(): Ready {
    if (this.inFlight) throw new Error("assertion failed: ready() before advance() of the previous Ready");
    const committed = this.committedToApply();
    const rd: Ready = {
      hardState: this.hardDirty ? { ...this.hard } : undefined,
      entries: this.unstable,
      committed,
      mustSync: this.hardDirty || this.unstable.length > 0,
    };
    this.unstable = [];
    this.hardDirty = false;
    this.inFlight = rd;
    return rd;
  }

  /** The shell has persisted, sent and applied everything in `rd`. */
  advance(rd: Ready): void {
    if (rd !== this.inFlight) throw new Error("assertion failed: advance() of a Ready that was not handed out");
    this.inFlight = undefined;
    const lastCommitted = rd.committed[rd.committed.length - 1];
    if (lastCommitted) {
      this.appliedIndex = lastCommitted.index;
      while (this.recent.length > 0 && this.recent[0]!.index <= this.appliedIndex) this.recent.shift();
    }
    const lastPersisted = rd.entries[rd.entries.length - 1];
    if (lastPersisted) {
      this.persistedIndex = lastPersisted.index;
      this.recent.push(...rd.entries);
      if (this.role === "leader") {
        this.match.set(this.cfg.id, this.persistedIndex);
        this.maybeCommit();
      }
    }
  }

  /** Starts an election now (a lone voter at boot need not wait out a timeout). */
  campaign(): void {
    this.role = "candidate";
    this.hard = { term: this.hard.term + 1, vote: this.cfg.id };
    this.hardDirty = true;
    this.electionElapsed = 0;
    this.electionTimeout = this.randomizedTimeout();
    const votes = new Set([this.cfg.id]);
    if (votes.size >= this.quorum()) this.becomeLeader();
  }

  private becomeLeader(): void {
    this.role = "leader";
    this.leaderId = this.cfg.id;
    this.match.clear();
    this.match.set(this.cfg.id, this.persistedIndex);
    this.append(EntryType.Noop, new Uint8Array(0));
  }

  private append(type: EntryType, data: Uint8Array): number {
    const entry: Entry = { index: this.lastIndex + 1, term: this.hard.term, type, data };
    this.unstable.push(entry);
    this.lastIndex = entry.index;
    this.lastTerm = entry.term;
    return entry.index;
  }

  /** Commit the highest index a quorum has persisted, if it is from the current term. */
  private maybeCommit(): void {
    const matched = [...this.match.values()].sort((a, b) => b - a);
    const candidate = matched[this.quorum() - 1] ?? 0;
    if (candidate > this.commitIndex && this.termAt(candidate) === this.hard.term) this.commitIndex = candidate;
  }

  private committedToApply(): Entry[] {
    const lo = this.appliedIndex + 1;
    const hi = Math.min(this.commitIndex, lo + this.cfg.maxApplyBatch - 1);
    if (hi < lo) return [];
    const first = this.recent[0];
    if (first && first.index <= lo) return this.recent.slice(lo - first.index, hi - first.index + 1);
    // After a restart the tail to replay lives only on disk.
    const fromDisk = this.storage.entries(lo, hi, this.cfg.maxApplyBatch);
    if (fromDisk.length === 0 || fromDisk[0]!.index !== lo) {
      throw new Error(`assertion failed: committed entries ${lo}..${hi} missing from the log`);
    }
    return fromDisk;
  }

  private termAt(index: number): number | undefined {
    if (index === this.lastIndex) return this.lastTerm;
    const inRecent = this.recent.find((e) => e.index === index);
    return inRecent ? inRecent.term : this.storage.term(index);
  }

  private quorum(): number {
    return Math.floor(this.cfg.voters.length / 2) + 1;
  }

  private randomizedTimeout(): number {
    return this.cfg.randomInt(this.cfg.electionTicks, 2 * this.cfg.electionTicks - 1);
  }
}
