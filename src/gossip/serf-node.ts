import { encodeMessage } from "./messages.ts";
import { peerIp } from "../lib/ip.ts";
import type { Member, MemberEvent, Memberlist } from "./memberlist.ts";
import { decodeString } from "./fields.ts";
import { decode } from "./msgpack.ts";
import { decodeSerf, decodeTags, encodeKeyResponse, encodeSerf, encodeTags, type SerfMessage, type SerfPushPull, type SerfQuery } from "./serf.ts";

// Serf on top of memberlist (gossip-protocol.md §9): tags in Meta, Lamport clocks, join and
// leave intents, the member status machine (alive, leaving, left, failed), the push/pull
// delegate state, user events, reaping. Pure like memberlist: the shell drives both.

export type SerfStatus = "alive" | "leaving" | "left" | "failed";
/** Consul's numeric member status: 0 none, 1 alive, 2 leaving, 3 left, 4 failed. */
export const STATUS_CODE: Record<SerfStatus, number> = { alive: 1, leaving: 2, left: 3, failed: 4 };

export interface SerfMember {
  name: string;
  addr: string;
  port: number;
  tags: Record<string, string>;
  status: SerfStatus;
  /** memberlist protocol min/max/cur, then Serf's (the Vsn bytes). */
  vsn: number[];
  statusLTime: number;
  leftAtMs: number;
}

export interface UserEventReceived {
  name: string;
  payload: Uint8Array | null;
  ltime: number;
}

/** Serf's default UserEventSizeLimit (Consul keeps it): name + payload, and the encoded message. */
export const USER_EVENT_SIZE_LIMIT = 512;

class LamportClock {
  value = 1;
  tick(): number {
    return this.value++;
  }
  /** Witness v: move past it. */
  witness(v: number): void {
    if (v >= this.value) this.value = v + 1;
  }
}

const EVENT_BUFFER = 512;
const QUERY_BUFFER = 512;
const QUERY_ACK = 1;
const QUERY_NO_BROADCAST = 2;
const KEY_QUERIES: Record<string, "install" | "use" | "remove"> = {
  "_serf_install-key": "install",
  "_serf_use-key": "use",
  "_serf_remove-key": "remove",
};

const NO_KEYS = { keys: [], primary: "" };

const RECENT_INTENT_MS = 5 * 60_000;

export interface QueryResponse {
  from: string;
  payload: Uint8Array | null;
}

interface PendingQuery {
  deadline: number;
  /** Members alive when asked: everyone answered once this many responses are in. */
  expected: number;
  responses: Map<string, Uint8Array | null>;
  done: (responses: QueryResponse[]) => void;
}

export interface SerfOptions {
  reconnectTimeoutMs: number;
  tombstoneTimeoutMs: number;
}

export class SerfNode {
  readonly clock = new LamportClock();
  readonly eventClock = new LamportClock();
  readonly queryClock = new LamportClock();
  private readonly members = new Map<string, SerfMember>();
  /** Intents about members memberlist has not told us of yet. */
  private readonly recentIntents = new Map<string, { type: "join" | "leave"; ltime: number; atMs: number }>();
  private readonly seenEvents = new Map<number, Set<string>>();
  private readonly userEvents: UserEventReceived[] = [];
  private readonly changes: Array<{ kind: "join" | "leave" | "fail" | "update" | "reap"; member: SerfMember }> = [];
  tags: Record<string, string>;
  /** Set by the pool: the installed gossip keys (base64) for `_serf_list-keys`. */
  keys: (() => { keys: string[]; primary: string }) | undefined;
  /** Set by the pool: install, use (make primary) or remove a key; returns an error text or "". */
  changeKey: ((op: "install" | "use" | "remove", key: Uint8Array) => string) | undefined;
  /** Queries already seen (LTime/ID), so each is spread and answered once. */
  private readonly seenQueries = new Set<string>();
  /** Queries we asked, collecting responses until everyone answered or the deadline. */
  private readonly asked = new Map<string, PendingQuery>();

  constructor(
    readonly ml: Memberlist,
    tags: Record<string, string>,
    private readonly opts: SerfOptions,
    now: number,
  ) {
    this.tags = tags;
    this.fromMemberlist(ml.self, now);
  }

  list(): SerfMember[] {
    return [...this.members.values()];
  }

  takeChanges(): Array<{ kind: "join" | "leave" | "fail" | "update" | "reap"; member: SerfMember }> {
    return this.changes.splice(0);
  }

  takeUserEvents(): UserEventReceived[] {
    return this.userEvents.splice(0);
  }

  // ---- from memberlist ---------------------------------------------------------------------

