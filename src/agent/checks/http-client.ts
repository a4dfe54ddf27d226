import type { Socket } from "bun";
import { dialErrorText, ioErrorText, joinHostPort, tlsErrorText } from "./go-errors.ts";
import type { TailBuffer } from "./output.ts";

// One HTTP/1.1 request and its response on a fresh connection, closed afterwards (Consul's
// check client disables keep-alives). Our own small client rather than fetch(), because a
// check must send what Consul sends: any method verbatim ("abc", GET with a body), a Host
// override, Content-Length: 0 on an empty POST; and it must report the status line exactly
// as the server wrote it ("200 OK" is Go's resp.Status). Bun.connect with one shared set of
// handlers keeps a run to the socket itself: about half what node:net costs.

export interface Target {
  https: boolean;
  host: string; // no brackets
  port: number;
  servername: string | undefined; // SNI and the name the certificate must carry
  rejectUnauthorized: boolean;
}

export type Outcome =
  /** No usable response: Go's transport error text, without the `Get "url": ` prefix. */
  | { error: string }
  | { code: number; status: string; location: string | undefined; bodyError: string | undefined };

export const HEADER_TIMEOUT = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
const BODY_TIMEOUT = "context deadline exceeded (Client.Timeout or context cancellation while reading body)";
const MAX_HEAD_BYTES = 1 << 20;

interface Head {
  code: number;
  status: string;
  location: string | undefined;
  chunked: boolean;
  length: number | undefined;
}

const enum Phase {
  Head,
  Length,
  Chunked,
  UntilClose,
  Done,
}

const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailer,
}

const HANDLERS: Bun.SocketHandler<Exchange> = {
  open: (s) => s.data.onOpen(s),
  handshake: (s, ok, err) => s.data.onHandshake(s, ok, err),
  drain: (s) => s.data.flush(s),
  data: (s, chunk) => s.data.onData(chunk),
  end: (s) => s.data.onEnd(),
  close: (s) => s.data.onEnd(),
  error: (s, err) => s.data.onError(err),
  connectError: (s, err) => s.data.onConnectError(err),
};

export class Exchange {
  readonly done: Promise<Outcome>;
  private resolve!: (o: Outcome) => void;
  private sock: Socket<Exchange> | undefined;
  private finished = false;
  private unsent: Uint8Array; // what the socket has not taken yet
  private tlsError: Error | null = null;
  private phase = Phase.Head;
  private headBuf: Buffer | undefined;
  private head: Head | undefined;
  private remaining = 0;
  private chunk = Chunk.Size;
  private line = "";

  /**
   * @param skipBody decides from the status line and Location whether the body is wanted:
   *   a redirect about to be followed is not read.
   */
  constructor(
    private readonly target: Target,
    request: Uint8Array,
    private readonly isHead: boolean,
    private readonly body: TailBuffer,
    private readonly skipBody: (code: number, location: string | undefined) => boolean,
  ) {
    this.done = new Promise((r) => (this.resolve = r));
    this.unsent = request;
    const tls = target.https ? { serverName: target.servername, rejectUnauthorized: target.rejectUnauthorized } : undefined;
    // Rejections are handled by connectError.
    Bun.connect({ hostname: target.host, port: target.port, tls, data: this, socket: HANDLERS }).catch(() => {});
  }

  /** Ends the exchange early: the check's timeout, or the check being stopped. */
  cancel(why: "timeout" | "stop"): void {
    if (this.finished) return;
    if (why === "stop") return this.finish({ error: "context canceled" });
    if (!this.head) return this.finish({ error: HEADER_TIMEOUT });
    this.finishResponse(BODY_TIMEOUT);
  }

  private finish(o: Outcome): void {
    if (this.finished) return;
    this.finished = true;
    this.sock?.terminate();
    this.resolve(o);
  }

  private finishResponse(bodyError: string | undefined): void {
    const h = this.head!;
    this.finish({ code: h.code, status: h.status, location: h.location, bodyError });
  }

  onOpen(s: Socket<Exchange>): void {
    this.sock = s;
    if (this.finished) return s.terminate(); // cancelled while connecting
    if (!this.target.https) this.flush(s); // TLS writes wait for the handshake
  }

  onHandshake(s: Socket<Exchange>, ok: boolean, err: Error | null): void {
    if (this.finished) return;
    // Without verification Bun reports the certificate's problem and carries on.
    if (ok || !this.target.rejectUnauthorized) return this.flush(s);
    this.tlsError = err;
  }

  flush(s: Socket<Exchange>): void {
    if (this.finished || this.unsent.length === 0) return;
    const n = s.write(this.unsent);
    this.unsent = this.unsent.subarray(Math.max(0, n));
  }

  onConnectError(err: Error): void {
    if (!this.finished) this.finish({ error: dialErrorText(err, this.target.host, this.target.port) });
  }

  onError(err: Error): void {
    if (this.finished) return;
    if (this.target.https && !this.head && this.unsent.length > 0) this.tlsError ??= err;
    else this.fail(ioErrorText(err, joinHostPort(this.sock?.localAddress ?? "", this.sock?.localPort ?? 0), joinHostPort(this.target.host, this.target.port)));
  }

  onEnd(): void {
    if (this.finished) return;
    if (this.tlsError) return this.finish({ error: tlsErrorText(this.tlsError, this.target.servername ?? this.target.host) });
    if (this.phase === Phase.Head) return this.finish({ error: this.headBuf ? "unexpected EOF" : "EOF" });
    this.finishResponse(this.phase === Phase.UntilClose || this.phase === Phase.Done ? undefined : "unexpected EOF");
  }

