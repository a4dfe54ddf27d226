import { describe, expect, test } from "bun:test";
import type { CatalogNode, CatalogService } from "../../src/api/catalog.ts";
import { nodesOfInstances, nodesTable, servicesList, shortId } from "../../src/cli/catalog/format.ts";

// Shapes as a Consul 1.x agent answers /v1/catalog/nodes, /service/<s> and /services.

const worker: CatalogNode = {
  ID: "1b662d97-8b5c-3cc2-0ac0-96f55ad423b5",
  Node: "worker-01",
  Address: "10.4.5.31",
  Datacenter: "dc1",
  TaggedAddresses: { wan: "10.4.5.31", lan: "10.4.5.31" },
  Meta: { "consul-network-segment": "", rack: "r1" },
  CreateIndex: 13,
  ModifyIndex: 14,
};
const web: CatalogNode = { ...worker, ID: "d407a592-e93c-4d8e-8a6d-aba853d1e067", Node: "web-02", Address: "10.4.4.158", TaggedAddresses: null, Meta: null };
// Registered through /v1/catalog/register without an ID.
const ext: CatalogNode = { ...web, ID: "", Node: "ext1", Address: "10.0.0.1" };

describe("catalog nodes", () => {
  test("Node ID Address DC, columns two spaces apart, IDs cut at their first dash, API order kept", () => {
    expect(nodesTable([worker, web, ext], false)).toBe(
      [
        "Node       ID        Address     DC",
        "worker-01  1b662d97  10.4.5.31   dc1",
        "web-02     d407a592  10.4.4.158  dc1",
        "ext1                 10.0.0.1    dc1",
      ].join("\n"),
    );
  });

  test("-detailed: full IDs, then sorted key=value pairs joined by comma and space", () => {
    expect(nodesTable([worker, ext], true)).toBe(
      [
        "Node       ID                                    Address    DC   TaggedAddresses               Meta",
        "worker-01  1b662d97-8b5c-3cc2-0ac0-96f55ad423b5  10.4.5.31  dc1  lan=10.4.5.31, wan=10.4.5.31  consul-network-segment=, rack=r1",
        "ext1                                             10.0.0.1   dc1",
      ].join("\n"),
    );
  });

  test("a short ID is the part before the first dash, or all of it", () => {
    expect(shortId("a3c8d4f1-0000-0000-0000-000000000000")).toBe("a3c8d4f1");
    expect(shortId("node1")).toBe("node1");
    expect(shortId("-lead")).toBe("-lead");
    expect(shortId("")).toBe("");
  });

  test("-service: one row per instance, node meta as the node's Meta", () => {
    const instance: CatalogService = {
      ID: worker.ID,
      Node: "worker-01",
      Address: "10.4.5.31",
      Datacenter: "dc1",
      TaggedAddresses: worker.TaggedAddresses,
      NodeMeta: { rack: "r1" },
      ServiceID: "redis-1",
      ServiceName: "redis",
      ServiceAddress: "",
      ServiceTags: ["primary"],
      ServiceMeta: {},
      ServicePort: 6379,
      ServiceEnableTagOverride: false,
      CreateIndex: 20,
      ModifyIndex: 20,
    };
    const nodes = nodesOfInstances([instance, { ...instance, ServiceID: "redis-2", ServicePort: 6380 }]);
    expect(nodes).toHaveLength(2);
    expect(nodes[0]).toEqual({ ...worker, Meta: { rack: "r1" }, CreateIndex: 20, ModifyIndex: 20 });
    expect(nodesTable(nodes, false).split("\n")).toEqual(["Node       ID        Address    DC", "worker-01  1b662d97  10.4.5.31  dc1", "worker-01  1b662d97  10.4.5.31  dc1"]);
  });
});

describe("catalog services", () => {
  const services = { redis: ["v1", "primary"], consul: [], postgresql: ["leader"] };

  test("names sorted, one a line", () => {
    expect(servicesList(services, false)).toBe("consul\npostgresql\nredis");
  });

  test("-tags: Go's tabwriter, widest name plus six, tags sorted and comma-joined", () => {
    expect(servicesList(services, true)).toBe("consul          \npostgresql      leader\nredis           primary,v1");
  });

  test("-tags: the output is trimmed as a whole, so only the last line loses its padding", () => {
    expect(servicesList({ db: ["replica", "primary"], web: null }, true)).toBe("db       primary,replica\nweb");
    expect(servicesList({ "café": ["x"], db: [] }, true)).toBe("café      x\ndb");
  });
});
