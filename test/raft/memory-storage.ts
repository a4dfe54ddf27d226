import type { Configuration, Entry, HardState, RaftStorage, Ready, SnapshotMeta } from "../../src/raft/core/types.ts";

// Durable storage held in memory: the reference RaftStorage for tests, and each simulated
// node's disk in test/sim (what is in here survives a crash; nothing else does).

export class MemoryStorage implements RaftStorage {
  private hard: HardState = { term: 0, vote: "" };
  private snap: SnapshotMeta = { index: 0, term: 0, config: { voters: [], nonvoters: [] } };
  snapData: Uint8Array | undefined;
  private ents: Entry[] = [];

  hardState(): HardState {
    return { ...this.hard };
  }

  snapshotMeta(): SnapshotMeta {
    return this.snap;
  }

  firstIndex(): number {
    return this.ents.length > 0 ? this.ents[0]!.index : this.snap.index + 1;
  }

  lastIndex(): number {
    return this.ents.length > 0 ? this.ents[this.ents.length - 1]!.index : this.snap.index;
  }

  term(index: number): number | undefined {
    if (index === this.snap.index) return this.snap.term;
    if (index === 0) return 0;
    return this.at(index)?.term;
  }

  entries(lo: number, hi: number, maxCount: number): Entry[] {
    const first = this.firstIndex();
    if (lo < first) return [];
    return this.ents.slice(lo - first, Math.min(hi, lo + maxCount - 1) - first + 1);
  }

  at(index: number): Entry | undefined {
    const first = this.firstIndex();
    return index >= first ? this.ents[index - first] : undefined;
  }

  all(): readonly Entry[] {
    return this.ents;
  }

  // --- writes (the shell's side) ---

  /** Step 1 of a Ready: snapshot, then entries (truncating from the first), then hard state. */
  persist(rd: Ready): void {
    if (rd.snapshot) this.installSnapshot(rd.snapshot.meta, rd.snapshot.data);
    if (rd.entries.length > 0) this.append(rd.entries);
    if (rd.hardState) this.hard = { ...rd.hardState };
  }

  setHardState(h: HardState): void {
    this.hard = { ...h };
  }

  /** A leader's snapshot replaces the whole log. */
  installSnapshot(meta: SnapshotMeta, data: Uint8Array | undefined): void {
    this.snap = { ...meta, config: cloneConfig(meta.config) };
    this.snapData = data;
    this.ents = [];
  }

  /** Our own snapshot at `meta.index` (<= last index): the log stays until compact(). */
  saveSnapshot(meta: SnapshotMeta, data: Uint8Array): void {
    if (meta.index <= this.snap.index) return;
    if (meta.index > this.lastIndex()) throw new Error(`snapshot at ${meta.index} beyond the log's end ${this.lastIndex()}`);
    this.snap = { ...meta, config: cloneConfig(meta.config) };
    this.snapData = data;
  }

  /** Drops entries at or below `index`, which must be covered by the snapshot. */
  compact(index: number): void {
    if (index > this.snap.index) throw new Error(`compacting to ${index} past the snapshot at ${this.snap.index}`);
    const first = this.firstIndex();
    if (index < first) return;
    this.ents = this.ents.slice(index - first + 1);
  }

  append(entries: readonly Entry[]): void {
    const start = entries[0]!.index;
    if (start <= this.snap.index) throw new Error(`append at ${start} inside the snapshot (${this.snap.index})`);
    if (start > this.lastIndex() + 1) throw new Error(`append at ${start} leaves a gap after ${this.lastIndex()}`);
    const first = this.firstIndex();
    if (this.ents.length > 0 && start <= this.lastIndex()) this.ents = this.ents.slice(0, start - first);
    for (let i = 0; i < entries.length; i++) {
      if (entries[i]!.index !== start + i) throw new Error("entries to persist are not contiguous");
      this.ents.push(entries[i]!);
    }
  }
}

function cloneConfig(c: Configuration): Configuration {
  return { voters: [...c.voters], nonvoters: [...c.nonvoters] };
}
