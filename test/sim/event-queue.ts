// Simulated time: a binary heap of callbacks ordered by (time, insertion order), so two
// events at the same instant always run in the order they were scheduled.

interface Event {
  at: number;
  seq: number;
  run: () => void;
}

export class EventQueue {
  private heap: Event[] = [];
  private seq = 0;
  now = 0;

  at(time: number, run: () => void): void {
    this.push({ at: Math.max(time, this.now), seq: this.seq++, run });
  }

  after(delay: number, run: () => void): void {
    this.at(this.now + delay, run);
  }

  /** Runs events up to and including time `until`; false if the queue ran dry first. */
  runUntil(until: number, afterEach: () => void): boolean {
    while (this.heap.length > 0 && this.heap[0]!.at <= until) {
      const e = this.pop();
      this.now = e.at;
      e.run();
      afterEach();
    }
    this.now = Math.max(this.now, until);
    return this.heap.length > 0;
  }

  get size(): number {
    return this.heap.length;
  }

  private push(e: Event): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Event {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
