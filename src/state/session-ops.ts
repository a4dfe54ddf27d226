import type { CatalogTable } from "./catalog.ts";
import { StateError } from "./errors.ts";
import type { KvTable, KvWrite } from "./kvs.ts";
import type { LockDelay } from "./lock-delay.ts";
import { type Session, type SessionInput, type SessionTable, sessionCheckIds } from "./sessions.ts";
import type { WriteTx } from "./tx.ts";

// Writes that cross tables: sessions against the catalog (a session needs its node and
// healthy checks), and locks against sessions (a lock needs a live session; a session's end
// releases or deletes what it held). Error texts are Consul's.

export interface SessionTables {
  kv: KvTable;
  catalog: CatalogTable;
  sessions: SessionTable;
  lockDelay: LockDelay;
}

export function createSession(t: SessionTables, tx: WriteTx, input: SessionInput): Session {
  // The leader draws IDs unused; refusing a repeat (rather than crashing) keeps a bad
  // proposal from stopping every replica that applies it.
  if (t.sessions.get(undefined, input.id).session) throw new StateError(`Session ID '${input.id}' already exists`);
  if (!t.catalog.getNode(undefined, input.node)) throw new StateError("Missing node registration");
  for (const checkId of sessionCheckIds(input)) {
    const check = t.catalog.getCheck(input.node, checkId);
    if (!check) throw new StateError(`Missing check '${checkId}' registration`);
    if (check.status === "critical") throw new StateError(`Check '${checkId}' is in critical state`);
  }
  return t.sessions.insert(tx, input);
}

/**
 * Ends a session (destroy, TTL expiry, a failed check, its node gone): `release` unlocks the
 * keys it held keeping their LockIndex, `delete` deletes them; either way each key starts its
 * lock-delay. False when there was no such session.
 */
export function destroySession(t: SessionTables, tx: WriteTx, id: string): boolean {
  const s = t.sessions.remove(tx, id);
  if (!s) return false;
  const delayMs = s.lockDelayNs / 1e6;
  for (const e of t.kv.heldBy(s.id)) {
    if (s.behavior === "delete") t.kv.delete(tx, e.key);
    else t.kv.set(tx, { key: e.key, flags: e.flags, value: e.value, session: "", lockIndex: e.lockIndex }, true);
    t.lockDelay.set(tx, e.key, delayMs);
  }
  return true;
}

/** ?acquire=<session>: true when taken (or already ours), false when someone else holds it. */
export function kvLock(t: SessionTables, tx: WriteTx, w: KvWrite & { session: string }): boolean {
  if (w.session === "") throw new StateError("missing session");
  if (!t.sessions.get(undefined, w.session).session) throw new StateError(`invalid session ${JSON.stringify(w.session)}`);
  return t.kv.lock(tx, w);
}

/** ?release=<session>: true when that session held the key and let it go. */
export function kvUnlock(t: SessionTables, tx: WriteTx, w: KvWrite & { session: string }): boolean {
  if (w.session === "") throw new StateError("missing session");
  return t.kv.unlock(tx, w);
}
