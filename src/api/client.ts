import { parseJsonKeepingBigInts } from "../lib/fields.ts";

// A typed client of our own HTTP API (which is Consul's). The CLI and tests use it; it is
// never a back door into the agent. Errors read like Consul's Go client's, because scripts
// match on them: `Get "http://127.0.0.1:8500/v1/kv/foo": dial tcp 127.0.0.1:8500: connect: connection refused`.

export interface ClientOptions {
  /** host:port, http(s)://host:port[/prefix], or unix:///path/to.sock */
  address: string;
  token?: string;
  datacenter?: string;
  stale?: boolean;
}

export interface KvPair {
  Key: string;
  Flags: bigint;
  Value: string | null; // base64
  LockIndex: number;
  Session?: string;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface KvGetOptions {
  recurse?: boolean;
  consistent?: boolean;
  /** Block until the index passes this. */
  index?: number;
  waitMs?: number;
  signal?: AbortSignal;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`Unexpected response code: ${status} (${body.trim()})`);
  }
}

/** Query parameters; a list repeats the parameter (?tag=a&tag=b). */
export type Query = Record<string, string | string[] | undefined>;

/** Per-request transport settings. */
export interface TransportOptions {
  signal?: AbortSignal;
  /** Bun's socket idle timeout (5 minutes by default); a blocking query may stay silent longer. */
  idleTimeoutMs?: number;
}

/** A blocking query's answer: its X-Consul-Index (uint64, so a bigint) and the raw body. */
export interface BlockingResponse {
  status: number;
  index: bigint;
  body: Uint8Array;
}

// A blocking query waits up to max_query_time (10 minutes at most) plus Consul's jitter
// of wait/16 on the server; the socket may stay silent that long, and not much longer.
const BLOCKING_IDLE_TIMEOUT_MS = 11 * 60_000;

interface Target {
  base: string;
  unix: string | undefined;
}

export function resolveAddress(address: string, sslEnv?: string): Target {
  const https = sslEnv !== undefined && /^(1|t|true)$/i.test(sslEnv);
  const at = address.indexOf("://");
  if (at < 0) return { base: `${https ? "https" : "http"}://${address}`, unix: undefined };
  const scheme = address.slice(0, at);
  const rest = address.slice(at + 3);
  if (scheme === "unix") return { base: "http://localhost", unix: rest };
  if (scheme === "http" || scheme === "https") return { base: `${https ? "https" : scheme}://${rest.replace(/\/+$/, "")}`, unix: undefined };
  throw new Error(`Unknown protocol scheme: ${scheme}`);
}

/** The agent address a CLI command talks to: -http-addr, else CONSUL_HTTP_ADDR, TSC_HTTP_ADDR, default. */
export function defaultAddress(flag: string | undefined, env = process.env): string {
  return flag || env.CONSUL_HTTP_ADDR || env.TSC_HTTP_ADDR || "127.0.0.1:8500";
}

export class ApiClient {
  private readonly target: Target;

  constructor(private readonly opts: ClientOptions) {
    this.target = resolveAddress(opts.address, process.env.CONSUL_HTTP_SSL);
  }

