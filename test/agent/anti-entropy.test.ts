import { describe, expect, test } from "bun:test";
import { AntiEntropy, type CatalogAccess } from "../../src/agent/anti-entropy.ts";
import { LocalState } from "../../src/agent/local.ts";
import type { CheckDefinition, ServiceDefinition } from "../../src/config/definition-types.ts";
import { emptyDefinition, type RegisterRequest } from "../../src/state/catalog-types.ts";
import { StateStore } from "../../src/state/store.ts";

// Anti-entropy against a real state store (no Raft): what the agent holds ends up in the
// catalog, what it does not hold leaves, and the leader's rows are left alone.

const NODE = "a1";
const quiet = { info() {}, warn() {}, debug() {} };

function catalogOver(store: StateStore): CatalogAccess & { writes: number } {
  let index = 0;
  const access = {
    writes: 0,
    nodeServices: async (node: string) => store.catalog.nodeServices(undefined, node),
    nodeChecks: async (node: string) => store.catalog.nodeChecks(undefined, node).checks,
    register: async (req: RegisterRequest) => {
      access.writes++;
      store.write(++index + store.index, (tx) => store.catalog.register(tx, req));
    },
    deregister: async (req: { node: string; serviceId: string; checkId: string }) => {
      access.writes++;
      store.write(++index + store.index, (tx) => store.catalog.deregister(tx, req));
    },
  };
  return access;
}

function ttlCheck(id: string, serviceId = ""): CheckDefinition {
  return {
    id, name: id, notes: "", serviceId, status: "critical", kind: "ttl", script: "", args: [], http: "", method: "",
    header: {}, body: "", tlsServerName: "", tlsSkipVerify: false, disableRedirects: false, tcp: "", ttlMs: 60_000,
    aliasNode: "", aliasService: "", intervalMs: 0, timeoutMs: 0, deregisterCriticalServiceAfterMs: 0,
    successBeforePassing: 0, failuresBeforeWarning: 0, failuresBeforeCritical: 0, outputMaxSize: 0,
  };
}

function service(id: string, tags: string[] = [], checks: CheckDefinition[] = [], enableTagOverride = false): ServiceDefinition {
  return { id, name: id, tags, address: "", taggedAddresses: {}, meta: {}, port: 80, weights: { passing: 1, warning: 1 }, enableTagOverride, checks };
}

function setup(clock = { now: 1_000_000 }) {
  const store = StateStore.empty();
  const catalog = catalogOver(store);
  const local = new LocalState({
    enableScriptChecks: false,
    enableLocalScriptChecks: true,
    checkOutputMaxSize: 4096,
    minCheckIntervalMs: 1000,
    minDeregisterAfterMs: 60_000,
    persistence: undefined,
    logger: quiet,
    random: () => 0,
    now: () => clock.now,
    onChange: () => {},
  });
  const ae = new AntiEntropy({
    local,
    catalog: () => catalog,
    nodeInfo: () => ({ node: NODE, id: "", address: "10.0.0.1", datacenter: "dc1", taggedAddresses: { lan: "10.0.0.1" }, meta: {} }),
    intervalMs: 60_000,
    checkUpdateIntervalMs: 300_000,
    random: () => 0,
    now: () => clock.now,
    logger: quiet,
  });
  return { store, catalog, local, ae, clock };
}

