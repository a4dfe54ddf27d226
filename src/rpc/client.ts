import { connect, type Socket } from "node:net";
import { ConsulError } from "../lib/errors.ts";
import { FrameBatch } from "./batch.ts";
import { FrameReader, frame, PROTO_RPC, type RpcResponse } from "./protocol.ts";

// The client side of agent RPC: one multiplexed connection per server, opened on demand.
// A client agent picks a server among those gossip knows (role=consul); a call that cannot
// reach one fails with Consul's "No known Consul servers". Every call has a deadline, as
// Consul's since 1.11: a server that stopped answering (paused, cut off) fails the call
// instead of holding it, and the user's request, forever.

/** Consul's rpc_hold_timeout: how long a request waits for a leader to appear. */
export const RPC_HOLD_TIMEOUT_MS = 7000;
/** Consul's limits.rpc_client_timeout: how long a call waits for its answer. */
export const RPC_CLIENT_TIMEOUT_MS = 60_000;
/** What Consul's yamux stream says when the deadline passes, after the pool's prefix. */
const DEADLINE_REACHED = "rpc error making call: i/o deadline reached";

export interface RpcClientOptions {
  /** Deadline of a call (0: none); default RPC_CLIENT_TIMEOUT_MS, Consul's limits.rpc_client_timeout. */
  timeoutMs?: number;
  /** Added to a blocking query's wait for its deadline; default RPC_HOLD_TIMEOUT_MS, Consul's performance.rpc_hold_timeout. */
  holdMs?: number;
}

export interface ServerAddr {
  name: string;
  ip: string;
  port: number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

class Connection {
  private readonly sock: Socket;
  private readonly pending = new Map<number, Pending>();
  private readonly reader = new FrameReader();
  private readonly out: FrameBatch;
  private seq = 0;
  closed = false;

  constructor(
    readonly addr: ServerAddr,
    onClose: () => void,
  ) {
    this.sock = connect({ host: addr.ip, port: addr.port });
    this.sock.setNoDelay(true);
    this.sock.write(Uint8Array.of(PROTO_RPC));
    this.out = new FrameBatch((bytes) => {
      if (!this.closed && !this.sock.destroyed) this.sock.write(bytes);
    });
    this.sock.on("data", (chunk: Buffer) => {
      let msgs: unknown[];
      try {
        msgs = this.reader.push(chunk);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      for (const m of msgs) {
        const r = m as RpcResponse;
        const p = this.pending.get(r.seq);
        if (!p) continue;
        this.pending.delete(r.seq);
        if (r.error) p.reject(remoteError(r.error.status, r.error.message));
        else p.resolve(r.result);
      }
    });
    const close = (err?: Error): void => {
      this.fail(err ?? new Error(`rpc: connection to ${addr.ip}:${addr.port} closed`));
      onClose();
    };
    this.sock.on("error", (err: NodeJS.ErrnoException) =>
      close(new Error(err.code === "ECONNREFUSED" ? `dial tcp ${addr.ip}:${addr.port}: connect: connection refused` : err.message)),
    );
    this.sock.on("close", () => close());
  }

  call(method: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error("rpc: connection closed"));
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      // A late answer finds no pending call and is dropped. rpc_client_timeout 0: no deadline.
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              if (this.pending.delete(seq)) reject(new ConsulError(500, DEADLINE_REACHED));
            }, timeoutMs)
          : undefined;
      const done = (): void => clearTimeout(timer);
      this.pending.set(seq, {
        resolve: (v) => {
          done();
          resolve(v);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      this.out.push(frame({ seq, method, args }));
    });
  }

  private fail(err: Error): void {
    this.closed = true;
    this.out.clear();
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.sock.destroy();
  }

  close(): void {
    this.fail(new Error("rpc: client shutting down"));
  }
}

/**
 * An error the remote server answered. Consul's connection pool prefixes every such error
 * with "rpc error making call: ", once per hop (client -> server -> leader), so a client agent
 * says "rpc error making call: No cluster leader" where a server says "No cluster leader".
 * The status stays the server's; a 4xx stands for a check Consul makes in the HTTP layer of
 * the agent that was asked, before any RPC, so its text stays as it is. So does a gRPC status
 * ("rpc error: code = ..."): Consul makes those calls (transfer-leader) over gRPC, not the pool.
 */
export function remoteError(status: number, message: string): ConsulError {
  const prefixed = status >= 500 && !message.startsWith("rpc error: code = ");
  return new ConsulError(status, prefixed ? `rpc error making call: ${message}` : message);
}

export class RpcClient {
  private readonly conns = new Map<string, Connection>();
  private next = 0;

  private readonly timeoutMs: number;
  private readonly holdMs: number;

  constructor(
    private readonly servers: () => ServerAddr[],
    opts: RpcClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? RPC_CLIENT_TIMEOUT_MS;
    this.holdMs = opts.holdMs ?? RPC_HOLD_TIMEOUT_MS;
  }

  /** As Consul's pool: a blocking query may take its wait plus the hold; anything else the client timeout. */
  private deadlineMs(args: unknown[]): number {
    for (const a of args) {
      const q = a as { minIndex?: unknown; maxWaitMs?: unknown } | null;
      if (typeof q === "object" && q !== null && typeof q.minIndex === "number" && q.minIndex > 0 && typeof q.maxWaitMs === "number") {
        return q.maxWaitMs + this.holdMs;
      }
    }
    return this.timeoutMs;
  }

  /** Calls `method` on a known server; a transport failure is tried once more on another. */
  async call(method: string, args: unknown[]): Promise<unknown> {
    let lastErr: Error | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const conn = this.pick();
      if (!conn) throw new ConsulError(500, "No known Consul servers");
      try {
        return await conn.call(method, args, this.deadlineMs(args));
      } catch (err) {
        if (err instanceof ConsulError) throw err;
        lastErr = err as Error;
      }
    }
    throw new ConsulError(500, `rpc error making call: ${lastErr?.message ?? "unknown"}`);
  }

  /** Calls `method` on one given server (the leader, when a server forwards to it). */
  async callServer(s: ServerAddr, method: string, args: unknown[]): Promise<unknown> {
    try {
      return await this.connection(s).call(method, args, this.deadlineMs(args));
    } catch (err) {
      if (err instanceof ConsulError) throw err;
      throw new ConsulError(500, `rpc error making call: ${(err as Error).message}`);
    }
  }

  private pick(): Connection | undefined {
    const servers = this.servers();
    if (servers.length === 0) return undefined;
    return this.connection(servers[this.next++ % servers.length]!);
  }

  private connection(s: ServerAddr): Connection {
    const key = `${s.ip}:${s.port}`;
    let c = this.conns.get(key);
    if (!c || c.closed) {
      c = new Connection(s, () => this.conns.delete(key));
      this.conns.set(key, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }

  /**
   * A stand-in for a server endpoint object: each method call goes over RPC as
   * "<service>.<method>". AbortSignals stay behind (a cancelled blocking query simply ends
   * on the server at its wait time).
   */
  proxy<T extends object>(service: string): T {
    return new Proxy({} as T, {
      get: (_t, method) => (...args: unknown[]) => this.call(`${service}.${String(method)}`, args.filter((a) => !(a instanceof AbortSignal))),
    });
  }
}
