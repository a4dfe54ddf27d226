import { assert } from "./assert.ts";

// ReadIndex (Raft thesis §6.4): a read waits for the commit index the leader had when it
// arrived, after a quorum has answered a heartbeat sent after it arrived; that round proves
// no newer leader had committed anything by then. A heartbeat carries the newest pending
// context, so one quorum round confirms every request queued before it.

interface PendingRead {
  ctx: string;
  index: number;
  acks: Set<string>;
}

export class ReadOnly {
  private queue: PendingRead[] = [];
  private readonly byCtx = new Map<string, PendingRead>();

  constructor(private readonly max: number) {}

  /** False for a duplicate context (it is already waiting). */
  add(ctx: string, index: number): boolean {
    assert(ctx !== "", "a ReadIndex context must not be empty");
    if (this.byCtx.has(ctx)) return false;
    if (this.queue.length >= this.max) throw new Error(`too many pending reads (${this.max})`);
    const r = { ctx, index, acks: new Set<string>() };
    this.queue.push(r);
    this.byCtx.set(ctx, r);
    return true;
  }

  /** Records that `from` answered a heartbeat carrying `ctx`; returns who has acknowledged it so far. */
  recvAck(from: string, ctx: string): ReadonlySet<string> | undefined {
    const r = this.byCtx.get(ctx);
    if (!r) return undefined;
    r.acks.add(from);
    return r.acks;
  }

  /** Releases `ctx` and every request queued before it. */
  release(ctx: string): { ctx: string; index: number }[] {
    const at = this.queue.findIndex((r) => r.ctx === ctx);
    if (at < 0) return [];
    const done = this.queue.splice(0, at + 1);
    for (const r of done) this.byCtx.delete(r.ctx);
    return done.map((r) => ({ ctx: r.ctx, index: r.index }));
  }

  lastCtx(): string {
    return this.queue[this.queue.length - 1]?.ctx ?? "";
  }

  get size(): number {
    return this.queue.length;
  }

  reset(): void {
    this.queue = [];
    this.byCtx.clear();
  }
}