  async request(method: string, path: string, query: Query = {}, body?: Uint8Array | string, init: TransportOptions = {}): Promise<{ status: number; headers: Headers; body: Uint8Array }> {
    const params = new URLSearchParams();
    if (this.opts.datacenter) params.set("dc", this.opts.datacenter);
    if (this.opts.stale && method === "GET") params.set("stale", "");
    for (const [k, v] of Object.entries(query)) {
      if (Array.isArray(v)) for (const x of v) params.append(k, x);
      else if (v !== undefined) params.set(k, v);
    }
    params.sort(); // Go's url.Values.Encode sorts, and error texts show the URL
    const qs = params.toString();
    const url = `${this.target.base}${path}${qs ? `?${qs}` : ""}`;
    const headers: Record<string, string> = {};
    if (this.opts.token) headers["X-Consul-Token"] = this.opts.token;
    let res: Response;
    try {
      const transport = { signal: init.signal, ...(init.idleTimeoutMs ? { timeout: init.idleTimeoutMs } : {}), ...(this.target.unix ? { unix: this.target.unix } : {}) };
      res = await fetch(url, { method, headers, body, ...transport } as RequestInit);
      return { status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()) };
    } catch (err) {
      if (init.signal?.aborted) throw err; // the caller gave up: not a dial error
      throw new Error(`${goMethod(method)} "${url}": ${dialError(url, err as Error)}`);
    }
  }

  /**
   * GET as a blocking query: with `index`, the agent answers once its X-Consul-Index passes it
   * (or its wait runs out). Any status comes back; the caller decides which ones carry data.
   */
  async blockingGet(path: string, query: Query, index: bigint | undefined, signal?: AbortSignal): Promise<BlockingResponse> {
    const q = index !== undefined && index > 0n ? { ...query, index: index.toString() } : query;
    const r = await this.request("GET", path, q, undefined, { signal, idleTimeoutMs: BLOCKING_IDLE_TIMEOUT_MS });
    return { status: r.status, index: parseIndex(r.headers.get("X-Consul-Index")), body: r.body };
  }

  private async ok(method: string, path: string, query?: Query, body?: Uint8Array | string): Promise<{ status: number; headers: Headers; body: Uint8Array }> {
    return expectOk(await this.request(method, path, query, body));
  }

  /** GET /v1/kv/<key>: entries, or undefined on 404; with `index` it blocks, as Consul's blocking queries. */
  async kvGet(key: string, opts: KvGetOptions = {}): Promise<{ entries: KvPair[] | undefined; index: number }> {
    const q: Query = {
      recurse: opts.recurse ? "" : undefined,
      consistent: opts.consistent ? "" : undefined,
      index: opts.index ? String(opts.index) : undefined,
      wait: opts.waitMs === undefined ? undefined : `${Math.max(0, Math.ceil(opts.waitMs))}ms`,
    };
    const r = await this.request("GET", `/v1/kv/${encodeKey(key)}`, q, undefined, { signal: opts.signal, idleTimeoutMs: opts.index ? BLOCKING_IDLE_TIMEOUT_MS : undefined });
    const index = Number(r.headers.get("X-Consul-Index") ?? 0);
    if (r.status === 404) return { entries: undefined, index };
    return { entries: parseKvPairs(Buffer.from(expectOk(r).body).toString()), index };
  }

  async kvKeys(prefix: string, separator: string): Promise<string[]> {
    const r = await this.request("GET", `/v1/kv/${encodeKey(prefix)}`, { keys: "", separator: separator === "" ? undefined : separator });
    if (r.status === 404) return [];
    return JSON.parse(Buffer.from(expectOk(r).body).toString()) as string[];
  }

  /** PUT /v1/kv/<key>: Consul's true/false. */
  async kvPut(key: string, value: Uint8Array, opts: { flags?: bigint; cas?: number; acquire?: string; release?: string } = {}): Promise<boolean> {
    const q: Query = {
      flags: opts.flags && opts.flags !== 0n ? opts.flags.toString() : undefined,
      cas: opts.cas === undefined ? undefined : String(opts.cas),
      acquire: opts.acquire,
      release: opts.release,
    };
    const r = await this.ok("PUT", `/v1/kv/${encodeKey(key)}`, q, value);
    return Buffer.from(r.body).toString().trim() === "true";
  }

  async kvDelete(key: string, opts: { recurse?: boolean; cas?: number } = {}): Promise<boolean> {
    const q: Query = { recurse: opts.recurse ? "" : undefined, cas: opts.cas === undefined ? undefined : String(opts.cas) };
    const r = await this.ok("DELETE", `/v1/kv/${encodeKey(key)}`, q);
    return Buffer.from(r.body).toString().trim() === "true";
  }

  /** GET returning JSON, for the endpoints whose shapes the caller types itself; `accept` lists the statuses that carry it. */
  async getJson<T>(path: string, query: Query = {}, accept: number[] = [200]): Promise<T> {
    const r = expectStatus(await this.request("GET", path, query), accept);
    return JSON.parse(Buffer.from(r.body).toString()) as T;
  }

  /** Any method with an optional JSON body; a non-200 answer throws. Returns the body's text. */
  async send(method: "GET" | "PUT" | "POST" | "DELETE", path: string, query: Query = {}, body?: unknown): Promise<string> {
    const r = await this.ok(method, path, query, body === undefined ? undefined : JSON.stringify(body));
    return Buffer.from(r.body).toString();
  }

  /** PUT with an optional JSON body; the answer body is ignored. */
  async put(path: string, query: Query = {}, body?: unknown): Promise<void> {
    await this.ok("PUT", path, query, body === undefined ? undefined : JSON.stringify(body));
  }

  /** GET /v1/snapshot: the archive and the index it was taken at (X-Consul-Index). */
  async snapshotSave(): Promise<{ archive: Uint8Array; index: number }> {
    const r = await this.ok("GET", "/v1/snapshot");
    return { archive: r.body, index: Number(r.headers.get("X-Consul-Index") ?? 0) };
  }

  /** PUT /v1/snapshot with an archive as the body. */
  async snapshotRestore(archive: Uint8Array): Promise<void> {
    await this.ok("PUT", "/v1/snapshot", {}, archive);
  }

  async agentSelf(): Promise<Record<string, unknown>> {
    const r = await this.ok("GET", "/v1/agent/self");
    return JSON.parse(Buffer.from(r.body).toString()) as Record<string, unknown>;
  }

  async statusLeader(): Promise<string> {
    const r = await this.ok("GET", "/v1/status/leader");
    return JSON.parse(Buffer.from(r.body).toString()) as string;
  }
}

