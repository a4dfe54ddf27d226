import type { Socket as TcpSocket, TCPSocketListener } from "bun";
import { connect } from "node:net";
import { CryptoError, decryptPacket, decryptStream, encryptPacket, encryptStream } from "./crypto.ts";
import { WireError } from "./fields.ts";
import { ipToBytes, peerIp, splitHostPort } from "../lib/ip.ts";
import { type Address, lanConfig, Memberlist, type MemberlistConfig } from "./memberlist.ts";
import { compressed, decodePacket, decodeStream, encodeMessage, encodePushPull, MSG, type StreamMessage, withType } from "./messages.ts";
import { encode, MsgpackError } from "./msgpack.ts";
import { decodeKeyResponse, encodeTags, SERF_KEY_REQUEST } from "./serf.ts";
import { type QueryResponse, type SerfMember, SerfNode, type UserEventReceived } from "./serf-node.ts";

// A gossip pool (Consul's LAN or WAN Serf): memberlist + Serf cores bound to one UDP and TCP
// port. This file is the shell: sockets, encryption, the TCP exchanges (join, push/pull,
// fallback pings) and the timer that ticks the cores.

export interface PoolOptions {
  name: string;
  bindIp: string;
  advertiseIp: string;
  port: number;
  tags: Record<string, string>;
  /** Gossip keys; the first encrypts. Empty: plaintext. */
  keyring: Uint8Array[];
  reconnectTimeoutMs: number;
  /** Consul waits this long after announcing a leave, still answering probes. */
  leavePropagateDelayMs: number;
  /** How often to try a failed member again (Serf: 30 s). */
  reconnectIntervalMs?: number;
  tune?: Partial<MemberlistConfig>;
  logger: { info(m: string): void; warn(m: string): void; debug(m: string): void };
  onChange?: () => void;
  onUserEvent?: (e: UserEventReceived) => void;
  /** The keyring changed through a key query: persist it (primary first). */
  onKeyringChange?: (keyring: Uint8Array[]) => void;
}

/** Serf's KeyResponse: what the members said to a keyring query, counted. */
export interface KeyringResult {
  numNodes: number;
  numResp: number;
  numErr: number;
  /** Node name -> error or warning it reported. */
  messages: Record<string, string>;
  keys: Record<string, number>;
  primaryKeys: Record<string, number>;
  /** "" when every member answered and none failed. */
  error: string;
}

export type KeyringOp = "list" | "install" | "use" | "remove";

/** Consul's Serf protocol 4 with memberlist 2: `01 05 02 02 05 04`. */
const CONSUL_VSN = Uint8Array.of(1, 5, 2, 2, 5, 4);
// memberlist's shortest timer is the 200 ms gossip interval (100 ms in -dev): a 50 ms tick keeps
// every deadline within a tick and wakes an idle agent 20 times a second, not 50.
const TICK_MS = 50;
/** Serf's ReconnectInterval. */
const RECONNECT_INTERVAL_MS = 30_000;
const TCP_TIMEOUT_MS = 10_000;

export class GossipPool {
  readonly ml: Memberlist;
  readonly serf: SerfNode;
  private udp: Bun.udp.Socket<"buffer"> | undefined;
  private tcp: TCPSocketListener<{ buf: Uint8Array }> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private nextReconnect: number;

  constructor(private readonly opts: PoolOptions) {
    const now = Date.now();
    const cfg = { ...lanConfig({ name: opts.name, addr: ipToBytes(opts.advertiseIp), port: opts.port, meta: encodeTags(opts.tags), vsn: CONSUL_VSN }), ...opts.tune };
    this.ml = new Memberlist(cfg, Math.random, now);
    this.serf = new SerfNode(this.ml, opts.tags, { reconnectTimeoutMs: opts.reconnectTimeoutMs, tombstoneTimeoutMs: 24 * 3600_000 }, now);
    this.nextReconnect = now + (opts.reconnectIntervalMs ?? RECONNECT_INTERVAL_MS);
    this.serf.keys = () => {
      const keys = opts.keyring.map((k) => Buffer.from(k).toString("base64"));
      return { keys, primary: keys[0] ?? "" };
    };
    // Key rotation through Serf's queries (serf keys / consul keyring): the keyring is ours
    // to change in place; the first key encrypts.
    this.serf.changeKey = (op, key) => {
      this.opts.logger.info(`serf: Received ${op}-key query`);
      const ring = opts.keyring;
      const at = ring.findIndex((k) => Buffer.from(k).equals(Buffer.from(key)));
      if (ring.length === 0) return "No keyring to modify (encryption not enabled)";
      if (op === "install") {
        if (![16, 24, 32].includes(key.length)) return `key size must be 16, 24 or 32 bytes`;
        if (at < 0) ring.push(key);
      } else if (op === "use") {
        if (at < 0) return "Requested key is not in the keyring";
        ring.unshift(...ring.splice(at, 1));
      } else {
        if (at === 0) return "Removing the primary key is not allowed";
        if (at > 0) ring.splice(at, 1);
      }
      this.opts.onKeyringChange?.(ring);
      return "";
    };
  }

