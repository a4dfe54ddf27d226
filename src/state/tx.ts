import type { Notifier } from "./watch.ts";

/**
 * One write transaction at Raft index `index`. Tables record an undo step for every
 * mutation and the (table, key) they touched; commit() wakes watchers once, abort() undoes
 * in reverse order so a failed /v1/txn leaves nothing behind.
 */
export class WriteTx {
  private readonly undos: Array<() => void> = [];
  private readonly touched: Array<[string, string]> = [];
  private finished = false;

  constructor(
    readonly index: number,
    private readonly notifier: Notifier,
  ) {}

  onAbort(undo: () => void): void {
    this.undos.push(undo);
  }

  touch(table: string, key: string): void {
    this.touched.push([table, key]);
  }

  commit(): void {
    this.finish();
    for (const [table, key] of this.touched) this.notifier.notify(table, key);
  }

  abort(): void {
    this.finish();
    for (let i = this.undos.length - 1; i >= 0; i--) this.undos[i]!();
  }

  private finish(): void {
    if (this.finished) throw new Error("assertion failed: transaction finished twice");
    this.finished = true;
  }
}