  onMemberEvents(events: MemberEvent[], now: number): void {
    for (const e of events) {
      const m = this.fromMemberlist(e.member, now);
      switch (e.kind) {
        case "join": {
          const intent = this.recentIntents.get(m.name);
          this.recentIntents.delete(m.name);
          m.status = intent?.type === "leave" && intent.ltime > m.statusLTime ? "leaving" : "alive";
          if (intent) m.statusLTime = Math.max(m.statusLTime, intent.ltime);
          this.changes.push({ kind: "join", member: m });
          break;
        }
        case "update":
          this.changes.push({ kind: "update", member: m });
          break;
        case "leave":
          // memberlist "left": the node said goodbye itself.
          m.status = "left";
          m.leftAtMs = now;
          this.changes.push({ kind: "leave", member: m });
          break;
        case "fail":
          m.status = m.status === "leaving" ? "left" : "failed";
          m.leftAtMs = now;
          this.changes.push({ kind: m.status === "left" ? "leave" : "fail", member: m });
          break;
      }
    }
  }

  private fromMemberlist(mm: Member, now: number): SerfMember {
    const existing = this.members.get(mm.name);
    const m: SerfMember = {
      name: mm.name,
      addr: peerIp(mm.addr),
      port: mm.port,
      tags: decodeTags(mm.meta),
      status: existing?.status ?? "alive",
      vsn: Array.from(mm.vsn),
      statusLTime: existing?.statusLTime ?? 0,
      leftAtMs: existing?.leftAtMs ?? 0,
    };
    this.members.set(mm.name, m);
    void now;
    return m;
  }

  // ---- user messages -----------------------------------------------------------------------

  onUserMessage(bytes: Uint8Array, now: number): void {
    let msg: SerfMessage;
    try {
      msg = decodeSerf(bytes);
    } catch {
      return; // a message type we do not speak (relay, key queries): not ours to break on
    }
    switch (msg.type) {
      case "join":
      case "leave":
        this.onIntent(msg.type, msg.node, msg.ltime, bytes, now, msg.type === "leave" && msg.prune);
        break;
      case "userEvent": {
        this.eventClock.witness(msg.ltime);
        const seen = this.seenEvents.get(msg.ltime) ?? new Set<string>();
        const key = `${msg.name}\0${Buffer.from(msg.payload ?? new Uint8Array(0)).toString("base64")}`;
        if (seen.has(key)) return;
        seen.add(key);
        this.seenEvents.set(msg.ltime, seen);
        this.trimEvents();
        this.userEvents.push({ name: msg.name, payload: msg.payload, ltime: msg.ltime });
        this.ml.queueUser(encodeMessage({ type: "user", payload: bytes }));
        break;
      }
      case "query":
        this.onQuery(msg, bytes);
        break;
      case "queryResponse": {
        const q = this.asked.get(`${msg.ltime}/${msg.id}`);
        // Acks only say the query arrived; a second response from one node is a duplicate.
        if (!q || msg.flags & QUERY_ACK || q.responses.has(msg.from)) return;
        q.responses.set(msg.from, msg.payload);
        if (q.responses.size >= q.expected) this.finishQuery(`${msg.ltime}/${msg.id}`);
        break;
      }
      default:
        break;
    }
  }

  private onIntent(type: "join" | "leave", node: string, ltime: number, raw: Uint8Array, now: number, prune: boolean): void {
    this.clock.witness(ltime);
    const m = this.members.get(node);
    if (!m) {
      const prev = this.recentIntents.get(node);
      if (prev && prev.ltime >= ltime) return;
      this.recentIntents.set(node, { type, ltime, atMs: now });
      this.ml.queueUser(encodeMessage({ type: "user", payload: raw }));
      return;
    }
    if (ltime <= m.statusLTime) return;
    m.statusLTime = ltime;
    if (type === "join") {
      if (m.status === "leaving") m.status = "alive";
    } else if (node === this.ml.cfg.name) {
      // Someone says we are leaving while we are not: a join intent puts that right.
      if (m.status === "alive") this.broadcastJoin();
      return;
    } else if (m.status === "alive") {
      m.status = "leaving";
    } else if (m.status === "failed") {
      m.status = "left"; // force-leave
      m.leftAtMs = now;
      this.changes.push({ kind: "leave", member: m });
      if (prune) this.erase(m);
    }
    this.ml.queueUser(encodeMessage({ type: "user", payload: raw }));
  }

