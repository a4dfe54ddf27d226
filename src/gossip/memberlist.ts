import {
  type Alive,
  compound,
  type Dead,
  encodeMessage,
  NODE_STATE,
  type PacketMessage,
  type PushNodeState,
  type PushPull,
  type Suspect,
  withCrc,
} from "./messages.ts";
import { peerIp } from "../lib/ip.ts";

// SWIM membership as memberlist 0.2.2 runs it (gossip-protocol.md §7), as a pure state
// machine: no sockets, no clock. The shell feeds it packets, push/pull states and ticks with
// the time; it answers with effects (datagrams to send, push/pulls to start) and member
// events. Kept from memberlist: round-robin probing, indirect probes through 3 peers,
// suspicion with a timeout scaled by cluster size and shortened by independent
// confirmations, the TCP fallback ping (so UDP loss alone rarely accuses anyone),
// Lifeguard's awareness score (a node that misses acks and nacks, or must refute, probes
// more slowly rather than accuse others), refutation, incarnation rules, gossip with
// retransmit limits, push/pull merge.

export interface Address {
  ip: string;
  port: number;
}

export type MemberState = "alive" | "suspect" | "dead" | "left";

export interface Member {
  name: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array | null;
  vsn: Uint8Array;
  incarnation: number;
  state: MemberState;
  stateChangeMs: number;
}

export interface MemberlistConfig {
  name: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array | null;
  vsn: Uint8Array;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  indirectChecks: number;
  suspicionMult: number;
  suspicionMaxTimeoutMult: number;
  retransmitMult: number;
  gossipIntervalMs: number;
  gossipNodes: number;
  gossipToTheDeadMs: number;
  pushPullIntervalMs: number;
  /** Consul lets a dead node's name be reused at a new address after this long. */
  deadNodeReclaimMs: number;
  udpBufferSize: number;
  /** A merge delegate: Consul's WAN pool admits only servers. Absent: everyone. */
  admit?: (node: string, meta: Uint8Array | null) => boolean;
}

/** memberlist's LAN profile with Consul's overrides. */
export function lanConfig(self: Pick<MemberlistConfig, "name" | "addr" | "port" | "meta" | "vsn">): MemberlistConfig {
  return {
    ...self,
    probeIntervalMs: 1000,
    probeTimeoutMs: 500,
    indirectChecks: 3,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    retransmitMult: 4,
    gossipIntervalMs: 200,
    gossipNodes: 3,
    gossipToTheDeadMs: 30_000,
    pushPullIntervalMs: 30_000,
    deadNodeReclaimMs: 30_000,
    udpBufferSize: 1400,
  };
}

export type Effect =
  | { kind: "send"; to: Address; bytes: Uint8Array }
  | { kind: "pushPull"; to: Address }
  /** A ping over TCP; the shell reports an ack with streamAck(seqNo). */
  | { kind: "tcpPing"; to: Address; seqNo: number; node: string };

export type MemberEvent = { kind: "join" | "update" | "leave" | "fail"; member: Member };

interface Broadcast {
  /** A memberlist broadcast about node X replaces an older one about X; user ones never do. */
  key: string | undefined;
  bytes: Uint8Array;
  transmits: number;
}

interface Probe {
  target: string;
  deadline: number;
  /** The end of this probe interval: suspect the target if no ack came by then. */
  giveUp: number;
  indirectSent: boolean;
  /** Nacks the indirect helpers promised, and those that came (Lifeguard's evidence about us). */
  expectedNacks: number;
  nacks: number;
}

/** Lifeguard: how sure we are of our own health, 0 (fine) to 7; timings stretch by score + 1. */
const AWARENESS_MAX = 8;

interface Suspicion {
  start: number;
  timeoutMs: number;
  minMs: number;
  maxMs: number;
  k: number;
  confirmations: Set<string>;
}

/** An indirect probe we run for someone else: relay the ack under their SeqNo. */
interface Relay {
  origin: Address;
  originSeq: number;
  deadline: number;
  nack: boolean;
}

