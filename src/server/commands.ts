import { Packr } from "msgpackr";
import type { DeregisterRequest, RegisterRequest } from "../state/catalog-types.ts";
import type { KvTxnOp } from "../state/txn.ts";

// Log commands: typed, versioned records. The first byte names the type (as Consul's
// structs.MessageType does), the rest is msgpack. A type with the high bit set may be
// skipped by an older binary that does not know it; any other unknown type is a crash,
// because applying a log partially would make replicas diverge.

export const IGNORE_UNKNOWN_FLAG = 0x80;

export type KvOp = "set" | "cas" | "delete" | "delete-tree" | "delete-cas" | "lock" | "unlock";

export type Command =
  | { type: "kv"; op: KvOp; key: string; flags: bigint; value: Uint8Array | null; session: string; casIndex: number }
  | { type: "txn"; ops: KvTxnOp[] }
  | { type: "tombstone-reap"; index: number }
  | ({ type: "register" } & RegisterRequest)
  | ({ type: "deregister" } & DeregisterRequest);

export type CommandType = Command["type"];

const codes: Record<CommandType, number> = { kv: 1, txn: 2, "tombstone-reap": 3, register: 4, deregister: 5 };
const typesByCode = new Map<number, CommandType>(Object.entries(codes).map(([t, c]) => [c, t as CommandType]));

// bigint survives as uint64; records off so the format is plain msgpack maps.
const packr = new Packr({ useRecords: false, int64AsType: "bigint" } as ConstructorParameters<typeof Packr>[0]);

export function encodeCommand(cmd: Command): Uint8Array {
  const { type, ...body } = cmd;
  const payload = packr.pack(body);
  const out = new Uint8Array(payload.length + 1);
  out[0] = codes[type];
  out.set(payload, 1);
  return out;
}

export function decodeCommand(data: Uint8Array): Command | undefined {
  const code = data[0]!;
  const type = typesByCode.get(code & ~IGNORE_UNKNOWN_FLAG);
  if (!type) {
    if (code & IGNORE_UNKNOWN_FLAG) return undefined;
    throw new Error(`assertion failed: unknown log command type ${code}`);
  }
  return { type, ...(packr.unpack(data.subarray(1)) as object) } as Command;
}

export function packValue(v: unknown): Uint8Array {
  return packr.pack(v);
}

export function unpackValue<T>(data: Uint8Array): T {
  return packr.unpack(data) as T;
}
