// LZW as Go's compress/lzw does it with LSB bit order and 8-bit literals, which memberlist
// uses for its `compress` wrapper (gossip-protocol.md §4.3): codes start 9 bits wide and grow
// to 12; 256 clears the table, 257 ends the stream; the writer starts with a clear code and
// clears again when the next code would be 4095. Same output as Go, byte for byte.

const CLEAR = 256;
const EOF = 257;
const MAX_WIDTH = 12;
const MAX_CODE = (1 << MAX_WIDTH) - 1;

export class LzwError extends Error {}

export function lzwCompress(input: Uint8Array): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let nBits = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 1 << width;
  const put = (code: number): void => {
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out.push(bits & 0xff);
      bits >>>= 8;
      nBits -= 8;
    }
  };
  let table = new Map<number, number>();
  /** Go's incHi: true when the table ran out and was reset (the key is then not inserted). */
  const incHi = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi === MAX_CODE) {
      put(CLEAR);
      width = 9;
      hi = EOF;
      overflow = 1 << width;
      table = new Map();
      return true;
    }
    return false;
  };
  put(CLEAR);
  if (input.length > 0) {
    let code = input[0]!;
    for (let i = 1; i < input.length; i++) {
      const literal = input[i]!;
      const key = (code << 8) | literal;
      const hit = table.get(key);
      if (hit !== undefined) {
        code = hit;
        continue;
      }
      put(code);
      code = literal;
      if (incHi()) continue;
      table.set(key, hi);
    }
    put(code);
    incHi();
  }
  put(EOF);
  if (nBits > 0) out.push(bits & 0xff);
  return Uint8Array.from(out);
}

/** Inflates a Go LZW stream; `limit` bounds the output so a small packet cannot inflate without end. */
export function lzwDecompress(input: Uint8Array, limit = 40 * 1024 * 1024): Uint8Array {
  const prefix = new Uint16Array(1 << MAX_WIDTH);
  const suffix = new Uint8Array(1 << MAX_WIDTH);
  const out: number[] = [];
  const scratch = new Uint8Array(1 << MAX_WIDTH);
  let width = 9;
  let hi = EOF;
  let overflow = 1 << width;
  let last = -1;
  let bits = 0;
  let nBits = 0;
  let pos = 0;
  for (;;) {
    while (nBits < width) {
      if (pos >= input.length) throw new LzwError("lzw: unexpected end of stream");
      bits |= input[pos++]! << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;
    if (code === CLEAR) {
      width = 9;
      hi = EOF;
      overflow = 1 << width;
      last = -1;
      continue;
    }
    if (code === EOF) return Uint8Array.from(out);
    if (code < CLEAR) {
      out.push(code);
      if (last !== -1) {
        suffix[hi] = code;
        prefix[hi] = last;
      }
    } else if (code <= hi) {
      // Expand into scratch from the end, then copy out.
      let i = scratch.length - 1;
      let c = code;
      if (code === hi && last !== -1) {
        // hi itself: the last expansion followed by its own first byte.
        c = last;
        while (c >= CLEAR) c = prefix[c]!;
        scratch[i--] = c;
        c = last;
      }
      while (c >= CLEAR) {
        scratch[i--] = suffix[c]!;
        c = prefix[c]!;
      }
      scratch[i] = c;
      for (let j = i; j < scratch.length; j++) out.push(scratch[j]!);
      if (last !== -1) {
        suffix[hi] = c;
        prefix[hi] = last;
      }
    } else {
      throw new LzwError("lzw: invalid code");
    }
    if (out.length > limit) throw new LzwError("lzw: output too large");
    last = code;
    hi++;
    if (hi >= overflow) {
      if (width === MAX_WIDTH) {
        last = -1;
        hi--;
      } else {
        width++;
        overflow <<= 1;
      }
    }
  }
}
