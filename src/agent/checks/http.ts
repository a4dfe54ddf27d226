import { isIP } from "node:net";
import type { CheckDefinition } from "../../config/definition-types.ts";
import type { HealthStatus } from "../../state/catalog-types.ts";
import { Exchange, type Target } from "./http-client.ts";
import { TailBuffer } from "./output.ts";
import type { CheckHost, Probe } from "./runner.ts";

// HTTP checks as Consul's CheckHTTP: 2xx passing, 429 warning, anything else critical, as is
// a request that gets no response. The output is "HTTP <METHOD> <url>: <status line> Output:
// <last bytes of the body>", or Go's client error ("Get \"<url>\": dial tcp ...: connect:
// connection refused"). Everything that does not change between runs is prepared once, so a
// run costs one connection and the body buffer.

const USER_AGENT = "Consul Health Check";
const ACCEPT = "text/plain, text/*, */*";
const MAX_REDIRECTS = 10; // Go's default CheckRedirect
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Go keeps these across a redirect only to the same host or one of its subdomains.
const SENSITIVE = new Set(["authorization", "www-authenticate", "cookie", "cookie2"]);
// Go writes these itself (Host from the URL or the Host header, lengths from the body).
const OWN = new Set(["host", "content-length", "transfer-encoding", "trailer", "connection"]);
const NO_BODY = new Uint8Array(0);

interface Request {
  url: URL;
  shown: string; // the URL as Go's errors quote it (password redacted)
  method: string;
  body: Uint8Array;
  host: string | undefined; // a Host header override
  headers: Array<[string, string]>;
}

