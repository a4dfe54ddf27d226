import { afterAll, beforeAll, expect, test } from "bun:test";
import Consul from "consul";
import { cleanupTempDirs, type RunningAgent, startAgent } from "./harness.ts";

// The `consul` npm client, unmodified, against a real agent on 127.0.0.22.

let a: RunningAgent;
let consul: Consul;
beforeAll(async () => {
  a = await startAgent("127.0.0.22");
  consul = new Consul({ host: a.ip, port: 8500 });
});
afterAll(async () => {
  await a?.stop();
  cleanupTempDirs();
});

test("kv.set / get / keys / del, with flags and cas", async () => {
  expect(await consul.kv.set("app/config", "v1")).toBe(true);
  expect(await consul.kv.set({ key: "app/flagged", value: "x", flags: 42 })).toBe(true);
  const item = await consul.kv.get("app/config");
  expect(item?.Value).toBe("v1");
  expect(item?.Key).toBe("app/config");
  expect((await consul.kv.get("app/flagged"))?.Flags).toBe(42);
  expect(await consul.kv.get("app/missing")).toBeUndefined();
  expect(await consul.kv.keys("app/")).toEqual(["app/config", "app/flagged"]);
  const all = await consul.kv.get({ key: "app/", recurse: true });
  expect(Array.isArray(all) ? all.map((e) => e.Key) : all).toEqual(["app/config", "app/flagged"]);
  expect(await consul.kv.set({ key: "app/config", value: "v2", cas: item!.ModifyIndex })).toBe(true);
  // Our body is `false`; the client's papi pipeline turns a false result into undefined
  // (it does the same against Consul), so assert falsy and that nothing was written.
  expect(await consul.kv.set({ key: "app/config", value: "v3", cas: item!.ModifyIndex })).toBeFalsy();
  expect((await consul.kv.get("app/config"))?.Value).toBe("v2");
  expect(await consul.kv.del("app/flagged")).toBe(true);
  expect(await consul.kv.del({ key: "app/", recurse: true })).toBe(true);
  expect(await consul.kv.keys("")).toEqual([]);
});

test("status.leader and agent.self", async () => {
  expect(await consul.status.leader()).toBe(`${a.ip}:8300`);
  const self = (await consul.agent.self()) as { Config: { NodeName: string } };
  expect(self.Config.NodeName).toBe(`n-${a.ip}`);
});

test("a watch on a key sees the change", async () => {
  await consul.kv.set("watched", "1");
  const watch = consul.watch({ method: consul.kv.get, options: { key: "watched", wait: "5s" } as never, backoffFactor: 50 });
  try {
    const values: string[] = [];
    const seen = new Promise<void>((resolve, reject) => {
      watch.on("change", (data: { Value?: string } | undefined) => {
        if (data?.Value) values.push(data.Value);
        if (values.includes("2")) resolve();
      });
      watch.on("error", reject);
    });
    await Bun.sleep(300);
    await consul.kv.set("watched", "2");
    await Promise.race([seen, Bun.sleep(8000).then(() => Promise.reject(new Error(`watch saw ${values.join(",")}`)))]);
    expect(values).toEqual(["1", "2"]);
  } finally {
    watch.end();
  }
});

test("agent service and TTL check, then catalog and health views of it", async () => {
  await consul.agent.service.register({ name: "web", id: "web/1", port: 80, tags: ["rails"], check: { name: "web ttl", ttl: "30s", timeout: "1s" } });
  const services = (await consul.agent.service.list()) as Record<string, { Service: string; Port: number; Tags: string[] }>;
  expect(services["web/1"]).toMatchObject({ Service: "web", Port: 80, Tags: ["rails"] });
  const checks = (await consul.agent.check.list()) as Record<string, { Status: string; ServiceID: string }>;
  expect(checks["service:web/1"]).toMatchObject({ Status: "critical", ServiceID: "web/1" });

  await consul.agent.check.pass({ id: "service:web/1", note: "ok" });
  // Anti-entropy moves the agent's state into the catalog shortly after each change.
  const deadline = Date.now() + 5000;
  let healthy: Array<{ Node: { Node: string }; Service: { ID: string }; Checks: Array<{ CheckID: string; Status: string }> }> = [];
  while (Date.now() < deadline) {
    healthy = (await consul.health.service({ service: "web", passing: true })) as typeof healthy;
    if (healthy.length === 1) break;
    await Bun.sleep(50);
  }
  expect(healthy).toHaveLength(1);
  expect(healthy[0]!.Service.ID).toBe("web/1");
  expect(healthy[0]!.Checks.map((c) => c.CheckID).sort()).toEqual(["serfHealth", "service:web/1"]);

  const nodes = (await consul.catalog.service.nodes("web")) as Array<{ Node: string; ServiceID: string; ServiceTags: string[]; ServicePort: number }>;
  expect(nodes).toEqual([expect.objectContaining({ Node: `n-${a.ip}`, ServiceID: "web/1", ServiceTags: ["rails"], ServicePort: 80 })]);
  expect(await consul.catalog.service.list()).toEqual({ consul: [], web: ["rails"] });
  const passing = (await consul.health.state("passing")) as Array<{ CheckID: string }>;
  expect(passing.map((c) => c.CheckID).sort()).toEqual(["serfHealth", "service:web/1"]);
  const node = (await consul.catalog.node.services(`n-${a.ip}`)) as { Node: { Node: string }; Services: Record<string, unknown> };
  expect(Object.keys(node.Services).sort()).toEqual(["consul", "web/1"]);
  expect(await consul.catalog.datacenters()).toEqual(["dc1"]);

  await consul.agent.check.fail({ id: "service:web/1", note: "down" });
  await consul.agent.service.deregister("web/1");
  expect(await consul.agent.service.list()).toEqual({});
});
