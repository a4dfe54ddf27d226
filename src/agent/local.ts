import type { CheckDefinition, DefinitionSource, ServiceDefinition } from "../config/definition-types.ts";
import { ConsulError } from "../lib/errors.ts";
import {
  type HealthCheckDefinition,
  type HealthStatus,
  NODE_MAINTENANCE_CHECK_ID,
  SERVICE_MAINTENANCE_PREFIX,
  emptyDefinition,
} from "../state/catalog-types.ts";
import { type CheckRunner, createCheckRunner, isTtlRunner } from "./checks/runner.ts";
import type { Persistence, StaticCheck } from "./persist.ts";

// The agent's own services and checks: the source of truth that anti-entropy copies into
// the catalog. Config-file definitions are replaced on reload; API ones persist in the data
// dir. Every check with something to run has a runner whose results land here.

export interface LocalService {
  def: ServiceDefinition; // its checks live in the checks map, not here
  source: DefinitionSource;
}

export interface LocalCheck {
  id: string;
  name: string;
  notes: string;
  serviceId: string;
  type: string;
  definition: HealthCheckDefinition;
  status: HealthStatus;
  output: string;
  source: DefinitionSource;
  /** What runs it; undefined for maintenance checks, which are critical while they exist. */
  def: CheckDefinition | undefined;
  runner: CheckRunner | undefined;
  criticalSinceMs: number | undefined;
}

export interface LocalOptions {
  enableScriptChecks: boolean;
  enableLocalScriptChecks: boolean;
  checkOutputMaxSize: number;
  /** Consul raises shorter intervals to 1s, and deregister_critical_service_after to 1m. */
  minCheckIntervalMs: number;
  minDeregisterAfterMs: number;
  persistence: Persistence | undefined;
  logger: { info(m: string): void; warn(m: string): void; debug(m: string): void };
  random: () => number;
  now: () => number;
  /** Something the catalog should reflect changed. */
  onChange: () => void;
}

const NODE_MAINT_REASON = "Maintenance mode is enabled for this node, but no reason was provided. This is a default message.";
const SERVICE_MAINT_REASON = "Maintenance mode is enabled for this service, but no reason was provided. This is a default message.";

export class LocalState {
  private readonly services = new Map<string, LocalService>();
  private readonly checks = new Map<string, LocalCheck>();
  /** Moves on every change; /v1/agent/service/<id>?hash= and tests read it. */
  version = 0;
  private readonly waiters = new Set<() => void>();
  /** Alias checks, so a change elsewhere does not walk every check to find them. */
  private readonly aliases = new Set<string>();

  constructor(private readonly opts: LocalOptions) {}

  // ---- reads -------------------------------------------------------------------------

  listServices(): LocalService[] {
    return [...this.services.values()].sort((a, b) => cmp(a.def.id, b.def.id));
  }

  service(id: string): LocalService | undefined {
    return this.services.get(id);
  }

  listChecks(): LocalCheck[] {
    return [...this.checks.values()].sort((a, b) => cmp(a.id, b.id));
  }

  check(id: string): LocalCheck | undefined {
    return this.checks.get(id);
  }

  // ---- services ----------------------------------------------------------------------

  /**
   * Adds or replaces a service and its embedded checks. With `replaceExistingChecks`, the
   * service's checks that the new definition does not name are removed (Consul's
   * ?replace-existing-checks); otherwise they stay.
   */
  addService(def: ServiceDefinition, source: DefinitionSource, replaceExistingChecks = false): void {
    for (const c of def.checks) this.assertAllowed(c, source);
    const service: ServiceDefinition = { ...def, checks: [] };
    this.services.set(def.id, { def: service, source });
    if (source === "api") this.opts.persistence?.saveService(service);
    if (replaceExistingChecks) {
      const keep = new Set(def.checks.map((c) => c.id));
      for (const c of [...this.checks.values()]) if (c.serviceId === def.id && !keep.has(c.id)) this.removeCheck(c.id);
    }
    for (const c of def.checks) this.addCheck({ ...c, serviceId: def.id }, source);
    this.changed();
  }

