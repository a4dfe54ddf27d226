import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCheckRunner, type CheckRunner } from "../../../src/agent/checks/runner.ts";
import { checkDef, OPTS, recordingHost, runOnce } from "./helpers.ts";

// Real servers on 127.0.0.1: Bun.serve for ordinary answers, and a raw TCP server that
// records the request bytes exactly as the check sent them.

let hangs = 0;
let loops = 0;
let hangAborted = 0;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req): Promise<Response> {
    const url = new URL(req.url);
    const code = Number(url.searchParams.get("code") ?? 200);
    switch (url.pathname) {
      case "/status":
        return new Response("body text", { status: code });
      case "/redirect":
        return new Response("moved", { status: url.searchParams.has("code") ? code : 302, headers: { Location: url.searchParams.get("to") ?? "/status" } });
      case "/loop":
        loops++;
        return new Response("", { status: 302, headers: { Location: "/loop" } });
      case "/slow":
        await Bun.sleep(500);
        return new Response("late");
      case "/hang":
        hangs++;
        req.signal.addEventListener("abort", () => hangAborted++);
        return new Promise<Response>(() => {});
      case "/big":
        return new Response(`${"a".repeat(100)}END`);
      case "/chunked":
        return new Response(
          new ReadableStream({
            async start(c) {
              c.enqueue(new TextEncoder().encode("part one, "));
              await Bun.sleep(20);
              c.enqueue(new TextEncoder().encode("part two"));
              c.close();
            },
          }),
        );
      case "/echo":
        return new Response(`${req.method} ${await req.text()}`);
      default:
        return new Response("not found", { status: 404 });
    }
  },
});
const base = `http://127.0.0.1:${server.port}`;

// The raw server keeps what it received and answers with `rawResponse`.
const requests: string[] = [];
const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
let rawResponse = OK;
let raw: Server;
let rawBase = "";
beforeAll(async () => {
  raw = createServer((sock: Socket) => {
    let data = "";
    sock.on("data", (c) => {
      data += c.toString("latin1");
      const end = data.indexOf("\r\n\r\n");
      if (end < 0) return;
      const len = Number(/\r\ncontent-length: (\d+)/i.exec(data)?.[1] ?? 0);
      if (data.length < end + 4 + len) return;
      requests.push(data);
      sock.end(rawResponse);
    });
  });
  await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
  rawBase = `http://127.0.0.1:${(raw.address() as { port: number }).port}`;
});
afterAll(() => {
  server.stop(true);
  raw.close();
});

async function sent(check: Record<string, unknown>): Promise<string> {
  requests.length = 0;
  expect((await runOnce(check)).status).toBe("passing");
  expect(requests.length).toBe(1);
  return requests[0]!;
}

