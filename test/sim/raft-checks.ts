import type { Entry, SnapshotMeta } from "../../src/raft/core/types.ts";

// Raft's safety properties, checked from outside the nodes as the simulation runs (each
// check is incremental, so all of them can run after every event):
//  - election safety: at most one leader per term, ever;
//  - log matching: two durable logs holding an entry with the same index and term hold the
//    same prefix up to it (a chained hash of the prefix per (index, term));
//  - leader completeness: a leader of term T holds every entry committed in a term below T
//    (not every entry committed so far: a candidate of an old term may win late, from votes
//    it was granted long ago, while a newer leader committed more);
//  - commit stability: an index, once committed anywhere, keeps its term; commit indexes
//    never go backwards within a node's incarnation;
//  - state machine safety: every node applies the same entry at an index and reaches the same state;
//  - read freshness: a read reflects every write acknowledged before the read was called.

export class SafetyViolation extends Error {}

function fail(what: string): never {
  throw new SafetyViolation(what);
}

/** What a node's disk knows about its log's prefixes; it survives crashes with the disk. */
export class DiskHashes {
  readonly prefix = new Map<number, number>([[0, 0]]);
}

const entryHashes = new WeakMap<Entry, number>();

function entryHash(e: Entry): number {
  let h = entryHashes.get(e);
  if (h === undefined) {
    h = 0x811c9dc5 ^ e.type;
    for (let i = 0; i < e.data.length; i++) h = Math.imul(h ^ e.data[i]!, 0x01000193) >>> 0;
    entryHashes.set(e, h);
  }
  return h;
}

function chain(prev: number, term: number, data: number): number {
  let h = Math.imul(prev ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ term, 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ data, 0x27d4eb2f) >>> 0;
  return (h ^ (h >>> 15)) + (prev % 65521) * 4294967296;
}

export class RaftChecker {
  private readonly leaders = new Map<number, string>();
  private readonly prefixOf = new Map<string, number>();
  private readonly committedTerm = new Map<number, number>();
  /** Per term, the highest index a node in that term has seen committed. */
  private readonly committedInTerm = new Map<number, number>();
  maxCommitted = 0;
  private readonly applied = new Map<number, string>();
  private readonly digests = new Map<number, string>();
  /** Acknowledged writes in time order, with the running maximum of their indexes. */
  private readonly ackTimes: number[] = [];
  private readonly ackMax: number[] = [];

  electionSafety(id: string, term: number): void {
    const prev = this.leaders.get(term);
    if (prev === undefined) this.leaders.set(term, id);
    else if (prev !== id) fail(`election safety: ${prev} and ${id} both lead term ${term}`);
  }

  /** A node persisted a Ready: a snapshot replaces its log; entries overwrite from their first index. */
  persisted(node: string, disk: DiskHashes, snapshot: SnapshotMeta | undefined, entries: Entry[]): void {
    if (snapshot) {
      const h = this.prefixOf.get(`${snapshot.index}:${snapshot.term}`);
      if (h === undefined) fail(`log matching: ${node} installed a snapshot at ${snapshot.index}/${snapshot.term}, an entry no log ever held`);
      disk.prefix.clear();
      disk.prefix.set(snapshot.index, h);
    }
    if (entries.length === 0) return;
    const start = entries[0]!.index;
    for (const k of [...disk.prefix.keys()]) if (k >= start) disk.prefix.delete(k);
    let prev = disk.prefix.get(start - 1);
    if (prev === undefined) fail(`log matching: ${node} wrote entry ${start} after a gap`);
    for (const e of entries) {
      const h = chain(prev, e.term, entryHash(e));
      disk.prefix.set(e.index, h);
      const key = `${e.index}:${e.term}`;
      const seen = this.prefixOf.get(key);
      if (seen === undefined) this.prefixOf.set(key, h);
      else if (seen !== h) fail(`log matching: ${node} holds entry ${e.index} of term ${e.term} after a prefix that differs from another log's`);
      prev = h;
    }
  }

  compacted(disk: DiskHashes, below: number): void {
    for (const k of disk.prefix.keys()) if (k < below) disk.prefix.delete(k);
  }

  /** `node`, in term `term`, has commit index `commit`; `termAt` reads its log. */
  commitSeen(node: string, term: number, from: number, commit: number, termAt: (i: number) => number | undefined): void {
    if (commit < from) fail(`commit monotonicity: ${node}'s commit index went back from ${from} to ${commit}`);
    for (let i = from + 1; i <= commit; i++) {
      const t = termAt(i);
      if (t === undefined) continue; // inside a snapshot, which is itself committed state
      const known = this.committedTerm.get(i);
      if (known === undefined) this.committedTerm.set(i, t);
      else if (known !== t) fail(`commit stability: index ${i} committed with term ${known}, but ${node} committed term ${t}`);
    }
    if (commit > this.maxCommitted) this.maxCommitted = commit;
    if (commit > (this.committedInTerm.get(term) ?? 0)) this.committedInTerm.set(term, commit);
  }

  /** `node` just became leader of `term`: its log must hold everything committed in earlier terms. */
  leaderCompleteness(node: string, term: number, termAt: (i: number) => number | undefined, snapshotIndex: number): void {
    let c = 0;
    for (const [t, idx] of this.committedInTerm) if (t < term && idx > c) c = idx;
    if (c === 0) return;
    const t = termAt(c);
    if (t === undefined) {
      if (c > snapshotIndex) fail(`leader completeness: ${node} leads term ${term} without committed entry ${c}`);
      return;
    }
    const want = this.committedTerm.get(c);
    if (want !== undefined && want !== t) fail(`leader completeness: ${node} leads term ${term} with entry ${c} of term ${t}, but term ${want} committed there`);
  }

  entryApplied(node: string, e: Entry, digest: string): void {
    const sig = `${e.term}:${entryHash(e)}`;
    const prev = this.applied.get(e.index);
    if (prev === undefined) this.applied.set(e.index, sig);
    else if (prev !== sig) fail(`state machine safety: ${node} applied a different entry at ${e.index}`);
    this.sameState(node, e.index, digest);
  }

  snapshotInstalled(node: string, index: number, digest: string): void {
    this.sameState(node, index, digest);
  }

  private sameState(node: string, index: number, digest: string): void {
    const prev = this.digests.get(index);
    if (prev === undefined) this.digests.set(index, digest);
    else if (prev !== digest) fail(`state machine safety: ${node}'s state at ${index} differs from another replica's`);
  }

  writeAcked(time: number, index: number): void {
    const last = this.ackMax[this.ackMax.length - 1] ?? 0;
    this.ackTimes.push(time);
    this.ackMax.push(Math.max(last, index));
  }

  /** A read called at `call` was served from state applied up to `readAt`. */
  readServed(node: string, call: number, readAt: number, what: string): void {
    // The newest write acknowledged strictly before the call.
    let lo = 0;
    let hi = this.ackTimes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ackTimes[mid]! < call) lo = mid + 1;
      else hi = mid;
    }
    const need = lo > 0 ? this.ackMax[lo - 1]! : 0;
    if (readAt < need) fail(`stale read: ${node} served ${what} from index ${readAt}, but a write at ${need} was acknowledged before the read began`);
  }
}
