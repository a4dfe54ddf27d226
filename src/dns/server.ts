import type { Socket as BunSocket, TCPSocketListener } from "bun";
import dnsPacket, { type Answer, type Question } from "dns-packet";
import { type DnsResult, type DnsView, lookup, NOT_OURS, type Rcode, wanted } from "./lookup.ts";
import { splitHostPort } from "../lib/ip.ts";
import { udpExchange } from "./udp.ts";
import { Malformed, parseQuery, type Query } from "./query.ts";
import { encodeResponse, type Response } from "./wire.ts";

// The DNS listener on 8600, UDP and TCP. Every packet gets an answer or is dropped; none
// can crash the agent. Over UDP an answer never exceeds what the query invites (512 bytes,
// or its EDNS size up to MAX_UDP_SIZE), so we cannot be used to amplify: what does not fit
// is cut and flagged TC, and the same query over TCP returns everything.

export interface DnsServerOptions {
  addresses: string[];
  port: number;
  view: () => DnsView;
  recursors: string[];
  recursorTimeoutMs: number;
  logger: { info(m: string): void; warn(m: string): void; debug(m: string): void };
}

const RCODES: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
const DEFAULT_UDP_SIZE = 512;
const MAX_UDP_SIZE = 8192;
const MAX_TCP_MESSAGE = 65535;
const QR = 0x8000;

export class DnsServer {
  private readonly udp: Bun.udp.Socket<"buffer">[] = [];
  private readonly tcp: TCPSocketListener<{ buf: Buffer }>[] = [];

  constructor(private readonly opts: DnsServerOptions) {}

  async start(): Promise<void> {
    for (const address of this.opts.addresses) {
      // Bun's native UDP socket: a fraction of node:dgram's cost per datagram.
      const sock = await Bun.udpSocket({
        hostname: address,
        port: this.opts.port,
        socket: {
          data: (s, msg, port, addr) => {
            whenReady(this.handle(msg, "udp"), (out) => s.send(out, port, addr));
          },
          error: (_s, err) => this.opts.logger.warn(`dns: udp error: ${err.message}`),
        },
      });
      this.udp.push(sock);
      this.tcp.push(
        Bun.listen<{ buf: Buffer }>({
          hostname: address,
          port: this.opts.port,
          socket: {
            open: (s) => {
              s.data = { buf: Buffer.alloc(0) };
            },
            data: (s, chunk) => this.onTcpData(s, chunk),
            error: () => {},
          },
        }),
      );
      this.opts.logger.info(`Started DNS server: address=${address}:${this.opts.port} network=udp+tcp`);
    }
  }

  stop(): void {
    for (const s of this.udp.splice(0)) s.close();
    for (const l of this.tcp.splice(0)) l.stop(true);
  }

