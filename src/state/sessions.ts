import BTreeModule from "sorted-btree";
import type { WriteTx } from "./tx.ts";
import type { WatchSet } from "./watch.ts";

// sorted-btree is CommonJS with `exports.default` (see kvs.ts).
const BTree = ((BTreeModule as unknown as { default?: typeof BTreeModule }).default ?? BTreeModule) as typeof BTreeModule;
type BTree<K, V> = BTreeModule<K, V>;

// The sessions table: rows by ID (listed in ID order, as Consul's memdb lists them) and the
// links from catalog checks to the sessions that depend on them, so a check going critical
// finds its sessions without a scan. Every read reports the table's index, as Consul does.

export const SESSIONS = "sessions";

export type SessionBehavior = "release" | "delete";

export interface ServiceCheckRef {
  id: string;
  namespace: string;
}

/**
 * A session as Consul's structs.Session holds it. The check lists keep null apart from []:
 * Consul echoes what it was given. LockDelay is nanoseconds, as Consul stores and answers it.
 */
export interface Session {
  id: string;
  name: string;
  node: string;
  lockDelayNs: number;
  behavior: SessionBehavior;
  ttl: string;
  nodeChecks: string[] | null;
  serviceChecks: ServiceCheckRef[] | null;
  /** Deprecated since Consul 1.7, still honoured. */
  checks: string[] | null;
  createIndex: number;
  modifyIndex: number;
}

export type SessionInput = Omit<Session, "createIndex" | "modifyIndex">;

export interface SessionSnapshot {
  index: number;
  rows: Session[];
}

/** Every check a session depends on: legacy Checks, NodeChecks, then ServiceChecks. */
export function sessionCheckIds(s: Pick<Session, "checks" | "nodeChecks" | "serviceChecks">): string[] {
  return [...(s.checks ?? []), ...(s.nodeChecks ?? []), ...(s.serviceChecks ?? []).map((c) => c.id)];
}

const linkKey = (node: string, checkId: string): string => `${node.toLowerCase()}\0${checkId}`;

export class SessionTable {
  private readonly rows = new BTree<string, Session>();
  private readonly links = new Map<string, Set<string>>();
  private tableIndex = 0;

  get index(): number {
    return this.tableIndex;
  }

  get size(): number {
    return this.rows.size;
  }

  // ---- reads -------------------------------------------------------------------------

  get(ws: WatchSet | undefined, id: string): { index: number; session: Session | undefined } {
    ws?.key(SESSIONS, id);
    return { index: this.tableIndex, session: this.rows.get(id) };
  }

  list(ws: WatchSet | undefined): { index: number; sessions: Session[] } {
    ws?.table(SESSIONS);
    return { index: this.tableIndex, sessions: this.rows.valuesArray() };
  }

  /** Sessions of one node; node names are case-insensitive, as in the catalog. */
  nodeSessions(ws: WatchSet | undefined, node: string): { index: number; sessions: Session[] } {
    ws?.table(SESSIONS);
    const lower = node.toLowerCase();
    return { index: this.tableIndex, sessions: this.rows.valuesArray().filter((s) => s.node.toLowerCase() === lower) };
  }

  /** IDs of the sessions that depend on one check of one node. */
  linkedTo(node: string, checkId: string): string[] {
    return [...(this.links.get(linkKey(node, checkId)) ?? [])];
  }

  // ---- writes (always inside a WriteTx; the caller has validated against the catalog) --

  insert(tx: WriteTx, input: SessionInput): Session {
    if (this.rows.has(input.id)) throw new Error(`assertion failed: session ${input.id} created twice`);
    const row: Session = { ...input, createIndex: tx.index, modifyIndex: tx.index };
    const before = this.tableIndex;
    this.rows.set(row.id, row);
    this.link(row, true);
    this.tableIndex = tx.index;
    tx.onAbort(() => {
      this.rows.delete(row.id);
      this.link(row, false);
      this.tableIndex = before;
    });
    tx.touch(SESSIONS, row.id);
    return row;
  }

  remove(tx: WriteTx, id: string): Session | undefined {
    const row = this.rows.get(id);
    if (!row) return undefined;
    const before = this.tableIndex;
    this.rows.delete(id);
    this.link(row, false);
    this.tableIndex = tx.index;
    tx.onAbort(() => {
      this.rows.set(id, row);
      this.link(row, true);
      this.tableIndex = before;
    });
    tx.touch(SESSIONS, id);
    return row;
  }

  private link(s: Session, on: boolean): void {
    for (const checkId of sessionCheckIds(s)) {
      const key = linkKey(s.node, checkId);
      let ids = this.links.get(key);
      if (on) {
        if (!ids) this.links.set(key, (ids = new Set()));
        ids.add(s.id);
      } else if (ids) {
        ids.delete(s.id);
        if (ids.size === 0) this.links.delete(key);
      }
    }
  }

  // ---- snapshot ----------------------------------------------------------------------

  snapshot(): SessionSnapshot {
    return { index: this.tableIndex, rows: this.rows.valuesArray() };
  }

  static restore(s: SessionSnapshot): SessionTable {
    const t = new SessionTable();
    for (const row of s.rows) {
      t.rows.set(row.id, row);
      t.link(row, true);
    }
    t.tableIndex = s.index;
    return t;
  }
}
