import type { KvEntry } from "../../state/kvs.ts";
import { isReadOnly, type KvTxnOp, runKvTxn, TxnAbort, type TxnOutcome } from "../../state/txn.ts";
import type { KvOp } from "../commands.ts";
import { blockingQuery, type QueryMeta, type QueryOptions } from "../query.ts";
import type { Server } from "../server.ts";

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
    this.checkConsistency(q);
    const r = await blockingQuery(
      () => this.server.store,
      q,
      (s, ws) => {
        const { index, entry } = s.kv.get(ws, key);
        return { index, value: entry ? [entry] : [] };
      },
      signal,
    );
    return { meta: this.meta(r.index, q), entries: r.value };
  }

  async list(prefix: string, q: QueryOptions, signal?: AbortSignal): Promise<{ meta: QueryMeta; entries: KvEntry[] }> {
    this.checkConsistency(q);
    const r = await blockingQuery(
      () => this.server.store,
      q,
      (s, ws) => {
        const { index, entries } = s.kv.list(ws, prefix);
        return { index, value: entries };
      },
      signal,
    );
    return { meta: this.meta(r.index, q), entries: r.value };
  }

  async listKeys(prefix: string, separator: string, q: QueryOptions, signal?: AbortSignal): Promise<{ meta: QueryMeta; keys: string[] }> {
    this.checkConsistency(q);
    const r = await blockingQuery(
      () => this.server.store,
      q,
      (s, ws) => {
        const { index, keys } = s.kv.listKeys(ws, prefix, separator);
        return { index, value: keys };
      },
      signal,
    );
    return { meta: this.meta(r.index, q), keys: r.value };
  }

  /** Set/CAS/delete: true or false as Consul answers (CAS outcome; plain ops are true). */
  async apply(args: KvWriteArgs): Promise<boolean> {
    const result = await this.server.apply({ type: "kv", ...args });
    return result === true;
  }

  /** A read-only transaction is answered from the store; any write goes through the log. */
  async txn(ops: KvTxnOp[], q: QueryOptions): Promise<{ meta: QueryMeta | undefined; outcome: TxnOutcome }> {
    if (isReadOnly(ops)) {
      this.checkConsistency(q);
      const store = this.server.store;
      try {
        return { meta: this.meta(store.index, q), outcome: { ok: true, results: runKvTxn(store.kv, undefined, ops) } };
      } catch (err) {
        if (err instanceof TxnAbort) return { meta: this.meta(store.index, q), outcome: { ok: false, errors: err.errors } };
        throw err;
      }
    }
    const outcome = (await this.server.apply({ type: "txn", ops })) as TxnOutcome;
    return { meta: undefined, outcome };
  }

  private checkConsistency(q: QueryOptions): void {
    // A stale read may be served by any server, leader or not; the others need the leader.
    if (q.consistency !== "stale") this.server.checkReadable();
  }

  private meta(index: number, q: QueryOptions): QueryMeta {
    return {
      index: Math.max(1, index),
      knownLeader: this.server.knownLeader,
      lastContactMs: 0, // this server is the leader (single voter) or the read was local
      consistency: q.consistency === "default" ? "leader" : q.consistency,
    };
  }
}
