import { assert } from "./assert.ts";
import type { Entry, RaftStorage, Snapshot, SnapshotMeta } from "./types.ts";

// The core's view of the log: durable storage below `offset`, entries not yet durable
// ("unstable") from `offset` on, and possibly a received snapshot not yet durable.
//
// Entries stay unstable until the Ready that carried them is advanced. While a Ready is with
// the shell, a new leader may overwrite part of what it carries; `handedOut` then drops back
// so the next Ready carries the new entries from the overwrite point (and the shell
// truncates there). Storage at or above `offset` may hold such stale entries, so it is never
// read there.

export class RaftLog {
  committed: number;
  applied: number;
  private offset: number;
  private unstable: Entry[] = [];
  /** Entries up to here are in the Ready now with the shell. */
  private handedOut: number;
  /** Received from a leader, not yet durable; everything at or below its index is gone. */
  private pendingSnapshot: Snapshot | undefined;
  private snapshotHandedOut = false;
  /** Durable entries above `applied`, so applying and replicating rarely read back from disk. */
  private cache: Entry[] = [];

  constructor(private readonly storage: RaftStorage) {
    const snap = storage.snapshotMeta();
    this.committed = snap.index;
    this.applied = snap.index;
    this.offset = storage.lastIndex() + 1;
    this.handedOut = this.offset - 1;
    assert(this.offset > snap.index, `log ends at ${this.offset - 1} before the snapshot at ${snap.index}`);
  }

  lastIndex(): number {
    return this.offset + this.unstable.length - 1;
  }

  firstIndex(): number {
    return this.pendingSnapshot ? this.pendingSnapshot.meta.index + 1 : this.storage.firstIndex();
  }

