import { assert } from "./assert.ts";

// A leader's record of one peer's log, as in etcd's tracker package:
//  probe     - the match point is unknown: one append in flight at a time, backing off on reject;
//  replicate - the follower keeps up: stream appends optimistically, up to maxInflight unacked;
//  snapshot  - it needs entries we compacted: wait for it to install the snapshot we sent.

export type ProgressState = "probe" | "replicate" | "snapshot";

/** Last index of each unacknowledged append, oldest first; bounded so a slow peer cannot queue without end. */
export class Inflights {
  private buf: number[] = [];

  constructor(readonly size: number) {}

  add(lastIndex: number): void {
    assert(!this.full(), "inflight appends beyond maxInflight");
    this.buf.push(lastIndex);
  }

  freeLE(index: number): void {
    let n = 0;
    while (n < this.buf.length && this.buf[n]! <= index) n++;
    if (n > 0) this.buf.splice(0, n);
  }

  freeFirst(): void {
    this.buf.shift();
  }

  full(): boolean {
    return this.buf.length >= this.size;
  }

  get count(): number {
    return this.buf.length;
  }

  reset(): void {
    this.buf = [];
  }
}

export class Progress {
  match = 0;
  state: ProgressState = "probe";
  /** In probe: an append is out and we wait for its answer (or the next heartbeat's). */
  probeSent = false;
  pendingSnapshot = 0;
  snapshotSentTick = 0;
  /** Highest commit index sent to this peer (it may not have arrived). */
  sentCommit = 0;
  readonly inflights: Inflights;
  /** Heard from since the last check-quorum round. */
  recentActive = true;
  lastContactTick: number;
  /** Send tick of the newest heartbeat this peer acknowledged in our term (for the lease). */
  ackedTick = Number.NEGATIVE_INFINITY;

  constructor(
    public next: number,
    maxInflight: number,
    nowTick: number,
  ) {
    this.inflights = new Inflights(maxInflight);
    this.lastContactTick = nowTick;
  }

  becomeProbe(): void {
    // After a snapshot, assume it landed: the next append probes right after it.
    this.next = this.state === "snapshot" ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.state = "probe";
    this.reset();
  }

  becomeReplicate(): void {
    this.state = "replicate";
    this.next = this.match + 1;
    this.reset();
  }

  becomeSnapshot(index: number, nowTick: number): void {
    this.state = "snapshot";
    this.reset();
    this.pendingSnapshot = index;
    this.snapshotSentTick = nowTick;
  }

  /** An acknowledgement up to `index`; false if it tells us nothing new (stale or duplicate). */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of the append whose prevLogIndex was `rejected`; `hint` is where our logs may
   * last agree. False if the rejection is stale (answers an append we no longer care about).
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.state === "snapshot" || this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }

  private reset(): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }
}

export function quorum(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** The value a quorum of voters has reached: the quorum-th largest. */
export function quorumValue(values: number[]): number {
  assert(values.length > 0, "quorum of an empty voter set");
  const sorted = [...values].sort((a, b) => b - a);
  return sorted[quorum(values.length) - 1]!;
}
