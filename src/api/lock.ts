import type { ApiClient } from "./client.ts";
import { type Acquired, AttemptClock, LOCK_RETRY_TIME_MS, LockError, type LockTiming, readUnlessStopped, SessionHolder, sleep, wrapped } from "./lock-session.ts";

// A mutex on one KV key, as Consul's api.Lock: a session of our own (TTL, renewed), the key
// acquired with it and flagged LockFlagValue so a semaphore on the same key is told apart,
// then a consistent blocking read that watches we still hold it.

/** api.LockFlagValue. */
export const LOCK_FLAG_VALUE = 0x2ddccbc058a50c18n;

/** api.ErrLockInUse: Destroy found someone holding the key. */
export const ERR_LOCK_IN_USE = "Lock in use";

export class Lock extends SessionHolder {
  constructor(
    client: ApiClient,
    private readonly key: string,
    private readonly sessionName: string,
    timing: LockTiming,
  ) {
    super(client, timing, "Lock");
  }

  /** Blocks until the lock is ours; undefined when `stop` fired or a try-once ran out of time. Throws LockError. */
  lock(stop: AbortSignal): Promise<Acquired> {
    return this.hold(stop, { Name: this.sessionName });
  }

  protected async stillHeld(id: string, index: number, signal: AbortSignal): Promise<{ held: boolean; index: number }> {
    const r = await this.client.kvGet(this.key, { consistent: true, index, signal });
    return { held: r.entries?.[0]?.Session === id, index: r.index };
  }

  protected async contend(id: string, stop: AbortSignal): Promise<boolean> {
    const clock = new AttemptClock(this.timing);
    let index = 0;
    for (;;) {
      const waitMs = clock.next(stop);
      if (waitMs === undefined) return false;
      const r = await readUnlessStopped(stop, "failed to read lock: ", () => this.client.kvGet(this.key, { index, waitMs, signal: stop }));
      if (!r) return false;
      const pair = r.entries?.[0];
      index = r.index;
      if (pair && pair.Flags !== LOCK_FLAG_VALUE) throw new LockError("Existing key does not match lock use");
      if (pair?.Session === id) return true;
      if (pair?.Session) continue;
      const locked = await wrapped("failed to acquire lock: ", () => this.client.kvPut(this.key, new Uint8Array(), { flags: LOCK_FLAG_VALUE, acquire: id }));
      if (locked) return true;
      // Refused: held by someone who came first (wait on the key), or in lock-delay (wait a while).
      const seen = await readUnlessStopped(stop, "", () => this.client.kvGet(this.key, { waitMs, signal: stop }));
      if (!seen) return false;
      index = seen.index;
      if (seen.entries?.[0]?.Session) continue;
      index = 0;
      if (!(await sleep(LOCK_RETRY_TIME_MS, stop))) return false;
    }
  }

  /** Releases the key and destroys the session. */
  unlock(): Promise<void> {
    return this.letGo(async (id) => {
      await wrapped("failed to release lock: ", () => this.client.kvPut(this.key, new Uint8Array(), { flags: LOCK_FLAG_VALUE, release: id }));
    });
  }

  /** Deletes the key when nobody holds it; throws LockError(ERR_LOCK_IN_USE) when someone does. */
  async destroy(): Promise<void> {
    this.assertNotHeld();
    const pair = (await wrapped("failed to read lock: ", () => this.client.kvGet(this.key))).entries?.[0];
    if (!pair) return;
    if (pair.Flags !== LOCK_FLAG_VALUE) throw new LockError("Existing key does not match lock use");
    if (pair.Session) throw new LockError(ERR_LOCK_IN_USE);
    await this.deleteUnchanged(this.key, pair.ModifyIndex, "lock", ERR_LOCK_IN_USE);
  }
}
