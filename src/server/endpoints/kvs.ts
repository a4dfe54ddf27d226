import type { KvEntry } from "../../state/kvs.ts";
import { isReadOnly, type KvTxnOp, runKvTxn, TxnAbort, type TxnOutcome } from "../../state/txn.ts";
import type { KvOp } from "../commands.ts";
import type { QueryMeta, QueryOptions } from "../query.ts";
import type { Server } from "../server.ts";
import { queryMeta, readQuery } from "./read.ts";

// The KVS RPC endpoint (Consul's KVS.Get/List/ListKeys/Apply and Txn): what an HTTP
// handler on this agent, or a client agent over RPC, calls on a server.

export interface KvWriteArgs {
  op: KvOp;
  key: string;
  flags: bigint;
  value: Uint8Array | null;
  session: string;
  casIndex: number;
}

export class KvsEndpoint {
  constructor(private readonly server: Server) {}

  async get(key: string, q: QueryOptions, signal?: AbortSignal): Promise<{ meta: QueryMeta; entries: KvEntry[] }> {
    const r = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const { index, entry } = s.kv.get(ws, key);
        return { index, value: entry ? [entry] : [] };
      },
      signal,
    );
    return { meta: r.meta, entries: r.value };
  }

  async list(prefix: string, q: QueryOptions, signal?: AbortSignal): Promise<{ meta: QueryMeta; entries: KvEntry[] }> {
    const r = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const { index, entries } = s.kv.list(ws, prefix);
        return { index, value: entries };
      },
      signal,
    );
    return { meta: r.meta, entries: r.value };
  }

  async listKeys(prefix: string, separator: string, q: QueryOptions, signal?: AbortSignal): Promise<{ meta: QueryMeta; keys: string[] }> {
    const r = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const { index, keys } = s.kv.listKeys(ws, prefix, separator);
        return { index, value: keys };
      },
      signal,
    );
    return { meta: r.meta, keys: r.value };
  }

  /** Set/CAS/delete/lock/unlock: true or false as Consul answers (plain ops are true). */
  async apply(args: KvWriteArgs): Promise<boolean> {
    if (args.op === "lock" && this.inLockDelay(args.key)) return false;
    const result = await this.server.apply({ type: "kv", ...args });
    return result === true;
  }

  /**
   * Lock-delay is wall-clock time, so it is enforced here on the leader before anything is
   * proposed, never while applying (replicas would disagree about the clock).
   */
  private inLockDelay(key: string): boolean {
    const until = this.server.store.lockDelay.expiration(key);
    if (until === undefined) return false;
    this.server.logger.warn(`kvs: Rejecting lock of key due to lock-delay: key=${key} expire_time=${new Date(until).toISOString()}`);
    return true;
  }

  /** A read-only transaction is answered from the store; any write goes through the log. */
  async txn(ops: KvTxnOp[], q: QueryOptions): Promise<{ meta: QueryMeta | undefined; outcome: TxnOutcome }> {
    if (isReadOnly(ops)) {
      await this.server.readBarrier(q.consistency);
      const store = this.server.store;
      try {
        return { meta: queryMeta(this.server, store.index, q), outcome: { ok: true, results: runKvTxn(store, undefined, ops) } };
      } catch (err) {
        if (err instanceof TxnAbort) return { meta: queryMeta(this.server, store.index, q), outcome: { ok: false, errors: err.errors } };
        throw err;
      }
    }
    const delayed = ops.flatMap((op, i) => (op.verb === "lock" && this.inLockDelay(op.key) ? [{ opIndex: i, what: `failed to lock key "${op.key}" due to lock delay` }] : []));
    if (delayed.length > 0) return { meta: undefined, outcome: { ok: false, errors: delayed } };
    const outcome = (await this.server.apply({ type: "txn", ops })) as TxnOutcome;
    return { meta: undefined, outcome };
  }
}