  removeService(id: string): void {
    const svc = this.services.get(id);
    if (!svc) throw new ConsulError(404, `Unknown service ID ${JSON.stringify(id)}. Ensure that the service ID is passed, not the service name.`);
    for (const c of [...this.checks.values()]) if (c.serviceId === id) this.removeCheck(c.id);
    this.services.delete(id);
    if (svc.source === "api") this.opts.persistence?.removeService(id);
    this.opts.logger.info(`Deregistered service: service=${id}`);
    this.changed();
  }

  // ---- checks ------------------------------------------------------------------------

  /**
   * Adds or replaces a check. Re-adding an identical definition (a reload) keeps its runner,
   * status and timers; a changed one restarts its runner but keeps the last status.
   */
  addCheck(input: CheckDefinition, source: DefinitionSource): void {
    if (input.serviceId !== "" && !this.services.has(input.serviceId)) {
      throw new ConsulError(500, `ServiceID ${JSON.stringify(input.serviceId)} does not exist`);
    }
    this.assertAllowed(input, source);
    const def = this.withMinimums(input);
    const existing = this.checks.get(def.id);
    if (existing?.def && existing.source === source && Bun.deepEquals(existing.def, def)) return;
    existing?.runner?.stop();

    const check: LocalCheck = {
      id: def.id,
      name: def.name,
      notes: def.notes,
      serviceId: def.serviceId,
      type: def.kind,
      definition: catalogDefinition(def),
      status: existing?.status ?? def.status,
      output: existing?.output ?? "",
      source,
      def,
      runner: undefined,
      criticalSinceMs: existing?.criticalSinceMs,
    };
    if (!existing && def.status === "critical") check.criticalSinceMs = this.opts.now();
    if (!existing && def.kind === "ttl") this.restoreTtl(check);
    this.checks.set(def.id, check);
    if (def.kind === "alias") this.aliases.add(def.id);
    else this.aliases.delete(def.id);
    if (source === "api") this.opts.persistence?.saveCheck(def.id, { check: def });
    check.runner = createCheckRunner(
      def,
      {
        update: (status, output) => {
          if (this.checks.get(def.id) === check) this.setStatus(check, status, output);
        },
        logger: this.opts.logger,
      },
      { outputMaxSize: this.outputMaxSize(def), random: this.opts.random },
    );
    check.runner?.start();
    this.changed();
  }

  removeCheck(id: string): void {
    const c = this.checks.get(id);
    if (!c) throw new ConsulError(404, `Unknown check ID ${JSON.stringify(id)}. Ensure that the check ID is passed, not the check name.`);
    c.runner?.stop();
    this.checks.delete(id);
    this.aliases.delete(id);
    if (c.source === "api") this.opts.persistence?.removeCheck(id);
    this.changed();
  }

  /** PUT /v1/agent/check/pass|warn|fail|update: only TTL checks take results from outside. */
  updateTtl(id: string, status: HealthStatus, output: string): void {
    const c = this.checks.get(id);
    if (!c?.runner || !isTtlRunner(c.runner)) {
      throw new ConsulError(404, `CheckID ${JSON.stringify(id)} does not have associated TTL`);
    }
    const capped = capOutput(output, this.outputMaxSize(c.def!));
    c.runner.set(status, capped);
    this.opts.persistence?.saveTtlState(id, { status, output: capped, expiresAtMs: this.opts.now() + c.def!.ttlMs });
  }

  // ---- maintenance -------------------------------------------------------------------

  enableNodeMaintenance(reason: string): void {
    if (this.checks.has(NODE_MAINTENANCE_CHECK_ID)) return;
    this.addStatic({ id: NODE_MAINTENANCE_CHECK_ID, name: "Node Maintenance Mode", notes: reason || NODE_MAINT_REASON, serviceId: "", type: "maintenance" });
    this.opts.logger.info("Node entered maintenance mode");
  }

