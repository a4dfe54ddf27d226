import {
  type CatalogNode,
  type CheckInput,
  CONSUL_SERVICE_ID,
  type DeregisterRequest,
  type HealthCheck,
  type NodeService,
  type RegisterRequest,
  SERF_CHECK_ID,
  type ServiceInput,
} from "../state/catalog-types.ts";
import type { LocalCheck, LocalState } from "./local.ts";

// Anti-entropy (Consul's agent/ae + local.State.SyncFull): the agent is the source of truth
// for its own services and checks. Each pass reads what the catalog holds for this node,
// removes what the agent no longer has, and registers what differs. A pass runs soon after
// any local change and every `intervalMs` anyway, so catalog edits by others are undone.
// Checks whose only change is their output are synced at most every checkUpdateIntervalMs,
// so a chatty check cannot turn into a stream of Raft writes.

export interface CatalogAccess {
  nodeServices(node: string): Promise<{ node: CatalogNode | undefined; services: NodeService[] }>;
  nodeChecks(node: string): Promise<HealthCheck[]>;
  register(req: RegisterRequest): Promise<void>;
  deregister(req: DeregisterRequest): Promise<void>;
}

export interface NodeInfo {
  node: string;
  id: string;
  address: string;
  datacenter: string;
  taggedAddresses: Record<string, string>;
  meta: Record<string, string>;
}

export interface AntiEntropyOptions {
  local: LocalState;
  /** undefined while no server is reachable (a client agent before it joins). */
  catalog: () => CatalogAccess | undefined;
  nodeInfo: () => NodeInfo;
  intervalMs: number;
  checkUpdateIntervalMs: number;
  random: () => number;
  now: () => number;
  logger: { info(m: string): void; warn(m: string): void; debug(m: string): void };
}

export class AntiEntropy {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;
  /** checkId -> time before which an output-only change waits */
  private readonly deferred = new Map<string, number>();

  constructor(private readonly opts: AntiEntropyOptions) {}

