import { Struct, WireError } from "./fields.ts";
import { lzwCompress, lzwDecompress } from "./lzw.ts";
import { decodeAt, encode, type GoStruct } from "./msgpack.ts";

// memberlist's messages and their framing (gossip-protocol.md §3, §4, §6): a type byte, then
// msgpack; compound, hasCrc and compress wrap other messages and nest in any order; a TCP
// push/pull is a header, N node states and the delegate's bytes. Encoding writes exactly what
// memberlist 0.2.2 writes; decoding accepts what it accepts.

export const MSG = {
  ping: 0,
  indirectPing: 1,
  ack: 2,
  suspect: 3,
  alive: 4,
  dead: 5,
  pushPull: 6,
  compound: 7,
  user: 8,
  compress: 9,
  encrypt: 10,
  nack: 11,
  hasCrc: 12,
  err: 13,
  hasLabel: 244,
} as const;

export interface Ping {
  type: "ping";
  seqNo: number;
  node: string;
  sourceAddr?: Uint8Array;
  sourcePort?: number;
  sourceNode?: string;
}
export interface IndirectPing {
  type: "indirectPing";
  seqNo: number;
  target: Uint8Array;
  port: number;
  node: string;
  nack: boolean;
  sourceAddr?: Uint8Array;
  sourcePort?: number;
  sourceNode?: string;
}
export interface Ack {
  type: "ack";
  seqNo: number;
  payload: Uint8Array | null;
}
export interface Nack {
  type: "nack";
  seqNo: number;
}
export interface Suspect {
  type: "suspect";
  incarnation: number;
  node: string;
  from: string;
}
export interface Dead {
  type: "dead";
  incarnation: number;
  node: string;
  from: string;
}
export interface Alive {
  type: "alive";
  incarnation: number;
  node: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array | null;
  vsn: Uint8Array;
}
export interface User {
  type: "user";
  payload: Uint8Array;
}
export interface ErrResp {
  type: "err";
  error: string;
}

export const NODE_STATE = { alive: 0, suspect: 1, dead: 2, left: 3 } as const;

export interface PushNodeState {
  name: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array | null;
  incarnation: number;
  state: number;
  vsn: Uint8Array;
}
export interface PushPull {
  type: "pushPull";
  join: boolean;
  nodes: PushNodeState[];
  userState: Uint8Array;
}

/** What a UDP packet carries once unwrapped. */
export type PacketMessage = Ping | IndirectPing | Ack | Nack | Suspect | Dead | Alive | User | ErrResp;
/** What one TCP stream exchange carries. */
export type StreamMessage = Ping | Ack | PushPull | User | ErrResp;

// ---- encoding --------------------------------------------------------------------------

/** A type byte, then the body: how memberlist, Serf and Serf's tags all frame what they send. */
export function withType(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = type;
  out.set(body, 1);
  return out;
}

function source(m: { sourceAddr?: Uint8Array; sourcePort?: number; sourceNode?: string }): GoStruct {
  // omitempty: memberlist leaves out zero source fields.
  return {
    SourceAddr: m.sourceAddr && m.sourceAddr.length > 0 ? m.sourceAddr : undefined,
    SourcePort: m.sourcePort ? m.sourcePort : undefined,
    SourceNode: m.sourceNode ? m.sourceNode : undefined,
  };
}

export function encodeMessage(m: PacketMessage): Uint8Array {
  switch (m.type) {
    case "ping":
      return withType(MSG.ping, encode({ SeqNo: m.seqNo, Node: m.node, ...source(m) }));
    case "indirectPing":
      return withType(MSG.indirectPing, encode({ SeqNo: m.seqNo, Target: m.target, Port: m.port, Node: m.node, Nack: m.nack, ...source(m) }));
    case "ack":
      return withType(MSG.ack, encode({ SeqNo: m.seqNo, Payload: m.payload }));
    case "nack":
      return withType(MSG.nack, encode({ SeqNo: m.seqNo }));
    case "suspect":
      return withType(MSG.suspect, encode({ Incarnation: m.incarnation, Node: m.node, From: m.from }));
    case "dead":
      return withType(MSG.dead, encode({ Incarnation: m.incarnation, Node: m.node, From: m.from }));
    case "alive":
      return withType(MSG.alive, encode({ Incarnation: m.incarnation, Node: m.node, Addr: m.addr, Port: m.port, Meta: m.meta, Vsn: m.vsn }));
    case "user":
      return withType(MSG.user, m.payload);
    case "err":
      return withType(MSG.err, encode({ Error: m.error }));
  }
}

