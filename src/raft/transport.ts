import { connect, type Socket } from "node:net";
import { FrameBatch } from "../rpc/batch.ts";
import { frame, PROTO_RAFT } from "../rpc/protocol.ts";

// Raft's network: one outbound TCP connection per peer on its server port, opened with the
// protocol byte 1 so it shares 8300 with agent RPC (the server side hands such connections to
// `deliver`). Messages are one-way, as in etcd's stream transport: a response comes back over
// the responder's own connection to us. Delivery is best effort; Raft retries what is lost,
// so a message to a peer we cannot reach, or whose socket is backed up, is dropped rather than
// queued without bound.

export interface PeerAddr {
  ip: string;
  port: number;
}

export interface TransportOptions {
  /** Where a server ID can be reached now (from gossip), or undefined if unknown. */
  resolve: (id: string) => PeerAddr | undefined;
  debug: (msg: string) => void;
}

/** Past this much unsent data a peer is not keeping up: drop instead of buffering more. */
const MAX_BUFFERED = 32 * 1024 * 1024;
/** After a failed dial, messages to that peer are dropped this long before dialing again. */
const REDIAL_MS = 250;

interface Peer {
  addr: string;
  sock: Socket | undefined;
  /** The messages of one Ready pass go out in one write. */
  out: FrameBatch | undefined;
  connected: boolean;
  downUntil: number;
}

export class RaftTransport {
  private readonly peers = new Map<string, Peer>();
  private closed = false;

  constructor(private readonly opts: TransportOptions) {}

  /** Sends `msg` to server `to`; false if it was dropped (unknown address, down, backed up). */
  send(to: string, msg: unknown): boolean {
    if (this.closed) return false;
    const at = this.opts.resolve(to);
    if (!at) return false;
    const addr = `${at.ip}:${at.port}`;
    let p = this.peers.get(to);
    if (p && p.addr !== addr) {
      // The server moved (restarted on a new address): start over.
      p.sock?.destroy();
      p = undefined;
    }
    if (!p) {
      p = { addr, sock: undefined, out: undefined, connected: false, downUntil: 0 };
      this.peers.set(to, p);
    }
    if (!p.sock) {
      if (Date.now() < p.downUntil) return false;
      this.dial(to, p, at);
    }
    const sock = p.sock!;
    if (sock.writableLength + p.out!.pending > MAX_BUFFERED) return false;
    p.out!.push(frame(msg));
    return true;
  }

  /** Forgets a peer's connection (it left the configuration). */
  drop(id: string): void {
    this.peers.get(id)?.sock?.destroy();
    this.peers.delete(id);
  }

  close(): void {
    this.closed = true;
    for (const p of this.peers.values()) p.sock?.destroy();
    this.peers.clear();
  }

  private dial(id: string, p: Peer, at: PeerAddr): void {
    const sock = connect({ host: at.ip, port: at.port });
    sock.setNoDelay(true);
    sock.write(Uint8Array.of(PROTO_RAFT));
    p.sock = sock;
    p.out = new FrameBatch((bytes) => {
      if (p.sock === sock && !sock.destroyed) sock.write(bytes);
    }, queueMicrotask);
    sock.on("connect", () => {
      p.connected = true;
    });
    sock.on("error", (err: NodeJS.ErrnoException) => {
      if (!p.connected) this.opts.debug(`raft: dial ${id} at ${p.addr}: ${err.code ?? err.message}`);
    });
    sock.on("close", () => {
      if (p.sock !== sock) return;
      if (!p.connected) p.downUntil = Date.now() + REDIAL_MS;
      p.sock = undefined;
      p.out = undefined;
      p.connected = false;
    });
    // Peers never answer on this connection; anything they send is ignored.
    sock.on("data", () => {});
  }
}
