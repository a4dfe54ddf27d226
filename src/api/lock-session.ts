import { parseDurationMs } from "../lib/duration.ts";
import { ApiError, type ApiClient } from "./client.ts";

// What Consul's api.Lock and api.Semaphore share: the session they create and keep alive
// (session.RenewPeriodic), the monitor that watches what they acquired (with the retry rule
// of api.IsRetryableError) and cancellable waits. Every wait here ends when its AbortSignal
// fires, so a shutdown never hangs on a blocking query.

/** api.DefaultLockSessionTTL and api.DefaultSemaphoreSessionTTL. */
export const SESSION_TTL = "15s";
/** api.DefaultLockWaitTime / DefaultSemaphoreWaitTime: one blocking read's wait. */
export const WAIT_TIME_MS = 15_000;
/** api.DefaultLockRetryTime: the pause after an acquire refused by lock-delay. */
export const LOCK_RETRY_TIME_MS = 5_000;
/** The pause between renewals while they fail (until a whole TTL passed without one). */
const RENEW_ERROR_RETRY_MS = 1_000;
/** A session destroy that gets no answer in this long is left to the TTL. */
const DESTROY_TIMEOUT_MS = 10_000;

export interface LockTiming {
  /** Give up acquiring after waitMs instead of waiting for ever (LockTryOnce). */
  tryOnce: boolean;
  waitMs: number;
  /** 500s (and unreachable agents) the monitor rides out before it calls the lock lost. */
  monitorRetries: number;
  monitorRetryMs: number;
}

/** A lock's or semaphore's failure, worded as Consul's api package words it. */
export class LockError extends Error {}

/** The outcome of an acquisition: held (with a promise that resolves when it is lost), or not. */
export type Acquired = { lost: Promise<void> } | undefined;

/** Resolves true after ms, false at once when signal fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (slept: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(slept);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** api.IsRetryableError: a 500 from the agent or a network failure. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof ApiError) return err.status === 500;
  return err instanceof Error && err.name !== "AbortError";
}

/** The reason text Consul's Go client gives for an error. */
export function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A read while contending: undefined when `stop` cut it short, else as wrapped(). */
export async function readUnlessStopped<T>(stop: AbortSignal, prefix: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (stop.aborted) return undefined;
    throw new LockError(`${prefix}${reason(err)}`);
  }
}

/** Runs an API call; its failure becomes LockError(`prefix` + reason), as the api package wraps them. */
export async function wrapped<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new LockError(`${prefix}${reason(err)}`);
  }
}

/**
 * A session that lives while its holder does: created with the holder's name and a TTL,
 * renewed at half the TTL (every second while renewals fail, until a whole TTL passed
 * without one), destroyed by stop().
 */
export class SessionKeeper {
  private readonly done = new AbortController();
  private loop: Promise<void> = Promise.resolve();

  private constructor(
    private readonly client: ApiClient,
    readonly id: string,
  ) {}

  static async create(client: ApiClient, body: Record<string, string>): Promise<SessionKeeper> {
    const text = await client.send("PUT", "/v1/session/create", {}, body);
    const keeper = new SessionKeeper(client, (JSON.parse(text) as { ID: string }).ID);
    keeper.loop = keeper.renew(parseDurationMs(body.TTL ?? SESSION_TTL) ?? 15_000);
    return keeper;
  }

  private async renew(ttlMsIn: number): Promise<void> {
    let ttlMs = ttlMsIn;
    let waitMs = ttlMs / 2;
    let lastRenew = Date.now();
    while (Date.now() - lastRenew <= ttlMs) {
      if (!(await sleep(waitMs, this.done.signal))) return;
      try {
        const r = await this.client.request("PUT", `/v1/session/renew/${this.id}`, {}, undefined, { signal: this.done.signal });
        if (r.status === 404) return; // gone: the monitor sees the lock go
        if (r.status !== 200) throw new ApiError(r.status, Buffer.from(r.body).toString());
        const [entry] = JSON.parse(Buffer.from(r.body).toString()) as Array<{ TTL?: string }>;
        ttlMs = parseDurationMs(entry?.TTL ?? "") ?? ttlMs; // the server may have changed it
        waitMs = ttlMs / 2;
        lastRenew = Date.now();
      } catch {
        if (this.done.signal.aborted) return;
        waitMs = RENEW_ERROR_RETRY_MS;
      }
    }
  }