  /** A failure after connecting: before the head it is the request's error, after it the body's. */
  private fail(text: string): void {
    if (this.head) this.finishResponse(text);
    else this.finish({ error: text });
  }

  onData(chunk: Buffer): void {
    if (this.finished) return;
    try {
      let rest: Buffer | undefined = chunk;
      if (this.phase === Phase.Head) rest = this.readHead(chunk);
      if (rest && rest.length > 0 && !this.finished) this.readBody(rest);
      if (this.phase === Phase.Done && !this.finished) this.finishResponse(undefined);
    } catch (err) {
      const msg = (err as Error).message;
      this.fail(this.head || msg.startsWith("net/http:") ? msg : `net/http: HTTP/1.x transport connection broken: ${msg}`);
    }
  }

  /** Collects the head; returns the bytes after it once complete. */
  private readHead(chunk: Buffer): Buffer | undefined {
    let buf = this.headBuf ? Buffer.concat([this.headBuf, chunk]) : chunk;
    for (;;) {
      const end = headEnd(buf);
      if (end < 0) {
        if (buf.length > MAX_HEAD_BYTES) throw new Error(`net/http: server response headers exceeded ${MAX_HEAD_BYTES} bytes; aborted`);
        this.headBuf = buf;
        return undefined;
      }
      const head = parseHead(buf.toString("latin1", 0, end));
      buf = buf.subarray(headLength(buf, end));
      // 1xx (except 101) are interim: Go reads on to the real response.
      if (head.code >= 100 && head.code <= 199 && head.code !== 101) continue;
      this.head = head;
      this.headBuf = undefined;
      if (this.skipBody(head.code, head.location)) {
        this.phase = Phase.Done;
        return undefined;
      }
      if (this.isHead || head.code === 204 || head.code === 304 || head.code < 200) this.phase = Phase.Done;
      else if (head.chunked) this.phase = Phase.Chunked;
      else if (head.length !== undefined) {
        this.remaining = head.length;
        this.phase = head.length === 0 ? Phase.Done : Phase.Length;
      } else this.phase = Phase.UntilClose;
      return buf;
    }
  }

  private readBody(data: Buffer): void {
    switch (this.phase) {
      case Phase.UntilClose:
        this.body.write(data);
        return;
      case Phase.Length: {
        const n = Math.min(this.remaining, data.length);
        this.body.write(data.subarray(0, n));
        this.remaining -= n;
        if (this.remaining === 0) this.phase = Phase.Done;
        return;
      }
      case Phase.Chunked:
        this.readChunked(data);
        return;
      default:
        return;
    }
  }

  private readChunked(data: Buffer): void {
    let i = 0;
    while (i < data.length && this.phase === Phase.Chunked) {
      if (this.chunk === Chunk.Data) {
        const n = Math.min(this.remaining, data.length - i);
        this.body.write(data.subarray(i, i + n));
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) this.chunk = Chunk.DataEnd;
        continue;
      }
      // Size lines, the CRLF after data and trailers are read a line at a time.
      const nl = data.indexOf(10, i);
      const end = nl < 0 ? data.length : nl;
      this.line += data.toString("latin1", i, end);
      if (this.line.length > 4096) throw new Error("net/http: chunk line too long");
      i = end + 1;
      if (nl < 0) break;
      const line = this.line.trimEnd();
      this.line = "";
      if (this.chunk === Chunk.DataEnd) {
        if (line !== "") throw new Error("malformed chunked encoding");
        this.chunk = Chunk.Size;
      } else if (this.chunk === Chunk.Size) {
        const size = Number.parseInt(line.split(";")[0]!.trim(), 16);
        if (!Number.isFinite(size) || size < 0) throw new Error("invalid byte in chunk length");
        this.remaining = size;
        this.chunk = size === 0 ? Chunk.Trailer : Chunk.Data;
      } else if (line === "") {
        this.phase = Phase.Done;
      }
    }
  }
}

/** Index of the blank line ending the head ("\r\n\r\n" or a bare "\n\n"), or -1. */
function headEnd(buf: Buffer): number {
  const crlf = buf.indexOf("\r\n\r\n");
  const lf = buf.indexOf("\n\n");
  if (crlf < 0) return lf;
  if (lf < 0) return crlf;
  return Math.min(crlf, lf);
}

function headLength(buf: Buffer, end: number): number {
  return buf[end] === 13 ? end + 4 : end + 2;
}

function parseHead(text: string): Head {
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  const statusLine = lines[0] ?? "";
  const sp = statusLine.indexOf(" ");
  if (sp < 0) throw new Error(`malformed HTTP response ${JSON.stringify(statusLine)}`);
  const proto = statusLine.slice(0, sp);
  if (!/^HTTP\/\d\.\d$/.test(proto)) throw new Error(`malformed HTTP version ${JSON.stringify(proto)}`);
  const status = statusLine.slice(sp + 1).trimStart();
  const codeText = status.split(" ", 1)[0]!;
  if (!/^\d{3}$/.test(codeText)) throw new Error(`malformed HTTP status code ${JSON.stringify(codeText)}`);
  const head: Head = { code: Number(codeText), status, location: undefined, chunked: false, length: undefined };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "location") head.location ??= value;
    else if (name === "transfer-encoding") head.chunked ||= value.toLowerCase().split(",").some((v) => v.trim() === "chunked");
    else if (name === "content-length") {
      if (!/^\d+$/.test(value)) throw new Error(`bad Content-Length ${JSON.stringify(value)}`);
      head.length = Number(value);
    }
  }
  return head;
}
