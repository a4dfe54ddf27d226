import { StateError } from "./errors.ts";
import type { KvEntry } from "./kvs.ts";
import { kvLock, kvUnlock, type SessionTables } from "./session-ops.ts";
import type { WriteTx } from "./tx.ts";

// /v1/txn KV verbs, run op by op inside one WriteTx. The first failing op aborts the whole
// transaction (the caller rolls back and answers 409); error texts are Consul's.

/** Verbs Consul knows; anything else is treated as a read and fails with "unknown KV verb". */
export const kvVerbs = [
  "set",
  "cas",
  "lock",
  "unlock",
  "get",
  "get-or-empty",
  "get-tree",
  "check-index",
  "check-session",
  "check-not-exists",
  "delete",
  "delete-tree",
  "delete-cas",
] as const;
export type KvVerb = (typeof kvVerbs)[number];

const writeVerbs: ReadonlySet<string> = new Set(["set", "cas", "lock", "unlock", "delete", "delete-tree", "delete-cas"]);

export interface KvTxnOp {
  verb: KvVerb | string;
  key: string;
  value: Uint8Array | null;
  flags: bigint;
  index: number;
  session: string;
}

export interface TxnError {
  opIndex: number;
  what: string;
}

export type TxnOutcome = { ok: true; results: KvEntry[] } | { ok: false; errors: TxnError[] };

export function isReadOnly(ops: readonly KvTxnOp[]): boolean {
  return !ops.some((op) => writeVerbs.has(op.verb));
}

/** Thrown inside a store write so the store undoes the transaction; carries the outcome. */
export class TxnAbort extends Error {
  constructor(readonly errors: TxnError[]) {
    super(errors.map((e) => e.what).join("; "));
  }
}

/**
 * Runs every op, as Consul does, collecting every failure; returns the results or throws
 * TxnAbort with all errors (the store then rolls the whole transaction back).
 */
export function runKvTxn(t: SessionTables, tx: WriteTx | undefined, ops: readonly KvTxnOp[]): KvEntry[] {
  const results: KvEntry[] = [];
  const errors: TxnError[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    try {
      if (op.key === "" && op.verb !== "delete-tree") throw new OpError("Must provide key");
      results.push(...runOp(t, tx, op));
    } catch (err) {
      if (!(err instanceof OpError || err instanceof StateError)) throw err;
      errors.push({ opIndex: i, what: err.message });
    }
  }
  if (errors.length > 0) throw new TxnAbort(errors);
  return results;
}

class OpError extends Error {}

function runOp(t: SessionTables, tx: WriteTx | undefined, op: KvTxnOp): KvEntry[] {
  const kv = t.kv;
  const key = op.key;
  const write = (): WriteTx => {
    if (!tx) throw new Error(`assertion failed: write verb ${op.verb} in a read-only transaction`);
    return tx;
  };
  const current = (): KvEntry | undefined => kv.get(undefined, key).entry;
  switch (op.verb) {
    case "set":
      return [blank(kv.set(write(), op))];
    case "cas": {
      const r = kv.setCas(write(), op, op.index);
      if (!r.ok) throw new OpError(`failed to set key "${key}", index is stale`);
      return [blank(r.entry!)];
    }
    case "lock":
      if (!kvLock(t, write(), op)) throw new OpError(`failed to lock key "${key}", lock is already held`);
      return [blank(current()!)];
    case "unlock":
      if (!kvUnlock(t, write(), op)) throw new OpError(`failed to unlock key "${key}", lock isn't held, or is held by another session`);
      return [blank(current()!)];
    case "get": {
      const e = current();
      if (!e) throw new OpError(`key "${key}" doesn't exist`);
      return [e];
    }
    case "get-or-empty": {
      // A missing key echoes the request with no value, as Consul does.
      const e = current();
      return [e ?? { key, flags: op.flags, value: null, session: "", lockIndex: 0, createIndex: 0, modifyIndex: op.index }];
    }
    case "get-tree":
      return kv.list(undefined, key).entries;
    case "check-index": {
      const e = current();
      if (!e) throw new OpError(`failed to check index, key "${key}" doesn't exist`);
      if (e.modifyIndex !== op.index) {
        throw new OpError(`failed index check for key "${key}", current modify index ${e.modifyIndex} != ${op.index}`);
      }
      return [blank(e)];
    }
    case "check-session": {
      const e = current();
      if (!e) throw new OpError(`failed to check session, key "${key}" doesn't exist`);
      if (e.session !== op.session) {
        throw new OpError(`failed session check for key "${key}", current session "${e.session}" != "${op.session}"`);
      }
      return [blank(e)];
    }
    case "check-not-exists":
      if (current()) throw new OpError(`key "${key}" exists`);
      return [];
    case "delete":
      kv.delete(write(), key);
      return [];
    case "delete-tree":
      kv.deleteTree(write(), key);
      return [];
    case "delete-cas":
      if (!kv.deleteCas(write(), key, op.index)) throw new OpError(`failed to delete key "${key}", index is stale`);
      return [];
    default:
      throw new OpError(`unknown KV verb "${op.verb}"`);
  }
}

/** Write verbs answer the entry without its value, as Consul does. */
function blank(e: KvEntry): KvEntry {
  return { ...e, value: null };
}
