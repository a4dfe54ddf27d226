import type { Server as BunServer } from "bun";
import type { ConsolaInstance } from "consola";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { AgentConfig, LoadedConfig } from "../config/types.ts";
import type { DnsView } from "../dns/lookup.ts";
import { fetchReader } from "../dns/remote.ts";
import { DnsServer } from "../dns/server.ts";
import { GossipPool, type KeyringOp } from "../gossip/pool.ts";
import { MemberSnapshot } from "../gossip/snapshot.ts";
import { decodeTags } from "../gossip/serf.ts";
import { type SerfMember, STATUS_CODE, type UserEventReceived } from "../gossip/serf-node.ts";
import { createApp } from "../http/app.ts";
import { splitUrl } from "../http/path.ts";
import { ConsulError } from "../lib/errors.ts";
import { setLevel } from "../lib/logger.ts";
import { CatalogEndpoint } from "../server/endpoints/catalog.ts";
import { HealthEndpoint } from "../server/endpoints/health.ts";
import { KvsEndpoint } from "../server/endpoints/kvs.ts";
import { OperatorEndpoint } from "../server/endpoints/operator.ts";
import { SessionEndpoint } from "../server/endpoints/session.ts";
import { SnapshotEndpoint } from "../server/endpoints/snapshot.ts";
import { RpcClient, type RpcClientOptions, type ServerAddr } from "../rpc/client.ts";
import { RpcServer } from "../rpc/server.ts";
import { MAX_FRAME } from "../rpc/protocol.ts";
import type { Message } from "../raft/core/types.ts";
import type { Member } from "../server/leader.ts";
import type { QueryOptions } from "../server/query.ts";
import { serverInfo } from "../server/bootstrap.ts";
import { Server } from "../server/server.ts";
import { CONSUL_COMPAT_VERSION, PROTOCOL, REVISION, VERSION } from "../version.ts";
import { advertiseAddress } from "./address.ts";
import { AntiEntropy, type CatalogAccess, type NodeInfo } from "./anti-entropy.ts";
import { ServerCluster } from "./cluster.ts";
import { decodeUserEvent, encodeUserEvent, EventBuffer, eventMatches, newUserEvent, USER_EVENT_PREFIX, type UserEvent, type UserEventParams } from "./events.ts";
import { type InternalApi, type KeyringResponse, keyringOperation, LAN_KEYRING, LAN_SNAPSHOT, loadKeyring, saveKeyring, WAN_KEYRING, WAN_SNAPSHOT } from "./keyring.ts";
import { LocalState } from "./local.ts";
import { Persistence } from "./persist.ts";
import { lanTags, selfInfo } from "./self.ts";
import { WatchManager, WATCHES_NEED_HTTP } from "./watches.ts";
import { joinHostPort } from "./checks/go-errors.ts";

/** Consul's Internal RPC endpoint: what a client agent asks a server to do on the pools. */
interface InternalEndpoint extends InternalApi {
  eventFire(name: string, payload: Uint8Array): Promise<void>;
}

// The agent: owns the configuration, its local services and checks (kept in the catalog by
// anti-entropy), the server role when -server is set, and the HTTP listeners. Everything an
// HTTP handler needs from below goes through here.

export interface AgentTimings {
  antiEntropyIntervalMs: number;
  checkUpdateIntervalMs: number;
  reapIntervalMs: number;
  minCheckIntervalMs: number;
  minDeregisterAfterMs: number;
}

/** Consul's: full sync every minute, output-only updates every 5m, 1s/1m minimums. */
export const DEFAULT_TIMINGS: AgentTimings = {
  antiEntropyIntervalMs: 60_000,
  checkUpdateIntervalMs: 5 * 60_000,
  reapIntervalMs: 5_000,
  minCheckIntervalMs: 1_000,
  minDeregisterAfterMs: 60_000,
};

