import { describe, expect, test } from "bun:test";
import { compileFilter, FilterError } from "../../src/lib/filter.ts";

// Expressions against objects shaped as /v1/health/service and /v1/agent/services answer them.

const entry = {
  Node: { Node: "a1", Address: "10.0.0.1", Meta: { rack: "r1", "env-name": "prod" } },
  Service: { ID: "web/1", Service: "web", Tags: ["rails", "v2"], Port: 80, Meta: { version: "2.1" }, EnableTagOverride: false },
  Checks: [
    { CheckID: "serfHealth", Status: "passing" },
    { CheckID: "service:web/1", Status: "warning" },
  ],
};

const cases: Array<[string, boolean]> = [
  ['Service.Service == "web"', true],
  ['Service.Service != "web"', false],
  ["Service.Service == web", true],
  ["Service.Port == 80", true],
  ["Service.Port == 81", false],
  ["Service.EnableTagOverride == false", true],
  ['"rails" in Service.Tags', true],
  ['"php" not in Service.Tags', true],
  ['Service.Tags contains "v2"', true],
  ['Service.Tags not contains "v2"', false],
  ['Node.Meta.rack == "r1"', true],
  ['Node.Meta["env-name"] == "prod"', true],
  ['"rack" in Node.Meta', true],
  ['Service.Meta.version matches "^2\\\\."', true],
  ["Service.Meta.version matches `^2\\.`", true],
  ['Service.Service not matches "^w"', false],
  ['"warning" in Checks.Status', true],
  ['Checks.Status == "critical"', false],
  ["Service.Address is empty", true],
  ["Service.Tags is not empty", true],
  ["Node.Missing is empty", true],
  ['Node.Missing == "x"', false],
  ['not Service.Service == "db" and Service.Port == 80', true],
  ['Service.Service == "db" or Service.Port == 80 and "rails" in Service.Tags', true],
  ['(Service.Service == "db" or Service.Port == 80) and "php" in Service.Tags', false],
  ['Service.ID == "web/1"', true],
  ['Service.Service == "we\\"b"', false],
];

describe("filter expressions", () => {
  for (const [expr, want] of cases) test(expr, () => expect(compileFilter(expr)(entry)).toBe(want));

  test("syntax errors are one-line FilterErrors with a position", () => {
    for (const bad of ["", "Service.Service ==", '"x" in', "Service.Service = 1", '(Service.Port == 80', 'Node matches "("', 'Service.Service == "open']) {
      let err: unknown;
      try {
        compileFilter(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FilterError);
      expect((err as Error).message).not.toContain("\n");
    }
  });
});
