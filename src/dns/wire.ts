import type { Answer } from "dns-packet";
import { ipToBytes } from "../lib/ip.ts";

// Writes DNS responses (RFC 1035 §4) for the records this server makes, with name
// compression as Consul enables by default. dns-packet still decodes queries and serves the
// client; this writer is the answer path's: it costs a fraction of a general encoder, and
// compressed answers fit more records in a UDP datagram.

/** Record type numbers (RFC 1035 and successors) for the types this server reads or writes. */
export const TYPE: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 };
const CLASS_IN = 1;
/** The record types record() knows how to write (TYPE also names those queries ask for). */
const WRITABLE = new Set(["A", "AAAA", "NS", "CNAME", "PTR", "SRV", "TXT", "SOA"]);

class Writer {
  private buf = Buffer.allocUnsafe(512);
  length = 0;
  /** lower-cased name suffix -> offset where it was written, for compression pointers */
  private readonly names = new Map<string, number>();

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.length);
    this.length += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.length);
    this.length += 4;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  setU16(at: number, v: number): void {
    this.buf.writeUInt16BE(v, at);
  }

  /** A name, pointing at an earlier copy of its longest known suffix. */
  name(n: string): void {
    const full = n.endsWith(".") ? n.slice(0, -1) : n;
    if (full === "") {
      this.u8(0);
      return;
    }
    const lower = full.toLowerCase();
    let start = 0;
    while (start <= full.length) {
      const suffix = start === 0 ? lower : lower.slice(start);
      const at = this.names.get(suffix);
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.length < 0x3fff) this.names.set(suffix, this.length);
      let end = full.indexOf(".", start);
      if (end < 0) end = full.length;
      this.room(1 + (end - start) * 3);
      const written = this.buf.write(full.slice(start, end), this.length + 1, "utf8");
      this.buf[this.length] = Math.min(written, 63);
      this.length += 1 + Math.min(written, 63);
      start = end + 1;
    }
    this.u8(0);
  }

  /** Registers a name already present in the buffer (the copied question). */
  knownName(n: string, at: number): void {
    const labels = n.endsWith(".") ? n.slice(0, -1).split(".") : n.split(".");
    let offset = at;
    for (let i = 0; i < labels.length; i++) {
      this.names.set(labels.slice(i).join(".").toLowerCase(), offset);
      offset += 1 + Buffer.byteLength(labels[i]!);
    }
  }

  done(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function address(w: Writer, ip: string): void {
  const b = ipToBytes(ip);
  w.u16(b.length);
  w.bytes(b);
}

function record(w: Writer, a: Answer): void {
  if (a.type === "OPT") {
    w.u8(0);
    w.u16(TYPE.OPT!);
    w.u16((a as { udpPayloadSize?: number }).udpPayloadSize ?? 512);
    w.u32(0);
    w.u16(0);
    return;
  }
  const type = TYPE[a.type];
  if (type === undefined || !WRITABLE.has(a.type)) throw new Error(`cannot write ${a.type} records`);
  w.name(a.name);
  w.u16(type);
  w.u16(CLASS_IN);
  w.u32((a as { ttl?: number }).ttl ?? 0);
  const d = (a as { data: unknown }).data;
  switch (a.type) {
    case "A":
    case "AAAA":
      return address(w, d as string);
  }
  const lenAt = w.length;
  w.u16(0);
  switch (a.type) {
    case "NS":
    case "CNAME":
    case "PTR":
      w.name(d as string);
      break;
    case "SRV": {
      const s = d as { priority: number; weight: number; port: number; target: string };
      w.u16(s.priority);
      w.u16(s.weight);
      w.u16(s.port);
      w.name(s.target); // RFC 2782 forbids compressing the target; resolvers accept it, as Consul's do
      break;
    }
    case "TXT":
      for (const t of d as string[]) {
        const b = Buffer.from(t);
        w.u8(Math.min(b.length, 255));
        w.bytes(b.subarray(0, 255));
      }
      break;
    case "SOA": {
      const s = d as { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
      w.name(s.mname);
      w.name(s.rname);
      for (const v of [s.serial, s.refresh, s.retry, s.expire, s.minimum]) w.u32(v);
      break;
    }
  }
  w.setU16(lenAt, w.length - lenAt - 2);
}

export interface Response {
  id: number;
  flags: number; // QR is added here
  /** The request's question section, copied as sent (its case included). */
  question: Buffer | undefined;
  questionName: string;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

export function encodeResponse(r: Response): Buffer {
  const w = new Writer();
  w.u16(r.id);
  w.u16(0x8000 | r.flags);
  w.u16(r.question ? 1 : 0);
  w.u16(r.answers.length);
  w.u16(r.authorities.length);
  w.u16(r.additionals.length);
  if (r.question) {
    // Point answers at the question's name only if it is exactly the name we were told.
    if (nameLength(r.questionName) === r.question.length - 4) w.knownName(r.questionName, 12);
    w.bytes(r.question);
  }
  for (const a of r.answers) record(w, a);
  for (const a of r.authorities) record(w, a);
  for (const a of r.additionals) record(w, a);
  return w.done();
}

function nameLength(n: string): number {
  const labels = n === "" || n === "." ? [] : (n.endsWith(".") ? n.slice(0, -1) : n).split(".");
  return labels.reduce((sum, l) => sum + 1 + Buffer.byteLength(l), 1);
}
