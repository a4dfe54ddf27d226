// A minimal tar (POSIX ustar) writer and reader for snapshot archives: regular files only,
// laid out as Go's archive/tar writes them (octal fields, "ustar\0" "00", two zero blocks at
// the end and no record padding, which Consul's reader would count as trailing bytes). The
// reader also takes PAX and GNU long-name headers, and reports damage in Go's words, since
// those texts reach the user through `snapshot restore` and `snapshot inspect`.

const BLOCK = 512;

export interface TarFile {
  name: string;
  data: Uint8Array;
  /** Seconds since the epoch. */
  mtimeSec: number;
  mode?: number;
}

/** Go's archive/tar sentinel texts. */
export const TAR_INVALID_HEADER = "archive/tar: invalid tar header";
export const UNEXPECTED_EOF = "unexpected EOF";

export function writeTar(files: TarFile[]): Uint8Array {
  const size = files.reduce((n, f) => n + BLOCK + padded(f.data.length), 2 * BLOCK);
  const out = new Uint8Array(size);
  let at = 0;
  for (const f of files) {
    out.set(header(f), at);
    at += BLOCK;
    out.set(f.data, at);
    at += padded(f.data.length);
  }
  return out; // the last two blocks stay zero: the end-of-archive marker
}

function header(f: TarFile): Uint8Array {
  const name = new TextEncoder().encode(f.name);
  if (name.length > 100) throw new Error(`assertion failed: tar name too long: ${f.name}`);
  const h = new Uint8Array(BLOCK);
  h.set(name, 0);
  octal(h, 100, 8, f.mode ?? 0o600);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, f.data.length);
  octal(h, 136, 12, f.mtimeSec);
  h[156] = 0x30; // '0': regular file
  h.set(ascii("ustar\0" + "00"), 257);
  octal(h, 329, 8, 0); // devmajor
  octal(h, 337, 8, 0); // devminor
  // The checksum is summed with its own field as spaces, then written as 6 digits, NUL, space.
  h.fill(0x20, 148, 156);
  h.set(ascii(`${checksum(h).toString(8).padStart(6, "0")}\0 `), 148);
  return h;
}

/** Zero-padded octal with a trailing NUL, as Go formats ustar numbers. */
function octal(h: Uint8Array, at: number, width: number, n: number): void {
  h.set(ascii(`${n.toString(8).padStart(width - 1, "0")}\0`), at);
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

function padded(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

function checksum(h: Uint8Array): number {
  let sum = 0;
  for (const b of h) sum += b;
  return sum;
}

export class TarError extends Error {}

export interface TarEntry {
  name: string;
  /** '0' regular, '5' directory, ... (Go's Typeflag as a character). */
  type: string;
  data: Uint8Array;
}

/**
 * Reads entries one at a time, so a caller sees the archive's problems in the order Go's
 * reader meets them. next() answers undefined at the end of the archive; `offset` is then
 * how many bytes the archive used (anything after it is trailing data).
 */
export class TarReader {
  offset = 0;

  /** `cut`: the input is what was left of a cut-off stream, so running out of it is an error. */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly cut = false,
  ) {}

  next(): TarEntry | undefined {
    let paxPath: string | undefined;
    let paxSize: number | undefined;
    let longName: string | undefined;
    for (;;) {
      const h = this.block();
      if (!h) return undefined;
      if (h.every((b) => b === 0)) {
        const second = this.block();
        if (second && !second.every((b) => b === 0)) throw new TarError(TAR_INVALID_HEADER);
        return undefined;
      }
      const stored = parseNumber(h.subarray(148, 156));
      const sum = checksum(h) - checksum(h.subarray(148, 156)) + 8 * 0x20;
      if (stored === undefined || (stored !== sum && stored !== signedChecksum(h))) throw new TarError(TAR_INVALID_HEADER);
      const type = h[156] === 0 ? "0" : String.fromCharCode(h[156]!);
      const size = paxSize ?? parseNumber(h.subarray(124, 136));
      if (size === undefined || size < 0) throw new TarError(TAR_INVALID_HEADER);
      const data = this.take(size);
      if (type === "x" || type === "g") {
        if (type === "x") ({ path: paxPath, size: paxSize } = parsePax(data));
        continue;
      }
      if (type === "L") {
        longName = cString(data);
        continue;
      }
      let name = cString(h.subarray(0, 100));
      const prefix = cString(h.subarray(345, 500));
      if (cString(h.subarray(257, 263)) === "ustar" && prefix !== "") name = `${prefix}/${name}`;
      return { name: paxPath ?? longName ?? name, type, data };
    }
  }

  /** The next header block; undefined at a clean end of input. */
  private block(): Uint8Array | undefined {
    if (this.offset === this.bytes.length && !this.cut) return undefined;
    // Past the end: the last file's padding was cut off, or the whole stream was.
    if (this.offset + BLOCK > this.bytes.length) throw new TarError(UNEXPECTED_EOF);
    const b = this.bytes.subarray(this.offset, this.offset + BLOCK);
    this.offset += BLOCK;
    return b;
  }

  private take(size: number): Uint8Array {
    if (this.offset + size > this.bytes.length) throw new TarError(UNEXPECTED_EOF);
    const data = this.bytes.subarray(this.offset, this.offset + size);
    this.offset += padded(size);
    return data;
  }
}

/** Old writers summed the header as signed bytes; Go accepts either. */
function signedChecksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i]! << 24) >> 24;
  return sum;
}

/** An octal field (NUL or space terminated), or GNU base-256 when the high bit is set. */
function parseNumber(field: Uint8Array): number | undefined {
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return Number.isSafeInteger(n) ? n : undefined;
  }
  const text = cString(field).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  return Number.parseInt(text, 8);
}

function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

/** PAX records: "<len> <key>=<value>\n", len counting bytes; only path and size matter here. */
function parsePax(data: Uint8Array): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const len = space < 0 ? Number.NaN : Number(new TextDecoder().decode(data.subarray(at, space)));
    if (!Number.isInteger(len) || len <= space - at + 1 || at + len > data.length) throw new TarError(TAR_INVALID_HEADER);
    const record = new TextDecoder().decode(data.subarray(space + 1, at + len - 1));
    const eq = record.indexOf("=");
    if (eq < 0) throw new TarError(TAR_INVALID_HEADER);
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === "path") out.path = value;
    if (key === "size") out.size = Number(value);
    at += len;
  }
  return out;
}
