import { connect } from "node:net";
import type { CheckDefinition } from "../../config/definition-types.ts";
import { formatDurationMs } from "../../lib/duration.ts";
import type { HealthStatus } from "../../state/catalog-types.ts";

// One run of a check: a probe resolves with the status and output Consul would record, in
// Consul's words (Go's error texts included, since operators grep for them). A probe never
// throws for a failed target; the abort signal ends it early when the check is stopped.

export type Probe = (signal: AbortSignal) => Promise<{ status: HealthStatus; output: string }>;

/**
 * Keeps the last `max` bytes, as Consul's circular buffer does, and says so in front. The
 * end of a script's output is where its verdict usually is.
 */
export class TailBuffer {
  private chunks: Uint8Array[] = [];
  private held = 0;
  total = 0;

  constructor(private readonly max: number) {}

  push(chunk: Uint8Array): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.held += chunk.length;
    while (this.held - this.chunks[0]!.length >= this.max) this.held -= this.chunks.shift()!.length;
  }

  /** The retained bytes: at most `max`, the latest. */
  tail(): Uint8Array {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max));
  }

  text(): string {
    return captured(this.tail(), this.total, this.max);
  }
}

function captured(tail: Uint8Array, total: number, max: number): string {
  const text = Buffer.from(tail).toString("utf8");
  return total > max ? `Captured ${max} of ${total} bytes\n...\n${text}` : text;
}

async function drain(stream: ReadableStream<Uint8Array>, into: TailBuffer): Promise<void> {
  for await (const chunk of stream) into.push(chunk);
}

/** Script checks: exit 0 passing, 1 warning, anything else critical; a timeout kills the whole group. */
export function scriptProbe(def: CheckDefinition, outputMax: number, defaultTimeoutMs: number): Probe {
  const argv = def.args.length > 0 ? def.args : ["/bin/sh", "-c", def.script];
  const timeoutMs = def.timeoutMs || defaultTimeoutMs;
  return async (signal) => {
    let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
    try {
      // detached: its own process group, so a timeout takes its children down with it.
      proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true } as Bun.SpawnOptions.OptionsObject<"ignore", "pipe", "pipe">);
    } catch (err) {
      return { status: "critical", output: (err as Error).message };
    }
    const killGroup = (): void => {
      try {
        process.kill(-proc.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    // stdout then stderr in one buffer: Consul interleaves them; two pipes cannot.
    const out = new TailBuffer(outputMax);
    const err = new TailBuffer(outputMax);
    const reading = Promise.all([drain(proc.stdout, out), drain(proc.stderr, err)]);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const onAbort = (): void => killGroup();
    signal.addEventListener("abort", onAbort, { once: true });
    const code = await proc.exited;
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    // A child left holding the pipes open would stall the read; the group is done with.
    if (timedOut) killGroup();
    await Promise.race([reading, Bun.sleep(1000)]);
    if (timedOut) return { status: "critical", output: `Timed out (${formatDurationMs(timeoutMs)}) running check` };
    const both = Buffer.concat([out.tail(), err.tail()]);
    const output = captured(both.subarray(Math.max(0, both.length - outputMax)), out.total + err.total, outputMax);
    return { status: code === 0 ? "passing" : code === 1 ? "warning" : "critical", output };
  };
}

/** HTTP checks: 2xx passing, 429 warning, anything else (or no answer) critical. */
export function httpProbe(def: CheckDefinition, outputMax: number, defaultTimeoutMs: number): Probe {
  const method = def.method || "GET";
  const timeoutMs = def.timeoutMs || defaultTimeoutMs;
  const headers = new Headers();
  for (const [k, vs] of Object.entries(def.header)) for (const v of vs) headers.append(k, v);
  if (!headers.has("User-Agent")) headers.set("User-Agent", "Consul Health Check");
  if (!headers.has("Accept")) headers.set("Accept", "text/plain, text/*, */*");
  const verb = method.charAt(0).toUpperCase() + method.slice(1).toLowerCase();
  return async (signal) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(def.http, {
        method,
        headers,
        body: def.body === "" ? undefined : def.body,
        redirect: def.disableRedirects ? "manual" : "follow",
        signal: AbortSignal.any([signal, timeout]),
        tls: { rejectUnauthorized: !def.tlsSkipVerify, ...(def.tlsServerName ? { serverName: def.tlsServerName } : {}) },
      } as RequestInit);
    } catch (err) {
      const why = timeout.aborted ? "context deadline exceeded (Client.Timeout exceeded while awaiting headers)" : goDialError(err, def.http);
      return { status: "critical", output: `${verb} "${def.http}": ${why}` };
    }
    const body = new TailBuffer(outputMax);
    try {
      if (res.body) await drain(res.body, body);
    } catch {
      // a body cut short still tells us the status
    }
    const output = `HTTP ${method} ${def.http}: ${res.status} ${res.statusText || statusText(res.status)} Output: ${body.text()}`;
    const ok = res.status >= 200 && res.status <= 299;
    return { status: ok ? "passing" : res.status === 429 ? "warning" : "critical", output };
  };
}

/** TCP checks: a completed connect is passing. */
export function tcpProbe(def: CheckDefinition, defaultTimeoutMs: number): Probe {
  const timeoutMs = def.timeoutMs || defaultTimeoutMs;
  const { host, port } = splitHostPort(def.tcp);
  return (signal) =>
    new Promise((resolve) => {
      const sock = connect({ host, port, signal });
      const done = (status: HealthStatus, output: string): void => {
        clearTimeout(timer);
        sock.destroy();
        resolve({ status, output });
      };
      const timer = setTimeout(() => done("critical", `dial tcp ${def.tcp}: i/o timeout`), timeoutMs);
      sock.once("connect", () => done("passing", `TCP connect ${def.tcp}: Success`));
      sock.once("error", (err: NodeJS.ErrnoException) => done("critical", `dial tcp ${def.tcp}: ${goErrno(err)}`));
    });
}

function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:]*):(\d+)$/.exec(addr);
  if (!m) return { host: addr, port: 0 };
  return { host: m[1] || "localhost", port: Number(m[2]) };
}

/** Go's words for the errors an operator will see most. */
function goErrno(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "ECONNREFUSED":
      return "connect: connection refused";
    case "EHOSTUNREACH":
      return "connect: no route to host";
    case "ENETUNREACH":
      return "connect: network is unreachable";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `lookup ${(err as { hostname?: string }).hostname ?? ""}: no such host`;
    default:
      return err.message;
  }
}

function goDialError(err: unknown, url: string): string {
  const e = err as NodeJS.ErrnoException;
  let hostPort = "";
  try {
    const u = new URL(url);
    hostPort = `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
  } catch {
    return e.message;
  }
  if (e.code === "ConnectionRefused" || e.code === "ECONNREFUSED") return `dial tcp ${hostPort}: connect: connection refused`;
  return e.message;
}

const STATUS_TEXT: Record<number, string> = { 200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout" };

function statusText(code: number): string {
  return STATUS_TEXT[code] ?? "";
}