export class Agent {
  readonly startedAt = Date.now();
  readonly nodeId: string;
  readonly advertiseAddr: string;
  readonly local: LocalState;
  /** User events this agent accepted, for /v1/event/list. */
  readonly events = new EventBuffer();
  private readonly antiEntropy: AntiEntropy;
  private server: Server | undefined;
  private kvEndpoint: KvsEndpoint | undefined;
  private catalogEndpoint: CatalogEndpoint | undefined;
  private healthEndpoint: HealthEndpoint | undefined;
  private sessionEndpoint: SessionEndpoint | undefined;
  private statusEndpoint: StatusApi | undefined;
  private operatorEndpoint: OperatorEndpoint | undefined;
  private snapshotEndpoint: SnapshotEndpoint | undefined;
  private rpcServer: RpcServer | undefined;
  private cluster: ServerCluster | undefined;
  /** A client agent reaches servers through this; a server answers in-process. */
  private rpcClient: RpcClient | undefined;
  private readonly listeners: BunServer<undefined>[] = [];
  private dns: DnsServer | undefined;
  private gossip: GossipPool | undefined;
  private wan: GossipPool | undefined;
  private lanSnapshot: MemberSnapshot | undefined;
  private wanSnapshot: MemberSnapshot | undefined;
  private reapTimer: ReturnType<typeof setInterval> | undefined;
  private readonly reapIntervalMs: number;
  private readonly persistence: Persistence | undefined;
  private stopping: Promise<void> | undefined;
  private readonly watches: WatchManager;

  constructor(
    public config: AgentConfig,
    readonly logger: ConsolaInstance,
    /** Re-reads every config source; SIGHUP, `tsc reload` and PUT /v1/agent/reload use it. */
    private readonly reloadSource: (() => LoadedConfig) | undefined = undefined,
    timings: AgentTimings = DEFAULT_TIMINGS,
  ) {
    if (config.dataDir) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    this.nodeId = loadNodeId(config);
    this.advertiseAddr = advertiseAddress(config);
    const persistence = config.dataDir && !config.dev ? new Persistence(config.dataDir) : undefined;
    this.local = new LocalState({
      enableScriptChecks: config.enableScriptChecks,
      enableLocalScriptChecks: config.enableLocalScriptChecks,
      checkOutputMaxSize: config.checkOutputMaxSize,
      minCheckIntervalMs: timings.minCheckIntervalMs,
      minDeregisterAfterMs: timings.minDeregisterAfterMs,
      persistence,
      logger: this.logFns(),
      random: Math.random,
      now: Date.now,
      onChange: () => this.antiEntropy.trigger(),
    });
    this.antiEntropy = new AntiEntropy({
      local: this.local,
      catalog: () => this.catalogAccess(),
      nodeInfo: () => this.nodeInfo(),
      intervalMs: timings.antiEntropyIntervalMs,
      checkUpdateIntervalMs: timings.checkUpdateIntervalMs,
      random: Math.random,
      now: Date.now,
      logger: this.logFns(),
    });
    this.reapIntervalMs = timings.reapIntervalMs;
    this.persistence = persistence;
    this.watches = new WatchManager(logger);
  }

  async start(): Promise<void> {
    if (this.config.pidFile) {
      mkdirSync(dirname(this.config.pidFile), { recursive: true });
      writeFileSync(this.config.pidFile, `${process.pid}\n`);
    }
    if (this.config.server) {
      const log = this.logger.withTag("server");
      const c = this.config;
      const cluster = new ServerCluster({
        nodeId: this.nodeId,
        nodeName: c.nodeName,
        rpcAddr: this.rpcAddr(),
        datacenter: c.datacenter,
        bootstrapExpect: c.bootstrapExpect,
        lanMembers: () => this.members(),
        rpc: this.rpcOptions(),
        logger: { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m), debug: (m) => log.debug(m) },
      });
      this.cluster = cluster;
      this.server = new Server({
        nodeName: c.nodeName,
        nodeId: this.nodeId,
        bootstrapSelf: c.bootstrap,
        rpcAddr: this.rpcAddr(),
        addressOf: (id) => cluster.addressOf(id),
        nameOf: (id) => cluster.nameOf(id),
        send: (to, msg) => cluster.send(to, msg),
        dataDir: c.dev ? undefined : c.dataDir,
        snapshotThreshold: c.raftSnapshotThreshold,
        snapshotIntervalMs: c.raftSnapshotIntervalMs,
        trailingLogs: c.raftTrailingLogs,
        tombstoneTtlMs: 15 * 60_000,
        datacenter: c.datacenter,
        members: () => this.clusterMembers(),
        logger: { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
        onFatal: (err) => {
          log.error(`fatal: ${err.message}; shutting down`);
          void this.stop().finally(() => process.exit(1));
        },
      });
      // The RPC port comes first: peers' Raft traffic arrives on it from the start.
      this.startRpcServer();
      await this.server.start();
      cluster.attach(this.server);
      this.kvEndpoint = cluster.forwarding(new KvsEndpoint(this.server), "KVS");
      this.catalogEndpoint = cluster.forwarding(
        new CatalogEndpoint(this.server, c.datacenter, () =>
          this.members(true)
            .filter((m) => m.status === "alive" && m.tags.dc)
            .map((m) => m.tags.dc!),
        ),
        "Catalog",
      );
      this.healthEndpoint = cluster.forwarding(new HealthEndpoint(this.server), "Health");
      this.sessionEndpoint = cluster.forwarding(new SessionEndpoint(this.server, c.sessionTtlMinMs), "Session");
      this.snapshotEndpoint = cluster.forwarding(new SnapshotEndpoint(this.server), "Snapshot");
      this.statusEndpoint = { leader: async () => this.server?.leaderAddr ?? "", peers: async () => cluster.peers() };
      this.operatorEndpoint = cluster.forwarding(
        new OperatorEndpoint(this.server, {
          servers: () => cluster.servers(),
          self: { id: this.nodeId, name: c.nodeName, addr: this.rpcAddr(), version: CONSUL_COMPAT_VERSION },
          forget: (id) => cluster.transport.drop(id),
          logger: { info: (m) => log.info(m), warn: (m) => log.warn(m) },
        }),
        "Operator",
      );
    } else {
      this.rpcClient = new RpcClient(() => this.knownServers(), this.rpcOptions());
      this.kvEndpoint = this.rpcClient.proxy<KvsEndpoint>("KVS");
      this.catalogEndpoint = this.rpcClient.proxy<CatalogEndpoint>("Catalog");
      this.healthEndpoint = this.rpcClient.proxy<HealthEndpoint>("Health");
      this.sessionEndpoint = this.rpcClient.proxy<SessionEndpoint>("Session");
      this.snapshotEndpoint = this.rpcClient.proxy<SnapshotEndpoint>("Snapshot");
      this.statusEndpoint = this.rpcClient.proxy<StatusApi>("Status");
      this.operatorEndpoint = this.rpcClient.proxy<OperatorEndpoint>("Operator");
    }
    this.loadDefinitions();
    this.antiEntropy.start();
    this.reapTimer = setInterval(() => this.local.reapCritical(), this.reapIntervalMs);
    this.reapTimer.unref?.();
    await this.startGossip();
    this.listen();
    await this.startDns();
    this.watches.reload(this.config.watches, this.apiAddress());
  }