describe("anti-entropy", () => {
  test("registers the node, services and checks; a second pass writes nothing", async () => {
    const { store, catalog, local, ae } = setup();
    local.addService(service("web", ["rails"], [ttlCheck("service:web", "web")]), "config");
    local.addCheck(ttlCheck("mem"), "config");
    await ae.syncNow();
    expect(store.catalog.nodeServices(undefined, NODE).services.map((s) => [s.id, s.tags])).toEqual([["web", ["rails"]]]);
    expect(store.catalog.nodeChecks(undefined, NODE).checks.map((c) => [c.checkId, c.status])).toEqual([
      ["mem", "critical"],
      ["service:web", "critical"],
    ]);
    const writes = catalog.writes;
    await ae.syncNow();
    expect(catalog.writes).toBe(writes);
    ae.stop();
    local.stop();
  });

  test("removes what the agent no longer has, but never serfHealth or the consul service", async () => {
    const { store, local, ae } = setup();
    const leaderRows: RegisterRequest = {
      node: NODE, id: "", address: "10.0.0.1", datacenter: "dc1", taggedAddresses: { lan: "10.0.0.1" }, nodeMeta: {}, skipNodeUpdate: false,
      service: { id: "consul", service: "consul", tags: [], address: "", taggedAddresses: {}, meta: {}, port: 8300, weights: { passing: 1, warning: 1 }, enableTagOverride: false },
      checks: [{ node: NODE, checkId: "serfHealth", name: "Serf Health Status", status: "passing", notes: "", output: "", serviceId: "", type: "", definition: emptyDefinition() }],
    };
    store.write(1, (tx) => store.catalog.register(tx, leaderRows));
    store.write(2, (tx) => store.catalog.register(tx, { ...leaderRows, service: { ...leaderRows.service!, id: "stale", service: "stale" }, checks: [] }));
    local.addService(service("web"), "config");
    await ae.syncNow();
    expect(store.catalog.nodeServices(undefined, NODE).services.map((s) => s.id)).toEqual(["consul", "web"]);
    expect(store.catalog.nodeChecks(undefined, NODE).checks.map((c) => c.checkId)).toEqual(["serfHealth"]);
    ae.stop();
  });

  test("catalog edits are undone, except tags under enable_tag_override", async () => {
    const { store, local, ae } = setup();
    local.addService(service("web", ["a"]), "config");
    local.addService(service("api", ["a"], [], true), "config");
    await ae.syncNow();
    for (const id of ["web", "api"]) {
      const s = store.catalog.getService(NODE, id)!;
      store.write(store.index + 1, (tx) =>
        store.catalog.register(tx, {
          node: NODE, id: "", address: "10.0.0.1", datacenter: "dc1", taggedAddresses: { lan: "10.0.0.1" }, nodeMeta: {}, skipNodeUpdate: true,
          service: { ...s, tags: ["edited"] }, checks: [],
        }),
      );
    }
    await ae.syncNow();
    expect(store.catalog.getService(NODE, "web")!.tags).toEqual(["a"]);
    expect(store.catalog.getService(NODE, "api")!.tags).toEqual(["edited"]);
    expect(local.service("api")!.def.tags).toEqual(["edited"]);
    ae.stop();
  });

  test("a status change syncs at once; an output-only change waits for check_update_interval", async () => {
    const { store, local, ae, clock } = setup();
    local.addCheck(ttlCheck("job"), "config");
    await ae.syncNow();
    local.updateTtl("job", "passing", "first");
    await ae.syncNow();
    expect(store.catalog.getCheck(NODE, "job")).toMatchObject({ status: "passing", output: "first" });
    local.updateTtl("job", "passing", "second");
    await ae.syncNow();
    expect(store.catalog.getCheck(NODE, "job")!.output).toBe("first");
    clock.now += 300_001;
    await ae.syncNow();
    expect(store.catalog.getCheck(NODE, "job")!.output).toBe("second");
    ae.stop();
    local.stop();
  });
});

describe("local state", () => {
  test("re-adding an identical check keeps its status; removal of an unknown id is 404", () => {
    const { local } = setup();
    local.addCheck(ttlCheck("job"), "config");
    local.updateTtl("job", "passing", "ok");
    local.addCheck(ttlCheck("job"), "config");
    expect(local.check("job")).toMatchObject({ status: "passing", output: "ok" });
    expect(() => local.removeCheck("nope")).toThrow('Unknown check ID "nope"');
    expect(() => local.updateTtl("nope", "passing", "")).toThrow('CheckID "nope" does not have associated TTL');
    local.stop();
  });

  test("script checks: allowed from config, refused over the API without enable_script_checks", () => {
    const { local } = setup();
    const script = { ...ttlCheck("s"), kind: "script" as const, script: "true", intervalMs: 10_000, ttlMs: 0 };
    expect(() => local.addCheck(script, "api")).toThrow("Scripts are disabled on this agent from remote calls");
    local.addCheck(script, "config");
    expect(local.check("s")?.type).toBe("script");
    local.stop();
  });

  test("a service whose check stays critical past deregister_critical_service_after is removed", () => {
    const { local, clock } = setup();
    const check = { ...ttlCheck("service:web", "web"), deregisterCriticalServiceAfterMs: 60_000 };
    local.addService(service("web", [], [check]), "api");
    local.reapCritical();
    expect(local.service("web")).toBeDefined();
    clock.now += 60_000;
    local.reapCritical();
    expect(local.service("web")).toBeUndefined();
    expect(local.check("service:web")).toBeUndefined();
  });

  test("maintenance checks are critical, carry the reason, and go away when disabled", () => {
    const { local } = setup();
    local.addService(service("web"), "config");
    local.enableNodeMaintenance("");
    local.enableServiceMaintenance("web", "deploy");
    expect(local.check("_node_maintenance")).toMatchObject({ status: "critical", type: "maintenance" });
    expect(local.check("_node_maintenance")!.notes).toContain("no reason was provided");
    expect(local.check("_service_maintenance:web")).toMatchObject({ notes: "deploy", serviceId: "web" });
    expect(() => local.enableServiceMaintenance("nope", "")).toThrow('Unknown service ID "nope"');
    local.disableNodeMaintenance();
    local.disableServiceMaintenance("web");
    expect(local.listChecks()).toEqual([]);
  });

  test("an alias check mirrors a local service's worst check", () => {
    const { local } = setup();
    local.addService(service("web", [], [ttlCheck("service:web", "web")]), "config");
    local.addCheck({ ...ttlCheck("web-alias"), kind: "alias", ttlMs: 0, aliasService: "web" }, "config");
    expect(local.check("web-alias")).toMatchObject({ status: "critical", output: 'Aliased check "service:web" failing: ' });
    local.updateTtl("service:web", "passing", "ok");
    expect(local.check("web-alias")).toMatchObject({ status: "passing", output: "All checks passing." });
    local.updateTtl("service:web", "warning", "slow");
    expect(local.check("web-alias")).toMatchObject({ status: "warning", output: 'Aliased check "service:web" failing: slow' });
    local.removeService("web");
    expect(local.check("web-alias")).toMatchObject({ status: "critical", output: "Service not found" });
    local.stop();
  });
});