  /**
   * A query (§9.2): spread it on unless told not to, and if it is for us, ack it when asked
   * (flag 1) straight to the asker. Internal `_serf_` queries we know are answered too:
   * `_serf_ping` with an empty response, `_serf_list-keys` with our keyring.
   */
  private onQuery(q: SerfQuery, raw: Uint8Array): void {
    this.queryClock.witness(q.ltime);
    const key = `${q.ltime}/${q.id}`;
    if (this.seenQueries.has(key)) return;
    this.seenQueries.add(key);
    if (this.seenQueries.size > QUERY_BUFFER) this.seenQueries.delete(this.seenQueries.values().next().value!);
    if ((q.flags & QUERY_NO_BROADCAST) === 0) this.ml.queueUser(encodeMessage({ type: "user", payload: raw }));
    if (!this.passesFilters(q.filters)) return;
    const to = { ip: peerIp(q.addr), port: q.port };
    const respond = (flags: number, payload: Uint8Array | null): void =>
      this.ml.sendTo(to, encodeMessage({ type: "user", payload: encodeSerf({ type: "queryResponse", ltime: q.ltime, id: q.id, from: this.ml.cfg.name, flags, payload }) }));
    if (q.flags & QUERY_ACK) respond(QUERY_ACK, null);
    if (q.name === "_serf_ping") respond(0, null);
    else if (q.name === "_serf_list-keys" && this.keys) {
      const k = this.keys();
      respond(0, k.keys.length > 0 ? encodeKeyResponse(k) : encodeKeyResponse(NO_KEYS, "Keyring is empty (encryption not enabled)"));
    }
    else if (KEY_QUERIES[q.name] && this.keys && this.changeKey) {
      // keyRequest: `07 | {Key: raw bytes}`.
      let error: string;
      try {
        const body = decode((q.payload ?? new Uint8Array(0)).subarray(1));
        const key = body instanceof Map ? body.get("Key") : undefined;
        error = key instanceof Uint8Array ? this.changeKey(KEY_QUERIES[q.name]!, key) : "Failed to decode key request";
      } catch {
        error = "Failed to decode key request";
      }
      // As serf: a change answers only with its result, the keys come from list-keys.
      respond(0, encodeKeyResponse(NO_KEYS, error));
    }
  }

  /** Filters: type 0 is a list of node names, type 1 a tag and a regular expression. */
  private passesFilters(filters: Uint8Array[] | null): boolean {
    for (const f of filters ?? []) {
      try {
        const body = decode(f.subarray(1));
        if (f[0] === 0 && Array.isArray(body)) {
          if (!body.some((n) => decodeString(n, "filter node") === this.ml.cfg.name)) return false;
        } else if (f[0] === 1 && body instanceof Map) {
          const tag = decodeString(body.get("Tag") ?? null, "filter tag");
          const expr = decodeString(body.get("Expr") ?? null, "filter expr");
          if (!new RegExp(expr).test(this.tags[tag] ?? "")) return false;
        }
      } catch {
        return false; // a filter we cannot read does not select us
      }
    }
    return true;
  }

  // ---- our actions -------------------------------------------------------------------------

  broadcastJoin(): void {
    const ltime = this.clock.tick();
    const self = this.members.get(this.ml.cfg.name);
    if (self) self.statusLTime = ltime;
    this.ml.queueUser(encodeMessage({ type: "user", payload: encodeSerf({ type: "join", ltime, node: this.ml.cfg.name }) }));
  }

  /** The first half of a graceful leave; memberlist's dead(self) follows once this has gone out. */
  broadcastLeave(): void {
    const self = this.members.get(this.ml.cfg.name);
    if (self) self.status = "leaving";
    const ltime = this.clock.tick();
    this.ml.queueUser(encodeMessage({ type: "user", payload: encodeSerf({ type: "leave", ltime, node: this.ml.cfg.name, prune: false }) }));
  }

  /** force-leave: a failed (or any) member is announced as leaving; failed ones become left. */
  forceLeave(node: string, prune: boolean, now: number): boolean {
    const m = this.members.get(node);
    if (!m) return false;
    const ltime = this.clock.tick();
    const raw = encodeSerf({ type: "leave", ltime, node, prune });
    this.onIntent("leave", node, ltime, raw, now, prune);
    this.ml.queueUser(encodeMessage({ type: "user", payload: raw }));
    return true;
  }

  /** Serf's UserEvent, with its size limits and their texts; the event also reaches us. */
  userEvent(name: string, payload: Uint8Array | null): void {
    const before = Buffer.byteLength(name) + (payload?.length ?? 0);
    if (before > USER_EVENT_SIZE_LIMIT) throw new Error(`user event exceeds configured limit of ${USER_EVENT_SIZE_LIMIT} bytes before encoding`);
    const ltime = this.eventClock.value;
    const bytes = encodeSerf({ type: "userEvent", ltime, name, payload, cc: false });
    if (bytes.length > USER_EVENT_SIZE_LIMIT) throw new Error(`encoded user event exceeds configured limit of ${USER_EVENT_SIZE_LIMIT} bytes after encoding`);
    this.eventClock.tick();
    this.seenEvents.set(ltime, new Set([`${name}\0${Buffer.from(payload ?? new Uint8Array(0)).toString("base64")}`]));
    this.trimEvents();
    this.userEvents.push({ name, payload, ltime });
    this.ml.queueUser(encodeMessage({ type: "user", payload: bytes }));
  }

