import BTreeModule from "sorted-btree";

// sorted-btree is CommonJS with `exports.default`; the compiled binary sees the module
// object, the TypeScript runner the class. Take whichever is the constructor.
const BTree = ((BTreeModule as unknown as { default?: typeof BTreeModule }).default ?? BTreeModule) as typeof BTreeModule;
type BTree<K, V> = BTreeModule<K, V>;
import type { WriteTx } from "./tx.ts";
import type { WatchSet } from "./watch.ts";

// The KV table and its graveyard, with Consul's semantics:
// - a row keeps CreateIndex; ModifyIndex moves only when the row really changed, so an
//   idempotent write wakes nobody;
// - a delete leaves a tombstone, so a prefix's index never goes backwards after a delete
//   and a blocked list query wakes on it;
// - reads return (index, result) and register watches in the caller's WatchSet.

export const KVS = "kvs";

export interface KvEntry {
  key: string;
  flags: bigint; // uint64: lock flags such as 0x2ddccbc058a50c18 exceed 2^53
  value: Uint8Array | null;
  session: string; // "" when no session holds the key
  lockIndex: number;
  createIndex: number;
  modifyIndex: number;
}

/** What a writer supplies; indexes are the store's to assign. */
export interface KvWrite {
  key: string;
  flags: bigint;
  value: Uint8Array | null;
  session?: string;
  /** Taken from the request as Consul does: a plain set resets it to 0. */
  lockIndex?: number;
}

export interface KvSnapshot {
  index: number;
  rows: KvEntry[];
  tombstones: Array<[string, number]>;
}

export class KvTable {
  private readonly rows = new BTree<string, KvEntry>();
  private readonly graveyard = new BTree<string, number>();
  /** session ID -> the keys it holds, so invalidating a session finds them without a scan. */
  private readonly holders = new Map<string, Set<string>>();
  /** Highest index of any change to the table, deletes included. */
  private tableIndex = 0;

  get index(): number {
    return this.tableIndex;
  }

  get size(): number {
    return this.rows.size;
  }

  get tombstoneCount(): number {
    return this.graveyard.size;
  }

  // ---- reads -------------------------------------------------------------------------

  /** One key. Index: the key's ModifyIndex; if absent, its tombstone's, else the table's. */
  get(ws: WatchSet | undefined, key: string): { index: number; entry: KvEntry | undefined } {
    ws?.key(KVS, key);
    const entry = this.rows.get(key);
    if (entry) return { index: entry.modifyIndex, entry };
    return { index: this.graveyard.get(key) ?? this.tableIndex, entry: undefined };
  }

  /** Every entry whose key starts with `prefix`, in key order. */
  list(ws: WatchSet | undefined, prefix: string): { index: number; entries: KvEntry[] } {
    ws?.prefix(KVS, prefix);
    const entries: KvEntry[] = [];
    let index = 0;
    this.scan(prefix, (e) => {
      entries.push(e);
      if (e.modifyIndex > index) index = e.modifyIndex;
    });
    return { index: this.listIndex(prefix, index), entries };
  }

  /** Key names under `prefix`, cut after the first `separator` past the prefix. */
  listKeys(ws: WatchSet | undefined, prefix: string, separator: string): { index: number; keys: string[] } {
    ws?.prefix(KVS, prefix);
    const keys: string[] = [];
    let index = 0;
    this.scan(prefix, (e) => {
      if (e.modifyIndex > index) index = e.modifyIndex;
      let name = e.key;
      if (separator !== "") {
        const at = e.key.indexOf(separator, prefix.length);
        if (at >= 0) name = e.key.slice(0, at + separator.length);
      }
      // Keys arrive sorted, so a cut name repeats only consecutively.
      if (keys[keys.length - 1] !== name) keys.push(name);
    });
    return { index: this.listIndex(prefix, index), keys };
  }

  private listIndex(prefix: string, rowsIndex: number): number {
    if (prefix === "") return this.tableIndex;
    let index = rowsIndex;
    scanTree(this.graveyard, prefix, (_key, tombIndex) => {
      if (tombIndex > index) index = tombIndex;
    });
    return index !== 0 ? index : this.tableIndex;
  }

  /** The entries `session` holds, in key order. */
  heldBy(session: string): KvEntry[] {
    const keys = [...(this.holders.get(session) ?? [])].sort();
    return keys.map((k) => this.rows.get(k)!);
  }

  private scan(prefix: string, fn: (e: KvEntry) => void): void {
    scanTree(this.rows, prefix, (_key, e) => fn(e));
  }

  // ---- writes (always inside a WriteTx) ----------------------------------------------

  /** Plain set. `updateSession` is for lock/unlock; a plain set leaves the holder as is. */
  set(tx: WriteTx, w: KvWrite, updateSession = false): KvEntry {
    const existing = this.rows.get(w.key);
    const next: KvEntry = {
      key: w.key,
      flags: w.flags,
      value: w.value && w.value.length > 0 ? w.value : null,
      session: updateSession ? (w.session ?? "") : (existing?.session ?? ""),
      lockIndex: w.lockIndex ?? 0,
      createIndex: existing?.createIndex ?? tx.index,
      modifyIndex: tx.index,
    };
    if (existing && sameContent(existing, next)) return existing;
    this.put(tx, next);
    return next;
  }

