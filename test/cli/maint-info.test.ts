import { describe, expect, test } from "bun:test";
import type { AgentCheck } from "../../src/api/agent.ts";
import { formatStats } from "../../src/cli/info.ts";
import { maintListing } from "../../src/cli/maint.ts";

const check = (c: Partial<AgentCheck> & { CheckID: string }): AgentCheck => ({
  Node: "worker-01",
  Name: "",
  Status: "critical",
  Notes: "",
  Output: "",
  ServiceID: "",
  ServiceName: "",
  ServiceTags: [],
  Type: "",
  ...c,
});

describe("maint listing", () => {
  // /v1/agent/checks with the node and two services in maintenance, beside ordinary checks.
  const checks: Record<string, AgentCheck> = {
    "service:web": check({ CheckID: "service:web", Name: "Service 'web' check", Status: "passing", ServiceID: "web", ServiceName: "web" }),
    "_service_maintenance:web": check({
      CheckID: "_service_maintenance:web",
      Name: "Service Maintenance Mode",
      Notes: "Maintenance mode is enabled for this service, but no reason was provided. This is a default message.",
      ServiceID: "web",
      ServiceName: "web",
    }),
    "_service_maintenance:api/1": check({ CheckID: "_service_maintenance:api/1", Name: "Service Maintenance Mode", Notes: "deploy", ServiceID: "api/1", ServiceName: "api" }),
    serfHealth: check({ CheckID: "serfHealth", Name: "Serf Health Status", Status: "passing" }),
    _node_maintenance: check({ CheckID: "_node_maintenance", Name: "Node Maintenance Mode", Notes: "kernel upgrade" }),
  };

  test("Node: block first, then one Service: block per service, each followed by an empty line", () => {
    expect(maintListing(checks, "worker-01").join("\n") + "\n").toBe(
      [
        "Node:",
        "  Name:   worker-01",
        "  Reason: kernel upgrade",
        "",
        "Service:",
        "  ID:     api/1",
        "  Reason: deploy",
        "",
        "Service:",
        "  ID:     web",
        "  Reason: Maintenance mode is enabled for this service, but no reason was provided. This is a default message.",
        "",
        "",
      ].join("\n"),
    );
  });

  test("nothing in maintenance prints nothing", () => {
    expect(maintListing({ serfHealth: checks.serfHealth! }, "worker-01")).toEqual([]);
  });
});

describe("info", () => {
  test("sections and keys sorted, a tab before each key = value", () => {
    const stats = {
      runtime: { os: "linux", arch: "amd64", goroutines: "105", version: "go1.22.7" },
      agent: { services: "1", checks: "2", check_ttls: "0", check_monitors: "0" },
      build: { version: "1.20.1", prerelease: "", revision: "" },
    };
    expect(formatStats(stats)).toEqual({
      lines: [
        "agent:",
        "\tcheck_monitors = 0",
        "\tcheck_ttls = 0",
        "\tchecks = 2",
        "\tservices = 1",
        "build:",
        "\tprerelease = ",
        "\trevision = ",
        "\tversion = 1.20.1",
        "runtime:",
        "\tarch = amd64",
        "\tgoroutines = 105",
        "\tos = linux",
        "\tversion = go1.22.7",
      ],
    });
  });

  test("a value that is not a string prints as Go's %s does; a section that is not a map stops with Consul's error", () => {
    expect(formatStats({ agent: { checks: 2, server: true } }).lines).toEqual(["agent:", "\tchecks = %!s(float64=2)", "\tserver = %!s(bool=true)"]);
    expect(formatStats({ agent: { a: "1" }, bad: "x", zed: {} })).toEqual({ lines: ["agent:", "\ta = 1", "bad:"], error: "Got invalid subkey in stats: map[]" });
  });
});