export function encodePushPull(p: Omit<PushPull, "type">): Uint8Array {
  const parts = [
    Uint8Array.of(MSG.pushPull),
    encode({ Join: p.join, Nodes: p.nodes.length, UserStateLen: p.userState.length }),
    ...p.nodes.map((n) => encode({ Name: n.name, Addr: n.addr, Port: n.port, Meta: n.meta, Incarnation: n.incarnation, State: n.state, Vsn: n.vsn })),
    p.userState,
  ];
  return Buffer.concat(parts);
}

/** `07 | n | len_1..len_n (u16) | msg_1..msg_n`. */
export function compound(msgs: Uint8Array[]): Uint8Array {
  if (msgs.length > 255) throw new WireError("a compound message holds at most 255 parts");
  const head = new Uint8Array(2 + 2 * msgs.length);
  head[0] = MSG.compound;
  head[1] = msgs.length;
  const view = new DataView(head.buffer);
  msgs.forEach((m, i) => view.setUint16(2 + 2 * i, m.length));
  return Buffer.concat([head, ...msgs]);
}

/** `0c | crc32(rest) | rest`. */
export function withCrc(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(msg.length + 5);
  out[0] = MSG.hasCrc;
  new DataView(out.buffer).setUint32(1, crc32(msg));
  out.set(msg, 5);
  return out;
}

/** `09 | {Algo: 0, Buf: lzw(msg)}`. */
export function compressed(msg: Uint8Array): Uint8Array {
  return withType(MSG.compress, encode({ Algo: 0, Buf: lzwCompress(msg) }));
}

// ---- decoding --------------------------------------------------------------------------

/** Unwraps a UDP packet (after decryption) into its messages, recursively through compound, CRC and compress. */
export function decodePacket(buf: Uint8Array, depth = 0): PacketMessage[] {
  if (depth > 8) throw new WireError("messages nested too deeply");
  if (buf.length === 0) throw new WireError("empty message");
  const type = buf[0]!;
  const body = buf.subarray(1);
  switch (type) {
    case MSG.hasCrc: {
      if (buf.length < 5) throw new WireError("truncated CRC header");
      const want = new DataView(buf.buffer, buf.byteOffset).getUint32(1);
      const rest = buf.subarray(5);
      if (crc32(rest) !== want) throw new WireError("CRC mismatch");
      return decodePacket(rest, depth + 1);
    }
    case MSG.compound: {
      if (body.length < 1) throw new WireError("truncated compound");
      const n = body[0]!;
      if (body.length < 1 + 2 * n) throw new WireError("truncated compound header");
      const view = new DataView(body.buffer, body.byteOffset);
      let at = 1 + 2 * n;
      const out: PacketMessage[] = [];
      for (let i = 0; i < n; i++) {
        const len = view.getUint16(1 + 2 * i);
        if (at + len > body.length) throw new WireError(`compound part ${i} is truncated`);
        out.push(...decodePacket(body.subarray(at, at + len), depth + 1));
        at += len;
      }
      return out;
    }
    case MSG.compress:
      return decodePacket(inflate(body), depth + 1);
    case MSG.user:
      return [{ type: "user", payload: body }];
    default:
      return [decodeOne(type, body)];
  }
}

function inflate(body: Uint8Array): Uint8Array {
  const s = Struct.of(decodeAt(body, 0).value, "compress");
  if (s.uint("Algo") !== 0) throw new WireError(`unknown compression algorithm ${s.uint("Algo")}`);
  return lzwDecompress(s.bytes("Buf") ?? new Uint8Array(0));
}

