import { Packr } from "msgpackr";

// Agent-to-server RPC on the server port (8300). As in Consul, the first byte of a connection
// names its protocol (0 = RPC, 1 = Raft), so one port serves both. After it, both sides
// send frames `len:u32 | msgpack`, requests {seq, method, args} and responses {seq, error?,
// result}; many requests share one connection, answered in any order, so a blocking query
// does not hold up the calls behind it.

export const PROTO_RPC = 0;
export const PROTO_RAFT = 1;
/** A Raft snapshot travels as one frame, so this bounds the state a cluster can hold. */
export const MAX_FRAME = 512 * 1024 * 1024;

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

export function frame(msg: unknown): Uint8Array {
  const body = packr.pack(msg);
  const out = new Uint8Array(body.length + 4);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/**
 * Splits a byte stream into frames; keeps the unfinished tail for the next read. Chunks are
 * joined only once a whole frame is in, so a large frame (a snapshot) costs one copy, not one
 * per chunk.
 */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Length of the frame being read, once its 4-byte header is in. */
  private need: number | undefined;

  push(chunk: Uint8Array): unknown[] {
    // Copied (new Uint8Array, not slice(): Buffer's slice is a view): Bun reuses a socket's
    // read buffer once the data callback returns.
    this.chunks.push(new Uint8Array(chunk));
    this.buffered += chunk.length;
    const out: unknown[] = [];
    for (;;) {
      if (this.need === undefined) {
        if (this.buffered < 4) break;
        const head = this.take(4);
        const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
        if (len > MAX_FRAME) throw new Error(`frame of ${len} bytes is over the limit`);
        this.need = len;
      }
      if (this.buffered < this.need) break;
      const body = this.take(this.need);
      this.need = undefined;
      out.push(packr.unpack(body));
    }
    return out;
  }

  /** Removes and returns the first n buffered bytes (n <= buffered). */
  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const head = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return head;
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0]!;
      const part = Math.min(c.length, n - at);
      out.set(c.subarray(0, part), at);
      at += part;
      if (part === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(part);
    }
    this.buffered -= n;
    return out;
  }
}