  start(): void {
    this.trigger();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Something changed locally: sync soon; coalesces bursts into one pass. */
  trigger(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (!this.running) this.schedule(0);
  }

  /** Runs a pass now (or waits for the running one and runs another). */
  async syncNow(): Promise<void> {
    while (this.running) await this.running;
    this.dirty = true;
    await this.run();
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), ms);
    this.timer.unref?.();
  }

  private run(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      let nextMs = this.staggered(this.opts.intervalMs);
      try {
        while (this.dirty && !this.stopped) {
          this.dirty = false;
          const retryAt = await this.syncFull();
          if (retryAt !== undefined) nextMs = Math.min(nextMs, Math.max(0, retryAt - this.opts.now()));
        }
      } catch (err) {
        this.opts.logger.warn(`failed to sync remote state: error="${(err as Error).message}"`);
        nextMs = Math.min(nextMs, this.staggered(5_000)); // retry sooner than a full interval
      } finally {
        this.running = undefined;
      }
      if (!this.stopped) {
        this.dirty = true; // the periodic pass is a full one
        this.schedule(nextMs);
      }
    })();
    return this.running;
  }

  /** One pass. Returns when a deferred output-only update falls due, if any. */
  private async syncFull(): Promise<number | undefined> {
    const catalog = this.opts.catalog();
    if (!catalog) {
      this.opts.logger.debug("anti-entropy: no known Consul servers; waiting");
      return undefined;
    }
    const info = this.opts.nodeInfo();
    const local = this.opts.local;
    const remote = await catalog.nodeServices(info.node);
    const remoteChecks = await catalog.nodeChecks(info.node);
    const nodeBase = {
      node: info.node,
      id: info.id,
      address: info.address,
      datacenter: info.datacenter,
      taggedAddresses: info.taggedAddresses,
      nodeMeta: info.meta,
      skipNodeUpdate: false,
    };

    if (!remote.node || !nodeInSync(remote.node, info)) {
      await catalog.register({ ...nodeBase, service: undefined, checks: [] });
      this.opts.logger.info("Synced node info");
    }

    const remoteServices = new Map(remote.services.map((s) => [s.id, s]));
    const remoteCheckMap = new Map(remoteChecks.map((c) => [c.checkId, c]));

    // What the catalog has and the agent does not: the leader owns serfHealth and "consul".
    for (const s of remote.services) {
      if (s.id === CONSUL_SERVICE_ID || local.service(s.id)) continue;
      await catalog.deregister({ node: info.node, serviceId: s.id, checkId: "" });
      this.opts.logger.info(`Deregistered service: service=${s.id}`);
    }
    for (const c of remoteChecks) {
      if (c.checkId === SERF_CHECK_ID || local.check(c.checkId)) continue;
      if (c.serviceId !== "" && !local.service(c.serviceId) && remoteServices.has(c.serviceId)) continue; // went with its service
      await catalog.deregister({ node: info.node, serviceId: "", checkId: c.checkId });
      this.opts.logger.info(`Deregistered check: check=${c.checkId}`);
    }

    let retryAt: number | undefined;
    const now = this.opts.now();
    const checkWanted = (c: LocalCheck): boolean => {
      const r = remoteCheckMap.get(c.id);
      if (!r) return true;
      const want = checkInput(info.node, c);
      if (sameCheck(r, want)) {
        this.deferred.delete(c.id);
        return false;
      }
      if (r.status === want.status && sameCheck(r, { ...want, output: r.output })) {
        // Only the output moved: wait for check_update_interval, then sync it.
        const due = this.deferred.get(c.id) ?? now + this.staggered(this.opts.checkUpdateIntervalMs);
        this.deferred.set(c.id, due);
        if (now < due) {
          retryAt = retryAt === undefined ? due : Math.min(retryAt, due);
          return false;
        }
      }
      this.deferred.delete(c.id);
      return true;
    };

    for (const s of local.listServices()) {
      const r = remoteServices.get(s.def.id);
      // enable_tag_override: tags edited in the catalog win over the agent's.
      if (r && s.def.enableTagOverride && !Bun.deepEquals(r.tags, s.def.tags)) s.def.tags = r.tags;
      const want = serviceInput(s.def);
      const checks = local.listChecks().filter((c) => c.serviceId === s.def.id);
      const serviceStale = !r || !sameService(r, want);
      const staleChecks = checks.filter(checkWanted);
      if (!serviceStale && staleChecks.length === 0) continue;
      await catalog.register({ ...nodeBase, service: want, checks: staleChecks.map((c) => checkInput(info.node, c)) });
      if (serviceStale) this.opts.logger.info(`Synced service: service=${s.def.id}`);
      for (const c of staleChecks) this.opts.logger.info(`Synced check: check=${c.id}`);
    }
    for (const c of local.listChecks()) {
      if (c.serviceId !== "" || !checkWanted(c)) continue;
      await catalog.register({ ...nodeBase, service: undefined, checks: [checkInput(info.node, c)] });
      this.opts.logger.info(`Synced check: check=${c.id}`);
    }
    return retryAt;
  }

  /** Consul staggers periodic work by up to a quarter so agents do not move in lockstep. */
  private staggered(ms: number): number {
    return ms + Math.floor(this.opts.random() * (ms / 4));
  }
}

function nodeInSync(n: CatalogNode, info: NodeInfo): boolean {
  return (
    n.id === info.id &&
    n.address === info.address &&
    Bun.deepEquals(n.taggedAddresses, info.taggedAddresses) &&
    Bun.deepEquals(n.meta, info.meta)
  );
}

export function serviceInput(d: { id: string; name: string; tags: string[]; address: string; taggedAddresses: ServiceInput["taggedAddresses"]; meta: Record<string, string>; port: number; weights: ServiceInput["weights"]; enableTagOverride: boolean }): ServiceInput {
  return {
    id: d.id,
    service: d.name,
    tags: d.tags,
    address: d.address,
    taggedAddresses: d.taggedAddresses,
    meta: d.meta,
    port: d.port,
    weights: d.weights,
    enableTagOverride: d.enableTagOverride,
  };
}

export function checkInput(node: string, c: LocalCheck): CheckInput {
  return {
    node,
    checkId: c.id,
    name: c.name,
    status: c.status,
    notes: c.notes,
    output: c.output,
    serviceId: c.serviceId,
    type: c.type,
    definition: c.definition,
  };
}

function sameService(r: NodeService, want: ServiceInput): boolean {
  const { createIndex: _c, modifyIndex: _m, ...have } = r;
  return Bun.deepEquals(have, want);
}

function sameCheck(r: HealthCheck, want: CheckInput): boolean {
  const { createIndex: _c, modifyIndex: _m, serviceName: _n, serviceTags: _t, ...have } = r;
  return Bun.deepEquals(have, want);
}
