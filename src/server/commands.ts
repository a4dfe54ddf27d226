import { Packr } from "msgpackr";
import type { DeregisterRequest, RegisterRequest } from "../state/catalog-types.ts";
import type { SessionInput } from "../state/sessions.ts";
import type { KvTxnOp } from "../state/txn.ts";

// Log commands: typed, versioned records. The first byte names the type (as Consul's
// structs.MessageType does), the rest is msgpack, except a restore's: its raw state. A
// type with the high bit set may be skipped by an older binary that does not know it; any
// other unknown type is a crash, because applying a log partially would make replicas diverge.

export const IGNORE_UNKNOWN_FLAG = 0x80;

export type KvOp = "set" | "cas" | "delete" | "delete-tree" | "delete-cas" | "lock" | "unlock";

export type Command =
  | { type: "kv"; op: KvOp; key: string; flags: bigint; value: Uint8Array | null; session: string; casIndex: number }
  | { type: "txn"; ops: KvTxnOp[] }
  | { type: "tombstone-reap"; index: number }
  | ({ type: "register" } & RegisterRequest)
  | ({ type: "deregister" } & DeregisterRequest)
  // The leader draws the session ID before proposing: applying must not make one up.
  | { type: "session-create"; session: SessionInput }
  | { type: "session-destroy"; id: string }
  /** A user's snapshot restore: `state` (Fsm.snapshot() bytes) replaces the whole store. */
  | { type: "restore"; state: Uint8Array };

export type CommandType = Command["type"];

const codes: Record<CommandType, number> = { kv: 1, txn: 2, "tombstone-reap": 3, register: 4, deregister: 5, "session-create": 6, "session-destroy": 7, restore: 8 };
const typesByCode = new Map<number, CommandType>(Object.entries(codes).map(([t, c]) => [c, t as CommandType]));

// bigint survives as uint64; records off so the format is plain msgpack maps.
const packr = new Packr({ useRecords: false, int64AsType: "bigint" } as ConstructorParameters<typeof Packr>[0]);

export function encodeCommand(cmd: Command): Uint8Array {
  // A restore carries the whole state: its bytes follow the type byte as they are, since
  // msgpack would only copy them once more (slowly, at hundreds of megabytes).
  if (cmd.type === "restore") return withType(codes.restore, cmd.state);
  const { type, ...body } = cmd;
  return withType(codes[type], packr.pack(body));
}

function withType(code: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1);
  out[0] = code;
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
  if (type === "restore") return { type, state: data.subarray(1) };
  return { type, ...(packr.unpack(data.subarray(1)) as object) } as Command;
}

export function packValue(v: unknown): Uint8Array {
  return packr.pack(v);
}

export function unpackValue<T>(data: Uint8Array): T {
  return packr.unpack(data) as T;
}

/** Long arrays are packed this many items at a time. */
const SLICE_ITEMS = 1000;
/** How long packing may hold the event loop before it yields. */
const SLICE_BUDGET_MS = 4;

/**
 * packValue for values too big to pack in one go (a store snapshot: ~3 µs a key, so 100k keys
 * would stall every request for 300 ms): the same bytes' meaning, unpacked by unpackValue, but
 * made in slices that yield to the event loop. The caller must not mutate `v` meanwhile.
 */
export async function packValueYielding(v: unknown): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let sliceStart = performance.now();
  const pause = async (): Promise<void> => {
    if (performance.now() - sliceStart < SLICE_BUDGET_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
  };
  // packr reuses its output buffer, so every part is copied before the next pack.
  const push = (bytes: Uint8Array): void => void parts.push(new Uint8Array(bytes));
  const packInto = async (x: unknown): Promise<void> => {
    if (Array.isArray(x) && x.length > SLICE_ITEMS) {
      push(containerHeader(0x90, 0xdc, x.length));
      for (let i = 0; i < x.length; i += SLICE_ITEMS) {
        const packed = packr.pack(x.slice(i, i + SLICE_ITEMS));
        push(packed.subarray(containerHeaderLength(packed[0]!)));
        await pause();
      }
    } else if (isPlainObject(x)) {
      const keys = Object.keys(x);
      push(containerHeader(0x80, 0xde, keys.length));
      for (const k of keys) {
        push(packr.pack(k));
        await packInto(x[k]);
      }
    } else {
      push(packr.pack(x));
    }
  };
  await packInto(v);
  return Buffer.concat(parts);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && Object.getPrototypeOf(x) === Object.prototype;
}

/** A msgpack array (fix 0x90, 16-bit 0xdc) or map (0x80, 0xde) header; the 32-bit code is the 16-bit one + 1. */
function containerHeader(fix: number, wide16: number, n: number): Uint8Array {
  if (n < 16) return Uint8Array.of(fix | n);
  if (n < 0x10000) return Uint8Array.of(wide16, n >> 8, n & 0xff);
  return Uint8Array.of(wide16 + 1, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function containerHeaderLength(first: number): number {
  if ((first & 0xf0) === 0x90) return 1;
  if (first === 0xdc) return 3;
  if (first === 0xdd) return 5;
  throw new Error(`assertion failed: 0x${first.toString(16)} is not a msgpack array header`);
}
