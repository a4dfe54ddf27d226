// msgpack as HashiCorp's go-msgpack 0.5.5 writes it for memberlist and Serf (gossip-protocol.md
// §2), so our gossip is byte-for-byte what a Go peer sends:
// - strings and byte slices both use the raw family: fixstr, str16, str32; never str8, never bin;
// - integers take the smallest encoding for their value; floats are float64;
// - Go structs are maps with their field names sorted bytewise (plain objects here; an
//   undefined field is omitted, which is Go's omitempty); Go maps keep insertion order (Map);
// - nil is c0.
// The decoder is as lenient as Go's: it accepts str8 and bin too, and returns every raw value
// as bytes, since only the schema knows whether a field is a string or []byte.

/** A float64 on the wire (JS numbers alone cannot say 1.0 from 1). */
export class F64 {
  constructor(readonly value: number) {}
}

export type GoValue = null | boolean | number | bigint | string | Uint8Array | F64 | GoValue[] | Map<string, GoValue> | GoStruct;
export interface GoStruct {
  [field: string]: GoValue | undefined;
}

export type Decoded = null | boolean | number | bigint | Uint8Array | Decoded[] | Map<string, Decoded>;

export class MsgpackError extends Error {}

const text = new TextEncoder();
const utf8 = new TextDecoder();

class Out {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.length, v);
    this.length += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.length, v);
    this.length += 4;
  }

  u64(v: bigint): void {
    this.room(8);
    this.view.setBigUint64(this.length, v);
    this.length += 8;
  }

  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.length, v);
    this.length += 8;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function raw(o: Out, b: Uint8Array): void {
  if (b.length < 32) o.u8(0xa0 | b.length);
  else if (b.length < 0x10000) {
    o.u8(0xda);
    o.u16(b.length);
  } else {
    o.u8(0xdb);
    o.u32(b.length);
  }
  o.bytes(b);
}

function int(o: Out, v: number | bigint): void {
  const n = BigInt(v);
  if (n >= 0n) {
    if (n < 0x80n) o.u8(Number(n));
    else if (n < 0x100n) {
      o.u8(0xcc);
      o.u8(Number(n));
    } else if (n < 0x10000n) {
      o.u8(0xcd);
      o.u16(Number(n));
    } else if (n < 0x100000000n) {
      o.u8(0xce);
      o.u32(Number(n));
    } else {
      o.u8(0xcf);
      o.u64(n);
    }
    return;
  }
  if (n >= -32n) o.u8(Number(n) & 0xff);
  else if (n >= -128n) {
    o.u8(0xd0);
    o.u8(Number(n) & 0xff);
  } else if (n >= -32768n) {
    o.u8(0xd1);
    o.u16(Number(n) & 0xffff);
  } else if (n >= -2147483648n) {
    o.u8(0xd2);
    o.u32(Number(n) >>> 0);
  } else {
    o.u8(0xd3);
    o.u64(BigInt.asUintN(64, n));
  }
}

function header(o: Out, n: number, fix: number, b16: number, b32: number, fixMax: number): void {
  if (n <= fixMax) o.u8(fix | n);
  else if (n < 0x10000) {
    o.u8(b16);
    o.u16(n);
  } else {
    o.u8(b32);
    o.u32(n);
  }
}

function write(o: Out, v: GoValue): void {
  if (v === null) o.u8(0xc0);
  else if (typeof v === "boolean") o.u8(v ? 0xc3 : 0xc2);
  else if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new MsgpackError(`${v} is not an integer: wrap floats in F64`);
    int(o, v);
  } else if (typeof v === "bigint") int(o, v);
  else if (typeof v === "string") raw(o, text.encode(v));
  else if (v instanceof Uint8Array) raw(o, v);
  else if (v instanceof F64) {
    o.u8(0xcb);
    o.f64(v.value);
  } else if (Array.isArray(v)) {
    header(o, v.length, 0x90, 0xdc, 0xdd, 15);
    for (const x of v) write(o, x);
  } else if (v instanceof Map) {
    header(o, v.size, 0x80, 0xde, 0xdf, 15);
    for (const [k, x] of v) {
      raw(o, text.encode(k));
      write(o, x);
    }
  } else {
    // A Go struct: exported fields in sorted order (uppercase before lowercase, bytewise).
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    header(o, keys.length, 0x80, 0xde, 0xdf, 15);
    for (const k of keys) {
      raw(o, text.encode(k));
      write(o, v[k]!);
    }
  }
}

