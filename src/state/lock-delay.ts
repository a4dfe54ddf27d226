import type { WriteTx } from "./tx.ts";

// Consul's lock-delay: after a session is invalidated, the keys it held cannot be acquired
// again for its LockDelay. Wall-clock based, so it is kept beside the replicated state and
// never in a snapshot: only the leader's view is enforced, before a lock is proposed.

/** Consul's MaxLockDelay: a longer LockDelay is honoured as 60s. */
export const MAX_LOCK_DELAY_MS = 60_000;
/** Expired entries are swept once the map grows past this, so it stays bounded. */
const SWEEP_AT = 256;

export class LockDelay {
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  /** Blocks `key` for `delayMs` from now; undone if `tx` aborts. */
  set(tx: WriteTx, key: string, delayMs: number): void {
    const ms = Math.min(delayMs, MAX_LOCK_DELAY_MS);
    if (!(ms > 0)) return;
    const before = this.until.get(key);
    const now = this.now();
    if (this.until.size >= SWEEP_AT) for (const [k, t] of this.until) if (t <= now) this.until.delete(k);
    this.until.set(key, now + ms);
    tx.onAbort(() => (before === undefined ? this.until.delete(key) : this.until.set(key, before)));
  }

  /** When `key` may be locked again (epoch ms), or undefined if it may be now. */
  expiration(key: string): number | undefined {
    const t = this.until.get(key);
    if (t === undefined) return undefined;
    if (t <= this.now()) {
      this.until.delete(key);
      return undefined;
    }
    return t;
  }
}
