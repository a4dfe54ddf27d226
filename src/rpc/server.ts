import type { Socket, TCPSocketListener } from "bun";
import { ConsulError } from "../lib/errors.ts";
import { FrameReader, frame, PROTO_RAFT, PROTO_RPC, type RpcRequest, type RpcResponse } from "./protocol.ts";

// The server side of agent RPC: a listener on the server port that dispatches "Service.Method"
// to the endpoint objects a server has (KVS, Catalog, Health, Status). Only the methods named
// here can be called; a ConsulError crosses the wire with its status and text.

/** Targets are looked up per call: a server's endpoints exist only once its Raft is up. */
export type Endpoints = Record<string, { target: () => object | undefined; methods: string[] }>;

interface Conn {
  proto: number | undefined;
  reader: FrameReader;
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
          s.data = { proto: undefined, reader: new FrameReader() };
        },
        data: (s: Socket<Conn>, chunk: Uint8Array) => this.onData(s, chunk),
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
    for (const r of requests) void this.dispatch(r as RpcRequest).then((res) => s.write(frame(res)));
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