  /** TCP carries messages behind a 2-byte length; several may arrive in one read. */
  private onTcpData(s: BunSocket<{ buf: Buffer }>, chunk: Uint8Array): void {
    let buf = Buffer.concat([s.data.buf, chunk]);
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) break;
      const msg = buf.subarray(2, 2 + len);
      buf = buf.subarray(2 + len);
      whenReady(this.handle(Buffer.from(msg), "tcp"), (out) => {
        const framed = Buffer.alloc(out.length + 2);
        framed.writeUInt16BE(out.length, 0);
        out.copy(framed, 2);
        s.write(framed);
      });
    }
    s.data.buf = buf;
  }

  /** One query in, one answer (or nothing) out; a promise only when a recursor is asked. */
  handle(msg: Buffer, transport: "udp" | "tcp"): Buffer | undefined | Promise<Buffer | undefined> {
    if (msg.length < 12) return undefined; // not even a header: nobody to answer
    const id = msg.readUInt16BE(0);
    const flags = msg.readUInt16BE(2);
    if (flags & QR) return undefined; // a response sent to us: answering it could start a loop
    if ((flags >> 11) & 0xf) return this.bare(id, flags, "NOTIMP"); // only QUERY (opcode 0)
    let q: Query;
    try {
      q = parseQuery(msg);
    } catch (err) {
      if (err instanceof Malformed) return this.bare(id, flags, "FORMERR");
      throw err;
    }
    const view = this.opts.view();
    if (!view.catalog && view.remote) {
      const w = wanted(view, q.name);
      if (w.kind !== "none") {
        return view
          .remote(w)
          .then((catalog) => this.answer(msg, q, { ...view, catalog }, transport))
          .catch(() => this.answer(msg, q, view, transport)); // no server: SERVFAIL for our names
      }
    }
    return this.answer(msg, q, view, transport);
  }

  private answer(msg: Buffer, q: Query, view: DnsView, transport: "udp" | "tcp"): Buffer | undefined | Promise<Buffer | undefined> {
    const { id, flags } = q;
    // Without EDNS a UDP answer carries at most udp_answer_limit records: build no more.
    const maxAnswers = transport === "udp" && q.ednsSize === undefined ? view.config.udpAnswerLimit : Number.POSITIVE_INFINITY;
    let result: DnsResult | typeof NOT_OURS;
    try {
      result = lookup(view, { name: q.name, type: q.type } as Question, maxAnswers);
    } catch (err) {
      this.opts.logger.warn(`dns: lookup of ${q.name} failed: ${(err as Error).message}`);
      result = { rcode: "SERVFAIL", answers: [], authorities: [], additionals: [] };
    }
    if (result === NOT_OURS) {
      if (this.opts.recursors.length > 0) return this.recurse(msg).then((relayed) => relayed ?? this.bare(id, flags, "SERVFAIL", q));
      result = q.name.toLowerCase().endsWith("arpa")
        ? { rcode: "NXDOMAIN", answers: [], authorities: [], additionals: [] }
        : { rcode: "SERVFAIL", answers: [], authorities: [], additionals: [] };
    }
    const ednsSize = q.ednsSize === undefined ? undefined : Math.min(Math.max(q.ednsSize, DEFAULT_UDP_SIZE), MAX_UDP_SIZE);
    let respFlags = dnsPacket.AUTHORITATIVE_ANSWER | (flags & dnsPacket.RECURSION_DESIRED) | (this.opts.recursors.length > 0 ? dnsPacket.RECURSION_AVAILABLE : 0) | RCODES[result.rcode];
    if (result.cut && view.config.enableTruncate) respFlags |= dnsPacket.TRUNCATED_RESPONSE;
    const resp: Response = {
      id,
      flags: respFlags,
      question: q.question,
      questionName: q.name,
      answers: result.answers,
      authorities: result.authorities,
      additionals: ednsSize === undefined ? result.additionals : [...result.additionals, { type: "OPT", name: ".", udpPayloadSize: ednsSize } as Answer],
    };
    return this.encode(resp, transport === "tcp" ? MAX_TCP_MESSAGE : (ednsSize ?? DEFAULT_UDP_SIZE), transport === "udp");
  }

  /** Encodes; over UDP cuts what does not fit (see fitUdp); a single record too big for TCP goes as TC. */
  private encode(resp: Response, max: number, udp: boolean): Buffer | undefined {
    try {
      const out = udp ? fitUdp(resp, max) : encodeResponse(resp);
      if (out.length <= max) return out;
      return encodeResponse({ ...resp, flags: resp.flags | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: [] });
    } catch (err) {
      this.opts.logger.warn(`dns: cannot encode answer: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** An answer with no records: FORMERR, NOTIMP, SERVFAIL. */
  private bare(id: number, reqFlags: number, rcode: Rcode, q?: Query): Buffer | undefined {
    return this.encode(
      {
        id,
        flags: (reqFlags & (dnsPacket.RECURSION_DESIRED | 0x7800)) | RCODES[rcode],
        question: q?.question,
        questionName: q?.name ?? "",
        answers: [],
        authorities: [],
        additionals: [],
      },
      DEFAULT_UDP_SIZE,
      false,
    );
  }

  /** Relays a query for another domain to the configured recursors, in order; first answer wins. */
  private async recurse(msg: Buffer): Promise<Buffer | undefined> {
    for (const r of this.opts.recursors) {
      const { host, port } = splitHostPort(r, 53);
      const answer = await udpExchange(msg, host, port, this.opts.recursorTimeoutMs);
      if (answer) return answer;
      this.opts.logger.warn(`dns: recursor ${r} did not answer`);
    }
    return undefined;
  }
}

/** Runs `send` with the answer now, or when the recursor's answer arrives; nothing is sent for no answer. */
function whenReady(out: Buffer | undefined | Promise<Buffer | undefined>, send: (b: Buffer) => void): void {
  if (out instanceof Promise) void out.then((b) => b && send(b));
  else if (out) send(out);
}

/**
 * Consul's trimUDPResponse, after lookup already drew at most udp_answer_limit answers for
 * a query without EDNS: if the message is still larger than the buffer, keep the largest
 * prefix of answers that fits (ADDITIONAL keeps only records about names still answered),
 * and flag TC.
 */
function fitUdp(resp: Response, maxSize: number): Buffer {
  const full = encodeResponse(resp);
  if (full.length <= maxSize) return full;
  const all = resp.answers;
  const extra = resp.additionals;
  const withAnswers = (n: number): Response => {
    const answers = all.slice(0, n);
    return { ...resp, flags: resp.flags | dnsPacket.TRUNCATED_RESPONSE, answers, additionals: additionalsFor(answers, extra) };
  };
  let lo = 0;
  let hi = all.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (encodeResponse(withAnswers(mid)).length <= maxSize) lo = mid;
    else hi = mid - 1;
  }
  const best = withAnswers(lo);
  const out = encodeResponse(best);
  if (out.length <= maxSize) return out;
  return encodeResponse({ ...best, additionals: extra.filter((a) => a.type === "OPT") });
}

/** From the full ADDITIONAL section, the records about names the answers still mention. */
function additionalsFor(answers: Answer[], extra: Answer[]): Answer[] {
  const names = new Set<string>();
  for (const a of answers) {
    names.add(a.name.toLowerCase());
    if (a.type === "SRV") names.add(a.data.target.toLowerCase());
    if (a.type === "NS" || a.type === "CNAME") names.add(a.data.toLowerCase());
  }
  return extra.filter((a) => a.type === "OPT" || names.has(a.name.toLowerCase()));
}