  async start(): Promise<void> {
    this.udp = await Bun.udpSocket({
      hostname: this.opts.bindIp,
      port: this.opts.port,
      socket: {
        data: (_s, msg, port, ip) => this.onPacket(msg, { ip, port }),
        error: (_s, err) => this.opts.logger.debug(`memberlist: udp: ${String((err as Error | undefined)?.message ?? err)}`),
      },
    });
    this.tcp = Bun.listen<{ buf: Uint8Array }>({
      hostname: this.opts.bindIp,
      port: this.opts.port,
      socket: {
        open: (s: TcpSocket<{ buf: Uint8Array }>) => {
          s.data = { buf: new Uint8Array(0) };
          s.timeout(TCP_TIMEOUT_MS / 1000);
        },
        data: (s: TcpSocket<{ buf: Uint8Array }>, chunk: Uint8Array) => this.onStreamData(s, chunk),
        timeout: (s: TcpSocket<{ buf: Uint8Array }>) => void s.end(),
        error: () => {},
      },
    });
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  members(): SerfMember[] {
    return this.serf.list();
  }

  /** Joins through each address ("ip" or "ip:port"); resolves with how many answered, or throws the last reason. */
  async join(addrs: string[]): Promise<number> {
    let joined = 0;
    let lastErr: Error | undefined;
    for (const a of addrs) {
      const { host, port } = splitHostPort(a, this.opts.port);
      const to = { ip: host, port };
      try {
        await this.pushPull(to, true);
        joined++;
      } catch (err) {
        lastErr = err as Error;
        this.opts.logger.warn(`memberlist: Failed to join ${to.ip}: ${lastErr.message}`);
      }
    }
    if (joined > 0) {
      this.serf.broadcastJoin();
      this.flush();
    } else if (lastErr) {
      throw lastErr;
    }
    return joined;
  }

  /** Graceful leave (Serf §9.3): leave intent, then dead(self), then a pause still answering probes. */
  async leave(): Promise<void> {
    this.serf.broadcastLeave();
    await this.drain(5000);
    this.ml.leave(Date.now());
    await this.drain(5000);
    if (this.ml.list().some((m) => m.name !== this.opts.name && m.state === "alive")) await Bun.sleep(this.opts.leavePropagateDelayMs);
  }

  /**
   * Serf's KeyManager: asks every member (ourselves included) to list, install, use or remove a
   * key and counts the answers, so rotation reaches the whole pool without restarts.
   */
  async keyOperation(op: KeyringOp, key: Uint8Array | undefined): Promise<KeyringResult> {
    const payload = op === "list" ? new Uint8Array(0) : withType(SERF_KEY_REQUEST, encode({ Key: key ?? new Uint8Array(0) }));
    const alive = this.ml.liveCount;
    // Serf's DefaultQueryTimeout: GossipInterval x QueryTimeoutMult (16) x ceil(log10(N+1)).
    const timeoutMs = this.ml.cfg.gossipIntervalMs * 16 * Math.ceil(Math.log10(alive + 1));
    const responses = await new Promise<QueryResponse[]>((resolve) => {
      this.serf.query(`_serf_${op === "list" ? "list-keys" : `${op}-key`}`, payload, timeoutMs, Date.now(), resolve);
      this.flush();
    });
    const r: KeyringResult = { numNodes: alive, numResp: 0, numErr: 0, messages: {}, keys: {}, primaryKeys: {}, error: "" };
    for (const { from, payload: p } of responses) {
      r.numResp++;
      const answer = decodeKeyResponse(p);
      if (typeof answer === "string") {
        r.messages[from] = answer;
        r.numErr++;
        continue;
      }
      if (answer.message !== "") r.messages[from] = answer.message;
      if (!answer.result) r.numErr++;
      for (const k of answer.keys) r.keys[k] = (r.keys[k] ?? 0) + 1;
      r.primaryKeys[answer.primary] = (r.primaryKeys[answer.primary] ?? 0) + 1;
    }
    if (r.numErr > 0) r.error = `${r.numErr}/${r.numNodes} nodes reported failure`;
    else if (r.numResp !== r.numNodes) r.error = `${r.numResp}/${r.numNodes} nodes reported success`;
    return r;
  }

  /** Broadcasts a Serf user event (throws Serf's error when it is too big). */
  userEvent(name: string, payload: Uint8Array | null): void {
    this.serf.userEvent(name, payload);
    this.flush();
  }

  forceLeave(node: string, prune: boolean): boolean {
    const ok = this.serf.forceLeave(node, prune, Date.now());
    this.flush();
    return ok;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.udp?.close();
    this.tcp?.stop(true);
  }

  // ---- the cores' clock and effects --------------------------------------------------------

  private tick(): void {
    const now = Date.now();
    this.ml.tick(now);
    this.serf.reap(now);
    if (now >= this.nextReconnect) {
      this.nextReconnect = now + (this.opts.reconnectIntervalMs ?? RECONNECT_INTERVAL_MS);
      this.reconnect();
    }
    this.flush();
  }

  /**
   * Serf's reconnect: with probability failed/alive, try to join one failed member again, so
   * a healed partition or a restarted node comes back without an operator.
   */
  private reconnect(): void {
    const members = this.serf.list();
    const failed = members.filter((m) => m.status === "failed");
    const alive = members.filter((m) => m.status === "alive").length;
    if (failed.length === 0 || Math.random() > failed.length / Math.max(1, alive)) return;
    const m = failed[Math.floor(Math.random() * failed.length)]!;
    void this.pushPull({ ip: m.addr, port: m.port }, true)
      .then(() => this.opts.logger.info(`serf: reconnected to ${m.name}`))
      .catch((err: Error) => this.opts.logger.debug(`serf: reconnect to ${m.name} failed: ${err.message}`));
  }

  /** Waits until every queued broadcast has gone out (or `ms` passed). */
  private async drain(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.ml.pendingBroadcasts > 0 && Date.now() < deadline && this.hasPeers()) await Bun.sleep(TICK_MS);
  }

