import { durationError, formatDurationMs, parseDurationNs } from "../../lib/duration.ts";
import { ConsulError } from "../../lib/errors.ts";
import type { Session, SessionBehavior, SessionInput } from "../../state/sessions.ts";
import type { QueryMeta, QueryOptions } from "../query.ts";
import type { Server } from "../server.ts";
import { readQuery } from "./read.ts";

// The Session RPC endpoint (Consul's Session.Apply/Get/List/NodeSessions/Renew): validates a
// session as Consul's server does, draws its ID, writes through the log, and keeps the
// leader's TTL timers in step.

/** Consul's SessionTTLMax. */
const SESSION_TTL_MAX_MS = 24 * 3600_000;

/** A create request: everything but the ID, which the leader draws. Behavior is unchecked yet. */
export type SessionCreateArgs = Omit<SessionInput, "id" | "behavior"> & { behavior: string };

export class SessionEndpoint {
  constructor(
    private readonly server: Server,
    /** session_ttl_min: the shortest TTL a session may ask for. */
    private readonly ttlMinMs: number,
  ) {}

  /** Session.Apply create: answers the new session's ID. */
  async create(args: SessionCreateArgs): Promise<string> {
    if (args.node === "") throw new ConsulError(500, "Must provide Node");
    const behavior = this.behavior(args.behavior);
    this.checkTtl(args.ttl);
    const store = () => this.server.store;
    let id: string;
    do id = crypto.randomUUID();
    while (store().sessions.get(undefined, id).session);
    const session: SessionInput = { ...args, id, behavior };
    await this.server.apply({ type: "session-create", session });
    this.server.resetSessionTimer(session);
    return id;
  }

  /** Session.Apply destroy: an unknown ID is no error, as in Consul. */
  async destroy(id: string): Promise<void> {
    if (id === "") throw new ConsulError(500, "Must provide ID");
    if (!this.server.store.sessions.get(undefined, id).session) return;
    await this.server.apply({ type: "session-destroy", id });
    this.server.clearSessionTimer(id);
  }

  /** Session.Renew: restarts the TTL timer; [] when the session is gone. */
  async renew(id: string): Promise<Session[]> {
    // Only the leader's timers count: a follower must not answer a renew itself.
    await this.server.readBarrier("default");
    const session = this.server.store.sessions.get(undefined, id).session;
    if (!session) return [];
    this.server.resetSessionTimer(session);
    return [session];
  }

  async get(id: string, q: QueryOptions, signal?: AbortSignal): Promise<{ meta: QueryMeta; sessions: Session[] }> {
    const { meta, value } = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const r = s.sessions.get(ws, id);
        return { index: r.index, value: r.session ? [r.session] : [] };
      },
      signal,
    );
    return { meta, sessions: value };
  }

  async list(q: QueryOptions, signal?: AbortSignal): Promise<{ meta: QueryMeta; sessions: Session[] }> {
    const { meta, value } = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const r = s.sessions.list(ws);
        return { index: r.index, value: r.sessions };
      },
      signal,
    );
    return { meta, sessions: value };
  }

  async nodeSessions(node: string, q: QueryOptions, signal?: AbortSignal): Promise<{ meta: QueryMeta; sessions: Session[] }> {
    const { meta, value } = await readQuery(
      this.server,
      q,
      (s, ws) => {
        const r = s.sessions.nodeSessions(ws, node);
        return { index: r.index, value: r.sessions };
      },
      signal,
    );
    return { meta, sessions: value };
  }

  private behavior(b: string): SessionBehavior {
    if (b === "" || b === "release") return "release";
    if (b === "delete") return "delete";
    throw new ConsulError(500, `Invalid Behavior setting '${b}'`);
  }

  /** "" (or zero) means no TTL; otherwise within [session_ttl_min, 24h]. */
  private checkTtl(ttl: string): void {
    if (ttl === "") return;
    const err = durationError(ttl);
    if (err !== undefined) throw new ConsulError(500, `Session TTL '${ttl}' invalid: ${err}`);
    const ns = Math.round(parseDurationNs(ttl)!);
    if (ns !== 0 && (ns < this.ttlMinMs * 1e6 || ns > SESSION_TTL_MAX_MS * 1e6)) {
      throw new ConsulError(500, `Invalid Session TTL '${ns}', must be between [${formatDurationMs(this.ttlMinMs)}=${formatDurationMs(SESSION_TTL_MAX_MS)}]`);
    }
  }
}
