import { connect } from "node:net";
import dnsPacket, { type DecodedPacket, type RecordType } from "dns-packet";
import { udpExchange } from "./udp.ts";

// A small DNS client for `tsc dig`: one question over UDP (with EDNS, 1232 bytes as dig asks),
// retried over TCP when the answer comes back truncated, or over TCP from the start.

export interface DnsQuery {
  server: string;
  port: number;
  name: string;
  type: RecordType | "ANY";
  tcp: boolean;
  recurse: boolean;
  timeoutMs: number;
}

export interface DnsExchange {
  response: DecodedPacket;
  size: number;
  transport: "UDP" | "TCP";
  elapsedMs: number;
}

export const DIG_EDNS_SIZE = 1232;

export function buildQuery(q: DnsQuery, id: number): Buffer {
  return dnsPacket.encode({
    id,
    type: "query",
    flags: q.recurse ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type: q.type as RecordType, name: q.name, class: "IN" }],
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: DIG_EDNS_SIZE } as never],
  });
}

/** Resolves with the answer, or undefined when no server answered in time. */
export async function dnsQuery(q: DnsQuery): Promise<DnsExchange | undefined> {
  const id = Math.floor(Math.random() * 65536);
  const msg = buildQuery(q, id);
  const started = performance.now();
  if (!q.tcp) {
    const raw = await udpExchange(msg, q.server, q.port, q.timeoutMs);
    if (!raw) return undefined;
    const response = dnsPacket.decode(raw);
    if (!response.flag_tc) return { response, size: raw.length, transport: "UDP", elapsedMs: performance.now() - started };
  }
  const raw = await tcpExchange(msg, q.server, q.port, q.timeoutMs);
  if (!raw) return undefined;
  return { response: dnsPacket.decode(raw), size: raw.length, transport: "TCP", elapsedMs: performance.now() - started };
}

function tcpExchange(msg: Buffer, host: string, port: number, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    let buf = Buffer.alloc(0);
    const done = (out: Buffer | undefined): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(out);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on("connect", () => {
      const framed = Buffer.alloc(msg.length + 2);
      framed.writeUInt16BE(msg.length, 0);
      msg.copy(framed, 2);
      sock.write(framed);
    });
    sock.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    sock.on("error", () => done(undefined));
  });
}
