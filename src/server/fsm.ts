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

/** Every command but restore, which replaces the store rather than writing to it. */
type StoreCommand = Exclude<Command, { type: "restore" }>;
type Handlers = { [T in StoreCommand["type"]]: (s: StateStore, c: Extract<StoreCommand, { type: T }>, index: number) => ApplyResult };

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

/** What Fsm.snapshot() encodes: the store, and how far its indexes run ahead of the log. */
type FsmSnapshot = StoreSnapshot & { indexOffset?: number };

export class Fsm {
  private current = StateStore.empty();
  /**
   * Store index = Raft index + indexOffset. A restored snapshot may come from a cluster
   * further along than this log; its rows keep their indexes (as Consul's do), and the store
   * continues after them so no index ever goes backwards. Consul's Raft jumps its log index
   * instead; ours stays contiguous and the store carries the difference.
   */
  private indexOffset = 0;
  private restoredAtIndex = 0;

  get store(): StateStore {
    return this.current;
  }

  /** Applies one committed command entry at Raft index `index`. */
  apply(index: number, data: Uint8Array): ApplyResult {
    const cmd = decodeCommand(data);
    const at = index + this.indexOffset;
    if (!cmd) {
      this.current.skip(at);
      return undefined;
    }
    if (cmd.type === "restore") {
      this.install(decodeState(cmd.state), index);
      return true;
    }
    const handler = handlers[cmd.type] as (s: StateStore, c: StoreCommand, i: number) => ApplyResult;
    return handler(this.current, cmd, at);
  }

  /** Entries that carry no command (leader no-ops, configuration) still advance the index. */
  skip(index: number): void {
    this.current.skip(index + this.indexOffset);
  }

  /**
   * The store as of now: captured before this returns (rows are immutable, so the copy is a
   * list of references), encoded afterwards a slice at a time so requests keep flowing.
   */
  snapshot(): Promise<Uint8Array> {
    const snap: FsmSnapshot = this.current.snapshot();
    if (this.indexOffset !== 0) snap.indexOffset = this.indexOffset;
    return packValueYielding(snap);
  }

  /** Replaces the whole store from a Raft snapshot; queries blocked on the old one wake and re-run. */
  restore(data: Uint8Array): void {
    const snap = unpackValue<FsmSnapshot>(data);
    this.indexOffset = snap.indexOffset ?? 0;
    this.swap(StateStore.restore(snap));
  }

  /** Raft index of the last user restore: the log holds the whole state in that one entry. */
  get replacedAt(): number {
    return this.restoredAtIndex;
  }

  private install(next: StateStore, index: number): void {
    const at = Math.max(index + this.indexOffset, next.index + 1);
    this.indexOffset = at - index;
    next.skip(at);
    this.swap(next);
    this.restoredAtIndex = index;
  }

  private swap(next: StateStore): void {
    const old = this.current;
    this.current = next;
    old.abandon();
  }
}

/**
 * Decodes state bytes (a Raft snapshot or an archive's state.bin) into a store, or throws a
 * one-line reason. The leader calls it before proposing a restore, so a bad state.bin never
 * reaches the log, where failing to apply it would stop every server.
 */
export function decodeState(state: Uint8Array): StateStore {
  try {
    const snap = unpackValue<FsmSnapshot>(state);
    if (typeof snap !== "object" || snap === null || typeof (snap as { version?: unknown }).version !== "number") throw new Error("no version");
    return StateStore.restore(snap);
  } catch (err) {
    throw new Error(`state.bin is not in tsc's state encoding (${(err as Error).message})`);
  }
}