  /**
   * Where the agent's watches reach its HTTP API: the first client address, the loopback one
   * when that is a wildcard (Consul's APIConfig). Undefined when HTTP is off.
   */
  private apiAddress(): string | undefined {
    const host = this.config.clientAddrs[0];
    if (this.config.ports.http < 0 || host === undefined) return undefined;
    return joinHostPort(host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host, this.config.ports.http);
  }

  /** Agent RPC on the server port, bound to the bind address, for client agents. */
  private startRpcServer(): void {
    const c = this.config;
    if (c.ports.server < 0) return;
    this.rpcServer = new RpcServer(
      {
        KVS: { target: () => this.kvEndpoint, methods: ["get", "list", "listKeys", "apply", "txn"] },
        Catalog: { target: () => this.catalogEndpoint, methods: ["register", "deregister", "datacenters", "listNodes", "listServices", "serviceNodes", "nodeServices"] },
        Health: { target: () => this.healthEndpoint, methods: ["nodeChecks", "serviceChecks", "serviceNodes", "checksInState", "nodeDump", "nodeInfo", "serviceDump"] },
        Session: { target: () => this.sessionEndpoint, methods: ["create", "destroy", "renew", "get", "list", "nodeSessions"] },
        Status: { target: () => this.statusEndpoint, methods: ["leader", "peers"] },
        Operator: { target: () => this.operatorEndpoint, methods: ["raftGetConfiguration", "raftRemovePeerById", "raftRemovePeerByAddress", "transferLeader", "serverHealth"] },
        Snapshot: { target: () => this.snapshotEndpoint, methods: ["save", "restore"] },
        Internal: { target: () => this.internalEndpoint, methods: ["keyringOperation", "eventFire"] },
      },
      this.logger.withTag("rpc"),
      (msg) => this.server?.receive(msg as Message),
    );
    this.rpcServer.start(c.bindAddr, c.ports.server);
  }

  /** limits.rpc_client_timeout and performance.rpc_hold_timeout, for every RPC client this agent makes. */
  private rpcOptions(): Required<RpcClientOptions> {
    return { timeoutMs: this.config.limits.rpcClientTimeoutMs, holdMs: this.config.rpcHoldTimeoutMs };
  }

  /** Seconds a request may go without a byte of answer: a hold, an RPC deadline, and slack (0: no limit). */
  private httpRequestTimeoutS(): number {
    const rpcMs = this.config.limits.rpcClientTimeoutMs;
    return rpcMs === 0 ? 0 : Math.ceil((this.config.rpcHoldTimeoutMs + rpcMs) / 1000) + 5;
  }

