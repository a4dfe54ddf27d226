import type { Server as BunServer } from "bun";
import type { ConsolaInstance } from "consola";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { AgentConfig } from "../config/types.ts";
import { createApp } from "../http/app.ts";
import { splitUrl } from "../http/path.ts";
import { ConsulError } from "../lib/errors.ts";
import { KvsEndpoint } from "../server/endpoints/kvs.ts";
import { Server } from "../server/server.ts";
import { CONSUL_COMPAT_VERSION, PROTOCOL, REVISION, VERSION } from "../version.ts";
import { advertiseAddress } from "./address.ts";
import { selfInfo } from "./self.ts";

// The agent: owns the configuration, the server role when -server is set, and the HTTP
// listeners. Everything an HTTP handler needs from below goes through here.

export class Agent {
  readonly startedAt = Date.now();
  readonly nodeId: string;
  readonly advertiseAddr: string;
  private server: Server | undefined;
  private kvEndpoint: KvsEndpoint | undefined;
  private readonly listeners: BunServer<undefined>[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    readonly config: AgentConfig,
    readonly logger: ConsolaInstance,
  ) {
    if (config.dataDir) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    this.nodeId = loadNodeId(config);
    this.advertiseAddr = advertiseAddress(config);
  }

  async start(): Promise<void> {
    if (this.config.pidFile) {
      mkdirSync(dirname(this.config.pidFile), { recursive: true });
      writeFileSync(this.config.pidFile, `${process.pid}\n`);
    }
    if (this.config.server) {
      const log = this.logger.withTag("server");
      this.server = new Server({
        nodeName: this.config.nodeName,
        rpcAddr: this.rpcAddr(),
        dataDir: this.config.dev ? undefined : this.config.dataDir,
        snapshotThreshold: this.config.raftSnapshotThreshold,
        trailingLogs: this.config.raftTrailingLogs,
        tombstoneTtlMs: 15 * 60_000,
        logger: { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
        onFatal: (err) => {
          log.error(`fatal: ${err.message}; shutting down`);
          void this.stop().finally(() => process.exit(1));
        },
      });
      await this.server.start();
      this.kvEndpoint = new KvsEndpoint(this.server);
    }
    this.listen();
  }

  private listen(): void {
    const port = this.config.ports.http;
    if (port < 0) return;
    const app = createApp(this);
    for (const hostname of this.config.clientAddrs) {
      const server: BunServer<undefined> = Bun.serve({
        hostname,
        port,
        // Generous for bodies: each endpoint enforces Consul's own limit with Consul's text.
        maxRequestBodySize: Math.max(this.config.limits.kvMaxValueSize, this.config.limits.txnMaxReqLen) * 4,
        fetch: (req) => app.fetch(collapseSlashes(req), { server }),
      });
      this.listeners.push(server);
    }
  }

  /** Graceful stop: stop accepting, flush the log, remove the pid file. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const l of this.listeners) l.stop(true);
      await this.server?.stop();
      if (this.config.pidFile) rmSync(this.config.pidFile, { force: true });
    })();
    return this.stopping;
  }

  /** The KV endpoint of a server; a client agent has none to reach yet. */
  kvs(): KvsEndpoint {
    if (!this.kvEndpoint) throw new ConsulError(500, "No known Consul servers");
    return this.kvEndpoint;
  }

  leaderAddr(): string {
    return this.server?.leaderAddr ?? "";
  }

  peers(): string[] {
    return this.server ? [this.rpcAddr()] : [];
  }

  rpcAddr(): string {
    return `${this.advertiseAddr}:${this.config.ports.server}`;
  }

  self(): Record<string, unknown> {
    return selfInfo(this, this.server?.raftStats);
  }

  get versionInfo(): { version: string; revision: string; ours: string; protocol: typeof PROTOCOL } {
    return { version: CONSUL_COMPAT_VERSION, revision: REVISION, ours: VERSION, protocol: PROTOCOL };
  }
}

/** Go clients send "//" in paths (/v1/kv//app); Consul collapses them, so do we. */
function collapseSlashes(req: Request): Request {
  const { origin, path, search } = splitUrl(req.url);
  if (!path.includes("//")) return req;
  return new Request(origin + path.replace(/\/{2,}/g, "/") + search, req);
}

/** A node's UUID persists in the data dir, as Consul's node-id file does. */
function loadNodeId(config: AgentConfig): string {
  if (config.nodeId) return config.nodeId;
  if (!config.dataDir || config.dev) return crypto.randomUUID();
  const file = join(config.dataDir, "node-id");
  try {
    const id = readFileSync(file, "utf8").trim();
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return id;
  } catch {
    // first start: generate below
  }
  const id = crypto.randomUUID();
  writeFileSync(file, id);
  return id;
}