const sameBytes = (a: Uint8Array | null, b: Uint8Array | null): boolean =>
  (a?.length ?? 0) === (b?.length ?? 0) && (a ?? new Uint8Array(0)).every((x, i) => x === b![i]);

export class Memberlist {
  private readonly members = new Map<string, Member>();
  private readonly effects: Effect[] = [];
  private readonly events: MemberEvent[] = [];
  private readonly broadcasts: Broadcast[] = [];
  private readonly probes = new Map<number, Probe>();
  private readonly relays = new Map<number, Relay>();
  private readonly suspicions = new Map<string, Suspicion>();
  private probeOrder: string[] = [];
  private probeIndex = 0;
  private seqNo = 0;
  private nextProbe = 0;
  private nextGossip = 0;
  private nextPushPull = 0;
  private leaving = false;
  /** Lifeguard's local health score (memberlist's awareness). */
  awareness = 0;

  constructor(
    readonly cfg: MemberlistConfig,
    private readonly random: () => number,
    now: number,
  ) {
    this.members.set(cfg.name, {
      name: cfg.name,
      addr: cfg.addr,
      port: cfg.port,
      meta: cfg.meta,
      vsn: cfg.vsn,
      incarnation: 1,
      state: "alive",
      stateChangeMs: now,
    });
    this.nextProbe = now + cfg.probeIntervalMs;
    this.nextGossip = now + cfg.gossipIntervalMs;
    this.nextPushPull = now + Math.floor(random() * cfg.pushPullIntervalMs);
  }

  // ---- queries ---------------------------------------------------------------------------

  get self(): Member {
    return this.members.get(this.cfg.name)!;
  }

  list(): Member[] {
    return [...this.members.values()];
  }

  get(name: string): Member | undefined {
    return this.members.get(name);
  }

  takeEffects(): Effect[] {
    return this.effects.splice(0);
  }

  takeEvents(): MemberEvent[] {
    return this.events.splice(0);
  }