  disableNodeMaintenance(): void {
    if (!this.checks.has(NODE_MAINTENANCE_CHECK_ID)) return;
    this.removeCheck(NODE_MAINTENANCE_CHECK_ID);
    this.opts.logger.info("Node left maintenance mode");
  }

  enableServiceMaintenance(serviceId: string, reason: string): void {
    if (!this.services.has(serviceId)) throw new ConsulError(404, `Unknown service ID ${JSON.stringify(serviceId)}`);
    const id = SERVICE_MAINTENANCE_PREFIX + serviceId;
    if (this.checks.has(id)) return;
    this.addStatic({ id, name: "Service Maintenance Mode", notes: reason || SERVICE_MAINT_REASON, serviceId, type: "maintenance" });
    this.opts.logger.info(`Service entered maintenance mode: service=${serviceId}`);
  }

  disableServiceMaintenance(serviceId: string): void {
    if (!this.services.has(serviceId)) throw new ConsulError(404, `Unknown service ID ${JSON.stringify(serviceId)}`);
    const id = SERVICE_MAINTENANCE_PREFIX + serviceId;
    if (!this.checks.has(id)) return;
    this.removeCheck(id);
    this.opts.logger.info(`Service left maintenance mode: service=${serviceId}`);
  }

  addStatic(s: StaticCheck): void {
    this.aliases.delete(s.id);
    this.checks.set(s.id, {
      ...s,
      definition: emptyDefinition(),
      status: "critical",
      output: "",
      source: "api",
      def: undefined,
      runner: undefined,
      criticalSinceMs: undefined, // never reaps its service: maintenance is deliberate
    });
    this.opts.persistence?.saveCheck(s.id, { static: s });
    this.changed();
  }

  // ---- lifecycle ---------------------------------------------------------------------

  /** Services whose check stayed critical past deregister_critical_service_after go away. */
  reapCritical(): void {
    const now = this.opts.now();
    for (const c of [...this.checks.values()]) {
      const after = c.def?.deregisterCriticalServiceAfterMs ?? 0;
      if (after <= 0 || c.serviceId === "" || c.criticalSinceMs === undefined || now - c.criticalSinceMs < after) continue;
      if (!this.services.has(c.serviceId)) continue;
      this.opts.logger.info(`Check ${c.id} for service ${c.serviceId} has been critical for too long; deregistered service`);
      this.removeService(c.serviceId);
    }
  }

  stop(): void {
    for (const c of this.checks.values()) c.runner?.stop();
  }

  // ---- internals ---------------------------------------------------------------------

  /**
   * Alias checks mirror a service on this agent (Consul's CheckAlias): the worst of its
   * checks and the node's, "critical" if the service is gone. Aliases of other nodes need the
   * catalog and stay at their initial status.
   */
  private updateAliases(): void {
    for (const id of this.aliases) {
      const c = this.checks.get(id)!;
      const alias = c.def?.kind === "alias" ? c.def : undefined;
      if (!alias || alias.aliasNode !== "" || alias.aliasService === "") continue;
      let status: HealthStatus = "passing";
      let output = "No checks found.";
      if (!this.services.has(alias.aliasService)) {
        status = "critical";
        output = "Service not found";
      } else {
        for (const other of this.checks.values()) {
          if (other === c || (other.serviceId !== "" && other.serviceId !== alias.aliasService)) continue;
          if (other.def?.kind === "alias") continue; // aliases never feed each other
          if (other.status === "passing") {
            if (status === "passing") output = "All checks passing.";
            continue;
          }
          if (status !== "critical") {
            status = other.status;
            output = `Aliased check ${JSON.stringify(other.name)} failing: ${other.output}`;
          }
        }
      }
      if (c.status !== status || c.output !== output) this.setStatusQuiet(c, status, output);
    }
  }

