// Frames queued in one turn of the event loop leave in one socket write. Under load a write
// per frame (a syscall each, and for node:net sockets a trip through the stream layer) cost
// more than the work the frames carried: a follower forwarding 64 concurrent reads spent a
// fifth of its CPU writing them one by one.

export class FrameBatch {
  private frames: Uint8Array[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(
    private readonly write: (bytes: Uint8Array) => void,
    /** When the batch goes: setImmediate gathers frames from many I/O callbacks; queueMicrotask those of one synchronous pass. */
    private readonly schedule: (flush: () => void) => void = setImmediate,
  ) {}

  push(frame: Uint8Array): void {
    this.frames.push(frame);
    this.bytes += frame.length;
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  /** Bytes queued here and not yet handed to the socket. */
  get pending(): number {
    return this.bytes;
  }

  flush(): void {
    this.scheduled = false;
    const frames = this.frames;
    if (frames.length === 0) return;
    const bytes = this.bytes;
    this.frames = [];
    this.bytes = 0;
    if (frames.length === 1) {
      this.write(frames[0]!);
      return;
    }
    const out = new Uint8Array(bytes);
    let at = 0;
    for (const f of frames) {
      out.set(f, at);
      at += f.length;
    }
    this.write(out);
  }

  /** Forgets what is queued (the connection is gone). */
  clear(): void {
    this.frames = [];
    this.bytes = 0;
  }
}
