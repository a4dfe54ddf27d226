import { Packr } from "msgpackr";

// Agent-to-server RPC on the server port (8300). As in Consul, the first byte of a connection
// names its protocol (0 = RPC; 1 will be Raft), so one port serves both. After it, both sides
// send frames `len:u32 | msgpack`, requests {seq, method, args} and responses {seq, error?,
// result}; many requests share one connection, answered in any order, so a blocking query
// does not hold up the calls behind it.

export const PROTO_RPC = 0;
export const MAX_FRAME = 64 * 1024 * 1024;

export interface RpcRequest {
  seq: number;
  method: string;
  args: unknown[];
}

export interface RpcResponse {
  seq: number;
  error?: { status: number; message: string };
  result?: unknown;
}

// structuredClone keeps Map, Uint8Array and undefined; bigint survives as uint64 (KV flags).
const packr = new Packr({ structuredClone: true, useRecords: false, int64AsType: "bigint" } as ConstructorParameters<typeof Packr>[0]);

export function frame(msg: RpcRequest | RpcResponse): Uint8Array {
  const body = packr.pack(msg);
  const out = new Uint8Array(body.length + 4);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Splits a byte stream into frames; keeps the unfinished tail for the next read. */
export class FrameReader {
  private buf = new Uint8Array(0);

  push(chunk: Uint8Array): unknown[] {
    const merged = new Uint8Array(this.buf.length + chunk.length);
    merged.set(this.buf);
    merged.set(chunk, this.buf.length);
    const out: unknown[] = [];
    let at = 0;
    while (merged.length - at >= 4) {
      const len = new DataView(merged.buffer, merged.byteOffset + at).getUint32(0);
      if (len > MAX_FRAME) throw new Error(`RPC frame of ${len} bytes is over the limit`);
      if (merged.length - at - 4 < len) break;
      out.push(packr.unpack(merged.subarray(at + 4, at + 4 + len)));
      at += 4 + len;
    }
    this.buf = merged.slice(at);
    return out;
  }
}