  /** Servers a client agent can call: alive members tagged role=consul with an RPC port. */
  private knownServers(): ServerAddr[] {
    return this.members().flatMap((m) => {
      const s = serverInfo(m);
      return s?.status === "alive" ? [s] : [];
    });
  }

  /** The LAN pool on serf_lan (-1 disables), then -join (fatal if nobody answers) and -retry-join. */
  private async startGossip(): Promise<void> {
    const c = this.config;
    if (c.ports.serfLan < 0) return;
    const log = this.logger.withTag("serf");
    this.gossip = new GossipPool({
      name: c.nodeName,
      bindIp: c.bindAddr,
      advertiseIp: this.advertiseAddr,
      port: c.ports.serfLan,
      tags: lanTags(this),
      keyring: this.loadPoolKeyring(LAN_KEYRING, "LAN"),
      onKeyringChange: (ring) => this.savePoolKeyring(LAN_KEYRING, ring),
      reconnectTimeoutMs: c.reconnectTimeoutMs,
      leavePropagateDelayMs: c.dev ? 100 : 3000,
      tune: c.dev ? { probeIntervalMs: 100, probeTimeoutMs: 100, gossipIntervalMs: 100, suspicionMult: 3 } : undefined,
      logger: { info: (m) => log.info(m), warn: (m) => log.warn(m), debug: (m) => log.debug(m) },
      // Membership moved: the leader brings the catalog along (serfHealth, deregistration).
      onChange: () => {
        this.lanSnapshot?.record(this.gossip!.members(), c.nodeName);
        this.cluster?.onMembershipChange();
        void this.server?.reconcile();
        // A client that just learned of a server can now sync its services.
        if (this.rpcClient) this.antiEntropy.trigger();
      },
      onUserEvent: (e) => this.onUserEvent(e),
    });
    this.lanSnapshot = this.snapshotFile(LAN_SNAPSHOT);
    const previous = this.lanSnapshot?.load();
    await this.gossip.start();
    this.rejoinFromSnapshot(this.gossip, previous, "");
    if (c.startJoin.length > 0) {
      try {
        const n = await this.gossip.join(c.startJoin);
        this.logger.info(`Join completed. Initial agents synced with: ${n}`);
      } catch (err) {
        throw new Error(`Failed to join ${c.startJoin.join(", ")}: ${(err as Error).message}`);
      }
    }
    if (c.retryJoin.length > 0) void this.retryJoin(c.retryJoin);
    if (c.server && c.ports.serfWan >= 0) await this.startWan();
  }

  /**
   * Servers also gossip on the WAN pool (serf_wan, 8302) with memberlist's WAN timings, named
   * `<node>.<dc>` as Consul names them. Datacenters find each other's servers through it.
   */
  private async startWan(): Promise<void> {
    const c = this.config;
    const log = this.logger.withTag("serf.wan");
    const { wan_join_port: _w, ...tags } = lanTags(this);
    const wanTune = c.dev
      ? { probeIntervalMs: 100, probeTimeoutMs: 100, gossipIntervalMs: 100, suspicionMult: 3 }
      : { probeIntervalMs: 5000, probeTimeoutMs: 3000, suspicionMult: 6, gossipIntervalMs: 500, gossipNodes: 4, gossipToTheDeadMs: 60_000, pushPullIntervalMs: 60_000 };
    this.wan = new GossipPool({
      name: `${c.nodeName}.${c.datacenter}`,
      bindIp: c.bindAddr,
      advertiseIp: c.advertiseAddrWan ?? this.advertiseAddr,
      port: c.ports.serfWan,
      tags,
      keyring: this.loadPoolKeyring(WAN_KEYRING, "WAN"),
      onKeyringChange: (ring) => this.savePoolKeyring(WAN_KEYRING, ring),
      reconnectTimeoutMs: c.reconnectTimeoutMs,
      leavePropagateDelayMs: c.dev ? 100 : 3000,
      // Consul's WAN merge delegate: only servers belong in the WAN pool.
      tune: { ...wanTune, admit: (_node, meta) => decodeTags(meta).role === "consul" },
      logger: { info: (m) => log.info(m), warn: (m) => log.warn(m), debug: (m) => log.debug(m) },
      onChange: () => this.wanSnapshot?.record(this.wan!.members(), `${c.nodeName}.${c.datacenter}`),
    });
    this.wanSnapshot = this.snapshotFile(WAN_SNAPSHOT);
    const previous = this.wanSnapshot?.load();
    await this.wan.start();
    this.rejoinFromSnapshot(this.wan, previous, " (WAN)");
    if (c.startJoinWan.length > 0) {
      try {
        await this.wan.join(c.startJoinWan);
      } catch (err) {
        throw new Error(`Failed to join ${c.startJoinWan.join(", ")} (WAN): ${(err as Error).message}`);
      }
    }
    if (c.retryJoinWan.length > 0) void this.wan.join(c.retryJoinWan).catch((err: Error) => log.warn(`Join WAN failed: ${err.message}`));
  }