  /** Highest index that is durable and current (what a leader counts as its own match). */
  stableIndex(): number {
    return this.offset - 1;
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== undefined, `no term for the last index ${this.lastIndex()}`);
    return t;
  }

  term(index: number): number | undefined {
    if (index >= this.offset) return this.unstable[index - this.offset]?.term;
    if (this.pendingSnapshot) {
      const m = this.pendingSnapshot.meta;
      return index === m.index ? m.term : undefined;
    }
    const cached = this.cached(index);
    if (cached) return cached.term;
    return this.storage.term(index);
  }

  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The largest index <= `index` whose term is <= `term` (or whose term is unknown), with its
   * term: where a leader at `term` and this log could last agree. Used on both ends of a
   * rejected append to skip a whole term of mismatches per round trip. Never walks below `floor`.
   */
  findConflictByTerm(index: number, term: number, floor = 0): { index: number; term: number } {
    for (let i = index; i > floor; i--) {
      const t = this.term(i);
      if (t === undefined || t <= term) return { index: i, term: t ?? 0 };
    }
    return { index: floor, term: this.term(floor) ?? 0 };
  }

  /**
   * Follower side of AppendEntries. Returns undefined when the log does not hold
   * (prevIndex, prevTerm); else the last index known to match the leader, and the entries
   * actually written (from the first conflict on, possibly overwriting a suffix).
   */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, entries: Entry[]): { lastNew: number; appended: Entry[] } | undefined {
    if (this.term(prevIndex) !== prevTerm) return undefined;
    const lastNew = prevIndex + entries.length;
    let appended: Entry[] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      assert(e.index === prevIndex + 1 + i, "append message entries are not contiguous");
      if (this.term(e.index) !== e.term) {
        appended = entries.slice(i);
        this.append(appended);
        break;
      }
    }
    this.commitTo(Math.min(commit, lastNew));
    return { lastNew, appended };
  }

  /** Writes entries from entries[0].index on, dropping whatever followed there. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    assert(first > this.committed, `overwriting committed entry ${first} (committed ${this.committed})`);
    assert(first <= this.lastIndex() + 1, `append at ${first} leaves a gap after ${this.lastIndex()}`);
    if (first === this.lastIndex() + 1) {
      this.unstable.push(...entries);
    } else if (first <= this.offset) {
      this.cache = this.cache.filter((e) => e.index < first);
      this.offset = first;
      this.unstable = [...entries];
    } else {
      this.unstable = this.unstable.slice(0, first - this.offset).concat(entries);
    }
    this.handedOut = Math.min(this.handedOut, first - 1);
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), `commit ${index} beyond the last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Entries in [lo, hi] within the byte budget (at least one); undefined if lo was compacted away. */
  slice(lo: number, hi: number, maxCount: number, maxBytes: number): Entry[] | undefined {
    if (lo > hi) return [];
    if (lo < this.firstIndex()) return undefined;
    assert(hi <= this.lastIndex(), `slice to ${hi} beyond the last index ${this.lastIndex()}`);
    hi = Math.min(hi, lo + maxCount - 1);
    const out: Entry[] = [];
    const stableHi = Math.min(hi, this.offset - 1);
    if (lo <= stableHi) {
      const first = this.cache[0];
      if (first && first.index <= lo) {
        out.push(...this.cache.slice(lo - first.index, stableHi - first.index + 1));
      } else {
        const got = this.storage.entries(lo, stableHi, stableHi - lo + 1);
        // The shell compacted between our firstIndex() check and now: treat as compacted.
        if (got.length === 0 || got[0]!.index !== lo) return undefined;
        assert(got.every((e, i) => e.index === lo + i), `storage returned a gap in ${lo}..${stableHi}`);
        out.push(...got);
      }
    }
    if (hi >= this.offset) out.push(...this.unstable.slice(Math.max(0, lo - this.offset), hi - this.offset + 1));
    return limitBytes(out, maxBytes);
  }

  /** Replaces the whole log with a leader's snapshot (not yet durable). */
  restore(snap: Snapshot): void {
    assert(snap.meta.index > this.committed, "restoring a snapshot at or below the commit index");
    this.pendingSnapshot = snap;
    this.snapshotHandedOut = false;
    this.unstable = [];
    this.cache = [];
    this.offset = snap.meta.index + 1;
    this.handedOut = snap.meta.index;
    this.committed = snap.meta.index;
  }

  /** The newest durable snapshot, which a leader sends to followers behind its log. */
  storageSnapshot(): SnapshotMeta {
    return this.storage.snapshotMeta();
  }

  hasPendingSnapshot(): boolean {
    return this.pendingSnapshot !== undefined;
  }

  // --- the Ready cycle ---

  snapshotToHand(): Snapshot | undefined {
    return this.pendingSnapshot && !this.snapshotHandedOut ? this.pendingSnapshot : undefined;
  }

  hasEntriesToHand(): boolean {
    return this.lastIndex() > this.handedOut;
  }

  entriesToHand(): Entry[] {
    return this.unstable.slice(Math.max(0, this.handedOut + 1 - this.offset));
  }

  /** Committed entries not yet applied, up to `max`; none while a snapshot is pending (its entries are gone). */
  committedToHand(max: number): Entry[] {
    if (this.pendingSnapshot) return [];
    const lo = this.applied + 1;
    const hi = Math.min(this.committed, lo + max - 1);
    if (hi < lo) return [];
    const got = this.slice(lo, hi, max, Number.POSITIVE_INFINITY);
    assert(got !== undefined && got.length === hi - lo + 1, `committed entries ${lo}..${hi} missing from the log`);
    return got;
  }

  handOut(): void {
    this.handedOut = this.lastIndex();
    if (this.pendingSnapshot) this.snapshotHandedOut = true;
  }

  /** The shell made durable what it was handed (the snapshot, and entries up to handedOut). */
  stableTo(snapshot: Snapshot | undefined): void {
    if (snapshot && snapshot === this.pendingSnapshot) {
      this.pendingSnapshot = undefined;
      this.applied = snapshot.meta.index;
    }
    if (this.handedOut >= this.offset) {
      const moved = this.unstable.splice(0, this.handedOut - this.offset + 1);
      this.cache.push(...moved);
      this.offset = this.handedOut + 1;
    }
  }

  appliedTo(index: number): void {
    assert(index <= this.committed && index >= this.applied, `applied ${index} outside ${this.applied}..${this.committed}`);
    this.applied = index;
    let drop = 0;
    while (drop < this.cache.length && this.cache[drop]!.index <= index) drop++;
    if (drop > 0) this.cache = this.cache.slice(drop);
  }

  private cached(index: number): Entry | undefined {
    const first = this.cache[0];
    return first && index >= first.index ? this.cache[index - first.index] : undefined;
  }
}

function limitBytes(entries: Entry[], maxBytes: number): Entry[] {
  let size = 0;
  for (let i = 0; i < entries.length; i++) {
    size += entries[i]!.data.byteLength;
    if (size > maxBytes && i > 0) return entries.slice(0, i);
  }
  return entries;
}