  /** Alive and suspect members besides us: the cluster size for timeouts and retransmits. */
  /** memberlist's NumMembers: members not known dead or left (us included). */
  get liveCount(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.state === "alive" || m.state === "suspect") n++;
    return n;
  }

  // ---- our own changes -------------------------------------------------------------------

  /** New tags (Meta): a fresh alive with a higher incarnation, as memberlist's UpdateNode. */
  updateMeta(meta: Uint8Array | null, now: number): void {
    const self = this.self;
    self.meta = meta;
    self.incarnation++;
    self.stateChangeMs = now;
    this.broadcastAlive(self);
  }

  /** Graceful leave: announce dead(self, From: self), which peers read as left. */
  leave(now: number): void {
    this.leaving = true;
    const self = this.self;
    self.state = "left";
    self.stateChangeMs = now;
    this.queue(self.name, encodeMessage({ type: "dead", incarnation: self.incarnation, node: self.name, from: self.name }));
  }

  /** Broadcasts (ours and the delegate's) still waiting to go out. */
  get pendingBroadcasts(): number {
    return this.broadcasts.length;
  }

  /** Serf's messages ride the same gossip, never replacing one another. */
  queueUser(bytes: Uint8Array): void {
    this.queue(undefined, bytes);
  }

  /** A datagram straight to one address (Serf's query acks and responses). */
  sendTo(to: Address, bytes: Uint8Array): void {
    this.send(to, bytes);
  }

  // ---- inputs ------------------------------------------------------------------------------

  handlePacket(msgs: PacketMessage[], from: Address, now: number): Uint8Array[] {
    const user: Uint8Array[] = [];
    for (const m of msgs) {
      switch (m.type) {
        case "ping":
          this.onPing(m, from);
          break;
        case "indirectPing":
          this.onIndirectPing(m, from, now);
          break;
        case "ack":
          this.onAck(m.seqNo);
          break;
        case "nack": {
          const p = this.probes.get(m.seqNo);
          if (p) p.nacks++;
          break;
        }
        case "alive":
          this.onAlive(m, now, false);
          break;
        case "suspect":
          this.onSuspect(m, now);
          break;
        case "dead":
          this.onDead(m, now);
          break;
        case "user":
          user.push(m.payload);
          break;
        case "err":
          break;
      }
    }
    return user;
  }

  /** The ack of a TCP fallback ping we asked the shell to send. */
  streamAck(seqNo: number): void {
    this.onAck(seqNo);
  }

  /** A TCP ping: the shell answers with this ack on the same connection. */
  answerStreamPing(node: string, seqNo: number): Uint8Array | undefined {
    if (node !== "" && node !== this.cfg.name) return undefined;
    return encodeMessage({ type: "ack", seqNo, payload: null });
  }

  /** Our state for a push/pull (the delegate's user state is the caller's). */
  localState(join: boolean, userState: Uint8Array): PushPull {
    const nodes: PushNodeState[] = [...this.members.values()].map((m) => ({
      name: m.name,
      addr: m.addr,
      port: m.port,
      meta: m.meta,
      incarnation: m.incarnation,
      state: NODE_STATE[m.state],
      vsn: m.vsn,
    }));
    return { type: "pushPull", join, nodes, userState };
  }

  /** Merges a remote push/pull as memberlist does: alive as alive, left as dead(From=Node), dead or suspect as suspect. */
  mergeRemoteState(remote: PushPull, now: number): void {
    for (const n of remote.nodes) {
      const alive: Alive = { type: "alive", incarnation: n.incarnation, node: n.name, addr: n.addr, port: n.port, meta: n.meta, vsn: n.vsn };
      if (n.state === NODE_STATE.alive) this.onAlive(alive, now, true);
      else if (n.state === NODE_STATE.left) this.onDead({ type: "dead", incarnation: n.incarnation, node: n.name, from: n.name }, now);
      // Dead or suspect elsewhere: suspect here (memberlist ignores nodes it never knew).
      else this.onSuspect({ type: "suspect", incarnation: n.incarnation, node: n.name, from: this.cfg.name }, now);
    }
  }

  /** Periodic work: probes, suspicion timeouts, gossip, push/pull, relays. */
  tick(now: number): void {
    for (const [name, s] of this.suspicions) {
      if (now - s.start < s.timeoutMs) continue;
      this.suspicions.delete(name);
      const m = this.members.get(name);
      if (m?.state === "suspect") this.markDead(m, this.cfg.name, now, true);
    }
    for (const [seq, r] of this.relays) {
      if (now < r.deadline) continue;
      this.relays.delete(seq);
      if (r.nack) this.send(r.origin, encodeMessage({ type: "nack", seqNo: r.originSeq }));
    }
    for (const [seq, p] of this.probes) {
      if (!p.indirectSent && now >= p.deadline) {
        p.indirectSent = true;
        this.indirectProbe(p.target, seq);
      }
      if (now >= p.giveUp) {
        this.probes.delete(seq);
        // Missing nacks mean our own network is the likelier culprit: slow down.
        this.adjustAwareness(p.expectedNacks > 0 ? p.expectedNacks - p.nacks : 1);
        const m = this.members.get(p.target);
        if (m && m.state === "alive") this.onSuspect({ type: "suspect", incarnation: m.incarnation, node: m.name, from: this.cfg.name }, now);
      }
    }
    if (now >= this.nextProbe) {
      this.nextProbe = now + this.scaled(this.cfg.probeIntervalMs);
      this.probe(now);
    }
    if (now >= this.nextGossip) {
      this.nextGossip = now + this.cfg.gossipIntervalMs;
      this.gossip(now);
    }
    if (now >= this.nextPushPull) {
      this.nextPushPull = now + this.scaledPushPull();
      const peer = this.randomPeers(1, (m) => m.state === "alive")[0];
      if (peer) this.effects.push({ kind: "pushPull", to: { ip: peerIp(peer.addr), port: peer.port } });
    }
  }

  // ---- probing -----------------------------------------------------------------------------

  private probe(now: number): void {
    const candidates = () => [...this.members.values()].filter((m) => m.name !== this.cfg.name && (m.state === "alive" || m.state === "suspect"));
    if (this.probeIndex >= this.probeOrder.length) {
      this.reapDead(now);
      this.probeOrder = shuffle(candidates().map((m) => m.name), this.random);
      this.probeIndex = 0;
    }
    while (this.probeIndex < this.probeOrder.length) {
      const m = this.members.get(this.probeOrder[this.probeIndex++]!);
      if (!m || m.name === this.cfg.name || (m.state !== "alive" && m.state !== "suspect")) continue;
      const seq = ++this.seqNo;
      this.probes.set(seq, {
        target: m.name,
        deadline: now + this.scaled(this.cfg.probeTimeoutMs),
        giveUp: now + this.scaled(this.cfg.probeIntervalMs),
        indirectSent: false,
        expectedNacks: 0,
        nacks: 0,
      });
      const ping = encodeMessage({ type: "ping", seqNo: seq, node: m.name, ...this.source() });
      // A suspect gets the accusation with the ping, so it can refute at once.
      const bytes =
        m.state === "suspect" ? withCrc(compound([ping, encodeMessage({ type: "suspect", incarnation: m.incarnation, node: m.name, from: this.cfg.name })])) : ping;
      this.send(addressOf(m), bytes);
      return;
    }
  }

  private indirectProbe(target: string, seq: number): void {
    const m = this.members.get(target);
    if (!m) return;
    // memberlist also tries TCP when the target speaks protocol 3 or later.
    if ((m.vsn[1] ?? 0) >= 3) this.effects.push({ kind: "tcpPing", to: addressOf(m), seqNo: seq, node: m.name });
    for (const peer of this.randomPeers(this.cfg.indirectChecks, (p) => p.state === "alive" && p.name !== target)) {
      const nack = (peer.vsn[1] ?? 0) >= 4;
      if (nack) this.probes.get(seq)!.expectedNacks++;
      this.send(addressOf(peer), encodeMessage({ type: "indirectPing", seqNo: seq, target: m.addr, port: m.port, node: m.name, nack, ...this.source() }));
    }
  }

  private source(): { sourceAddr: Uint8Array; sourcePort: number; sourceNode: string } {
    return { sourceAddr: this.cfg.addr, sourcePort: this.cfg.port, sourceNode: this.cfg.name };
  }

  private onPing(m: Extract<PacketMessage, { type: "ping" }>, from: Address): void {
    if (m.node !== "" && m.node !== this.cfg.name) return; // meant for someone else at this address
    const to = m.sourceAddr && m.sourceAddr.length > 0 && m.sourcePort ? { ip: peerIp(m.sourceAddr), port: m.sourcePort } : from;
    this.send(to, encodeMessage({ type: "ack", seqNo: m.seqNo, payload: null }));
  }

  private onIndirectPing(m: Extract<PacketMessage, { type: "indirectPing" }>, from: Address, now: number): void {
    const origin = m.sourceAddr && m.sourceAddr.length > 0 && m.sourcePort ? { ip: peerIp(m.sourceAddr), port: m.sourcePort } : from;
    const seq = ++this.seqNo;
    this.relays.set(seq, { origin, originSeq: m.seqNo, deadline: now + this.cfg.probeTimeoutMs, nack: m.nack });
    this.send({ ip: peerIp(m.target), port: m.port }, encodeMessage({ type: "ping", seqNo: seq, node: m.node, ...this.source() }));
  }

  private onAck(seq: number): void {
    if (this.probes.has(seq)) this.adjustAwareness(-1);
    const relay = this.relays.get(seq);
    if (relay) {
      this.relays.delete(seq);
      this.send(relay.origin, encodeMessage({ type: "ack", seqNo: relay.originSeq, payload: null }));
      return;
    }
    this.probes.delete(seq);
  }

  // ---- state merge (§7.5, §7.6) -------------------------------------------------------------

  private onAlive(a: Alive, now: number, fromPushPull: boolean): void {
    if (a.vsn.length < 6 || a.vsn[0] === 0 || a.vsn[1] === 0 || a.vsn[0]! > a.vsn[1]!) return;
    if (a.node !== this.cfg.name && this.cfg.admit && !this.cfg.admit(a.node, a.meta)) return;
    const known = this.members.get(a.node);
    if (a.node === this.cfg.name) {
      const self = this.self;
      // Someone thinks we have other tags or versions: say who we are, louder.
      if (!this.leaving && a.incarnation >= self.incarnation && (!sameBytes(a.meta, self.meta) || !sameBytes(a.vsn, self.vsn) || a.incarnation > self.incarnation)) {
        this.refute(a.incarnation, now);
      }
      return;
    }
    if (known) {
      const moved = peerIp(known.addr) !== peerIp(a.addr) || known.port !== a.port;
      if (moved) {
        const reclaimable = known.state === "left" || (known.state === "dead" && now - known.stateChangeMs > this.cfg.deadNodeReclaimMs);
        if (!reclaimable) return; // a name conflict: keep who we know
      } else if (a.incarnation <= known.incarnation) {
        return;
      }
    }
    const wasLive = known && (known.state === "alive" || known.state === "suspect");
    const metaChanged = known && !sameBytes(known.meta, a.meta);
    const member: Member = {
      name: a.node,
      addr: a.addr,
      port: a.port,
      meta: a.meta,
      vsn: a.vsn,
      incarnation: a.incarnation,
      state: "alive",
      stateChangeMs: known?.state === "alive" ? known.stateChangeMs : now,
    };
    this.members.set(a.node, member);
    this.suspicions.delete(a.node);
    if (!fromPushPull || !known) this.queue(a.node, encodeMessage(a));
    if (!wasLive) this.events.push({ kind: "join", member });
    else if (metaChanged) this.events.push({ kind: "update", member });
  }

  private onSuspect(s: Suspect, now: number): void {
    const m = this.members.get(s.node);
    if (!m || s.incarnation < m.incarnation) return;
    if (s.node === this.cfg.name) {
      if (!this.leaving) this.refute(s.incarnation, now);
      return;
    }
    if (m.state === "suspect") {
      // Our own failed probe of a node someone else accused counts too, as in memberlist:
      // the accuser is in the set from the start, so nobody counts twice.
      const timer = this.suspicions.get(m.name);
      if (timer && !timer.confirmations.has(s.from)) {
        timer.confirmations.add(s.from);
        this.shorten(timer);
        this.queue(m.name, encodeMessage(s));
      }
      return;
    }
    if (m.state !== "alive") return;
    m.state = "suspect";
    m.incarnation = s.incarnation;
    m.stateChangeMs = now;
    const n = this.liveCount;
    const minMs = this.cfg.suspicionMult * Math.max(1, Math.log10(Math.max(1, n))) * this.cfg.probeIntervalMs;
    const maxMs = this.cfg.suspicionMaxTimeoutMult * minMs;
    let k = this.cfg.suspicionMult - 2;
    if (n - 2 < k) k = 0;
    const timer: Suspicion = { start: now, timeoutMs: k === 0 ? minMs : maxMs, minMs, maxMs, k, confirmations: new Set() };
    timer.confirmations.add(s.from);
    this.suspicions.set(m.name, timer);
    this.queue(m.name, encodeMessage({ ...s, incarnation: m.incarnation }));
  }

  /** Each independent confirmation brings the timeout closer to its minimum (Lifeguard). */
  private shorten(t: Suspicion): void {
    const c = t.confirmations.size - 1; // the accuser is in the set but is not a confirmation
    if (t.k === 0 || c === 0) return;
    const frac = Math.log(c + 1) / Math.log(t.k + 1);
    t.timeoutMs = Math.max(t.minMs, Math.floor(t.maxMs - frac * (t.maxMs - t.minMs)));
  }

  private onDead(d: Dead, now: number): void {
    const m = this.members.get(d.node);
    if (!m || d.incarnation < m.incarnation) return;
    if (d.node === this.cfg.name) {
      if (!this.leaving) this.refute(d.incarnation, now);
      return;
    }
    if (m.state === "dead" || m.state === "left") return;
    m.incarnation = d.incarnation;
    this.markDead(m, d.from, now, false);
    this.queue(m.name, encodeMessage(d));
  }

  private markDead(m: Member, from: string, now: number, announce: boolean): void {
    m.state = from === m.name ? "left" : "dead";
    m.stateChangeMs = now;
    this.suspicions.delete(m.name);
    if (announce) this.queue(m.name, encodeMessage({ type: "dead", incarnation: m.incarnation, node: m.name, from }));
    this.events.push({ kind: m.state === "left" ? "leave" : "fail", member: m });
  }

  private adjustAwareness(delta: number): void {
    this.awareness = Math.min(AWARENESS_MAX - 1, Math.max(0, this.awareness + delta));
  }

  private scaled(ms: number): number {
    return ms * (this.awareness + 1);
  }

  private refute(accused: number, now: number): void {
    this.adjustAwareness(1);
    const self = this.self;
    self.incarnation = Math.max(self.incarnation, accused) + 1;
    self.stateChangeMs = now;
    this.broadcastAlive(self);
  }

  private broadcastAlive(m: Member): void {
    this.queue(m.name, encodeMessage({ type: "alive", incarnation: m.incarnation, node: m.name, addr: m.addr, port: m.port, meta: m.meta, vsn: m.vsn }));
  }

  /** memberlist forgets dead and left nodes after GossipToTheDeadTime, at a probe-list wrap. */
  private reapDead(now: number): void {
    for (const m of [...this.members.values()]) {
      if ((m.state === "dead" || m.state === "left") && m.name !== this.cfg.name && now - m.stateChangeMs > this.cfg.gossipToTheDeadMs) {
        this.members.delete(m.name);
      }
    }
  }

  // ---- gossip ------------------------------------------------------------------------------

  private queue(key: string | undefined, bytes: Uint8Array): void {
    if (key !== undefined) {
      const i = this.broadcasts.findIndex((b) => b.key === key);
      if (i >= 0) this.broadcasts.splice(i, 1);
    }
    this.broadcasts.push({ key, bytes, transmits: 0 });
  }

  private gossip(now: number): void {
    if (this.broadcasts.length === 0) return;
    const limit = this.cfg.retransmitMult * Math.ceil(Math.log10(this.liveCount + 1));
    const peers = this.randomPeers(this.cfg.gossipNodes, (m) => m.state === "alive" || m.state === "suspect" || (m.state !== "left" && now - m.stateChangeMs < this.cfg.gossipToTheDeadMs));
    for (const peer of peers) {
      const picked: Uint8Array[] = [];
      let size = 2 + 5;
      // Fewest-sent first, as memberlist's TransmitLimitedQueue orders them.
      for (const b of [...this.broadcasts].sort((x, y) => x.transmits - y.transmits)) {
        if (size + b.bytes.length + 2 > this.cfg.udpBufferSize || picked.length === 255) continue;
        picked.push(b.bytes);
        size += b.bytes.length + 2;
        b.transmits++;
      }
      if (picked.length === 0) break;
      this.send(addressOf(peer), withCrc(picked.length === 1 ? picked[0]! : compound(picked)));
    }
    for (let i = this.broadcasts.length - 1; i >= 0; i--) if (this.broadcasts[i]!.transmits >= Math.max(1, limit)) this.broadcasts.splice(i, 1);
  }

  private scaledPushPull(): number {
    const n = this.liveCount;
    const scale = n <= 32 ? 1 : Math.ceil(Math.log2(n) - Math.log2(32)) + 1;
    return this.cfg.pushPullIntervalMs * scale;
  }

  private randomPeers(k: number, ok: (m: Member) => boolean): Member[] {
    return shuffle(
      [...this.members.values()].filter((m) => m.name !== this.cfg.name && ok(m)),
      this.random,
    ).slice(0, k);
  }

  private send(to: Address, bytes: Uint8Array): void {
    this.effects.push({ kind: "send", to, bytes });
  }
}

function addressOf(m: Member): Address {
  return { ip: peerIp(m.addr), port: m.port };
}

function shuffle<T>(xs: T[], random: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}