  private snapshotFile(rel: string): MemberSnapshot | undefined {
    const file = this.dataFile(rel);
    return file ? new MemberSnapshot(file, (m) => this.logger.warn(m)) : undefined;
  }

  /**
   * Serf's snapshot rejoin: after a restart, join the members last known alive, so a cluster
   * restarted as a whole reassembles by itself. Not after a graceful leave, unless -rejoin.
   */
  private rejoinFromSnapshot(pool: GossipPool, previous: ReturnType<MemberSnapshot["load"]>, what: string): void {
    if (!previous || previous.members.length === 0) return;
    if (previous.left && !this.config.rejoinAfterLeave) {
      this.logger.info(`serf: Previous leave in snapshot${what}; not rejoining (rejoin_after_leave is off)`);
      return;
    }
    void (async () => {
      for (const m of previous.members) {
        this.logger.info(`serf: Attempting re-join to previously known node${what}: ${m.name}: ${m.addr}:${m.port}`);
        try {
          await pool.join([`${m.addr}:${m.port}`]);
          this.logger.info(`serf: Re-joined to previously known node${what}: ${m.name}: ${m.addr}:${m.port}`);
          return;
        } catch {
          // The next one may be up.
        }
      }
      this.logger.warn(`serf: Failed to re-join any previously known node${what}`);
    })();
  }

  private dataFile(rel: string): string | undefined {
    return this.config.dataDir && !this.config.dev ? join(this.config.dataDir, rel) : undefined;
  }

  private loadPoolKeyring(rel: string, pool: "LAN" | "WAN"): Uint8Array[] {
    return loadKeyring(this.dataFile(rel), this.config.encrypt, (m) => this.logger.warn(m), pool);
  }

  private savePoolKeyring(rel: string, ring: Uint8Array[]): void {
    const file = this.dataFile(rel);
    if (!file) return;
    try {
      saveKeyring(file, ring);
    } catch (err) {
      // The change is live either way; only a restart would lose it.
      this.logger.error(`Failed to write keyring file ${file}: ${(err as Error).message}`);
    }
  }

  /**
   * `tsc keyring` / /v1/operator/keyring. Servers run it on their pools; a client agent asks a
   * server, as Consul's agents do, so the WAN pool is included either way.
   */
  keyring(op: KeyringOp, key: string, localOnly: boolean): Promise<KeyringResponse[]> {
    if (this.rpcClient) return this.rpcClient.proxy<InternalEndpoint>("Internal").keyringOperation(op, key, localOnly);
    return this.internalEndpoint.keyringOperation(op, key, localOnly);
  }

  private readonly internalEndpoint: InternalEndpoint = {
    keyringOperation: (op, key, localOnly) => keyringOperation({ lan: this.gossip, wan: this.wan }, this.config.datacenter, op, key, localOnly),
    // Consul's Internal.EventFire: a server broadcasts the event to the LAN pool.
    eventFire: async (name, payload) => {
      if (!this.gossip) throw new ConsulError(500, "No LAN gossip pool to fire the event on");
      try {
        this.gossip.userEvent(USER_EVENT_PREFIX + name, payload);
      } catch (err) {
        throw new ConsulError(500, (err as Error).message);
      }
    },
  };

  /** `tsc event` / /v1/event/fire: the event goes out through a server, as Consul sends it. */
  async fireEvent(params: UserEventParams): Promise<UserEvent> {
    const event = newUserEvent(params);
    const payload = encodeUserEvent(event);
    if (this.rpcClient) await this.rpcClient.proxy<InternalEndpoint>("Internal").eventFire(event.name, payload);
    else await this.internalEndpoint.eventFire(event.name, payload);
    return event;
  }

