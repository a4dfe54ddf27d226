import { StateError } from "../state/errors.ts";
import type { KvEntry } from "../state/kvs.ts";
import { createSession, destroySession, kvLock, kvUnlock } from "../state/session-ops.ts";
import { StateStore, type StoreSnapshot } from "../state/store.ts";
import type { WriteTx } from "../state/tx.ts";
import { runKvTxn, TxnAbort, type TxnOutcome } from "../state/txn.ts";
import { type Command, decodeCommand, packValueYielding, unpackValue } from "./commands.ts";

// The deterministic state machine: applying the same log to the same snapshot always yields
// the same store. Results (including user-level failures such as a stale CAS) are returned
// as values for the proposer; only a corrupt log throws.

export type ApplyResult = boolean | number | string | TxnOutcome | KvEntry | Error | undefined;

type Handlers = { [T in Command["type"]]: (s: StateStore, c: Extract<Command, { type: T }>, index: number) => ApplyResult };

const handlers: Handlers = {
  kv: (s, c, index) =>
    userWrite(s, index, (tx) => {
      const w = { key: c.key, flags: c.flags, value: c.value, session: c.session };
      switch (c.op) {
        case "set":
          s.kv.set(tx, w);
          return true;
        case "cas":
          return s.kv.setCas(tx, w, c.casIndex).ok;
        case "delete":
          s.kv.delete(tx, c.key);
          return true;
        case "delete-tree":
          s.kv.deleteTree(tx, c.key);
          return true;
        case "delete-cas":
          return s.kv.deleteCas(tx, c.key, c.casIndex);
        case "lock":
          return kvLock(s, tx, w);
        case "unlock":
          return kvUnlock(s, tx, w);
      }
    }),
  txn: (s, c, index) => {
    try {
      return { ok: true, results: s.write(index, (tx) => runKvTxn(s, tx, c.ops)) };
    } catch (err) {
      if (err instanceof TxnAbort) return { ok: false, errors: err.errors };
      throw err;
    }
  },
  "tombstone-reap": (s, c, index) => s.write(index, (tx) => s.kv.reapTombstones(tx, c.index)),
  register: (s, { type: _, ...req }, index) =>
    userWrite(s, index, (tx) => {
      s.catalog.register(tx, req);
      return true;
    }),
  deregister: (s, { type: _, ...req }, index) =>
    userWrite(s, index, (tx) => {
      s.catalog.deregister(tx, req);
      return true;
    }),
  "session-create": (s, c, index) => userWrite(s, index, (tx) => createSession(s, tx, c.session).id),
  "session-destroy": (s, c, index) => userWrite(s, index, (tx) => destroySession(s, tx, c.id)),
};

/** A refused write (missing node, unknown session) is the proposer's error; the entry still applies. */
function userWrite(s: StateStore, index: number, fn: (tx: WriteTx) => ApplyResult): ApplyResult {
  try {
    return s.write(index, fn);
  } catch (err) {
    if (err instanceof StateError) return new Error(err.message);
    throw err;
  }
}

export class Fsm {
  private current = StateStore.empty();

  get store(): StateStore {
    return this.current;
  }

  /** Applies one committed command entry at `index`. */
  apply(index: number, data: Uint8Array): ApplyResult {
    const cmd = decodeCommand(data);
    if (!cmd) {
      this.current.skip(index);
      return undefined;
    }
    const handler = handlers[cmd.type] as (s: StateStore, c: Command, i: number) => ApplyResult;
    return handler(this.current, cmd, index);
  }

  /** Entries that carry no command (leader no-ops, configuration) still advance the index. */
  skip(index: number): void {
    this.current.skip(index);
  }

  /**
   * The store as of now: captured before this returns (rows are immutable, so the copy is a
   * list of references), encoded afterwards a slice at a time so requests keep flowing.
   */
  snapshot(): Promise<Uint8Array> {
    return packValueYielding(this.current.snapshot());
  }

  /** Replaces the whole store; queries blocked on the old one wake and re-run. */
  restore(data: Uint8Array): void {
    const next = StateStore.restore(unpackValue<StoreSnapshot>(data));
    const old = this.current;
    this.current = next;
    old.abandon();
  }
}
