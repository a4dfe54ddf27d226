import BTreeModule from "sorted-btree";
import {
  type CatalogNode,
  type CheckInput,
  type CheckServiceNode,
  type DeregisterRequest,
  type HealthCheck,
  type HealthStatus,
  type NodeService,
  type RegisterRequest,
  type ServiceInput,
  type ServiceNode,
} from "./catalog-types.ts";
import { StateError } from "./errors.ts";
import type { WriteTx } from "./tx.ts";
import type { WatchSet } from "./watch.ts";

// sorted-btree is CommonJS with `exports.default` (see kvs.ts).
const BTree = ((BTreeModule as unknown as { default?: typeof BTreeModule }).default ?? BTreeModule) as typeof BTreeModule;
type BTree<K, V> = BTreeModule<K, V>;

// The catalog: nodes, their services and their checks, with Consul's index rules.
//
// - Node and service names are case-insensitive (Consul's memdb indexes lower-case them);
//   service and check IDs are not.
// - A write that changes nothing keeps ModifyIndex, so an anti-entropy pass that finds
//   everything in sync wakes nobody.
// - Besides a max index per table there is one per service name, bumped by anything that
//   changes what /v1/health/service/<name> would answer: an instance, its checks, its node's
//   checks or its node. Queries about one service report and wait on that index only, so a
//   change to "db" never wakes a watcher of "web".
// - A check written critical or removed, and a node removed, invalidate the sessions that
//   depend on them (through `onInvalidate`, which the store wires to the sessions table).

export const NODES = "nodes";
export const SERVICES = "services";
export const CHECKS = "checks";
/** Watch topic fired with the service name (lower case) whenever its index moves. */
export const SERVICE_TOPIC = "service-index";
/** Watch topic fired with the node name (lower case) on any change to that node's rows. */
export const NODE_TOPIC = "node-index";

export class CatalogError extends StateError {}
const ERR_MISSING_NODE = "Missing node registration";
const ERR_MISSING_SERVICE = "Missing service registration";

export interface CatalogSnapshot {
  nodes: CatalogNode[];
  services: Array<{ node: string; service: NodeService }>;
  checks: HealthCheck[];
  indexes: { nodes: number; services: number; checks: number; byService: Array<[string, number]> };
}

const lower = (s: string): string => s.toLowerCase();
const rowKey = (node: string, id: string): string => `${lower(node)}\0${id}`;
/** Every key of one node's rows starts with this and sorts before the next node's. */
const nodePrefix = (node: string): string => `${lower(node)}\0`;

export class CatalogTable {
  private readonly nodes = new BTree<string, CatalogNode>();
  private readonly services = new BTree<string, NodeService>();
  private readonly checks = new BTree<string, HealthCheck>();
  /** lower(service name) -> row keys of its instances */
  private readonly instances = new Map<string, Set<string>>();
  private readonly serviceIndexes = new Map<string, number>();
  /** checkServiceNodes results by service, valid while the service's index stays `own`. */
  private readonly healthCache = new Map<string, { own: number; nodes: CheckServiceNode[] }>();
  private nodesIndex = 0;
  private servicesIndex = 0;
  private checksIndex = 0;
  /** Sessions depending on this check (or on this node, without a check ID) must end. */
  onInvalidate: (tx: WriteTx, node: string, checkId?: string) => void = () => {};

  get index(): number {
    return Math.max(this.nodesIndex, this.servicesIndex, this.checksIndex);
  }

  // ---- reads -------------------------------------------------------------------------

  getNode(ws: WatchSet | undefined, name: string): CatalogNode | undefined {
    ws?.key(NODE_TOPIC, lower(name));
    return this.nodes.get(lower(name));
  }

  listNodes(ws: WatchSet | undefined): { index: number; nodes: CatalogNode[] } {
    ws?.table(NODES);
    return { index: this.nodesIndex, nodes: [...this.nodes.values()] };
  }

