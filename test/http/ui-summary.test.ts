import { describe, expect, test } from "bun:test";
import { serviceSummaries } from "../../src/http/ui-summary.ts";
import type { CatalogNode, CheckServiceNode, HealthCheck, HealthStatus, NodeService } from "../../src/state/catalog-types.ts";
import { chk, svc } from "../state/fixtures.ts";

// /v1/internal/ui/services rows, in Consul's ServiceListingSummary shape and counting rules.

const node = (name: string): CatalogNode => ({ id: "", node: name, address: "10.0.0.1", datacenter: "dc1", taggedAddresses: {}, meta: {}, createIndex: 1, modifyIndex: 1 });
const service = (name: string, id: string, tags: string[] = [], meta: Record<string, string> = {}): NodeService => ({ ...svc(id, name, tags), meta, createIndex: 1, modifyIndex: 1 });
const check = (nodeName: string, checkId: string, status: HealthStatus, serviceId = ""): HealthCheck => ({
  ...chk(nodeName, checkId, status, serviceId),
  serviceName: "",
  serviceTags: [],
  createIndex: 1,
  modifyIndex: 1,
});
const entry = (n: string, s: NodeService, checks: HealthCheck[]): CheckServiceNode => ({ node: node(n), service: s, checks });

describe("serviceSummaries", () => {
  test("one row per name, sorted, with Consul's fields in Consul's order", () => {
    const rows = serviceSummaries([entry("b", service("web", "web1", ["v2", "rails"]), [check("b", "serfHealth", "passing")]), entry("a", service("api", "api1"), [])]);
    expect(rows.map((r) => r.Name)).toEqual(["api", "web"]);
    expect(Object.keys(rows[1]!)).toEqual([
      "Name",
      "Datacenter",
      "Tags",
      "Nodes",
      "ExternalSources",
      "InstanceCount",
      "ChecksPassing",
      "ChecksWarning",
      "ChecksCritical",
      "GatewayConfig",
      "TransparentProxy",
      "ConnectNative",
      "ConnectedWithProxy",
      "ConnectedWithGateway",
    ]);
    expect(rows[0]).toMatchObject({ Tags: null, ExternalSources: null, Nodes: ["a"], InstanceCount: 1, ChecksPassing: 0, GatewayConfig: {} });
    expect(rows[1]).toMatchObject({ Datacenter: "dc1", Tags: ["rails", "v2"], ChecksPassing: 1 });
  });

  test("a node check shared by two instances on one node counts once; tags and nodes are unions", () => {
    const serf = check("n1", "serfHealth", "passing");
    const rows = serviceSummaries([
      entry("n1", service("web", "web1", ["a"]), [serf, check("n1", "service:web1", "critical", "web1")]),
      entry("n1", service("web", "web2", ["a", "b"]), [serf, check("n1", "service:web2", "warning", "web2")]),
      entry("n2", service("web", "web3", [], { "external-source": "kubernetes" }), [check("n2", "serfHealth", "passing")]),
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      Tags: ["a", "b"],
      Nodes: ["n1", "n2"],
      ExternalSources: ["kubernetes"],
      InstanceCount: 3,
      ChecksPassing: 2,
      ChecksWarning: 1,
      ChecksCritical: 1,
    });
  });

  test("no services: an empty list", () => {
    expect(serviceSummaries([])).toEqual([]);
  });
});
