import type { KvInput, KvOutput } from "./linearizability.ts";

// The simulation's state machine: Consul's KV semantics for put / cas / cas=0 / delete /
// delete-cas, each row carrying the Raft index of the write that set it (ModifyIndex).

export interface KvCommand {
  client: number;
  seq: number;
  key: string;
  input: KvInput;
}

interface Row {
  v: string;
  idx: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeCommand(c: KvCommand): Uint8Array {
  return enc.encode(JSON.stringify(c));
}

export function decodeCommand(data: Uint8Array): KvCommand {
  return JSON.parse(dec.decode(data)) as KvCommand;
}

export class KvFsm {
  private rows = new Map<string, Row>();

  /** Applies a write at raft index `index`; returns Consul's answer. */
  apply(index: number, c: KvCommand): KvOutput {
    const cur = this.rows.get(c.key);
    const inp = c.input;
    switch (inp.f) {
      case "get":
        return this.get(c.key);
      case "put":
        this.rows.set(c.key, { v: inp.v, idx: index });
        return { ok: true };
      case "cas":
        if (!cur || cur.idx !== inp.idx) return { ok: false };
        this.rows.set(c.key, { v: inp.v, idx: index });
        return { ok: true };
      case "cas0":
        if (cur) return { ok: false };
        this.rows.set(c.key, { v: inp.v, idx: index });
        return { ok: true };
      case "del":
        this.rows.delete(c.key);
        return { ok: true };
      case "delcas":
        if (!cur) return { ok: true };
        if (cur.idx !== inp.idx) return { ok: false };
        this.rows.delete(c.key);
        return { ok: true };
    }
  }

  get(key: string): { ok: true; v: string | null; idx?: number } {
    const cur = this.rows.get(key);
    return cur ? { ok: true, v: cur.v, idx: cur.idx } : { ok: true, v: null };
  }

  snapshot(): Uint8Array {
    return enc.encode(JSON.stringify([...this.rows].sort(([a], [b]) => (a < b ? -1 : 1))));
  }

  static restore(data: Uint8Array | undefined): KvFsm {
    const f = new KvFsm();
    if (data) f.rows = new Map(JSON.parse(dec.decode(data)) as [string, Row][]);
    return f;
  }

  /** A digest of the whole state, to compare replicas at the same index. */
  digest(): string {
    let s = "";
    for (const [k, r] of [...this.rows].sort(([a], [b]) => (a < b ? -1 : 1))) s += `${k}=${r.v}@${r.idx};`;
    return s;
  }
}