  /** Stops renewing and destroys the session; a failure to destroy is left to the TTL. */
  async stop(): Promise<void> {
    if (this.done.signal.aborted) return;
    this.done.abort();
    await this.loop;
    await this.client.request("PUT", `/v1/session/destroy/${this.id}`, {}, undefined, { signal: AbortSignal.timeout(DESTROY_TIMEOUT_MS) }).catch(() => undefined);
  }
}

/**
 * Runs `check` as a blocking read over and over while it says we still hold what we
 * acquired (Consul's monitorLock): resolves when it no longer does, when a read fails past
 * the retries, or when stopped. Retries reset after each good read.
 */
export function monitor(timing: LockTiming, signal: AbortSignal, check: (index: number) => Promise<{ held: boolean; index: number }>): Promise<void> {
  return (async () => {
    let index = 0;
    let retries = timing.monitorRetries;
    while (!signal.aborted) {
      try {
        const r = await check(index);
        if (!r.held) return;
        index = r.index;
        retries = timing.monitorRetries;
      } catch (err) {
        if (signal.aborted || retries <= 0 || !isRetryable(err)) return;
        retries--;
        index = 0;
        if (!(await sleep(timing.monitorRetryMs, signal))) return;
      }
    }
  })();
}

/**
 * The wait of one acquisition attempt: undefined once stopped or a try-once acquisition ran
 * out of time, else the blocking read's wait (what is left of the try-once budget).
 */
export class AttemptClock {
  private readonly start = Date.now();
  private attempts = 0;

  constructor(private readonly timing: LockTiming) {}

  next(stop?: AbortSignal): number | undefined {
    if (stop?.aborted) return undefined;
    const elapsed = Date.now() - this.start;
    const first = this.attempts++ === 0;
    if (!this.timing.tryOnce || first) return this.timing.waitMs;
    return elapsed > this.timing.waitMs ? undefined : this.timing.waitMs - elapsed;
  }
}

/**
 * The life of a lock or semaphore: a session of its own, held while `contend` says it won
 * and `stillHeld` keeps saying so, given up by letGo. Subclasses say how to win and check.
 */
export abstract class SessionHolder {
  protected held = false;
  private session: SessionKeeper | undefined;
  private readonly stopMonitor = new AbortController();

  constructor(
    protected readonly client: ApiClient,
    protected readonly timing: LockTiming,
    private readonly what: "Lock" | "Semaphore",
  ) {}

  /** Tries to win with this session; false when `stop` fired or a try-once ran out. */
  protected abstract contend(id: string, stop: AbortSignal): Promise<boolean>;

  /** One (blocking, consistent) read: do we still hold it? */
  protected abstract stillHeld(id: string, index: number, signal: AbortSignal): Promise<{ held: boolean; index: number }>;

  /** Creates the session and contends; undefined when not won (the session is destroyed then). */
  protected async hold(stop: AbortSignal, session: Record<string, string>): Promise<Acquired> {
    this.assertNotHeld();
    let keeper: SessionKeeper;
    try {
      keeper = await SessionKeeper.create(this.client, { ...session, TTL: SESSION_TTL });
    } catch (err) {
      throw new LockError(`failed to create session: ${reason(err)}`);
    }
    try {
      this.held = await this.contend(keeper.id, stop);
    } finally {
      if (!this.held) await keeper.stop();
    }
    if (!this.held) return undefined;
    this.session = keeper;
    const signal = this.stopMonitor.signal;
    return { lost: monitor(this.timing, signal, (index) => this.stillHeld(keeper.id, index, signal)) };
  }

  /** Runs `release` with the session's ID, then destroys the session whatever happened. */
  protected async letGo(release: (id: string) => Promise<void>): Promise<void> {
    if (!this.held) throw new LockError(`${this.what} not held`);
    this.held = false;
    this.stopMonitor.abort();
    const keeper = this.session!;
    try {
      await release(keeper.id);
    } finally {
      await keeper.stop();
    }
  }

  /** Destroy's last step: delete `key` unless it changed since read; `inUse` when it did. */
  protected async deleteUnchanged(key: string, modifyIndex: number, what: string, inUse: string): Promise<void> {
    const removed = await wrapped(`failed to remove ${what}: `, () => this.client.kvDelete(key, { cas: modifyIndex }));
    if (!removed) throw new LockError(inUse);
  }

  protected assertNotHeld(): void {
    if (this.held) throw new LockError(`${this.what} already held`);
  }
}
