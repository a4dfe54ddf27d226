import { CatalogTable, type CatalogSnapshot } from "./catalog.ts";
import { KvTable, type KvSnapshot } from "./kvs.ts";
import { LockDelay } from "./lock-delay.ts";
import { destroySession } from "./session-ops.ts";
import { SessionTable, type SessionSnapshot } from "./sessions.ts";
import { WriteTx } from "./tx.ts";
import { Notifier, WatchSet } from "./watch.ts";

// The one state store. Every table lives here, every write is stamped with the Raft index
// that made it, and reads hand back (index, result) with their watches registered.
// The FSM is its only writer; HTTP, DNS and RPC read through it.

export interface StoreSnapshot {
  version: 3;
  index: number;
  kvs: KvSnapshot;
  catalog: CatalogSnapshot;
  sessions: SessionSnapshot;
}

/** Version 1 (the foundation's) had only the KV table; version 2 added the catalog. */
type AnySnapshot =
  | StoreSnapshot
  | { version: 1; index: number; kvs: KvSnapshot }
  | { version: 2; index: number; kvs: KvSnapshot; catalog: CatalogSnapshot };

export class StateStore {
  readonly notifier = new Notifier();
  private appliedIndex = 0;

  /** Not replicated: each server's own wall clock, enforced by the leader only (see LockDelay). */
  readonly lockDelay: LockDelay;

  private constructor(
    readonly kv: KvTable,
    readonly catalog: CatalogTable,
    readonly sessions: SessionTable,
    now: () => number,
  ) {
    this.lockDelay = new LockDelay(now);
    catalog.onInvalidate = (tx, node, checkId) => {
      const ids = checkId === undefined ? sessions.nodeSessions(undefined, node).sessions.map((x) => x.id) : sessions.linkedTo(node, checkId);
      for (const id of ids) destroySession(this, tx, id);
    };
  }

  static empty(now: () => number = Date.now): StateStore {
    return new StateStore(new KvTable(), new CatalogTable(), new SessionTable(), now);
  }

  /** Highest Raft index applied to this store. */
  get index(): number {
    return this.appliedIndex;
  }

  watchSet(): WatchSet {
    return new WatchSet(this.notifier);
  }

  /**
   * Runs `fn` as one transaction at `index`. If it throws, every change it made is undone
   * and the error propagates (the FSM turns it into the proposer's result).
   */
  write<T>(index: number, fn: (tx: WriteTx) => T): T {
    if (index <= this.appliedIndex) {
      throw new Error(`assertion failed: write at index ${index} after ${this.appliedIndex}`);
    }
    const tx = new WriteTx(index, this.notifier);
    let result: T;
    try {
      result = fn(tx);
    } catch (err) {
      tx.abort();
      this.appliedIndex = index; // the entry is applied even though it changed nothing
      throw err;
    }
    this.appliedIndex = index;
    tx.commit();
    return result;
  }

  /** Marks an index applied that writes nothing (no-ops, config entries). */
  skip(index: number): void {
    if (index > this.appliedIndex) this.appliedIndex = index;
  }

  snapshot(): StoreSnapshot {
    return { version: 3, index: this.appliedIndex, kvs: this.kv.snapshot(), catalog: this.catalog.snapshot(), sessions: this.sessions.snapshot() };
  }

  static restore(s: AnySnapshot, now: () => number = Date.now): StateStore {
    if (s.version !== 1 && s.version !== 2 && s.version !== 3) throw new Error(`unsupported snapshot version ${String((s as { version: unknown }).version)}`);
    const catalog = s.version >= 2 ? CatalogTable.restore((s as { catalog: CatalogSnapshot }).catalog) : new CatalogTable();
    const sessions = s.version === 3 ? SessionTable.restore(s.sessions) : new SessionTable();
    const store = new StateStore(KvTable.restore(s.kvs), catalog, sessions, now);
    store.appliedIndex = s.index;
    return store;
  }

  /** This store was replaced by a restore: wake every query blocked on it so it re-runs. */
  abandon(): void {
    this.notifier.notifyAbandon();
  }
}