export function encode(v: GoValue): Uint8Array {
  const o = new Out();
  write(o, v);
  return o.result();
}

/** Decodes one value at `offset`; returns it and the offset after it. */
export function decodeAt(buf: Uint8Array, offset: number): { value: Decoded; next: number } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = offset;
  const need = (n: number): void => {
    if (at + n > buf.length) throw new MsgpackError("truncated msgpack");
  };
  const u8 = (): number => {
    need(1);
    return buf[at++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(at);
    at += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(at);
    at += 4;
    return v;
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const b = buf.slice(at, at + n);
    at += n;
    return b;
  };
  const big = (v: bigint): number | bigint => (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v);
  let depth = 0;
  const value = (): Decoded => {
    if (++depth > 64) throw new MsgpackError("msgpack nested too deeply");
    try {
      const b = u8();
      if (b <= 0x7f) return b;
      if (b >= 0xe0) return b - 0x100;
      if ((b & 0xe0) === 0xa0) return bytes(b & 0x1f);
      if ((b & 0xf0) === 0x90) return array(b & 0x0f);
      if ((b & 0xf0) === 0x80) return map(b & 0x0f);
      switch (b) {
        case 0xc0:
          return null;
        case 0xc2:
          return false;
        case 0xc3:
          return true;
        case 0xc4:
        case 0xd9:
          return bytes(u8());
        case 0xc5:
        case 0xda:
          return bytes(u16());
        case 0xc6:
        case 0xdb:
          return bytes(u32());
        case 0xca: {
          need(4);
          const v = view.getFloat32(at);
          at += 4;
          return v;
        }
        case 0xcb: {
          need(8);
          const v = view.getFloat64(at);
          at += 8;
          return v;
        }
        case 0xcc:
          return u8();
        case 0xcd:
          return u16();
        case 0xce:
          return u32();
        case 0xcf: {
          need(8);
          const v = view.getBigUint64(at);
          at += 8;
          return big(v);
        }
        case 0xd0:
          return (u8() << 24) >> 24;
        case 0xd1:
          return (u16() << 16) >> 16;
        case 0xd2:
          return u32() | 0;
        case 0xd3: {
          need(8);
          const v = view.getBigInt64(at);
          at += 8;
          return big(v);
        }
        case 0xdc:
          return array(u16());
        case 0xdd:
          return array(u32());
        case 0xde:
          return map(u16());
        case 0xdf:
          return map(u32());
        default:
          throw new MsgpackError(`unrecognized msgpack descriptor byte 0x${b.toString(16)}`);
      }
    } finally {
      depth--;
    }
  };
  const array = (n: number): Decoded[] => {
    need(n); // each element is at least one byte: a huge count cannot allocate before failing
    const out: Decoded[] = [];
    for (let i = 0; i < n; i++) out.push(value());
    return out;
  };
  const map = (n: number): Map<string, Decoded> => {
    need(n * 2);
    const out = new Map<string, Decoded>();
    for (let i = 0; i < n; i++) {
      const k = value();
      if (!(k instanceof Uint8Array)) throw new MsgpackError("msgpack map key is not a string");
      out.set(utf8.decode(k), value());
    }
    return out;
  };
  return { value: value(), next: at };
}

export function decode(buf: Uint8Array): Decoded {
  return decodeAt(buf, 0).value;
}
