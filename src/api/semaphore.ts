import { posix } from "node:path";
import type { ApiClient, KvPair } from "./client.ts";
import { type Acquired, AttemptClock, LockError, type LockTiming, readUnlessStopped, reason, SessionHolder, wrapped } from "./lock-session.ts";

// A semaphore of `limit` slots under a KV prefix, as Consul's api.Semaphore: each contender
// holds PREFIX/<session> with its own session (behavior delete, so a dead contender's key
// goes), and PREFIX/.lock holds {"Limit":N,"Holders":{"<session>":true,...}}, changed only
// with check-and-set. A holder whose contender key is gone counts as dead and is pruned.

/** api.SemaphoreFlagValue. */
export const SEMAPHORE_FLAG_VALUE = 0xe0f69a2baa414de0n;
/** api.DefaultSemaphoreKey: the coordination key inside the prefix (a lock uses it too). */
export const SEMAPHORE_KEY = ".lock";
/** api.ErrSemaphoreInUse. */
export const ERR_SEMAPHORE_IN_USE = "Semaphore in use";
/** A release retries its check-and-set while others race it; past this something is wrong. */
const RELEASE_CAS_ATTEMPTS_MAX = 64;

interface SemaphoreLock {
  Limit: number;
  Holders: Record<string, boolean>;
}

export class Semaphore extends SessionHolder {
  private readonly lockKey: string;

  constructor(
    client: ApiClient,
    private readonly prefix: string,
    private readonly limit: number,
    private readonly sessionName: string,
    timing: LockTiming,
  ) {
    super(client, timing, "Semaphore");
    this.lockKey = posix.join(prefix, SEMAPHORE_KEY);
  }

  /** Blocks until a slot is ours; undefined when `stop` fired or a try-once ran out of time. Throws LockError. */
  acquire(stop: AbortSignal): Promise<Acquired> {
    return this.hold(stop, { Name: this.sessionName, Behavior: "delete" });
  }

  protected async stillHeld(id: string, index: number, signal: AbortSignal): Promise<{ held: boolean; index: number }> {
    const r = await this.client.kvGet(this.prefix, { recurse: true, consistent: true, index, signal });
    const pairs = r.entries ?? [];
    const lock = pruneDeadHolders(this.decode(this.findLock(pairs)), pairs);
    return { held: lock.Holders[id] !== undefined, index: r.index };
  }

  protected async contend(id: string, stop: AbortSignal): Promise<boolean> {
    const made = await wrapped("failed to make contender entry: ", () =>
      this.client.kvPut(posix.join(this.prefix, id), new Uint8Array(), { flags: SEMAPHORE_FLAG_VALUE, acquire: id }),
    );
    if (!made) throw new LockError("failed to make contender entry: <nil>");
    const clock = new AttemptClock(this.timing);
    let index = 0;
    for (;;) {
      const waitMs = clock.next(stop);
      if (waitMs === undefined) return false;
      const r = await readUnlessStopped(stop, "failed to read prefix: ", () => this.client.kvGet(this.prefix, { recurse: true, index, waitMs, signal: stop }));
      if (!r) return false;
      const pairs = r.entries ?? [];
      index = r.index;
      const lockPair = this.findLock(pairs);
      if (lockPair.Flags !== SEMAPHORE_FLAG_VALUE) throw new LockError("Existing key does not match semaphore use");
      const lock = this.decode(lockPair);
      if (lock.Limit !== this.limit) throw new LockError(`semaphore limit conflict (lock: ${lock.Limit}, local: ${this.limit})`);
      pruneDeadHolders(lock, pairs);
      if (Object.keys(lock.Holders).length >= lock.Limit) continue;
      lock.Holders[id] = true;
      if (await this.swap(lock, lockPair.ModifyIndex)) return true;
      // Another contender changed the lock first: read again and retry.
    }
  }

  /** Check-and-set of .lock; false when it changed since `modifyIndex`. */
  private async swap(lock: SemaphoreLock, modifyIndex: number): Promise<boolean> {
    return await wrapped("failed to update lock: ", () => this.client.kvPut(this.lockKey, encodeLock(lock), { flags: SEMAPHORE_FLAG_VALUE, cas: modifyIndex }));
  }

  /** Gives up the slot, deletes the contender key and destroys the session. */
  release(): Promise<void> {
    return this.letGo(async (id) => {
      await this.leave(id);
      await wrapped("", () => this.client.kvDelete(posix.join(this.prefix, id)));
    });
  }