function decodeOne(type: number, body: Uint8Array): PacketMessage {
  const name = Object.entries(MSG).find(([, v]) => v === type)?.[0] ?? `type ${type}`;
  const s = Struct.of(decodeAt(body, 0).value, name);
  const src = (): Pick<Ping, "sourceAddr" | "sourcePort" | "sourceNode"> => ({
    sourceAddr: s.bytes("SourceAddr") ?? undefined,
    sourcePort: s.has("SourcePort") ? s.uint("SourcePort") : undefined,
    sourceNode: s.has("SourceNode") ? s.str("SourceNode") : undefined,
  });
  switch (type) {
    case MSG.ping:
      return { type: "ping", seqNo: s.uint("SeqNo"), node: s.str("Node"), ...src() };
    case MSG.indirectPing:
      return { type: "indirectPing", seqNo: s.uint("SeqNo"), target: s.bytes("Target") ?? new Uint8Array(0), port: s.uint("Port"), node: s.str("Node"), nack: s.bool("Nack"), ...src() };
    case MSG.ack:
      return { type: "ack", seqNo: s.uint("SeqNo"), payload: s.bytes("Payload") };
    case MSG.nack:
      return { type: "nack", seqNo: s.uint("SeqNo") };
    case MSG.suspect:
      return { type: "suspect", incarnation: s.uint("Incarnation"), node: s.str("Node"), from: s.str("From") };
    case MSG.dead:
      return { type: "dead", incarnation: s.uint("Incarnation"), node: s.str("Node"), from: s.str("From") };
    case MSG.alive:
      return {
        type: "alive",
        incarnation: s.uint("Incarnation"),
        node: s.str("Node"),
        addr: s.bytes("Addr") ?? new Uint8Array(0),
        port: s.uint("Port"),
        meta: s.bytes("Meta"),
        vsn: s.bytes("Vsn") ?? new Uint8Array(0),
      };
    case MSG.err:
      return { type: "err", error: s.str("Error") };
    default:
      throw new WireError(`unknown message type ${type}`);
  }
}

/**
 * Decodes one stream message (after decryption): compress-wrapped or not; a push/pull with
 * its node states and user state; ping, ack, user (with its header) or err.
 */
export function decodeStream(buf: Uint8Array): StreamMessage {
  if (buf.length === 0) throw new WireError("empty stream");
  if (buf[0] === MSG.compress) {
    const { value } = decodeAt(buf, 1);
    const s = Struct.of(value, "compress");
    if (s.uint("Algo") !== 0) throw new WireError(`unknown compression algorithm ${s.uint("Algo")}`);
    return decodeStream(lzwDecompress(s.bytes("Buf") ?? new Uint8Array(0)));
  }
  const type = buf[0]!;
  if (type === MSG.pushPull) return decodePushPull(buf);
  if (type === MSG.user) {
    const { value, next } = decodeAt(buf, 1);
    const len = Struct.of(value, "userMsgHeader").uint("UserMsgLen");
    if (next + len > buf.length) throw new WireError("truncated user message");
    return { type: "user", payload: buf.subarray(next, next + len) };
  }
  const m = decodeOne(type, buf.subarray(1));
  if (m.type !== "ping" && m.type !== "ack" && m.type !== "err") throw new WireError(`unexpected ${m.type} on a stream`);
  return m;
}

function decodePushPull(buf: Uint8Array): PushPull {
  let { value, next } = decodeAt(buf, 1);
  const h = Struct.of(value, "pushPullHeader");
  const count = h.uint("Nodes");
  const userLen = h.uint("UserStateLen");
  if (count > buf.length) throw new WireError("push/pull claims more nodes than it carries");
  const nodes: PushNodeState[] = [];
  for (let i = 0; i < count; i++) {
    ({ value, next } = decodeAt(buf, next));
    const s = Struct.of(value, "pushNodeState");
    nodes.push({
      name: s.str("Name"),
      addr: s.bytes("Addr") ?? new Uint8Array(0),
      port: s.uint("Port"),
      meta: s.bytes("Meta"),
      incarnation: s.uint("Incarnation"),
      state: s.uint("State"),
      vsn: s.bytes("Vsn") ?? new Uint8Array(0),
    });
  }
  if (next + userLen > buf.length) throw new WireError("truncated push/pull user state");
  return { type: "pushPull", join: h.bool("Join"), nodes, userState: buf.subarray(next, next + userLen) };
}

// ---- CRC-32 (IEEE) ---------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