export function expectOk<R extends { status: number; body: Uint8Array }>(r: R): R {
  return expectStatus(r, [200]);
}

function expectStatus<R extends { status: number; body: Uint8Array }>(r: R, accept: number[]): R {
  if (!accept.includes(r.status)) throw new ApiError(r.status, Buffer.from(r.body).toString());
  return r;
}

/** Keys go in the path; escape what would change its meaning but keep "/" readable. */
export function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/** KV JSON with Flags kept exact (uint64). */
export function parseKvPairs(text: string): KvPair[] {
  const pairs = parseJsonKeepingBigInts(text, ["Flags"]) as Array<KvPair & { Flags: string | number }>;
  return pairs.map((p) => ({ ...p, Flags: BigInt(p.Flags) }));
}

/** Go's url.Error names the method this way: "Get", "Put", "Post". */
export function goMethod(method: string): string {
  return `${method[0]}${method.slice(1).toLowerCase()}`;
}

/** X-Consul-Index as Go's client reads it: a uint64, 0 when absent or unreadable. */
function parseIndex(header: string | null): bigint {
  return header !== null && /^\d{1,20}$/.test(header) ? BigInt(header) : 0n;
}

/** How Go's HTTP client words a failed exchange: refused dials as `dial tcp …`, our deadlines as a context's. */
export function dialError(url: string, err: Error): string {
  if (err.name === "TimeoutError") return "context deadline exceeded";
  if (err.name === "AbortError") return "context canceled";
  const u = new URL(url);
  const hostPort = `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
  const code = (err as Error & { code?: string }).code ?? "";
  if (code === "ConnectionRefused" || /ECONNREFUSED|refused/i.test(`${code} ${err.message}`)) {
    return `dial tcp ${hostPort}: connect: connection refused`;
  }
  return `dial tcp ${hostPort}: ${err.message}`;
}
