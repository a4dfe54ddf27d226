// Capping a check's Output the ways Consul does: interval checks keep the LAST bytes (a
// circular buffer, because a script's verdict is usually at the end); a TTL check's output
// from the API keeps the FIRST bytes with a note after it (CheckTTL.SetStatus).

/** Consul's DefaultBufSize, used when no positive cap is given. */
export const DEFAULT_OUTPUT_MAX_SIZE = 4096;

const decoder = new TextDecoder();

/** Keeps the last `size` bytes written and counts them all, like armon/circbuf. */
export class TailBuffer {
  // Grows up to `size` only as output arrives: most checks say little, caps may be large.
  private buf: Uint8Array;
  private pos = 0; // where the next byte goes; once wrapped, also where the oldest is
  total = 0;

  constructor(readonly size: number) {
    this.buf = new Uint8Array(Math.min(size, 256));
  }

  write(chunk: Uint8Array): void {
    const n = chunk.length;
    const size = this.size;
    if (this.total + n <= size) {
      if (this.total + n > this.buf.length) this.grow(Math.min(size, Math.max(this.buf.length * 2, this.total + n)));
      this.buf.set(chunk, this.total);
    } else {
      if (this.buf.length < size) this.grow(size);
      if (n >= size) {
        this.buf.set(chunk.subarray(n - size));
      } else {
        const first = Math.min(n, size - this.pos);
        this.buf.set(chunk.subarray(0, first), this.pos);
        this.buf.set(chunk.subarray(first), 0);
      }
    }
    this.total += n;
    this.pos = n >= size && this.total > size ? 0 : (this.pos + n) % size;
  }

  private grow(len: number): void {
    const next = new Uint8Array(len);
    next.set(this.buf.subarray(0, this.total));
    this.buf = next;
  }

  /** The retained bytes as text, oldest first (circbuf's String()). */
  text(): string {
    if (this.total <= this.size) return decoder.decode(this.buf.subarray(0, this.total));
    if (this.pos === 0) return decoder.decode(this.buf);
    const out = new Uint8Array(this.size);
    out.set(this.buf.subarray(this.pos));
    out.set(this.buf.subarray(0, this.pos), this.size - this.pos);
    return decoder.decode(out);
  }

  /** A script's output: the tail, announced as such when something was dropped. */
  captured(): string {
    const text = this.text();
    return this.total > this.size ? `Captured ${this.size} of ${this.total} bytes\n...\n${text}` : text;
  }
}

/** CheckTTL.SetStatus: the first `max` bytes, then " ... (captured max of total bytes)". */
export function capTtlOutput(output: string, max: number): string {
  const bytes = Buffer.from(output);
  if (bytes.length <= max) return output;
  return `${decoder.decode(bytes.subarray(0, max))} ... (captured ${max} of ${bytes.length} bytes)`;
}