  /** setStatus without a change notification: the caller is already inside one. */
  private setStatusQuiet(c: LocalCheck, status: HealthStatus, output: string): void {
    if (c.status !== status) {
      const msg = `Check '${c.id}' is now ${status}`;
      if (status === "passing") this.opts.logger.info(msg);
      else this.opts.logger.warn(msg);
      c.criticalSinceMs = status === "critical" ? this.opts.now() : undefined;
    }
    c.status = status;
    c.output = output;
  }

  private setStatus(c: LocalCheck, status: HealthStatus, output: string): void {
    if (c.status === status && c.output === output) return;
    this.setStatusQuiet(c, status, output);
    this.changed();
  }

  /** Script checks run only where the operator allowed them, by where they came from. */
  assertAllowed(def: CheckDefinition, source: DefinitionSource): void {
    if (def.kind !== "script") return;
    if (source === "config" && !this.opts.enableLocalScriptChecks && !this.opts.enableScriptChecks) {
      throw new ConsulError(400, "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true");
    }
    if (source === "api" && !this.opts.enableScriptChecks) {
      throw new ConsulError(400, "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true");
    }
  }

  private withMinimums(def: CheckDefinition): CheckDefinition {
    const out = { ...def };
    if (out.intervalMs > 0 && out.intervalMs < this.opts.minCheckIntervalMs) {
      this.opts.logger.warn(`check has interval below minimum: check=${def.id} minimum_interval=${this.opts.minCheckIntervalMs / 1000}s`);
      out.intervalMs = this.opts.minCheckIntervalMs;
    }
    if (out.deregisterCriticalServiceAfterMs > 0 && out.deregisterCriticalServiceAfterMs < this.opts.minDeregisterAfterMs) {
      out.deregisterCriticalServiceAfterMs = this.opts.minDeregisterAfterMs;
    }
    return out;
  }

  private outputMaxSize(def: CheckDefinition): number {
    const agentMax = this.opts.checkOutputMaxSize;
    return def.outputMaxSize > 0 && def.outputMaxSize < agentMax ? def.outputMaxSize : agentMax;
  }

  /** A TTL check keeps its last result across a restart while that result has time left. */
  private restoreTtl(c: LocalCheck): void {
    const saved = this.opts.persistence?.loadTtlState(c.id);
    if (!saved || saved.expiresAtMs <= this.opts.now()) return;
    c.status = saved.status;
    c.output = saved.output;
    c.criticalSinceMs = saved.status === "critical" ? this.opts.now() : undefined;
  }

  private changed(): void {
    this.updateAliases();
    this.version++;
    for (const w of [...this.waiters]) w();
    this.opts.onChange();
  }

  /** Resolves true at the next change, false after `timeoutMs` or on abort (hash-blocking reads). */
  waitChange(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (changed: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        signal?.removeEventListener("abort", onAbort);
        resolve(changed);
      };
      const wake = (): void => done(true);
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.waiters.add(wake);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

function catalogDefinition(d: CheckDefinition): HealthCheckDefinition {
  return {
    http: d.http,
    header: d.header,
    method: d.method,
    body: d.body,
    tlsServerName: d.tlsServerName,
    tlsSkipVerify: d.tlsSkipVerify,
    tcp: d.tcp,
    intervalMs: d.intervalMs,
    timeoutMs: d.timeoutMs,
    deregisterCriticalServiceAfterMs: d.deregisterCriticalServiceAfterMs,
  };
}

/** Consul's TTL truncation: keep `max` bytes and say how much there was. */
function capOutput(s: string, max: number): string {
  const bytes = Buffer.from(s);
  if (bytes.length <= max) return s;
  return `${bytes.subarray(0, max).toString("utf8")} ... (captured ${max} of ${bytes.length} bytes)`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