describe("HTTP checks", () => {
  test("2xx passing, 429 warning, anything else critical, in Consul's output format", async () => {
    expect(await runOnce({ http: `${base}/status` })).toEqual({ status: "passing", output: `HTTP GET ${base}/status: 200 OK Output: body text` });
    expect(await runOnce({ http: `${base}/status?code=299` })).toMatchObject({ status: "passing" });
    expect(await runOnce({ http: `${base}/status?code=429` })).toEqual({
      status: "warning",
      output: `HTTP GET ${base}/status?code=429: 429 Too Many Requests Output: body text`,
    });
    expect(await runOnce({ http: `${base}/status?code=500` })).toEqual({
      status: "critical",
      output: `HTTP GET ${base}/status?code=500: 500 Internal Server Error Output: body text`,
    });
    expect((await runOnce({ http: `${base}/status?code=300` })).status).toBe("critical");
  });

  test("the status line is quoted as the server wrote it; 1xx interim answers are skipped", async () => {
    try {
      rawResponse = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Fine Thanks\r\nContent-Length: 4\r\n\r\nfine";
      expect((await runOnce({ http: `${rawBase}/` })).output).toBe(`HTTP GET ${rawBase}/: 200 Fine Thanks Output: fine`);
      // No length and no chunking: the body runs to the close.
      rawResponse = "HTTP/1.0 503 Busy\nX: y\n\nuntil close";
      expect(await runOnce({ http: `${rawBase}/` })).toEqual({ status: "critical", output: `HTTP GET ${rawBase}/: 503 Busy Output: until close` });
      rawResponse = "nonsense\r\n\r\n";
      expect(await runOnce({ http: `${rawBase}/` })).toEqual({ status: "critical", output: `Get "${rawBase}/": net/http: HTTP/1.x transport connection broken: malformed HTTP response "nonsense"` });
      rawResponse = "";
      expect(await runOnce({ http: `${rawBase}/` })).toEqual({ status: "critical", output: `Get "${rawBase}/": EOF` });
    } finally {
      rawResponse = OK;
    }
  });

  test("the request carries Consul's defaults, and exactly what the definition says", async () => {
    const plain = await sent({ http: `${rawBase}/health?x=1` });
    expect(plain).toStartWith("GET /health?x=1 HTTP/1.1\r\n");
    expect(plain).toContain(`\r\nHost: ${rawBase.slice(7)}\r\n`);
    expect(plain).toContain("\r\nUser-Agent: Consul Health Check\r\n");
    expect(plain).toContain("\r\nAccept: text/plain, text/*, */*\r\n");
    expect(plain).toContain("\r\nConnection: close\r\n");
    expect(plain).not.toContain("Content-Length");

    const custom = await sent({
      http: `${rawBase}/api`,
      method: "PUT",
      header: { "X-Token": ["t1", "t2"], "User-Agent": ["mine"], Host: ["service.example"] },
      body: '{"ping":1}',
    });
    expect(custom).toStartWith("PUT /api HTTP/1.1\r\nHost: service.example\r\n");
    expect(custom).toContain("\r\nX-Token: t1\r\nX-Token: t2\r\n");
    expect(custom).toContain("\r\nUser-Agent: mine\r\n");
    expect(custom).not.toContain("Consul Health Check");
    expect(custom).toEndWith('\r\nContent-Length: 10\r\nConnection: close\r\n\r\n{"ping":1}');

    // Like Go: a body on GET, any method verbatim, Content-Length: 0 on an empty POST.
    expect(await sent({ http: `${rawBase}/`, body: "hello" })).toEndWith("Content-Length: 5\r\nConnection: close\r\n\r\nhello");
    expect(await sent({ http: `${rawBase}/`, method: "abc" })).toStartWith("abc / HTTP/1.1\r\n");
    expect(await sent({ http: `${rawBase}/`, method: "POST" })).toContain("\r\nContent-Length: 0\r\n");
  });

  test("method and body reach a real server", async () => {
    expect((await runOnce({ http: `${base}/echo`, method: "POST", body: "ping" })).output).toBe(`HTTP POST ${base}/echo: 200 OK Output: POST ping`);
  });

  test("redirects are followed unless disabled, up to Go's limit of 10", async () => {
    expect(await runOnce({ http: `${base}/redirect` })).toEqual({ status: "passing", output: `HTTP GET ${base}/redirect: 200 OK Output: body text` });
    expect(await runOnce({ http: `${base}/redirect`, disable_redirects: true })).toEqual({
      status: "critical",
      output: `HTTP GET ${base}/redirect: 302 Found Output: moved`,
    });
    expect(await runOnce({ http: `${base}/loop` })).toEqual({ status: "critical", output: 'Get "/loop": stopped after 10 redirects' });
    expect(loops).toBe(10); // the first request and 9 redirects followed; the 10th is refused
    // 303 turns a POST into a body-less GET; 307 resends it as it was.
    const to = encodeURIComponent("/echo");
    expect((await runOnce({ http: `${base}/redirect?code=303&to=${to}`, method: "POST", body: "b" })).output).toEndWith("Output: GET ");
    expect((await runOnce({ http: `${base}/redirect?code=307&to=${to}`, method: "POST", body: "b" })).output).toEndWith("Output: POST b");
  });

  test("a body over the cap keeps its last bytes, without a note (as Consul)", async () => {
    expect((await runOnce({ http: `${base}/big` }, { outputMaxSize: 10 })).output).toBe(`HTTP GET ${base}/big: 200 OK Output: aaaaaaaEND`);
    expect((await runOnce({ http: `${base}/chunked` })).output).toBe(`HTTP GET ${base}/chunked: 200 OK Output: part one, part two`);
  });

  test("no answer is critical with Go's client error", async () => {
    expect(await runOnce({ http: `${base}/slow` }, { timeoutMs: 100 })).toEqual({
      status: "critical",
      output: `Get "${base}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    });
    expect(await runOnce({ http: "http://127.0.0.1:1/health", method: "POST" })).toEqual({
      status: "critical",
      output: 'Post "http://127.0.0.1:1/health": dial tcp 127.0.0.1:1: connect: connection refused',
    });
    expect(await runOnce({ http: "ftp://127.0.0.1/" })).toEqual({ status: "critical", output: 'Get "ftp://127.0.0.1/": unsupported protocol scheme "ftp"' });
  });

  test("stop() aborts the request in flight and nothing is reported after", async () => {
    const h = recordingHost();
    const r = createCheckRunner(checkDef({ http: `${base}/hang`, interval: "10s" }), h, OPTS) as CheckRunner;
    const before = hangs;
    r.start();
    while (hangs === before) await Bun.sleep(5);
    r.stop();
    await Bun.sleep(100);
    expect(hangAborted).toBeGreaterThan(0);
    expect(h.results).toEqual([]);
  });
});

describe("HTTPS checks", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsc-https-checks-"));
  let tls: ReturnType<typeof Bun.serve> | undefined;
  afterAll(() => {
    tls?.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  test("a self-signed certificate fails verification unless tls_skip_verify", async () => {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    const made = Bun.spawnSync(
      ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", cert],
      { stdout: "ignore", stderr: "ignore" },
    );
    if (made.exitCode !== 0) return; // no openssl here: nothing to serve TLS with
    tls = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") }, fetch: () => new Response("secure") });
    const url = `https://127.0.0.1:${tls.port}/`;
    expect(await runOnce({ http: url, tls_skip_verify: true })).toEqual({ status: "passing", output: `HTTP GET ${url}: 200 OK Output: secure` });
    expect(await runOnce({ http: url })).toEqual({
      status: "critical",
      output: `Get "${url}": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
    });
  });
});
