// Types shared by the Raft core and its shell. The core imports nothing with I/O.
// Messages are plain objects (numbers, strings, booleans, arrays, Uint8Array) so a transport
// can frame them with msgpack as they are.

export const enum EntryType {
  /** A state-machine command (see server/commands.ts). */
  Command = 0,
  /** Appended by a new leader so entries of earlier terms can commit (Raft §5.4.2). */
  Noop = 1,
  /** A whole new Configuration (encodeConfiguration), in force from the moment it is appended. */
  Config = 2,
}

export interface Entry {
  index: number;
  term: number;
  type: EntryType;
  data: Uint8Array;
}

/** What must survive a crash before the node may vote or acknowledge. */
export interface HardState {
  term: number;
  vote: string; // "" when none
}

/** Cluster membership. Nonvoters are replicated to but neither vote nor count for quorum. */
export interface Configuration {
  voters: string[];
  nonvoters: string[];
}

export type ConfChange = { op: "addNonvoter" | "promote" | "remove"; id: string };

export interface SnapshotMeta {
  index: number;
  term: number;
  /** The configuration in force at `index`. */
  config: Configuration;
}

/** A snapshot to install. The core never looks inside `data`; it only carries it from message to Ready. */
export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array | undefined;
}

export type Role = "follower" | "precandidate" | "candidate" | "leader";

interface Envelope {
  from: string;
  to: string;
  /** The sender's term; for a preVote it is the term the sender would campaign in. */
  term: number;
}

export interface VoteRequest extends Envelope {
  type: "vote" | "preVote";
  lastIndex: number;
  lastTerm: number;
  /** Campaign started by TimeoutNow: voters grant it even while they hear from a leader. */
  transfer: boolean;
}

export interface VoteResponse extends Envelope {
  type: "voteResp" | "preVoteResp";
  reject: boolean;
}

export interface AppendRequest extends Envelope {
  type: "append";
  /** Index and term of the entry just before `entries` (prevLogIndex, prevLogTerm). */
  index: number;
  logTerm: number;
  entries: Entry[];
  commit: number;
}

export interface AppendResponse extends Envelope {
  type: "appendResp";
  /** Accepted: the follower's log matches the leader's up to here. Rejected: the rejected prevLogIndex. */
  index: number;
  reject: boolean;
  /** On reject: the follower's guess at the last index where its log may still match, and its term there. */
  rejectHint: number;
  logTerm: number;
}

export interface Heartbeat extends Envelope {
  type: "heartbeat";
  commit: number;
  /** Newest pending ReadIndex request ("" none): the response confirms leadership for it and all before it. */
  ctx: string;
  /** The leader's tick count when sent; echoed back, it dates the acknowledgement for the lease. */
  sentTick: number;
}

export interface HeartbeatResponse extends Envelope {
  type: "heartbeatResp";
  ctx: string;
  sentTick: number;
}

export interface InstallSnapshot extends Envelope {
  type: "snapshot";
  meta: SnapshotMeta;
  /** The core emits none; the shell attaches its snapshot bytes when sending (it may substitute a newer snapshot, meta and all). */
  data?: Uint8Array;
}

export interface TimeoutNow extends Envelope {
  type: "timeoutNow";
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | InstallSnapshot
  | TimeoutNow;

export type MessageType = Message["type"];

/** A ReadIndex request confirmed: serve it once the state machine has applied `index`. */
export interface ReadState {
  index: number;
  ctx: string;
}

export interface SoftState {
  role: Role;
  leader: string;
}

/**
 * One hand-off from core to shell. The shell handles it in this order, then asks for the next:
 *  1. persist: if `snapshot`, store it and discard the whole log (the log continues at
 *     snapshot.meta.index + 1); then write `entries`: if entries[0].index is at or below the
 *     last index on disk, first delete every entry from entries[0].index on (a new leader
 *     overwrote a conflicting suffix); then write `hardState`. Fsync when `mustSync`.
 *  2. send `messages` (attach snapshot bytes to "snapshot" messages). Votes and append
 *     acknowledgements among them speak for the state persisted in step 1, never before.
 *  3. restore the state machine from `snapshot`, then apply `committed` in order, then serve
 *     `readStates` whose index has been applied.
 *  4. advance(ready).
 */
export interface Ready {
  /** Role or leader changed (undefined when not). */
  softState: SoftState | undefined;
  hardState: HardState | undefined;
  snapshot: Snapshot | undefined;
  entries: Entry[];
  committed: Entry[];
  messages: Message[];
  readStates: ReadState[];
  mustSync: boolean;
}

/**
 * Read-only view of durable storage; writes happen in the shell. The shell may compact the
 * log (below the applied index, behind a durable snapshot) between core calls; the core
 * notices through term()/firstIndex() and sends followers that fall behind a snapshot instead.
 */
export interface RaftStorage {
  hardState(): HardState;
  /** The newest durable snapshot (index 0 when none; its config is then ignored). */
  snapshotMeta(): SnapshotMeta;
  /** First index still in the log (snapshotMeta().index + 1 when the log is empty). */
  firstIndex(): number;
  lastIndex(): number;
  /** Term of the entry at `index`; the snapshot's term at its index; 0 at 0; undefined if compacted away or absent. */
  term(index: number): number | undefined;
  /** Entries in [lo, hi], at most `maxCount`. */
  entries(lo: number, hi: number, maxCount: number): Entry[];
}

export interface RaftConfig {
  id: string;
  /** Bootstrap configuration, used only while storage holds neither a snapshot nor a Config entry. */
  voters: string[];
  nonvoters?: string[];
  /** Minimum election timeout; each wait is drawn from [electionTicks, 2 * electionTicks - 1]. */
  electionTicks: number;
  heartbeatTicks: number;
  /** Most committed entries handed over in one Ready (bounds a replay's memory). */
  maxApplyBatch: number;
  /** Append messages in flight per follower before the leader waits for acknowledgements (default 64). */
  maxInflight?: number;
  /** Most entries, and bytes of entry data, in one append message (at least one entry goes; defaults 256, 1 MiB). */
  maxMsgEntries?: number;
  maxMsgBytes?: number;
  /** The lease is this many ticks shorter than electionTicks, to absorb clock-rate drift (default max(1, electionTicks/5)). */
  leaseMarginTicks?: number;
  /** Bound on ReadIndex requests awaiting confirmation (default 4096). */
  maxPendingReads?: number;
  /** Uniform integer in [lo, hi]; injected so a seed replays every election. */
  randomInt: (lo: number, hi: number) => number;
}

/** A leader's view of one peer, for autopilot (promote a caught-up nonvoter) and operators. */
export interface ProgressView {
  id: string;
  voter: boolean;
  match: number;
  next: number;
  state: "probe" | "replicate" | "snapshot";
  /** Ticks since this peer last answered the leader. */
  lastContactTicks: number;
}