  /** Consul's handleEvents: decode, apply the filters, keep the event. */
  private onUserEvent(e: UserEventReceived): void {
    if (!e.name.startsWith(USER_EVENT_PREFIX)) {
      this.logger.info(`serf: Received user event: name=${e.name} ltime=${e.ltime}`);
      return;
    }
    let event: UserEvent;
    try {
      event = decodeUserEvent(e.payload ?? new Uint8Array(0), e.ltime);
    } catch (err) {
      this.logger.error(`agent: Failed to decode event: ${(err as Error).message}`);
      return;
    }
    const services = this.local.listServices().map((s) => ({ id: s.def.id, tags: s.def.tags }));
    if (!eventMatches(event, this.config.nodeName, services)) return;
    this.logger.debug(`agent: new event: ${event.name} (${event.id})`);
    this.events.add(event);
  }

  /** -retry-join: keep trying every retry_interval until one answers or retry_max attempts fail. */
  private async retryJoin(addrs: string[]): Promise<void> {
    const c = this.config;
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        const n = await this.gossip!.join(addrs);
        this.logger.info(`Join cluster completed. Synced with ${n} initial agents`);
        return;
      } catch (err) {
        if (c.retryMax > 0 && attempt >= c.retryMax) {
          this.logger.error(`max join retry exhausted, exiting`);
          this.onFatal?.(new Error(`max join retry exhausted: ${(err as Error).message}`));
          return;
        }
        this.logger.warn(`Join cluster failed, will retry: cluster=LAN retry_interval=${c.retryIntervalMs / 1000}s error="${(err as Error).message}"`);
      }
      await Bun.sleep(c.retryIntervalMs);
    }
  }

  /** Gossip members for /v1/agent/members and the CLI; `wan` for the servers' WAN pool. */
  members(wan = false): SerfMember[] {
    return (wan ? this.wan : this.gossip)?.members() ?? [];
  }

  /** This agent's member record as /v1/agent/self shows it. */
  memberSelf(): Record<string, unknown> | undefined {
    const me = this.gossip?.members().find((m) => m.name === this.config.nodeName);
    return me ? memberJson(me) : undefined;
  }

  async join(addr: string, wan = false): Promise<number> {
    const pool = wan ? this.wan : this.gossip;
    if (!pool) throw new ConsulError(500, wan ? "Must be a server to join WAN cluster" : "gossip is disabled on this agent (ports.serf_lan = -1)");
    try {
      return await pool.join([addr]);
    } catch (err) {
      throw new ConsulError(500, `Failed to join ${addr}: ${(err as Error).message}`);
    }
  }

  /** Graceful leave: the others see this node `left`. Once only. */
  leaveCluster(): Promise<void> {
    this.leaving ??= (async () => {
      if (!this.gossip) return;
      this.logger.info("Gracefully leaving the cluster");
      if (this.server?.isLeader) await this.server.transferLeadershipAway();
      this.lanSnapshot?.markLeft();
      this.wanSnapshot?.markLeft();
      await Promise.all([this.gossip.leave(), this.wan?.leave()]);
    })();
    return this.leaving;
  }

  private leaving: Promise<void> | undefined;

  forceLeave(node: string, prune: boolean, wan = false): void {
    if (!(wan ? this.wan : this.gossip)?.forceLeave(node, prune)) throw new ConsulError(500, `agent: No node found with name '${node}'`);
  }

  /** Set by whoever runs the agent: PUT /v1/agent/leave ends the process after the leave. */
  onLeave: (() => void) | undefined;
  onFatal: ((err: Error) => void) | undefined;

  /** DNS on ports.dns (-1 disables), answering from the catalog this agent can read. */
  private async startDns(): Promise<void> {
    const c = this.config;
    if (c.ports.dns < 0) return;
    const log = this.logger.withTag("dns");
    const view: DnsView = {
      domain: c.domain.toLowerCase(),
      altDomain: c.altDomain?.toLowerCase(),
      datacenter: c.datacenter,
      config: c.dnsConfig,
      catalog: undefined,
      random: Math.random,
      nowSec: () => Math.floor(Date.now() / 1000),
      // A client asks a server for what each name needs.
      remote: this.server ? undefined : (w) => fetchReader(w, { catalog: this.catalog(), health: this.health() }),
    };
    this.dns = new DnsServer({
      addresses: c.addresses.dns,
      port: c.ports.dns,
      recursors: c.recursors,
      recursorTimeoutMs: c.dnsConfig.recursorTimeoutMs,
      logger: { info: (m) => log.info(m), warn: (m) => log.warn(m), debug: (m) => log.debug(m) },
      view: () => {
        // One view object per query would be garbage on the hot path; refresh only the store.
        view.catalog = this.server?.store.catalog;
        return view;
      },
    });
    await this.dns.start();
  }

  /** Config-file definitions first, then those registered through the API in earlier runs. */
  private loadDefinitions(): void {
    for (const s of this.config.services) this.local.addService(s, "config");
    for (const c of this.config.checks) this.local.addCheck(c, "config");
    const p = this.persistence;
    if (!p) return;
    const warn = (m: string): void => this.logger.warn(m);
    for (const s of p.loadServices(warn)) {
      if (this.local.service(s.id)) continue; // a config file defines it now
      try {
        this.local.addService(s, "api");
      } catch (err) {
        warn(`failed to restore service ${JSON.stringify(s.id)}: ${(err as Error).message}`);
      }
    }
    for (const c of p.loadChecks(warn)) {
      const id = "check" in c ? c.check.id : c.static.id;
      if (this.local.check(id)) continue;
      try {
        if ("check" in c) this.local.addCheck(c.check, "api");
        else this.local.addStatic(c.static);
      } catch (err) {
        warn(`failed to restore check ${JSON.stringify(id)}: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Re-reads the configuration. A broken source changes nothing and throws its one-line
   * reason. Otherwise the log level, node meta and the config-file services and checks are
   * replaced; unchanged checks keep their status and timers.
   */
  reload(): void {
    if (!this.reloadSource) throw new ConsulError(500, "Failed reloading config: no config sources");
    let next: AgentConfig;
    try {
      next = this.reloadSource().config;
    } catch (err) {
      throw new ConsulError(500, `Failed reloading config: ${(err as Error).message.replace(/^==> /, "")}`);
    }
    if (next.watches.length > 0 && this.apiAddress() === undefined) throw new ConsulError(500, `Failed reloading watches: ${WATCHES_NEED_HTTP}`);
    for (const s of next.services) for (const c of s.checks) this.local.assertAllowed(c, "config");
    for (const c of next.checks) this.local.assertAllowed(c, "config");

    const serviceIds = new Set(next.services.map((s) => s.id));
    const checkIds = new Set([...next.checks.map((c) => c.id), ...next.services.flatMap((s) => s.checks.map((c) => c.id))]);
    for (const c of this.local.listChecks()) if (c.source === "config" && !checkIds.has(c.id)) this.local.removeCheck(c.id);
    for (const s of this.local.listServices()) if (s.source === "config" && !serviceIds.has(s.def.id)) this.local.removeService(s.def.id);
    for (const s of next.services) this.local.addService(s, "config", true);
    for (const c of next.checks) this.local.addCheck(c, "config");

    setLevel(this.logger, next.logLevel);
    this.config = { ...this.config, logLevel: next.logLevel, nodeMeta: next.nodeMeta, services: next.services, checks: next.checks, watches: next.watches };
    this.watches.reload(next.watches, this.apiAddress());
    this.antiEntropy.trigger();
  }

  /** Waits for one anti-entropy pass (tests and `reload` callers that want the catalog current). */
  syncNow(): Promise<void> {
    return this.antiEntropy.syncNow();
  }

  private listen(): void {
    const port = this.config.ports.http;
    if (port < 0) return;
    const app = createApp(this);
    const requestTimeoutS = this.httpRequestTimeoutS();
    for (const hostname of this.config.clientAddrs) {
      const server: BunServer<undefined> = Bun.serve({
        hostname,
        port,
        // Generous for bodies: each endpoint enforces Consul's own limit with Consul's text. A
        // snapshot restore is bounded only by what one RPC frame can carry to the leader.
        maxRequestBodySize: Math.max(this.config.limits.kvMaxValueSize * 4, this.config.limits.txnMaxReqLen * 4, MAX_FRAME),
        fetch: (req) => {
          // Bun cuts a request off after 10 s without a byte; one held for a leader and then
          // forwarded may rightly take up to the hold plus an RPC deadline. Blocking queries
          // lift the limit altogether (allowLongPoll).
          server.timeout(req, requestTimeoutS);
          return app.fetch(collapseSlashes(req), { server });
        },
      });
      this.listeners.push(server);
    }
  }

  /**
   * Stop: leave the cluster first when `leave` (others then see this node left, not failed),
   * stop accepting, flush the log, remove the pid file. Idempotent.
   */
  stop(opts: { leave: boolean } = { leave: false }): Promise<void> {
    this.stopping ??= (async () => {
      // No handler should fire on the changes shutting down makes.
      this.watches.stop();
      if (opts.leave) await this.leaveCluster();
      this.gossip?.stop();
      this.wan?.stop();
      this.lanSnapshot?.flush();
      this.wanSnapshot?.flush();
      this.rpcServer?.stop();
      this.cluster?.stop();
      this.rpcClient?.close();
      for (const l of this.listeners) l.stop(true);
      this.dns?.stop();
      if (this.reapTimer) clearInterval(this.reapTimer);
      this.antiEntropy.stop();
      this.local.stop();
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

  catalog(): CatalogEndpoint {
    if (!this.catalogEndpoint) throw new ConsulError(500, "No known Consul servers");
    return this.catalogEndpoint;
  }

  health(): HealthEndpoint {
    if (!this.healthEndpoint) throw new ConsulError(500, "No known Consul servers");
    return this.healthEndpoint;
  }

  session(): SessionEndpoint {
    if (!this.sessionEndpoint) throw new ConsulError(500, "No known Consul servers");
    return this.sessionEndpoint;
  }

  snapshot(): SnapshotEndpoint {
    if (!this.snapshotEndpoint) throw new ConsulError(500, "No known Consul servers");
    return this.snapshotEndpoint;
  }

  status(): StatusApi {
    if (!this.statusEndpoint) throw new ConsulError(500, "No known Consul servers");
    return this.statusEndpoint;
  }

  operator(): OperatorEndpoint {
    if (!this.operatorEndpoint) throw new ConsulError(500, "No known Consul servers");
    return this.operatorEndpoint;
  }

  /** How anti-entropy reaches the catalog: in-process on a server; none yet on a client. */
  private catalogAccess(): CatalogAccess | undefined {
    const catalog = this.catalogEndpoint;
    const health = this.healthEndpoint;
    if (!catalog || !health) return undefined;
    if (this.rpcClient && this.knownServers().length === 0) return undefined; // a client before it has joined
    const q: QueryOptions = { minIndex: 0, maxWaitMs: 0, consistency: "default" };
    return {
      nodeServices: async (node) => {
        const r = await catalog.nodeServices(node, q, "");
        return { node: r.node, services: r.services };
      },
      nodeChecks: async (node) => (await health.nodeChecks(node, q, "")).checks,
      register: (req) => catalog.register(req),
      deregister: (req) => catalog.deregister(req),
    };
  }

  nodeInfo(): NodeInfo {
    const addr = this.advertiseAddr;
    const wan = this.config.advertiseAddrWan ?? addr;
    return {
      node: this.config.nodeName,
      id: this.nodeId,
      address: addr,
      datacenter: this.config.datacenter,
      taggedAddresses: { lan: addr, lan_ipv4: addr, wan, wan_ipv4: wan },
      meta: { ...this.config.nodeMeta, "consul-network-segment": "", "consul-version": CONSUL_COMPAT_VERSION },
    };
  }

  /** Cluster members as the leader mirrors them into the catalog; just this agent without gossip. */
  private clusterMembers(): Member[] {
    const self: Member = {
      name: this.config.nodeName,
      id: this.nodeId,
      address: this.advertiseAddr,
      status: "alive",
      serverPort: this.config.server ? this.config.ports.server : undefined,
      build: `${CONSUL_COMPAT_VERSION}:${REVISION}`,
    };
    if (!this.gossip) return [self];
    return this.gossip.members().map((m): Member => ({
      name: m.name,
      id: m.tags.id ?? "",
      address: m.addr,
      status: m.status === "failed" ? "failed" : m.status === "left" ? "left" : "alive",
      serverPort: m.tags.role === "consul" && m.tags.port ? Number(m.tags.port) : undefined,
      build: m.tags.build ?? "",
    }));
  }

  private logFns(): { info(m: string): void; warn(m: string): void; debug(m: string): void } {
    return { info: (m) => this.logger.info(m), warn: (m) => this.logger.warn(m), debug: (m) => this.logger.debug(m) };
  }

  leaderAddr(): string {
    return this.server?.leaderAddr ?? "";
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

/** A member as /v1/agent/members and /v1/agent/self write it (numeric Status, Vsn spelled out). */
export function memberJson(m: SerfMember): Record<string, unknown> {
  return {
    Name: m.name,
    Addr: m.addr,
    Port: m.port,
    Tags: m.tags,
    Status: STATUS_CODE[m.status],
    ProtocolMin: m.vsn[0] ?? 0,
    ProtocolMax: m.vsn[1] ?? 0,
    ProtocolCur: m.vsn[2] ?? 0,
    DelegateMin: m.vsn[3] ?? 0,
    DelegateMax: m.vsn[4] ?? 0,
    DelegateCur: m.vsn[5] ?? 0,
  };
}

/** Status.Leader / Status.Peers: answered by a server, forwarded by a client. */
export interface StatusApi {
  leader(): Promise<string>;
  peers(): Promise<string[]>;
}
