import { describe, expect, test } from "bun:test";
import { CatalogError } from "../../src/state/catalog.ts";
import type { RegisterRequest } from "../../src/state/catalog-types.ts";
import { StateStore } from "../../src/state/store.ts";
import { chk, node, svc } from "./fixtures.ts";

const reg = (s: StateStore, idx: number, req: RegisterRequest) => s.write(idx, (tx) => s.catalog.register(tx, req));

describe("catalog table", () => {
  test("register node, service and checks; checks carry the service's name and tags", () => {
    const s = StateStore.empty();
    reg(s, 1, node("a1", { service: svc("web1", "web", ["rails"]), checks: [chk("a1", "service:web1", "passing", "web1"), chk("a1", "serfHealth", "passing")] }));
    expect(s.catalog.listNodes(undefined).nodes.map((n) => n.node)).toEqual(["a1"]);
    const { checks } = s.catalog.nodeChecks(undefined, "a1");
    expect(checks.map((c) => [c.checkId, c.serviceName, c.serviceTags])).toEqual([
      ["serfHealth", "", []],
      ["service:web1", "web", ["rails"]],
    ]);
    // Node names are case-insensitive, service IDs are not.
    expect(s.catalog.nodeServices(undefined, "A1").services.map((x) => x.id)).toEqual(["web1"]);
    expect(s.catalog.getService("a1", "WEB1")).toBeUndefined();
  });

  test("an unchanged registration keeps ModifyIndex and wakes no watcher", () => {
    const s = StateStore.empty();
    const req = node("a1", { service: svc("web") });
    reg(s, 1, req);
    const ws = s.watchSet();
    s.catalog.serviceNodes(ws, "web");
    reg(s, 2, req);
    expect(ws.hasFired).toBe(false);
    expect(s.catalog.serviceNodes(undefined, "web")).toMatchObject({ index: 1, nodes: [{ service: { createIndex: 1, modifyIndex: 1 } }] });
    reg(s, 3, node("a1", { service: svc("web", "web", ["v2"]) }));
    expect(ws.hasFired).toBe(true);
    expect(s.catalog.serviceNodes(undefined, "web").index).toBe(3);
  });

  test("a change to one service does not move another service's index or wake its watchers", () => {
    const s = StateStore.empty();
    reg(s, 1, node("a1", { service: svc("web") }));
    reg(s, 2, node("a1", { service: svc("db") }));
    const ws = s.watchSet();
    expect(s.catalog.checkServiceNodes(ws, "web").index).toBe(1);
    reg(s, 3, node("a1", { skipNodeUpdate: true, checks: [chk("a1", "db-check", "critical", "db")] }));
    expect(ws.hasFired).toBe(false);
    expect(s.catalog.checkServiceNodes(undefined, "web").index).toBe(1);
    expect(s.catalog.checkServiceNodes(undefined, "db").index).toBe(3);
    // A node check bears on every service of the node.
    reg(s, 4, node("a1", { skipNodeUpdate: true, checks: [chk("a1", "node-check", "warning")] }));
    expect(ws.hasFired).toBe(true);
    expect(s.catalog.checkServiceNodes(undefined, "web")).toMatchObject({
      index: 4,
      nodes: [{ checks: [{ checkId: "node-check" }] }],
    });
  });

  test("missing node or service is refused and the whole write is undone", () => {
    const s = StateStore.empty();
    expect(() => reg(s, 1, node("a1", { skipNodeUpdate: true, service: svc("web") }))).toThrow(CatalogError);
    expect(() => reg(s, 2, node("a1", { checks: [chk("a1", "c", "passing", "nosuch")] }))).toThrow("Missing service registration");
    // The node written before the failing check is gone too.
    expect(s.catalog.listNodes(undefined).nodes).toEqual([]);
    expect(s.catalog.index).toBe(0);
  });

  test("deregister a check, a service with its checks, a node with everything", () => {
    const s = StateStore.empty();
    reg(s, 1, node("a1", { service: svc("web"), checks: [chk("a1", "w", "passing", "web"), chk("a1", "n", "passing")] }));
    reg(s, 2, node("a1", { service: svc("db"), checks: [chk("a1", "d", "critical", "db")] }));
    s.write(3, (tx) => s.catalog.deregister(tx, { node: "a1", serviceId: "web", checkId: "" }));
    expect(s.catalog.nodeChecks(undefined, "a1").checks.map((c) => c.checkId)).toEqual(["d", "n"]);
    s.write(4, (tx) => s.catalog.deregister(tx, { node: "a1", serviceId: "", checkId: "n" }));
    expect(s.catalog.checksInState(undefined, "any").checks.map((c) => c.checkId)).toEqual(["d"]);
    s.write(5, (tx) => s.catalog.deregister(tx, { node: "a1", serviceId: "", checkId: "" }));
    expect(s.catalog.listServices(undefined).services).toEqual([]);
    expect(s.catalog.checksInState(undefined, "any")).toEqual({ index: 5, checks: [] });
    // The service that is gone still reports an index that moved past what a watcher saw.
    expect(s.catalog.serviceNodes(undefined, "web").index).toBe(5);
  });

  test("/catalog/services: tags are the union over instances, names sorted", () => {
    const s = StateStore.empty();
    reg(s, 1, node("a1", { service: svc("web1", "web", ["rails", "b"]) }));
    reg(s, 2, node("a2", { service: svc("web2", "web", ["a", "rails"]) }));
    reg(s, 3, node("a2", { service: svc("api") }));
    expect(s.catalog.listServices(undefined).services.map((x) => [x.name, x.tags])).toEqual([
      ["api", []],
      ["web", ["a", "b", "rails"]],
    ]);
    expect(s.catalog.serviceNodes(undefined, "WEB").nodes.map((n) => n.node.node)).toEqual(["a1", "a2"]);
  });

  test("snapshot and restore keep rows and indexes", () => {
    const s = StateStore.empty();
    reg(s, 1, node("a1", { service: svc("web"), checks: [chk("a1", "w", "warning", "web")] }));
    reg(s, 2, node("a2", { service: svc("db") }));
    const r = StateStore.restore(structuredClone(s.snapshot()));
    expect(r.catalog.checkServiceNodes(undefined, "web")).toEqual(s.catalog.checkServiceNodes(undefined, "web"));
    expect(r.catalog.listNodes(undefined)).toEqual(s.catalog.listNodes(undefined));
    expect(r.catalog.serviceNodes(undefined, "db").index).toBe(2);
  });
});