  /** Service name -> union of its instances' tags (Consul's /v1/catalog/services). */
  listServices(ws: WatchSet | undefined): { index: number; services: Array<{ name: string; tags: string[]; instances: ServiceNode[] }> } {
    ws?.table(SERVICES);
    const byName = new Map<string, { name: string; tags: Set<string>; instances: ServiceNode[] }>();
    for (const [key, svc] of this.services.entries()) {
      let entry = byName.get(svc.service);
      if (!entry) byName.set(svc.service, (entry = { name: svc.service, tags: new Set(), instances: [] }));
      for (const t of svc.tags) entry.tags.add(t);
      entry.instances.push({ node: this.nodeOfKey(key), service: svc });
    }
    const services = [...byName.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((e) => ({ name: e.name, tags: [...e.tags].sort(), instances: e.instances }));
    return { index: this.servicesIndex, services };
  }

  /** Instances of one service, ordered by node then service ID. */
  serviceNodes(ws: WatchSet | undefined, name: string): { index: number; nodes: ServiceNode[] } {
    const keys = this.watchService(ws, name);
    const nodes = keys.map((k) => ({ node: this.nodeOfKey(k), service: this.services.get(k)! }));
    return { index: this.serviceIndex(name, false), nodes };
  }

  /** One node and its services; undefined when the node is unknown. */
  nodeServices(ws: WatchSet | undefined, name: string): { index: number; node: CatalogNode | undefined; services: NodeService[] } {
    ws?.key(NODE_TOPIC, lower(name));
    ws?.table(NODES); // an unknown node may be registered later
    const node = this.nodes.get(lower(name));
    const services = node ? this.rowsOf(this.services, name) : [];
    return { index: Math.max(this.nodesIndex, this.servicesIndex), node, services };
  }

  /** Every check on one node (node checks and service checks). */
  nodeChecks(ws: WatchSet | undefined, name: string): { index: number; checks: HealthCheck[] } {
    ws?.key(NODE_TOPIC, lower(name));
    ws?.table(CHECKS);
    return { index: this.checksIndex, checks: this.rowsOf(this.checks, name) };
  }

  /** The checks of every instance of a service (service checks only, as Consul's /health/checks). */
  serviceChecks(ws: WatchSet | undefined, name: string): { index: number; checks: HealthCheck[] } {
    const keys = this.watchService(ws, name);
    const checks: HealthCheck[] = [];
    for (const k of keys) {
      const svc = this.services.get(k)!;
      const node = this.nodeOfKey(k).node;
      for (const c of this.rowsOf(this.checks, node)) if (c.serviceId === svc.id) checks.push(c);
    }
    return { index: this.serviceIndex(name, true), checks };
  }

  /**
   * Instances with their node and every check bearing on them: node checks, then the
   * service's. Memoised per service on its own index, which moves with every change to what
   * this returns: DNS asks this on every query. Callers must not modify the result.
   */
  checkServiceNodes(ws: WatchSet | undefined, name: string): { index: number; nodes: CheckServiceNode[] } {
    const key = lower(name);
    const own = this.serviceIndexes.get(key);
    const hit = this.healthCache.get(key);
    if (hit && own !== undefined && hit.own === own) {
      ws?.key(SERVICE_TOPIC, key);
      return { index: this.serviceIndex(name, true), nodes: hit.nodes };
    }
    const keys = this.watchService(ws, name);
    const nodes = keys.map((k) => {
      const node = this.nodeOfKey(k);
      const service = this.services.get(k)!;
      const all = this.rowsOf(this.checks, node.node);
      const checks = [...all.filter((c) => c.serviceId === ""), ...all.filter((c) => c.serviceId === service.id)];
      return { node, service, checks };
    });
    if (own !== undefined) this.healthCache.set(key, { own, nodes });
    return { index: this.serviceIndex(name, true), nodes };
  }

  /** Every check in a state ("any" for all), ordered by node then check ID. */
  checksInState(ws: WatchSet | undefined, state: HealthStatus | "any"): { index: number; checks: HealthCheck[] } {
    ws?.table(CHECKS);
    const checks: HealthCheck[] = [];
    for (const c of this.checks.values()) if (state === "any" || c.status === state) checks.push(c);
    return { index: this.checksIndex, checks };
  }

  getCheck(node: string, checkId: string): HealthCheck | undefined {
    return this.checks.get(rowKey(node, checkId));
  }

  getService(node: string, serviceId: string): NodeService | undefined {
    return this.services.get(rowKey(node, serviceId));
  }

  // ---- writes ------------------------------------------------------------------------

  /** Consul's EnsureRegistration: node (unless skipped), then the service, then the checks. */
  register(tx: WriteTx, req: RegisterRequest): void {
    if (!req.skipNodeUpdate) {
      this.ensureNode(tx, req);
    } else if (!this.nodes.has(lower(req.node))) {
      throw new CatalogError(ERR_MISSING_NODE);
    }
    if (req.service) this.ensureService(tx, req.node, req.service);
    for (const c of req.checks) this.ensureCheck(tx, { ...c, node: req.node });
  }

  /** Removes one check, one service with its checks, or the whole node with everything on it. */
  deregister(tx: WriteTx, req: DeregisterRequest): void {
    if (req.serviceId !== "") this.deleteService(tx, req.node, req.serviceId);
    else if (req.checkId !== "") this.deleteCheck(tx, req.node, req.checkId);
    else this.deleteNode(tx, req.node);
  }

  private ensureNode(tx: WriteTx, req: RegisterRequest): void {
    const key = lower(req.node);
    const existing = this.nodes.get(key);
    const next: CatalogNode = {
      id: req.id,
      node: req.node,
      address: req.address,
      datacenter: req.datacenter,
      taggedAddresses: req.taggedAddresses,
      meta: req.nodeMeta,
      createIndex: existing?.createIndex ?? tx.index,
      modifyIndex: tx.index,
    };
    if (existing && sameRow(existing, next)) return;
    this.put(tx, this.nodes, key, next, existing);
    this.nodesIndex = tx.index;
    tx.touch(NODES, key);
    this.touchNode(tx, req.node, true);
  }

  private ensureService(tx: WriteTx, node: string, input: ServiceInput): void {
    if (!this.nodes.has(lower(node))) throw new CatalogError(ERR_MISSING_NODE);
    const key = rowKey(node, input.id);
    const existing = this.services.get(key);
    const next: NodeService = { ...input, createIndex: existing?.createIndex ?? tx.index, modifyIndex: tx.index };
    if (existing && sameRow(existing, next)) return;
    this.put(tx, this.services, key, next, existing);
    if (existing && lower(existing.service) !== lower(next.service)) {
      this.unindexInstance(tx, existing.service, key);
      this.bumpService(tx, existing.service);
    }
    this.indexInstance(tx, next.service, key);
    this.servicesIndex = tx.index;
    tx.touch(SERVICES, key);
    this.bumpService(tx, next.service);
    this.touchNode(tx, node, false);
    // Checks carry their service's name and tags; keep them true when those change.
    for (const c of this.rowsOf(this.checks, node)) {
      if (c.serviceId === next.id && (c.serviceName !== next.service || !Bun.deepEquals(c.serviceTags, next.tags))) {
        this.writeCheck(tx, { ...c, serviceName: next.service, serviceTags: next.tags, modifyIndex: tx.index }, c);
      }
    }
  }

  private ensureCheck(tx: WriteTx, input: CheckInput): void {
    if (!this.nodes.has(lower(input.node))) throw new CatalogError(ERR_MISSING_NODE);
    let serviceName = "";
    let serviceTags: string[] = [];
    if (input.serviceId !== "") {
      const svc = this.services.get(rowKey(input.node, input.serviceId));
      if (!svc) throw new CatalogError(ERR_MISSING_SERVICE);
      serviceName = svc.service;
      serviceTags = svc.tags;
    }
    const existing = this.checks.get(rowKey(input.node, input.checkId));
    const next: HealthCheck = {
      ...input,
      status: input.status,
      serviceName,
      serviceTags,
      createIndex: existing?.createIndex ?? tx.index,
      modifyIndex: tx.index,
    };
    if (!existing || !sameRow(existing, next)) this.writeCheck(tx, next, existing);
    // Even an unchanged critical write, as Consul: no session may outlive a critical check.
    if (next.status === "critical") this.onInvalidate(tx, next.node, next.checkId);
  }

  private writeCheck(tx: WriteTx, next: HealthCheck, existing: HealthCheck | undefined): void {
    const key = rowKey(next.node, next.checkId);
    this.put(tx, this.checks, key, next, existing);
    this.checksIndex = tx.index;
    tx.touch(CHECKS, key);
    this.touchNode(tx, next.node, false);
    if (next.serviceId === "") this.bumpServicesOnNode(tx, next.node);
    else if (next.serviceName !== "") this.bumpService(tx, next.serviceName);
    if (existing && existing.serviceName !== "" && lower(existing.serviceName) !== lower(next.serviceName)) {
      this.bumpService(tx, existing.serviceName);
    }
  }

  private deleteCheck(tx: WriteTx, node: string, checkId: string): void {
    const key = rowKey(node, checkId);
    const existing = this.checks.get(key);
    if (!existing) return;
    this.remove(tx, this.checks, key, existing);
    this.checksIndex = tx.index;
    tx.touch(CHECKS, key);
    this.touchNode(tx, node, false);
    if (existing.serviceId === "") this.bumpServicesOnNode(tx, node);
    else this.bumpService(tx, existing.serviceName);
    this.onInvalidate(tx, node, checkId);
  }

  private deleteService(tx: WriteTx, node: string, serviceId: string): void {
    const key = rowKey(node, serviceId);
    const existing = this.services.get(key);
    if (!existing) return;
    for (const c of this.rowsOf(this.checks, node)) if (c.serviceId === serviceId) this.deleteCheck(tx, node, c.checkId);
    this.remove(tx, this.services, key, existing);
    this.unindexInstance(tx, existing.service, key);
    this.servicesIndex = tx.index;
    tx.touch(SERVICES, key);
    this.bumpService(tx, existing.service);
    this.touchNode(tx, node, false);
  }

  private deleteNode(tx: WriteTx, node: string): void {
    const key = lower(node);
    const existing = this.nodes.get(key);
    if (!existing) return;
    for (const c of this.rowsOf(this.checks, node)) this.deleteCheck(tx, node, c.checkId);
    for (const s of this.rowsOf(this.services, node)) this.deleteService(tx, node, s.id);
    this.remove(tx, this.nodes, key, existing);
    this.nodesIndex = tx.index;
    tx.touch(NODES, key);
    this.touchNode(tx, node, false);
    this.onInvalidate(tx, node);
  }

  // ---- snapshot ----------------------------------------------------------------------

  snapshot(): CatalogSnapshot {
    return {
      nodes: [...this.nodes.values()],
      services: [...this.services.entries()].map(([k, service]) => ({ node: this.nodeOfKey(k).node, service })),
      checks: [...this.checks.values()],
      indexes: {
        nodes: this.nodesIndex,
        services: this.servicesIndex,
        checks: this.checksIndex,
        byService: [...this.serviceIndexes.entries()],
      },
    };
  }

  static restore(s: CatalogSnapshot): CatalogTable {
    const t = new CatalogTable();
    for (const n of s.nodes) t.nodes.set(lower(n.node), n);
    for (const { node, service } of s.services) {
      const key = rowKey(node, service.id);
      t.services.set(key, service);
      let set = t.instances.get(lower(service.service));
      if (!set) t.instances.set(lower(service.service), (set = new Set()));
      set.add(key);
    }
    for (const c of s.checks) t.checks.set(rowKey(c.node, c.checkId), c);
    t.nodesIndex = s.indexes.nodes;
    t.servicesIndex = s.indexes.services;
    t.checksIndex = s.indexes.checks;
    for (const [name, index] of s.indexes.byService) t.serviceIndexes.set(name, index);
    return t;
  }

  // ---- helpers -----------------------------------------------------------------------

  /** Registers the watches of a per-service query and returns its instances' keys in order. */
  private watchService(ws: WatchSet | undefined, name: string): string[] {
    ws?.key(SERVICE_TOPIC, lower(name));
    return [...(this.instances.get(lower(name)) ?? [])].sort();
  }

  /**
   * Consul's maxIndexForService: the service's own index while it has instances; otherwise
   * the tables' (so a query for a service that does not exist yet still moves forward).
   */
  private serviceIndex(name: string, withChecks: boolean): number {
    const own = this.serviceIndexes.get(lower(name));
    if (own !== undefined && (this.instances.get(lower(name))?.size ?? 0) > 0) return own;
    const tables = Math.max(this.nodesIndex, this.servicesIndex);
    return Math.max(withChecks ? Math.max(tables, this.checksIndex) : tables, own ?? 0);
  }

  private bumpService(tx: WriteTx, name: string): void {
    const key = lower(name);
    const prev = this.serviceIndexes.get(key);
    if (prev === tx.index) return;
    this.serviceIndexes.set(key, tx.index);
    tx.onAbort(() => (prev === undefined ? this.serviceIndexes.delete(key) : this.serviceIndexes.set(key, prev)));
    tx.touch(SERVICE_TOPIC, key);
  }

  private bumpServicesOnNode(tx: WriteTx, node: string): void {
    for (const s of this.rowsOf(this.services, node)) this.bumpService(tx, s.service);
  }

  /** A node's own row changed: everything derived from it moves too. */
  private touchNode(tx: WriteTx, node: string, nodeRowChanged: boolean): void {
    tx.touch(NODE_TOPIC, lower(node));
    if (nodeRowChanged) this.bumpServicesOnNode(tx, node);
  }

  private indexInstance(tx: WriteTx, name: string, key: string): void {
    const n = lower(name);
    let set = this.instances.get(n);
    if (!set) this.instances.set(n, (set = new Set()));
    if (set.has(key)) return;
    set.add(key);
    tx.onAbort(() => this.instances.get(n)?.delete(key));
  }

  private unindexInstance(tx: WriteTx, name: string, key: string): void {
    const n = lower(name);
    const set = this.instances.get(n);
    if (!set?.delete(key)) return;
    if (set.size === 0) this.instances.delete(n);
    tx.onAbort(() => {
      let s = this.instances.get(n);
      if (!s) this.instances.set(n, (s = new Set()));
      s.add(key);
    });
  }

  private put<V>(tx: WriteTx, tree: BTree<string, V>, key: string, value: V, prev: V | undefined): void {
    tree.set(key, value);
    const indexes = this.saveIndexes();
    tx.onAbort(() => {
      if (prev === undefined) tree.delete(key);
      else tree.set(key, prev);
      this.loadIndexes(indexes);
    });
  }

  private remove<V>(tx: WriteTx, tree: BTree<string, V>, key: string, prev: V): void {
    tree.delete(key);
    const indexes = this.saveIndexes();
    tx.onAbort(() => {
      tree.set(key, prev);
      this.loadIndexes(indexes);
    });
  }

  private saveIndexes(): [number, number, number] {
    return [this.nodesIndex, this.servicesIndex, this.checksIndex];
  }

  private loadIndexes([n, s, c]: [number, number, number]): void {
    this.nodesIndex = n;
    this.servicesIndex = s;
    this.checksIndex = c;
  }

  private rowsOf<V>(tree: BTree<string, V>, node: string): V[] {
    const prefix = nodePrefix(node);
    const out: V[] = [];
    tree.forRange(prefix, `${lower(node)}\u0001`, false, (k, v) => {
      if (k.startsWith(prefix)) out.push(v);
    });
    return out;
  }

  private nodeOfKey(key: string): CatalogNode {
    const node = this.nodes.get(key.slice(0, key.indexOf("\0")));
    if (!node) throw new Error(`assertion failed: catalog row ${JSON.stringify(key)} has no node`);
    return node;
  }
}

/** Equal apart from the indexes: such a write is a no-op. */
function sameRow<T extends { createIndex: number; modifyIndex: number }>(a: T, b: T): boolean {
  return Bun.deepEquals({ ...a, createIndex: 0, modifyIndex: 0 }, { ...b, createIndex: 0, modifyIndex: 0 });
}
