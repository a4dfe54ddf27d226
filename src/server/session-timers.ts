import { parseDurationMs } from "../lib/duration.ts";
import type { Session } from "../state/sessions.ts";

// Consul's session_ttl.go: only the leader times sessions out. A session's timer starts at
// create, restarts at each renew, and restarts for every session when a server becomes
// leader; it runs TTL x 2, the grace Consul gives for network and failover delays (a TTL is
// a lower bound, never a promise of prompt expiry). Expiry goes through Raft as a destroy.

export const SESSION_TTL_MULTIPLIER = 2;

export class SessionTimers {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly onExpire: (id: string) => void) {}

  /** (Re)starts the timer of a session with a TTL; a session without one has none. */
  reset(s: Pick<Session, "id" | "ttl">): void {
    const ttlMs = s.ttl === "" ? 0 : (parseDurationMs(s.ttl) ?? 0);
    if (!(ttlMs > 0)) return;
    this.clear(s.id);
    const timer = setTimeout(() => {
      this.timers.delete(s.id);
      this.onExpire(s.id);
    }, ttlMs * SESSION_TTL_MULTIPLIER);
    timer.unref?.();
    this.timers.set(s.id, timer);
  }

  clear(id: string): void {
    const timer = this.timers.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(id);
  }

  /** Leadership lost: the next leader times every session afresh. */
  clearAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  get size(): number {
    return this.timers.size;
  }
}