  private hasPeers(): boolean {
    return this.ml.list().some((m) => m.name !== this.opts.name && (m.state === "alive" || m.state === "suspect"));
  }

  private flush(): void {
    if (this.stopped) return;
    const now = Date.now();
    for (const e of this.ml.takeEffects()) {
      if (e.kind === "send") this.sendUdp(e.to, e.bytes);
      else if (e.kind === "tcpPing") void this.tcpPing(e.to, e.seqNo, e.node);
      else void this.pushPull(e.to, false).catch((err: Error) => this.opts.logger.debug(`memberlist: push/pull with ${e.to.ip}:${e.to.port} failed: ${err.message}`));
    }
    const events = this.ml.takeEvents();
    if (events.length > 0) {
      this.serf.onMemberEvents(events, now);
      for (const e of events) {
        const what = { join: "EventMemberJoin", update: "EventMemberUpdate", leave: "EventMemberLeave", fail: "EventMemberFailed" }[e.kind];
        this.opts.logger.info(`serf: ${what}: ${e.member.name} ${peerIp(e.member.addr)}`);
      }
    }
    const changes = this.serf.takeChanges();
    for (const ev of this.serf.takeUserEvents()) this.opts.onUserEvent?.(ev);
    if (events.length > 0 || changes.length > 0) this.opts.onChange?.();
  }

  private sendUdp(to: Address, bytes: Uint8Array): void {
    const key = this.opts.keyring[0];
    try {
      this.udp?.send(key ? encryptPacket(key, bytes) : bytes, to.port, to.ip);
    } catch (err) {
      // A dead peer's port answers with ICMP unreachable, surfaced on a later send: expected.
      this.opts.logger.debug(`memberlist: send to ${to.ip}:${to.port} failed: ${(err as Error).message}`);
    }
  }

  private onPacket(msg: Uint8Array, from: Address): void {
    try {
      const plain = this.opts.keyring.length > 0 ? decryptPacket(this.opts.keyring, msg) : msg;
      const users = this.ml.handlePacket(decodePacket(plain), from, Date.now());
      for (const u of users) this.serf.onUserMessage(u, Date.now());
      this.flush();
    } catch (err) {
      this.opts.logger.debug(`memberlist: dropped a packet from ${from.ip}:${from.port}: ${(err as Error).message}`);
    }
  }

  // ---- TCP ---------------------------------------------------------------------------------

  private frame(bytes: Uint8Array): Uint8Array {
    const key = this.opts.keyring[0];
    return key ? encryptStream(key, bytes) : bytes;
  }