  private async leave(id: string): Promise<void> {
    for (let attempt = 0; attempt < RELEASE_CAS_ATTEMPTS_MAX; attempt++) {
      const pair = (await wrapped("", () => this.client.kvGet(this.lockKey))).entries?.[0];
      const lock = this.decode(pair ?? emptyPair(this.lockKey, 0n));
      if (lock.Holders[id] === undefined) return;
      delete lock.Holders[id];
      if (await this.swap(lock, pair?.ModifyIndex ?? 0)) return;
    }
    throw new LockError("failed to update lock: too many concurrent changes");
  }

  /** Deletes .lock when no live holder is left; throws LockError(ERR_SEMAPHORE_IN_USE) otherwise. */
  async destroy(): Promise<void> {
    this.assertNotHeld();
    const pairs = (await wrapped("failed to read prefix: ", () => this.client.kvGet(this.prefix, { recurse: true }))).entries ?? [];
    const lockPair = this.findLock(pairs);
    if (lockPair.ModifyIndex === 0) return;
    if (lockPair.Flags !== SEMAPHORE_FLAG_VALUE) throw new LockError("Existing key does not match semaphore use");
    const lock = pruneDeadHolders(this.decode(lockPair), pairs);
    if (Object.keys(lock.Holders).length > 0) throw new LockError(ERR_SEMAPHORE_IN_USE);
    await this.deleteUnchanged(this.lockKey, lockPair.ModifyIndex, "semaphore", ERR_SEMAPHORE_IN_USE);
  }

  /** .lock among the listed pairs, or a fresh one (no value, our flags) when there is none yet. */
  private findLock(pairs: KvPair[]): KvPair {
    return pairs.find((p) => p.Key === this.lockKey) ?? emptyPair(this.lockKey, SEMAPHORE_FLAG_VALUE);
  }

  private decode(pair: KvPair): SemaphoreLock {
    if (pair.Value === null) return { Limit: this.limit, Holders: {} };
    return decodeLock(Buffer.from(pair.Value, "base64").toString());
  }
}

function emptyPair(key: string, flags: bigint): KvPair {
  return { Key: key, Flags: flags, Value: null, LockIndex: 0, CreateIndex: 0, ModifyIndex: 0 };
}

/** As Go's json.Unmarshal into semaphoreLock: unknown fields ignored, wrong types refused. */
export function decodeLock(text: string): SemaphoreLock {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new LockError(`lock decoding failed: ${reason(err)}`);
  }
  const o = (typeof v === "object" && v !== null && !Array.isArray(v) ? v : {}) as Record<string, unknown>;
  const limit = fieldOf(o, "Limit");
  const holders = fieldOf(o, "Holders");
  if (limit !== undefined && limit !== null && !Number.isInteger(limit)) throw new LockError("lock decoding failed: json: cannot unmarshal into Go struct field semaphoreLock.Limit of type int");
  if (holders !== undefined && holders !== null && (typeof holders !== "object" || Array.isArray(holders))) {
    throw new LockError("lock decoding failed: json: cannot unmarshal into Go struct field semaphoreLock.Holders of type map[string]bool");
  }
  const out: Record<string, boolean> = {};
  for (const [k, b] of Object.entries((holders ?? {}) as Record<string, unknown>)) out[k] = b === true;
  return { Limit: (limit as number | null | undefined) ?? 0, Holders: out };
}

/** Go's decoder matches field names case-insensitively. */
function fieldOf(o: Record<string, unknown>, name: string): unknown {
  const k = Object.keys(o).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : o[k];
}

/** As Go's json.Marshal: Limit, then Holders with sorted keys. */
export function encodeLock(lock: SemaphoreLock): Uint8Array {
  const holders = Object.fromEntries(Object.keys(lock.Holders).sort().map((k) => [k, lock.Holders[k]]));
  return new TextEncoder().encode(JSON.stringify({ Limit: lock.Limit, Holders: holders }));
}

/** Drops holders whose session holds no key under the prefix any more (its contender key is gone). */
export function pruneDeadHolders(lock: SemaphoreLock, pairs: KvPair[]): SemaphoreLock {
  const alive = new Set(pairs.filter((p) => p.Session).map((p) => p.Session!));
  for (const holder of Object.keys(lock.Holders)) if (!alive.has(holder)) delete lock.Holders[holder];
  return lock;
}
