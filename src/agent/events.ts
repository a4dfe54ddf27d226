import { ConsulError } from "../lib/errors.ts";
import { goRegExp, GoRegExpError } from "../lib/go-regexp.ts";
import { Struct } from "../gossip/fields.ts";
import { decode, encode } from "../gossip/msgpack.ts";

// Consul's user events: `tsc event` / PUT /v1/event/fire/<name> goes to a server, which
// broadcasts it as the Serf user event "consul:event:<name>" whose payload is the msgpack
// UserEvent below. Every agent that receives it applies the node/service/tag filters and keeps
// the newest 256 it accepted for /v1/event/list, a blocking query whose index is derived from
// the last event's ID.

export const USER_EVENT_PREFIX = "consul:event:";
/** Consul's userEventMaxVersion. */
const USER_EVENT_VERSION = 1;
/** Consul's eventBuf: the newest events an agent keeps. */
const EVENT_BUFFER = 256;

export interface UserEvent {
  id: string;
  name: string;
  payload: Uint8Array | null;
  nodeFilter: string;
  serviceFilter: string;
  tagFilter: string;
  version: number;
  /** Serf's event clock when it arrived; 0 in the answer to the one who fired it. */
  ltime: number;
}

/** What `tsc event` and /v1/event/fire supply. */
export type UserEventParams = Pick<UserEvent, "name" | "payload" | "nodeFilter" | "serviceFilter" | "tagFilter">;

export function userEventJson(e: UserEvent): Record<string, unknown> {
  return {
    ID: e.id,
    Name: e.name,
    Payload: e.payload && e.payload.length > 0 ? Buffer.from(e.payload).toString("base64") : null,
    NodeFilter: e.nodeFilter,
    ServiceFilter: e.serviceFilter,
    TagFilter: e.tagFilter,
    Version: e.version,
    LTime: e.ltime,
  };
}

/** Consul's validateUserEventParams, with its texts; the HTTP API answers them as 500. */
export function validateUserEvent(p: UserEventParams): void {
  if (p.name === "") throw new ConsulError(500, "User event missing name");
  if (p.tagFilter !== "" && p.serviceFilter === "") throw new ConsulError(500, "Cannot provide tag filter without service filter");
  for (const [what, pattern] of [
    ["node", p.nodeFilter],
    ["service", p.serviceFilter],
    ["tag", p.tagFilter],
  ] as const) {
    if (pattern === "") continue;
    try {
      goRegExp(pattern);
    } catch (err) {
      if (err instanceof GoRegExpError) throw new ConsulError(500, `Invalid ${what} filter: ${err.message}`);
      throw err;
    }
  }
}

/** A fresh event with its ID and version, as the agent that fires it makes it. */
export function newUserEvent(p: UserEventParams): UserEvent {
  validateUserEvent(p);
  return { ...p, id: crypto.randomUUID(), version: USER_EVENT_VERSION, ltime: 0 };
}

/** The Serf payload: Consul's UserEvent with its codec names (ID, n, p, nf, sf, tf, v). */
export function encodeUserEvent(e: UserEvent): Uint8Array {
  return encode({
    ID: e.id,
    n: e.name,
    p: e.payload && e.payload.length > 0 ? e.payload : undefined,
    nf: e.nodeFilter || undefined,
    sf: e.serviceFilter || undefined,
    tf: e.tagFilter || undefined,
    v: e.version,
  });
}

export function decodeUserEvent(bytes: Uint8Array, ltime: number): UserEvent {
  const s = Struct.of(decode(bytes), "UserEvent");
  return {
    id: s.str("ID"),
    name: s.str("n"),
    payload: s.bytes("p"),
    nodeFilter: s.str("nf"),
    serviceFilter: s.str("sf"),
    tagFilter: s.str("tf"),
    version: s.int("v"),
    ltime,
  };
}

/**
 * Consul's uuidToUint64: the UUID's two 64-bit halves XORed, so a blocking /v1/event/list has
 * an index that changes with each new event (it is not monotonic: callers compare for equality).
 */
export function eventIndex(id: string): bigint {
  const hex = id.replaceAll("-", "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return 0n;
  return BigInt(`0x${hex.slice(0, 16)}`) ^ BigInt(`0x${hex.slice(16)}`);
}

export interface LocalServiceView {
  id: string;
  tags: string[];
}

/**
 * Consul's shouldProcessUserEvent: the node name, then any local service (matched by its ID,
 * as Consul keys them) and, with a tag filter, one of that service's tags.
 */
export function eventMatches(e: UserEvent, nodeName: string, services: LocalServiceView[]): boolean {
  try {
    if (e.nodeFilter !== "" && !goRegExp(e.nodeFilter).test(nodeName)) return false;
    if (e.serviceFilter === "") return true;
    const serviceRe = goRegExp(e.serviceFilter);
    const tagRe = e.tagFilter !== "" ? goRegExp(e.tagFilter) : undefined;
    return services.some((s) => serviceRe.test(s.id) && (!tagRe || s.tags.some((t) => tagRe.test(t))));
  } catch {
    return false; // a filter this agent cannot parse: Consul logs it and drops the event
  }
}

/** The newest events this agent accepted, oldest first, with waiters for the next one. */
export class EventBuffer {
  private readonly events: UserEvent[] = [];
  private waiters = new Set<() => void>();

  add(e: UserEvent): void {
    this.events.push(e);
    if (this.events.length > EVENT_BUFFER) this.events.shift();
    const ws = this.waiters;
    this.waiters = new Set();
    for (const w of ws) w();
  }

  list(name = ""): UserEvent[] {
    return name === "" ? [...this.events] : this.events.filter((e) => e.name === name);
  }

  /** Resolves on the next event, or after `ms`, or when `signal` aborts. */
  waitNext(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
