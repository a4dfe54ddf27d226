import type { Socket, TCPSocketListener } from "bun";
import { ConsulError } from "../lib/errors.ts";
import { FrameBatch } from "./batch.ts";
import { FrameReader, frame, PROTO_RAFT, PROTO_RPC, type RpcRequest, type RpcResponse } from "./protocol.ts";

// The server side of agent RPC: a listener on the server port that dispatches "Service.Method"
// to the endpoint objects a server has (KVS, Catalog, Health, Status). Only the methods named
// here can be called; a ConsulError crosses the wire with its status and text.

/** Targets are looked up per call: a server's endpoints exist only once its Raft is up. */
export type Endpoints = Record<string, { target: () => object | undefined; methods: string[] }>;

interface Conn {
  proto: number | undefined;
  reader: FrameReader;
  /** Bytes the socket did not take yet: Bun's socket writes only what fits, the rest is ours to keep. */
  unsent: Uint8Array[];
  /** Answers finished in one turn of the loop, written together. */
  out: FrameBatch;
}

export class RpcServer {
  private listener: TCPSocketListener<Conn> | undefined;

  constructor(
    private readonly endpoints: Endpoints,
    private readonly logger: { warn(m: string): void },
    /** Frames of connections that opened with the Raft byte; without it they are refused. */
    private readonly onRaft?: (msg: unknown) => void,
  ) {}

  start(hostname: string, port: number): void {
    this.listener = Bun.listen<Conn>({
      hostname,
      port,
      socket: {
        open: (s: Socket<Conn>) => {
          s.data = { proto: undefined, reader: new FrameReader(), unsent: [], out: new FrameBatch((bytes) => send(s, bytes)) };
        },
        data: (s: Socket<Conn>, chunk: Uint8Array) => this.onData(s, chunk),
        drain: (s: Socket<Conn>) => flush(s),
        error: () => {},
      },
    });
  }

  stop(): void {
    this.listener?.stop(true);
  }

  private onData(s: Socket<Conn>, chunk: Uint8Array): void {
    let bytes = chunk;
    if (s.data.proto === undefined) {
      s.data.proto = chunk[0];
      bytes = chunk.subarray(1);
      if (s.data.proto !== PROTO_RPC && !(s.data.proto === PROTO_RAFT && this.onRaft)) {
        s.end();
        return;
      }
    }
    if (s.data.proto === PROTO_RAFT) {
      try {
        for (const m of s.data.reader.push(bytes)) this.onRaft!(m);
      } catch (err) {
        this.logger.warn(`raft: closing a connection: ${(err as Error).message}`);
        s.end();
      }
      return;
    }
    let requests: unknown[];
    try {
      requests = s.data.reader.push(bytes);
    } catch (err) {
      this.logger.warn(`rpc: closing a connection: ${(err as Error).message}`);
      s.end();
      return;
    }
    for (const r of requests) void this.dispatch(r as RpcRequest).then((res) => s.data.out.push(frame(res)));
  }

  private async dispatch(req: RpcRequest): Promise<RpcResponse> {
    const [service, method] = String(req.method).split(".") as [string, string | undefined];
    const ep = this.endpoints[service];
    if (!ep || !method || !ep.methods.includes(method)) {
      return { seq: req.seq, error: { status: 500, message: `rpc: can't find method ${req.method}` } };
    }
    const target = ep?.target();
    if (!target) return { seq: req.seq, error: { status: 500, message: "No cluster leader" } };
    try {
      const fn = (target as Record<string, (...a: unknown[]) => unknown>)[method]!;
      return { seq: req.seq, result: await fn.apply(target, Array.isArray(req.args) ? req.args : []) };
    } catch (err) {
      if (err instanceof ConsulError) return { seq: req.seq, error: { status: err.status, message: err.message } };
      this.logger.warn(`rpc: ${req.method} failed: ${(err as Error).stack ?? String(err)}`);
      return { seq: req.seq, error: { status: 500, message: (err as Error).message } };
    }
  }
}

/** Writes in order: after whatever is still queued, and queues what the socket does not take. */
function send(s: Socket<Conn>, bytes: Uint8Array): void {
  s.data.unsent.push(bytes);
  if (s.data.unsent.length === 1) flush(s);
}

function flush(s: Socket<Conn>): void {
  const q = s.data.unsent;
  while (q.length > 0) {
    const head = q[0]!;
    const n = s.write(head);
    if (n < 0) {
      q.length = 0; // closed: nobody is left to read it
      return;
    }
    if (n < head.length) {
      q[0] = head.subarray(n);
      return; // the rest goes when Bun calls drain
    }
    q.shift();
  }
}
