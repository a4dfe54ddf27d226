import type { Decoded } from "./msgpack.ts";

// Reads a decoded msgpack map as a Go struct would: exact, case-sensitive keys; a missing key
// is the zero value; raw values become strings or bytes as the field's type says. A value of
// the wrong kind is an error, as go-msgpack's decoder makes it.

export class WireError extends Error {}

const utf8 = new TextDecoder();

export class Struct {
  constructor(
    private readonly m: Map<string, Decoded>,
    private readonly what: string,
  ) {}

  static of(v: Decoded, what: string): Struct {
    if (!(v instanceof Map)) throw new WireError(`${what}: expected a map`);
    return new Struct(v, what);
  }

  has(k: string): boolean {
    return this.m.has(k) && this.m.get(k) !== null;
  }

  str(k: string): string {
    const v = this.m.get(k);
    if (v === undefined || v === null) return "";
    if (!(v instanceof Uint8Array)) throw new WireError(`${this.what}.${k}: expected a string`);
    return utf8.decode(v);
  }

  bytes(k: string): Uint8Array | null {
    const v = this.m.get(k);
    if (v === undefined || v === null) return null;
    if (!(v instanceof Uint8Array)) throw new WireError(`${this.what}.${k}: expected bytes`);
    return v;
  }

  uint(k: string): number {
    const v = this.m.get(k);
    if (v === undefined || v === null) return 0;
    if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
    if (typeof v === "bigint" && v >= 0n) return Number(v);
    throw new WireError(`${this.what}.${k}: expected an unsigned integer`);
  }

  /** uint64 clocks and IDs that may exceed 2^53. */
  u64(k: string): bigint {
    const v = this.m.get(k);
    if (v === undefined || v === null) return 0n;
    if ((typeof v === "number" && Number.isInteger(v)) || typeof v === "bigint") return BigInt(v);
    throw new WireError(`${this.what}.${k}: expected an integer`);
  }

  int(k: string): number {
    const v = this.m.get(k);
    if (v === undefined || v === null) return 0;
    if (typeof v === "number" && Number.isInteger(v)) return v;
    if (typeof v === "bigint") return Number(v);
    throw new WireError(`${this.what}.${k}: expected an integer`);
  }

  bool(k: string): boolean {
    const v = this.m.get(k);
    if (v === undefined || v === null) return false;
    if (typeof v === "boolean") return v;
    if (v === 0 || v === 1) return v === 1; // go-msgpack accepts fixint 0/1 for bool
    throw new WireError(`${this.what}.${k}: expected a bool`);
  }

  float(k: string): number {
    const v = this.m.get(k);
    if (v === undefined || v === null) return 0;
    if (typeof v === "number") return v;
    throw new WireError(`${this.what}.${k}: expected a number`);
  }

  list(k: string): Decoded[] {
    const v = this.m.get(k);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new WireError(`${this.what}.${k}: expected an array`);
    return v;
  }

  map(k: string): Map<string, Decoded> {
    const v = this.m.get(k);
    if (v === undefined || v === null) return new Map();
    if (!(v instanceof Map)) throw new WireError(`${this.what}.${k}: expected a map`);
    return v;
  }

  raw(k: string): Decoded | undefined {
    return this.m.get(k);
  }
}

export function decodeString(v: Decoded, what: string): string {
  if (v === null) return "";
  if (!(v instanceof Uint8Array)) throw new WireError(`${what}: expected a string`);
  return utf8.decode(v);
}
