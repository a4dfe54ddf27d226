import { TYPE } from "./wire.ts";

// Reads a DNS query without building a whole message object: the header, the one question
// and the EDNS size are all an answer needs. Anything that does not parse cleanly is
// malformed (FORMERR): a compression pointer in the question, counts that run past the end,
// labels over 63 bytes, names over 255.

export interface Query {
  id: number;
  flags: number;
  name: string;
  type: string;
  /** The question section as sent (copied into the answer). */
  question: Buffer;
  /** The EDNS payload size when the query carries an OPT record. */
  ednsSize: number | undefined;
}

const TYPES: Record<number, string> = Object.fromEntries(Object.entries(TYPE).map(([name, n]) => [n, name]));

export class Malformed extends Error {}

/** Parses a query; throws Malformed. The caller has checked it is at least a header long. */
export function parseQuery(msg: Buffer): Query {
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  const ns = msg.readUInt16BE(8);
  const ar = msg.readUInt16BE(10);
  if (qd !== 1) throw new Malformed("a query must have exactly one question");
  const labels: string[] = [];
  let at = 12;
  let nameLen = 1;
  for (;;) {
    if (at >= msg.length) throw new Malformed("question runs past the end");
    const len = msg[at]!;
    if (len === 0) break;
    if (len > 63) throw new Malformed("compressed or oversized label in the question");
    nameLen += len + 1;
    if (nameLen > 255 || at + 1 + len > msg.length) throw new Malformed("name too long");
    labels.push(msg.toString("latin1", at + 1, at + 1 + len));
    at += 1 + len;
  }
  at += 1;
  if (at + 4 > msg.length) throw new Malformed("question runs past the end");
  const qtype = msg.readUInt16BE(at);
  const question = msg.subarray(12, at + 4);
  at += 4;
  // Skip answer and authority records (a query has none, but may), then find OPT.
  let ednsSize: number | undefined;
  for (let i = 0; i < an + ns + ar; i++) {
    at = skipName(msg, at);
    if (at + 10 > msg.length) throw new Malformed("record runs past the end");
    const type = msg.readUInt16BE(at);
    if (i >= an + ns && type === 41) ednsSize = msg.readUInt16BE(at + 2);
    at += 10 + msg.readUInt16BE(at + 8);
    if (at > msg.length) throw new Malformed("record runs past the end");
  }
  return { id, flags, name: labels.length === 0 ? "." : labels.join("."), type: TYPES[qtype] ?? `TYPE${qtype}`, question, ednsSize };
}

/** Steps over a record's owner name; a pointer ends it (we never follow one). */
function skipName(msg: Buffer, at: number): number {
  for (let guard = 0; guard < 128; guard++) {
    if (at >= msg.length) throw new Malformed("name runs past the end");
    const len = msg[at]!;
    if (len === 0) return at + 1;
    if ((len & 0xc0) === 0xc0) return at + 2;
    if (len > 63) throw new Malformed("bad label");
    at += 1 + len;
  }
  throw new Malformed("name too long");
}