  /** Serves one inbound exchange: push/pull (answer ours), ping (ack), user (deliver). */
  private onStreamData(s: TcpSocket<{ buf: Uint8Array }>, chunk: Uint8Array): void {
    s.data.buf = Buffer.concat([s.data.buf, chunk]);
    let msg: StreamMessage | undefined;
    try {
      msg = readStream(s.data.buf, this.opts.keyring);
    } catch (err) {
      const text = err instanceof CryptoError || err instanceof WireError || err instanceof MsgpackError ? err.message : String(err);
      s.write(this.frame(encodeMessage({ type: "err", error: text })));
      s.end();
      return;
    }
    if (!msg) return; // wait for the rest
    const now = Date.now();
    switch (msg.type) {
      case "pushPull": {
        const ours = encodePushPull(this.ml.localState(msg.join, this.serf.localUserState()));
        s.write(this.frame(compressed(ours)));
        s.end();
        this.ml.mergeRemoteState(msg, now);
        this.serf.mergeUserState(msg.userState, now);
        break;
      }
      case "ping": {
        const ack = this.ml.answerStreamPing(msg.node, msg.seqNo);
        if (ack) s.write(this.frame(ack));
        s.end();
        break;
      }
      case "user":
        this.serf.onUserMessage(msg.payload, now);
        s.end();
        break;
      default:
        s.end();
    }
    this.flush();
  }

  /** memberlist's fallback probe: a ping over TCP, acked on the same connection. */
  private tcpPing(to: Address, seqNo: number, node: string): Promise<void> {
    return new Promise((resolve) => {
      const sock = connect({ host: to.ip, port: to.port });
      let buf: Uint8Array = new Uint8Array(0);
      const done = (): void => {
        clearTimeout(timer);
        sock.destroy();
        resolve();
      };
      const timer = setTimeout(done, this.ml.cfg.probeIntervalMs);
      sock.on("connect", () => sock.write(this.frame(encodeMessage({ type: "ping", seqNo, node, sourceAddr: this.ml.cfg.addr, sourcePort: this.ml.cfg.port, sourceNode: this.ml.cfg.name }))));
      sock.on("error", done);
      sock.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        try {
          const msg = readStream(buf, this.opts.keyring);
          if (!msg) return;
          if (msg.type === "ack" && msg.seqNo === seqNo) {
            this.ml.streamAck(seqNo);
            this.flush();
          }
        } catch {
          // a garbled answer is no ack
        }
        done();
      });
    });
  }

  /** One push/pull exchange as the initiator (a join, or periodic anti-entropy). */
  private pushPull(to: Address, join: boolean): Promise<void> {
    const ours = encodePushPull(this.ml.localState(join, this.serf.localUserState()));
    return new Promise((resolve, reject) => {
      const sock = connect({ host: to.ip, port: to.port });
      let buf: Uint8Array = new Uint8Array(0);
      const timer = setTimeout(() => fail(new Error(`dial tcp ${to.ip}:${to.port}: i/o timeout`)), TCP_TIMEOUT_MS);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        sock.destroy();
        reject(err);
      };
      sock.on("connect", () => sock.write(this.frame(ours)));
      sock.on("error", (err: NodeJS.ErrnoException) =>
        fail(new Error(err.code === "ECONNREFUSED" ? `dial tcp ${to.ip}:${to.port}: connect: connection refused` : err.message)),
      );
      sock.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        let msg: StreamMessage | undefined;
        try {
          msg = readStream(buf, this.opts.keyring);
        } catch (err) {
          fail(err as Error);
          return;
        }
        if (!msg) return;
        clearTimeout(timer);
        sock.end();
        if (msg.type === "err") return reject(new Error(msg.error));
        if (msg.type !== "pushPull") return reject(new Error(`unexpected ${msg.type} in a push/pull reply`));
        const now = Date.now();
        this.ml.mergeRemoteState(msg, now);
        this.serf.mergeUserState(msg.userState, now);
        this.flush();
        resolve();
      });
    });
  }
}

/**
 * Parses one stream message, decrypting and inflating as needed; undefined while more bytes
 * are needed. A plaintext message to an encrypting agent is refused as memberlist refuses it.
 */
function readStream(buf: Uint8Array, keyring: Uint8Array[]): StreamMessage | undefined {
  if (buf.length === 0) return undefined;
  let plain = buf;
  if (buf[0] === MSG.encrypt) {
    if (keyring.length === 0) throw new CryptoError("Remote state is encrypted and encryption is not configured");
    if (buf.length < 5) return undefined;
    const len = new DataView(buf.buffer, buf.byteOffset).getUint32(1);
    if (buf.length < 5 + len) return undefined;
    plain = decryptStream(keyring, buf.subarray(0, 5 + len));
  } else if (keyring.length > 0) {
    throw new CryptoError("Encryption is configured but remote state is not encrypted");
  }
  try {
    return decodeStream(plain);
  } catch (err) {
    // Only a message cut short waits for more; anything else is malformed.
    if (plain === buf && /truncated/.test((err as Error).message)) return undefined;
    throw err;
  }
}


