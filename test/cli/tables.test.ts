import { describe, expect, test } from "bun:test";
import { nodesTable } from "../../src/cli/catalog/nodes.ts";
import { servicesTable } from "../../src/cli/catalog/services.ts";
import { columnize } from "../../src/cli/columnize.ts";
import { formatStats } from "../../src/cli/info.ts";
import { maintListing } from "../../src/cli/maint.ts";

describe("CLI tables in Consul's layout", () => {
  test("columnize pads all but the last column and trims only the whole table", () => {
    expect(columnize([["a", "bb", "c"], ["ccc", "d", ""]])).toBe("a    bb  c\nccc  d");
    expect(columnize([["x", ""], ["yy", "z"]])).toBe("x   \nyy  z");
  });

  test("catalog nodes: sorted, 8-character IDs; -detailed adds tagged addresses and meta", () => {
    const nodes = [
      { ID: "a3c8d4f1-0000-0000-0000-000000000000", Node: "web2", Address: "10.0.0.2", Datacenter: "dc1", TaggedAddresses: { lan: "10.0.0.2" }, Meta: { rack: "r1" } },
      { ID: "", Node: "db1", Address: "10.0.0.9", Datacenter: "dc1", TaggedAddresses: null, Meta: null },
    ];
    expect(nodesTable(nodes, false)).toBe("Node  ID        Address   DC\ndb1             10.0.0.9  dc1\nweb2  a3c8d4f1  10.0.0.2  dc1");
    expect(nodesTable(nodes, true).split("\n")[2]).toBe("web2  a3c8d4f1-0000-0000-0000-000000000000  10.0.0.2  dc1  lan=10.0.0.2     rack=r1");
  });

  test("catalog services: names, or names and sorted tags", () => {
    const services = { web: ["rails", "canary"], consul: [] };
    expect(servicesTable(services, false)).toBe("consul\nweb");
    expect(servicesTable(services, true)).toBe("consul  \nweb     canary,rails");
  });

  test("maint listing and info stats", () => {
    const checks = {
      _node_maintenance: { CheckID: "_node_maintenance", ServiceID: "", Notes: "disk swap" },
      "service:web": { CheckID: "service:web", ServiceID: "web", Notes: "" },
      "_service_maintenance:web": { CheckID: "_service_maintenance:web", ServiceID: "web", Notes: "deploy" },
    };
    expect(maintListing(checks, "a1")).toEqual(["Node:", "  Name:   a1", "  Reason: disk swap", "", "Service:", "  ID:     web", "  Reason: deploy", ""]);
    expect(formatStats({ raft: { term: "2", applied_index: "9" }, agent: { checks: "1" } })).toEqual(["agent:", "\tchecks = 1", "raft:", "\tapplied_index = 9", "\tterm = 2"]);
  });
});
