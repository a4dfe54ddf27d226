// Types shared by the Raft core and its shell. The core imports nothing with I/O.

export const enum EntryType {
  /** A state-machine command (see server/commands.ts). */
  Command = 0,
  /** Appended by a new leader so entries of earlier terms can commit (Raft §5.4.2). */
  Noop = 1,
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

export type Role = "follower" | "candidate" | "leader";

/**
 * One hand-off from core to shell. The shell, in this order: persists `entries` and
 * `hardState` (fsync when `mustSync`), sends `messages`, applies `committed`, then calls
 * `advance(ready)`. Nothing in `committed` may be applied before it is durable.
 */
export interface Ready {
  hardState: HardState | undefined;
  entries: Entry[];
  committed: Entry[];
  mustSync: boolean;
}

/** Read-only view of durable storage; writes happen in the shell. */
export interface RaftStorage {
  hardState(): HardState;
  /** Index and term of the newest snapshot (0, 0 when none). */
  snapshotMeta(): { index: number; term: number };
  lastIndex(): number;
  /** Term of the entry at `index`; the snapshot's term at its index; undefined if compacted away. */
  term(index: number): number | undefined;
  /** Entries in [lo, hi], at most `maxCount`. */
  entries(lo: number, hi: number, maxCount: number): Entry[];
}

export interface RaftConfig {
  id: string;
  voters: string[];
  electionTicks: number;
  heartbeatTicks: number;
  /** Most committed entries handed over in one Ready (bounds a replay's memory). */
  maxApplyBatch: number;
  /** Uniform integer in [lo, hi]; injected so a seed replays every election. */
  randomInt: (lo: number, hi: number) => number;
}
