import { decodeString, Struct, WireError } from "./fields.ts";
import { withType } from "./messages.ts";
import { type Decoded, decode, decodeAt, encode, type GoValue } from "./msgpack.ts";

// Serf's messages, carried as memberlist user messages `08 | serfType | msgpack`, and the
// push/pull delegate state `02 | msgpack` (gossip-protocol.md §9). Also the node tags Serf
// keeps in memberlist's Meta (`ff | msgpack map`). Lamport times are plain numbers: a clock
// passing 2^53 ticks is not a concern.

export const SERF = { leave: 0, join: 1, pushPull: 2, userEvent: 3, query: 4, queryResponse: 5 } as const;
/** Serf's key change request (`{Key: raw bytes}`), the payload of install/use/remove queries. */
export const SERF_KEY_REQUEST = 7;
/** Serf's answer to its key queries, carried as a query response's payload. */
export const SERF_KEY_RESPONSE = 8;

export interface KeyResponse {
  result: boolean;
  message: string;
  keys: string[];
  primary: string;
}

/** Serf's keyResponse, the answer to every `_serf_*-key(s)` query. */
export function encodeKeyResponse(k: { keys: string[]; primary: string }, error = ""): Uint8Array {
  return withType(SERF_KEY_RESPONSE, encode({ Result: error === "", Message: error, Keys: k.keys, PrimaryKey: k.primary }));
}

/** A member's key response, or serf's own text for one that is not (counted as a failure). */
export function decodeKeyResponse(payload: Uint8Array | null): KeyResponse | string {
  if (!payload || payload.length < 1 || payload[0] !== SERF_KEY_RESPONSE) return "Invalid key query response type";
  try {
    const s = Struct.of(decode(payload.subarray(1)), "keyResponse");
    const keys = s.list("Keys").map((k) => decodeString(k, "key"));
    return { result: s.bool("Result"), message: s.str("Message"), keys, primary: s.str("PrimaryKey") };
  } catch {
    return "Failed to decode key query response";
  }
}

export interface SerfLeave {
  type: "leave";
  ltime: number;
  node: string;
  prune: boolean;
}
export interface SerfJoin {
  type: "join";
  ltime: number;
  node: string;
}
export interface UserEvents {
  ltime: number;
  events: Array<{ name: string; payload: Uint8Array | null }>;
}
export interface SerfPushPull {
  type: "pushPull";
  ltime: number;
  statusLTimes: Map<string, number>;
  leftMembers: string[];
  eventLTime: number;
  /** Serf sends its whole event buffer: 512 slots, empty ones null. */
  events: Array<UserEvents | null>;
  queryLTime: number;
}
export interface SerfUserEvent {
  type: "userEvent";
  ltime: number;
  name: string;
  payload: Uint8Array | null;
  cc: boolean;
}
export interface SerfQuery {
  type: "query";
  ltime: number;
  id: number;
  addr: Uint8Array;
  port: number;
  sourceNode: string;
  filters: Uint8Array[] | null;
  flags: number;
  relayFactor: number;
  timeoutNs: number;
  name: string;
  payload: Uint8Array | null;
}
export interface SerfQueryResponse {
  type: "queryResponse";
  ltime: number;
  id: number;
  from: string;
  flags: number;
  payload: Uint8Array | null;
}

export type SerfMessage = SerfLeave | SerfJoin | SerfPushPull | SerfUserEvent | SerfQuery | SerfQueryResponse;

function body(m: SerfMessage): GoValue {
  switch (m.type) {
    case "leave":
      return { LTime: m.ltime, Node: m.node, Prune: m.prune };
    case "join":
      return { LTime: m.ltime, Node: m.node };
    case "pushPull":
      return {
        LTime: m.ltime,
        StatusLTimes: new Map([...m.statusLTimes].map(([k, v]) => [k, v])),
        LeftMembers: m.leftMembers,
        EventLTime: m.eventLTime,
        Events: m.events.map((e) => (e ? { LTime: e.ltime, Events: e.events.map((x) => ({ Name: x.name, Payload: x.payload })) } : null)),
        QueryLTime: m.queryLTime,
      };
    case "userEvent":
      return { LTime: m.ltime, Name: m.name, Payload: m.payload, CC: m.cc };
    case "query":
      return {
        LTime: m.ltime,
        ID: m.id,
        Addr: m.addr,
        Port: m.port,
        SourceNode: m.sourceNode,
        Filters: m.filters,
        Flags: m.flags,
        RelayFactor: m.relayFactor,
        Timeout: m.timeoutNs,
        Name: m.name,
        Payload: m.payload,
      };
    case "queryResponse":
      return { LTime: m.ltime, ID: m.id, From: m.from, Flags: m.flags, Payload: m.payload };
  }
}

/** `serfType | msgpack` (wrap in a memberlist user message, or send as push/pull user state). */
export function encodeSerf(m: SerfMessage): Uint8Array {
  return withType(SERF[m.type], encode(body(m)));
}