  setTags(tags: Record<string, string>, now: number): void {
    this.tags = tags;
    this.ml.updateMeta(encodeTags(tags), now);
    const self = this.members.get(this.ml.cfg.name);
    if (self) self.tags = tags;
  }

  // ---- push/pull delegate state ------------------------------------------------------------

  localUserState(): Uint8Array {
    const statusLTimes = new Map<string, number>();
    const leftMembers: string[] = [];
    for (const m of this.members.values()) {
      statusLTimes.set(m.name, m.statusLTime);
      if (m.status === "left") leftMembers.push(m.name);
    }
    const state: SerfPushPull = {
      type: "pushPull",
      ltime: this.clock.value,
      statusLTimes,
      leftMembers,
      eventLTime: this.eventClock.value,
      events: new Array(EVENT_BUFFER).fill(null),
      queryLTime: this.queryClock.value,
    };
    return encodeSerf(state);
  }

  mergeUserState(bytes: Uint8Array, now: number): void {
    if (bytes.length === 0) return;
    let s: SerfMessage;
    try {
      s = decodeSerf(bytes);
    } catch {
      return;
    }
    if (s.type !== "pushPull") return;
    // Serf witnesses each remote clock minus one (§9.3).
    if (s.ltime > 0) this.clock.witness(s.ltime - 1);
    if (s.eventLTime > 0) this.eventClock.witness(s.eventLTime - 1);
    if (s.queryLTime > 0) this.queryClock.witness(s.queryLTime - 1);
    const left = new Set(s.leftMembers);
    for (const [name, ltime] of s.statusLTimes) {
      const type = left.has(name) ? "leave" : "join";
      const m = this.members.get(name);
      if (m && ltime <= m.statusLTime) continue;
      if (!m) {
        this.recentIntents.set(name, { type, ltime, atMs: now });
        continue;
      }
      m.statusLTime = ltime;
      if (type === "leave" && m.status === "alive" && name !== this.ml.cfg.name) m.status = "leaving";
    }
  }

  /**
   * Asks every member (Serf's Query with default parameters: no ack, no filters, no relay).
   * We answer it ourselves too, through the network like everyone else, so `done` gets every
   * alive member's response, or what arrived by the deadline.
   */
  query(name: string, payload: Uint8Array, timeoutMs: number, now: number, done: (responses: QueryResponse[]) => void): void {
    const self = this.ml.self;
    const ltime = this.queryClock.value;
    const id = Math.floor(Math.random() * 0x7fffffff);
    const q: SerfQuery = {
      type: "query",
      ltime,
      id,
      addr: self.addr,
      port: self.port,
      sourceNode: self.name,
      filters: null,
      flags: 0,
      relayFactor: 0,
      timeoutNs: timeoutMs * 1e6,
      name,
      payload,
    };
    this.asked.set(`${ltime}/${id}`, { deadline: now + timeoutMs, expected: this.ml.liveCount, responses: new Map(), done });
    this.onQuery(q, encodeSerf(q));
  }

  private finishQuery(key: string): void {
    const q = this.asked.get(key);
    if (!q) return;
    this.asked.delete(key);
    q.done([...q.responses].map(([from, payload]) => ({ from, payload })));
  }

  // ---- housekeeping ------------------------------------------------------------------------

  /** Erases failed members after the reconnect timeout and left ones after the tombstone timeout. */
  reap(now: number): void {
    for (const m of [...this.members.values()]) {
      if (m.name === this.ml.cfg.name) continue;
      const limit = m.status === "failed" ? this.opts.reconnectTimeoutMs : m.status === "left" ? this.opts.tombstoneTimeoutMs : Number.POSITIVE_INFINITY;
      if (now - m.leftAtMs > limit) this.erase(m);
    }
    for (const [name, i] of this.recentIntents) if (now - i.atMs > RECENT_INTENT_MS) this.recentIntents.delete(name);
    for (const [key, q] of this.asked) if (now >= q.deadline) this.finishQuery(key);
  }

  private erase(m: SerfMember): void {
    this.members.delete(m.name);
    this.changes.push({ kind: "reap", member: m });
  }

  private trimEvents(): void {
    const floor = this.eventClock.value - EVENT_BUFFER;
    for (const t of this.seenEvents.keys()) if (t < floor) this.seenEvents.delete(t);
  }
}
