// Watch sets, so a blocking query wakes only when what it read changed.
//
// A read registers its watches at read time (not when the caller starts waiting), the way
// go-memdb hands out channels that are already open: a write that lands between the read and
// the wait still fires the set, so no change can slip through the gap.
//
// Topics are (table, key) pairs. A key watch fires on a write to exactly that key; a prefix
// watch fires on a write to any key starting with the prefix; a table watch on any write in
// the table. Writers call notify(table, key) once per changed row.

type Listener = () => void;

export class Notifier {
  private readonly exact = new Map<string, Set<Listener>>();
  private readonly prefixes = new Map<string, Map<string, Set<Listener>>>();
  private readonly tables = new Map<string, Set<Listener>>();
  private readonly abandon = new Set<Listener>();

  watchKey(table: string, key: string, fn: Listener): () => void {
    return add(this.exact, `${table}\0${key}`, fn);
  }

  watchPrefix(table: string, prefix: string, fn: Listener): () => void {
    let byPrefix = this.prefixes.get(table);
    if (!byPrefix) this.prefixes.set(table, (byPrefix = new Map()));
    return add(byPrefix, prefix, fn);
  }

  watchTable(table: string, fn: Listener): () => void {
    return add(this.tables, table, fn);
  }

  watchAbandon(fn: Listener): () => void {
    this.abandon.add(fn);
    return () => this.abandon.delete(fn);
  }

  /** A row of `table` at `key` changed. */
  notify(table: string, key: string): void {
    fire(this.exact.get(`${table}\0${key}`));
    fire(this.tables.get(table));
    const byPrefix = this.prefixes.get(table);
    if (byPrefix && byPrefix.size > 0) {
      // Walk the key's own prefixes (short keys, few lookups) rather than every watcher.
      for (let i = 0; i <= key.length; i++) fire(byPrefix.get(key.slice(0, i)));
    }
  }

  /** The whole store was replaced (snapshot restore): every blocked query must re-run. */
  notifyAbandon(): void {
    fire(this.abandon);
    for (const set of this.exact.values()) fire(set);
    for (const set of this.tables.values()) fire(set);
    for (const byPrefix of this.prefixes.values()) for (const set of byPrefix.values()) fire(set);
  }

  /** Number of registered listeners; bounded-resource checks in tests read this. */
  get size(): number {
    let n = this.abandon.size;
    for (const s of this.exact.values()) n += s.size;
    for (const s of this.tables.values()) n += s.size;
    for (const m of this.prefixes.values()) for (const s of m.values()) n += s.size;
    return n;
  }
}

function add(map: Map<string, Set<Listener>>, key: string, fn: Listener): () => void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(fn);
  return () => {
    const s = map.get(key);
    if (!s) return;
    s.delete(fn);
    if (s.size === 0) map.delete(key);
  };
}

function fire(set: Set<Listener> | undefined): void {
  if (!set || set.size === 0) return;
  // Copy first: a listener disposes its own set, which mutates this one.
  for (const fn of [...set]) fn();
}

/** The watches one query run registered. Fired once; then it stays fired. */
export class WatchSet {
  private fired = false;
  private wake: (() => void) | undefined;
  private readonly disposers: Array<() => void> = [];
  private readonly onFire = (): void => {
    if (this.fired) return;
    this.fired = true;
    this.dispose();
    this.wake?.();
  };

  constructor(private readonly notifier: Notifier) {
    this.disposers.push(notifier.watchAbandon(this.onFire));
  }

  key(table: string, key: string): void {
    if (!this.fired) this.disposers.push(this.notifier.watchKey(table, key, this.onFire));
  }

  prefix(table: string, prefix: string): void {
    if (!this.fired) this.disposers.push(this.notifier.watchPrefix(table, prefix, this.onFire));
  }

  table(table: string): void {
    if (!this.fired) this.disposers.push(this.notifier.watchTable(table, this.onFire));
  }

  get hasFired(): boolean {
    return this.fired;
  }

  /** Resolves true when a watch fired, false on timeout or abort. Disposes either way. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.fired) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (result: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.wake = undefined;
        this.dispose();
        resolve(result);
      };
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.wake = () => done(true);
    });
  }

  dispose(): void {
    for (const d of this.disposers.splice(0)) d();
  }
}