export function httpProbe(def: CheckDefinition, outputMax: number, timeoutMs: number, logger: CheckHost["logger"]): Probe {
  const method = def.method || "GET";
  // Go's url.Error names the method like this: "Get", "Post", "Abc".
  const op = method.slice(0, 1) + method.slice(1).toLowerCase();
  const prefix = `HTTP ${method} ${def.http}: `;
  const follow = (code: number, location: string | undefined) => !def.disableRedirects && REDIRECTS.has(code) && location !== undefined;
  const fail = (url: string, why: string) => ({ status: "critical" as HealthStatus, output: `${op} ${JSON.stringify(url)}: ${why}` });

  let host: string | undefined;
  const headers: Array<[string, string]> = [];
  for (const [name, values] of Object.entries(def.header)) {
    const lower = name.toLowerCase();
    if (lower === "host") host = values[0] || undefined;
    else if (!OWN.has(lower)) for (const v of values) headers.push([name, v]);
  }
  const has = (n: string) => headers.some(([k]) => k.toLowerCase() === n);
  if (!has("user-agent")) headers.push(["User-Agent", USER_AGENT]);
  if (!has("accept")) headers.push(["Accept", ACCEPT]);
  const invalid = headers.find(([k, v]) => !/^[!#$%&'*+\-.^`|~\w]+$/.test(k) || /[\r\n\0]/.test(v));

  let first: Request | undefined;
  let setupError: string | undefined;
  try {
    const url = new URL(def.http);
    first = { url, shown: redact(def.http, url), method, body: Buffer.from(def.body), host, headers };
    if (url.protocol !== "http:" && url.protocol !== "https:") setupError = `unsupported protocol scheme ${JSON.stringify(url.protocol.slice(0, -1))}`;
  } catch {
    setupError = 'unsupported protocol scheme ""';
  }
  if (invalid) setupError = `net/http: invalid header field ${/[\r\n\0]/.test(invalid[1]) ? "value" : "name"} for ${JSON.stringify(invalid[0])}`;
  const firstTarget = first && target(first.url, def);
  const firstBytes = first && encode(first, undefined);

  return async (signal) => {
    if (!first || !firstTarget || !firstBytes || setupError) return fail(def.http, setupError ?? "");
    const out = new TailBuffer(outputMax);
    let req = first;
    let tgt = firstTarget;
    let bytes = firstBytes;
    let exchange: Exchange | undefined;
    let timedOut = false;
    // Go's Client.Timeout bounds the whole exchange: every redirect and the body.
    const timer = setTimeout(() => {
      timedOut = true;
      exchange?.cancel("timeout");
    }, timeoutMs);
    const onAbort = () => exchange?.cancel("stop");
    signal.addEventListener("abort", onAbort);
    try {
      for (let sent = 1; ; sent++) {
        exchange = new Exchange(tgt, bytes, req.method === "HEAD", out, follow);
        if (timedOut) exchange.cancel("timeout");
        if (signal.aborted) exchange.cancel("stop");
        const r = await exchange.done;
        if (signal.aborted) return { status: "critical", output: "" }; // stopped: nobody listens
        if ("error" in r) return fail(req.shown, r.error);
        if (!follow(r.code, r.location)) {
          if (r.bodyError) logger.warn(`Check error while reading body: check=${def.id} error="${r.bodyError}"`);
          const status: HealthStatus = r.code >= 200 && r.code <= 299 ? "passing" : r.code === 429 ? "warning" : "critical";
          return { status, output: `${prefix}${r.status} Output: ${out.text()}` };
        }
        const location = r.location!;
        if (sent >= MAX_REDIRECTS) return fail(location, `stopped after ${MAX_REDIRECTS} redirects`);
        let next: Request;
        try {
          next = redirect(req, r.code, location, first);
        } catch (err) {
          return fail(req.shown, (err as Error).message);
        }
        if (next.url.protocol !== "http:" && next.url.protocol !== "https:") {
          return fail(next.shown, `unsupported protocol scheme ${JSON.stringify(next.url.protocol.slice(0, -1))}`);
        }
        const referer = req.url.protocol === "https:" && next.url.protocol === "http:" ? undefined : stripUser(req.url);
        req = next;
        tgt = target(next.url, def);
        bytes = encode(next, referer);
      }
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  };
}

/** The request a redirect leads to, by Go's rules (net/http Client.Do). */
function redirect(prev: Request, code: number, location: string, original: Request): Request {
  let url: URL;
  try {
    url = new URL(location, prev.url);
  } catch {
    throw new Error(`failed to parse Location header ${JSON.stringify(location)}: invalid URL`);
  }
  url.hash = "";
  // 301/302/303 turn anything but GET/HEAD into a body-less GET; 307/308 resend as is.
  let method = prev.method;
  let body = prev.body;
  if (code <= 303) {
    if (method !== "GET" && method !== "HEAD") method = "GET";
    body = NO_BODY;
  }
  const sameSite = url.hostname === original.url.hostname || url.hostname.endsWith(`.${original.url.hostname}`);
  const headers = sameSite ? original.headers : original.headers.filter(([k]) => !SENSITIVE.has(k.toLowerCase()));
  // A Host override survives only a relative Location.
  const host = /^[a-z][a-z0-9+.-]*:/i.test(location) ? undefined : original.host;
  return { url, shown: redact(url.href, url), method, body, host, headers };
}

function target(url: URL, def: CheckDefinition): Target {
  const https = url.protocol === "https:";
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return {
    https,
    host,
    port: url.port ? Number(url.port) : https ? 443 : 80,
    // Go sends no SNI for an IP literal but still checks the certificate against it.
    servername: def.tlsServerName || (isIP(host) ? undefined : host),
    rejectUnauthorized: !def.tlsSkipVerify,
  };
}

function encode(req: Request, referer: string | undefined): Uint8Array {
  const { url, method, body } = req;
  let head = `${method} ${url.pathname || "/"}${url.search} HTTP/1.1\r\nHost: ${req.host ?? url.host}\r\n`;
  for (const [k, v] of req.headers) head += `${k}: ${v}\r\n`;
  if (url.username !== "" && !req.headers.some(([k]) => k.toLowerCase() === "authorization")) {
    const creds = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    head += `Authorization: Basic ${Buffer.from(creds).toString("base64")}\r\n`;
  }
  if (referer !== undefined && !req.headers.some(([k]) => k.toLowerCase() === "referer")) head += `Referer: ${referer}\r\n`;
  // Go announces an empty body on the methods that normally carry one.
  if (body.length > 0 || method === "POST" || method === "PUT" || method === "PATCH") head += `Content-Length: ${body.length}\r\n`;
  head += "Connection: close\r\n\r\n";
  return body.length === 0 ? Buffer.from(head) : Buffer.concat([Buffer.from(head), body]);
}

/** Go's url.Error shows the URL with its password as "***". */
function redact(text: string, url: URL): string {
  return url.password === "" ? text : text.replace(`:${url.password}@`, ":***@");
}

function stripUser(url: URL): string {
  if (url.username === "" && url.password === "") return url.href;
  const u = new URL(url.href);
  u.username = "";
  u.password = "";
  return u.href;
}