  /** cas=0: create only if absent; cas=N: only if ModifyIndex == N. */
  setCas(tx: WriteTx, w: KvWrite, casIndex: number): { ok: boolean; entry: KvEntry | undefined } {
    const existing = this.rows.get(w.key);
    if (casIndex === 0 ? existing !== undefined : existing?.modifyIndex !== casIndex) {
      return { ok: false, entry: existing };
    }
    return { ok: true, entry: this.set(tx, w) };
  }

  /**
   * ?acquire with a session the caller has found valid. False when another session holds
   * the key. A new holder bumps LockIndex; the holder itself may rewrite the value.
   */
  lock(tx: WriteTx, w: KvWrite & { session: string }): boolean {
    const existing = this.rows.get(w.key);
    if (existing && existing.session !== "" && existing.session !== w.session) return false;
    const lockIndex = !existing ? 1 : existing.session === w.session ? existing.lockIndex : existing.lockIndex + 1;
    this.set(tx, { ...w, lockIndex }, true);
    return true;
  }

  /** ?release: only the holder's session may; the value is written, LockIndex kept. */
  unlock(tx: WriteTx, w: KvWrite & { session: string }): boolean {
    const existing = this.rows.get(w.key);
    if (!existing || existing.session !== w.session) return false;
    this.set(tx, { ...w, session: "", lockIndex: existing.lockIndex }, true);
    return true;
  }

  /** Deletes one key; a missing key changes nothing and bumps no index. */
  delete(tx: WriteTx, key: string): boolean {
    const existing = this.rows.get(key);
    if (!existing) return false;
    this.remove(tx, existing);
    return true;
  }

  /** Deletes only if ModifyIndex == casIndex. As Consul, a key already gone counts as done. */
  deleteCas(tx: WriteTx, key: string, casIndex: number): boolean {
    const existing = this.rows.get(key);
    if (!existing) return true;
    if (existing.modifyIndex !== casIndex) return false;
    this.remove(tx, existing);
    return true;
  }

  /** Deletes every key with the string prefix (a trailing "/" matters, as in Consul). */
  deleteTree(tx: WriteTx, prefix: string): number {
    const doomed: KvEntry[] = [];
    this.scan(prefix, (e) => doomed.push(e));
    for (const e of doomed) this.remove(tx, e);
    return doomed.length;
  }

  /** Forgets tombstones at or below `index` (they have outlived every blocked reader). */
  reapTombstones(tx: WriteTx, index: number): number {
    const reaped: Array<[string, number]> = [];
    this.graveyard.forEachPair((key, tombIndex) => {
      if (tombIndex <= index) reaped.push([key, tombIndex]);
    });
    for (const [key, tombIndex] of reaped) {
      this.graveyard.delete(key);
      tx.onAbort(() => this.graveyard.set(key, tombIndex));
    }
    return reaped.length;
  }

  private put(tx: WriteTx, next: KvEntry): void {
    const before = this.rows.get(next.key);
    const beforeIndex = this.tableIndex;
    this.rows.set(next.key, next);
    this.tableIndex = tx.index;
    this.moveHolder(next.key, before?.session ?? "", next.session);
    tx.onAbort(() => {
      if (before) this.rows.set(next.key, before);
      else this.rows.delete(next.key);
      this.moveHolder(next.key, next.session, before?.session ?? "");
      this.tableIndex = beforeIndex;
    });
    tx.touch(KVS, next.key);
  }

  private moveHolder(key: string, from: string, to: string): void {
    if (from === to) return;
    if (from !== "") {
      const keys = this.holders.get(from);
      keys?.delete(key);
      if (keys?.size === 0) this.holders.delete(from);
    }
    if (to !== "") {
      let keys = this.holders.get(to);
      if (!keys) this.holders.set(to, (keys = new Set()));
      keys.add(key);
    }
  }

  private remove(tx: WriteTx, existing: KvEntry): void {
    const key = existing.key;
    const tombBefore = this.graveyard.get(key);
    const beforeIndex = this.tableIndex;
    this.rows.delete(key);
    this.graveyard.set(key, tx.index);
    this.tableIndex = tx.index;
    this.moveHolder(key, existing.session, "");
    tx.onAbort(() => {
      this.rows.set(key, existing);
      this.moveHolder(key, "", existing.session);
      if (tombBefore === undefined) this.graveyard.delete(key);
      else this.graveyard.set(key, tombBefore);
      this.tableIndex = beforeIndex;
    });
    tx.touch(KVS, key);
  }

  // ---- snapshot ----------------------------------------------------------------------

  snapshot(): KvSnapshot {
    return { index: this.tableIndex, rows: this.rows.valuesArray(), tombstones: this.graveyard.toArray() };
  }

  static restore(s: KvSnapshot): KvTable {
    const t = new KvTable();
    for (const e of s.rows) {
      t.rows.set(e.key, e);
      t.moveHolder(e.key, "", e.session);
    }
    for (const [key, index] of s.tombstones) t.graveyard.set(key, index);
    t.tableIndex = s.index;
    return t;
  }
}

function sameContent(a: KvEntry, b: KvEntry): boolean {
  return a.flags === b.flags && a.session === b.session && a.lockIndex === b.lockIndex && bytesEqual(a.value, b.value);
}

function bytesEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function scanTree<V>(tree: BTree<string, V>, prefix: string, fn: (key: string, v: V) => void): void {
  for (const [key, v] of tree.entries(prefix)) {
    if (!key.startsWith(prefix)) break;
    fn(key, v);
  }
}
