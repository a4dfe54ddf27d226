import { Database, type Statement } from "bun:sqlite";
import type { Configuration, Entry, EntryType, HardState, RaftStorage, SnapshotMeta } from "./core/types.ts";

// The Raft log and stable state in SQLite: WAL with synchronous=FULL, so a committed
// transaction is on disk before append() returns. The shell calls append() once per Ready,
// which batches every proposal of that event-loop turn into one fsync (group commit).
// ":memory:" gives -dev the same code path with nothing on disk.

interface Row {
  idx: number;
  term: number;
  type: number;
  data: Uint8Array;
}

export class LogStore implements RaftStorage {
  private readonly db: Database;
  private readonly insert: Statement;
  private readonly selectRange: Statement<Row, [number, number, number]>;
  private readonly selectTerm: Statement<{ term: number }, [number]>;
  private readonly setStable: Statement;
  private first = 0;
  private last = 0;
  private hard: HardState = { term: 0, vote: "" };
  private snap: SnapshotMeta = { index: 0, term: 0, config: { voters: [], nonvoters: [] } };

  constructor(path: string) {
    this.db = new Database(path, { create: true, strict: true });
    this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec("PRAGMA synchronous = FULL");
    this.db.exec(
      "CREATE TABLE IF NOT EXISTS log (idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, type INTEGER NOT NULL, data BLOB NOT NULL)",
    );
    this.db.exec("CREATE TABLE IF NOT EXISTS stable (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
    this.insert = this.db.prepare("INSERT OR REPLACE INTO log (idx, term, type, data) VALUES (?, ?, ?, ?)");
    this.selectRange = this.db.prepare("SELECT idx, term, type, data FROM log WHERE idx >= ? AND idx <= ? ORDER BY idx LIMIT ?");
    this.selectTerm = this.db.prepare("SELECT term FROM log WHERE idx = ?");
    this.setStable = this.db.prepare("INSERT OR REPLACE INTO stable (k, v) VALUES (?, ?)");
    const bounds = this.db.query<{ lo: number | null; hi: number | null }, []>("SELECT MIN(idx) AS lo, MAX(idx) AS hi FROM log").get();
    this.first = bounds?.lo ?? 0;
    this.last = bounds?.hi ?? 0;
    const stable = this.db.query<{ k: string; v: string }, []>("SELECT k, v FROM stable").all();
    const kv = new Map(stable.map((r) => [r.k, r.v]));
    this.hard = { term: Number(kv.get("term") ?? 0), vote: kv.get("vote") ?? "" };
  }

  /** Tells the store which snapshot the log now continues from. */
  setSnapshot(index: number, term: number, config: Configuration): void {
    this.snap = { index, term, config };
    if (this.last < index) this.last = index;
  }

  hardState(): HardState {
    return this.hard;
  }

  snapshotMeta(): SnapshotMeta {
    return this.snap;
  }

  lastIndex(): number {
    return Math.max(this.last, this.snap.index);
  }

  firstIndex(): number {
    return this.first === 0 ? this.snap.index + 1 : this.first;
  }

  term(index: number): number | undefined {
    if (index === 0) return 0;
    if (index === this.snap.index) return this.snap.term;
    return this.selectTerm.get(index)?.term;
  }

  entries(lo: number, hi: number, maxCount: number): Entry[] {
    return this.selectRange.all(lo, hi, maxCount).map((r) => ({
      index: r.idx,
      term: r.term,
      type: r.type as EntryType,
      data: r.data,
    }));
  }

  /** Appends entries and stable state in one durable transaction. */
  append(entries: readonly Entry[], hard: HardState | undefined): void {
    if (entries.length === 0 && !hard) return;
    this.db.transaction(() => {
      if (entries.length > 0 && entries[0]!.index <= this.last) {
        // A new leader overwrote a conflicting suffix: drop it first.
        this.db.run("DELETE FROM log WHERE idx >= ?", [entries[0]!.index]);
      }
      for (const e of entries) this.insert.run(e.index, e.term, e.type, e.data);
      if (hard) {
        this.setStable.run("term", String(hard.term));
        this.setStable.run("vote", hard.vote);
      }
    })();
    if (entries.length > 0) {
      if (this.first === 0) this.first = entries[0]!.index;
      this.last = entries[entries.length - 1]!.index;
    }
    if (hard) this.hard = { ...hard };
  }

  /** Highest index with an entry on disk (0 when the log is empty). */
  get lastStored(): number {
    return this.first === 0 ? 0 : this.last;
  }

  /** An installed snapshot replaces the whole log: it continues at meta.index + 1. */
  reset(index: number, term: number, config: Configuration): void {
    this.db.run("DELETE FROM log");
    this.first = 0;
    this.last = index;
    this.snap = { index, term, config };
  }

  /** Drops entries at or below `index` (they are inside a durable snapshot). */
  compact(index: number): void {
    if (index < this.first || this.first === 0) return;
    this.db.run("DELETE FROM log WHERE idx <= ?", [index]);
    this.first = index >= this.last ? 0 : index + 1;
  }

  close(): void {
    this.db.close();
  }
}