export function decodeSerf(buf: Uint8Array): SerfMessage {
  if (buf.length === 0) throw new WireError("empty serf message");
  const type = buf[0]!;
  const { value } = decodeAt(buf, 1);
  switch (type) {
    case SERF.leave: {
      const s = Struct.of(value, "leave");
      return { type: "leave", ltime: s.uint("LTime"), node: s.str("Node"), prune: s.bool("Prune") };
    }
    case SERF.join: {
      const s = Struct.of(value, "join");
      return { type: "join", ltime: s.uint("LTime"), node: s.str("Node") };
    }
    case SERF.pushPull: {
      const s = Struct.of(value, "pushPull");
      const statusLTimes = new Map<string, number>();
      for (const [k, v] of s.map("StatusLTimes")) {
        if (typeof v !== "number" && typeof v !== "bigint") throw new WireError("pushPull.StatusLTimes: expected integers");
        statusLTimes.set(k, Number(v));
      }
      return {
        type: "pushPull",
        ltime: s.uint("LTime"),
        statusLTimes,
        leftMembers: s.list("LeftMembers").map((x) => decodeString(x, "pushPull.LeftMembers")),
        eventLTime: s.uint("EventLTime"),
        events: s.list("Events").map(userEvents),
        queryLTime: s.uint("QueryLTime"),
      };
    }
    case SERF.userEvent: {
      const s = Struct.of(value, "userEvent");
      return { type: "userEvent", ltime: s.uint("LTime"), name: s.str("Name"), payload: s.bytes("Payload"), cc: s.bool("CC") };
    }
    case SERF.query: {
      const s = Struct.of(value, "query");
      const filters = s.raw("Filters") === null || s.raw("Filters") === undefined ? null : s.list("Filters").map((f) => bytesOf(f, "query.Filters"));
      return {
        type: "query",
        ltime: s.uint("LTime"),
        id: s.uint("ID"),
        addr: s.bytes("Addr") ?? new Uint8Array(0),
        port: s.uint("Port"),
        sourceNode: s.str("SourceNode"),
        filters,
        flags: s.uint("Flags"),
        relayFactor: s.uint("RelayFactor"),
        timeoutNs: s.int("Timeout"),
        name: s.str("Name"),
        payload: s.bytes("Payload"),
      };
    }
    case SERF.queryResponse: {
      const s = Struct.of(value, "queryResponse");
      return { type: "queryResponse", ltime: s.uint("LTime"), id: s.uint("ID"), from: s.str("From"), flags: s.uint("Flags"), payload: s.bytes("Payload") };
    }
    default:
      throw new WireError(`unknown serf message type ${type}`);
  }
}

function bytesOf(v: Decoded, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new WireError(`${what}: expected bytes`);
  return v;
}

function userEvents(v: Decoded): UserEvents | null {
  if (v === null) return null;
  const s = Struct.of(v, "userEvents");
  return {
    ltime: s.uint("LTime"),
    events: s.list("Events").map((e) => {
      const x = Struct.of(e, "userEvent");
      return { name: x.str("Name"), payload: x.bytes("Payload") };
    }),
  };
}

// ---- tags in Meta ------------------------------------------------------------------------

const TAG_MAGIC = 0xff;
/** memberlist's limit on Meta. */
export const META_MAX = 512;

/** `ff | msgpack map[string]string`; the order of a Go map is random, ours is insertion order. */
export function encodeTags(tags: Record<string, string>): Uint8Array {
  const out = withType(TAG_MAGIC, encode(new Map(Object.entries(tags))));
  if (out.length > META_MAX) throw new WireError(`Encoded length of tags exceeds limit of ${META_MAX} bytes`);
  return out;
}

/** Serf's rule: without the magic byte, the whole Meta is the legacy "role" tag. */
export function decodeTags(meta: Uint8Array | null): Record<string, string> {
  if (!meta || meta.length === 0 || meta[0] !== TAG_MAGIC) return { role: new TextDecoder().decode(meta ?? new Uint8Array(0)) };
  const m = decode(meta.subarray(1));
  if (!(m instanceof Map)) throw new WireError("tags: expected a map");
  const out: Record<string, string> = {};
  for (const [k, v] of m) out[k] = decodeString(v, `tag ${k}`);
  return out;
}

/** Serf's ping payload: `01 | msgpack Coordinate{Adjustment, Error, Height, Vec}`. */
export interface Coordinate {
  vec: number[];
  error: number;
  adjustment: number;
  height: number;
}

export function decodeCoordinate(payload: Uint8Array): Coordinate {
  if (payload[0] !== 1) throw new WireError(`unsupported ping payload version ${payload[0]}`);
  const s = Struct.of(decode(payload.subarray(1)), "coordinate");
  return {
    vec: s.list("Vec").map((x) => (typeof x === "number" ? x : 0)),
    error: s.float("Error"),
    adjustment: s.float("Adjustment"),
    height: s.float("Height"),
  };
}
