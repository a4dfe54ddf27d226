import { describe, expect, test } from "bun:test";
import { compileFilter, FilterError } from "../../src/lib/filter.ts";

// Objects shaped like the JSON of /v1/health/service/:name entries and /v1/agent/services values.

const entry = {
  Node: {
    ID: "2d0a8a6e",
    Node: "node-1",
    Address: "10.0.0.1",
    Datacenter: "dc1",
    TaggedAddresses: { lan: "10.0.0.1", wan: "198.18.0.1" },
    Meta: { rack: "r1", "env-name": "prod", "consul-network-segment": "" },
  },
  Service: {
    ID: "web/1",
    Service: "web",
    Tags: ["rails", "v2", "primary"],
    Address: "",
    Meta: { version: "2.1", owner: 'team "a"' },
    Port: 8080,
    Weights: { Passing: 1, Warning: 1 },
    EnableTagOverride: false,
    Proxy: null,
  },
  Checks: [
    { CheckID: "serfHealth", Name: "Serf Health Status", Status: "passing", ServiceID: "", ServiceTags: [] },
    { CheckID: "service:web/1", Name: "web alive", Status: "warning", ServiceID: "web/1", ServiceTags: ["rails", "v2"] },
  ],
};

const agentService = {
  ID: "redis1",
  Service: "redis",
  Tags: ["primary", "production"],
  Meta: { env: "production", foo: "bar" },
  Port: 1234,
  Address: "",
  Weights: { Passing: 1, Warning: 1 },
  EnableTagOverride: true,
  Datacenter: "dc1",
};

const noChecks = { ...entry, Checks: [] };

const healthCases: Array<[string, boolean]> = [
  // equality, coerced to the field's type
  ['Service.Service == "web"', true],
  ['Service.Service != "web"', false],
  ["Service.Service == web", true],
  ["Service.Service==`web`", true],
  ['Service.Service == "Web"', false],
  ['Service.ID == "web/1"', true],
  ["Service.Port == 8080", true],
  ['Service.Port == "8080"', true],
  ["Service.Port == 8081", false],
  ["Service.Port != 8081", true],
  ["Service.Port == -1", false],
  ['Service.Port == "http"', false],
  ['Service.Port != "http"', true],
  ["Service.Weights.Passing == 1", true],
  ["Service.EnableTagOverride == false", true],
  ['Service.EnableTagOverride == "F"', true],
  ["Service.EnableTagOverride == 0", true],
  ["Service.EnableTagOverride != true", true],
  ["Service.EnableTagOverride == nope", false],
  ["Service.Meta.version == 2.1", true],
  ['Service.Meta.version == "2.10"', false],
  ['Node.Address == "10.0.0.1"', true],
  // map keys: dotted or indexed, exact case
  ['Node.Meta.rack == "r1"', true],
  ['Node.Meta["rack"] == "r1"', true],
  ["Node.Meta[ `env-name` ] == prod", true],
  ['Node.Meta["env-name"] == "prod"', true],
  ['Node.Meta.Rack == "r1"', false],
  ['Node.Meta["rack"].deeper == "r1"', false],
  ['Node.TaggedAddresses.wan == "198.18.0.1"', true],
  // field names are exact too
  ['service.service == "web"', false],
  ['Node.node == "node-1"', false],
  // in / contains: list elements, map keys, substrings
  ['"rails" in Service.Tags', true],
  ["rails in Service.Tags", true],
  ['"rail" in Service.Tags', false],
  ['"php" not in Service.Tags', true],
  ['"rails" not in Service.Tags', false],
  ['Service.Tags contains "v2"', true],
  ["Service.Tags contains v2", true],
  ['Service.Tags not contains "v2"', false],
  ['"rack" in Node.Meta', true],
  ['"env-name" in Node.Meta', true],
  ['"r1" in Node.Meta', false],
  ['Node.Meta contains "rack"', true],
  ['"eb" in Service.Service', true],
  ['Service.Service contains "we"', true],
  ['Service.Service not contains "db"', true],
  ['"Passing" in Service.Weights', true],
  // is empty
  ["Service.Address is empty", true],
  ["Service.Address is not empty", false],
  ["Service.Tags is not empty", true],
  ["Service.Tags is empty", false],
  ["Service.Proxy is empty", true],
  ["Node.Meta is not empty", true],
  ['Node.Meta["consul-network-segment"] is empty', true],
  ["Checks is not empty", true],
  ["Service.Port is empty", false],
  // missing keys are absent: positive forms fail, negated forms hold
  ["Node.Missing is empty", true],
  ["Node.Missing is not empty", false],
  ['Node.Missing == "x"', false],
  ['Node.Missing != "x"', true],
  ['"x" in Node.Missing', false],
  ['"x" not in Node.Missing', true],
  ['Node.Missing matches ".*"', false],
  ['Node.Missing not matches ".*"', true],
  ['Node.Meta.missing == ""', false],
  ['Service.Proxy.DestinationServiceName == "x"', false],
  ["Service.Proxy.DestinationServiceName is empty", true],
  // a scalar cannot be indexed into
  ['Service.Service.Name == "web"', false],
  // matches (RE2-ish regexes)
  ['Service.Meta.version matches "^2\\\\."', true],
  ["Service.Meta.version matches `^2\\.`", true],
  ["Service.Meta.version matches `^2\\.1$`", true],
  ['Service.Service not matches "^w"', false],
  ['Service.Service matches "^W"', false],
  ['Service.Service matches "(?i)^W"', true],
  ["Service.Service matches `(?P<first>w)eb`", true],
  ["Service.Service matches `\\Aweb\\z`", true],
  ["Service.Service matches `\\Awe\\z`", false],
  ["Node.Node matches `node\\-\\d+`", true],
  ['Service.Port matches "80"', false],
  ['Service.Tags matches "rails"', false],
  // crossing a list: the whole test on each element, true if any passes
  ['Checks.Status == "passing"', true],
  ['Checks.Status == "warning"', true],
  ['Checks.Status == "critical"', false],
  ['Checks.Status != "passing"', true],
  ['"warning" in Checks.Status', true],
  ['"warn" in Checks.Status', true],
  ['Checks.CheckID matches "^service:"', true],
  ['"v2" in Checks.ServiceTags', true],
  ["Checks.ServiceTags is empty", true],
  ["Checks.ServiceTags is not empty", true],
  ['Checks.ServiceID == "web/1" and Checks.Status == "passing"', true],
  ['Checks.Missing != "x"', true],
  ['Service.Tags == "rails"', false],
  // precedence: not > and > or; grouping
  ['not Service.Service == "db" and Service.Port == 8080', true],
  ['not Service.Service == "web" or Service.Port == 8080', true],
  ['not (Service.Service == "web" or Service.Port == 8080)', false],
  ['not Service.Service == "db" or Service.Port == 1 and Service.Service == "db"', true],
  ['Service.Service == "db" or Service.Port == 8080 and "rails" in Service.Tags', true],
  ['(Service.Service == "db" or Service.Port == 8080) and "php" in Service.Tags', false],
  ['Service.Service == "db" or Service.Port == 1 or "v2" in Service.Tags', true],
  ['Service.Service == "web" and Service.Port == 8080 and "php" in Service.Tags', false],
  ['not not Service.Service == "web"', true],
  ['not(Service.Service == "db")', true],
  ['((Service.Service == "web"))', true],
  ['  Service.Service == "web"\n\tand\r\nService.Port == 8080  ', true],
  // strings: escapes and raw strings
  ['Service.Meta.owner == "team \\"a\\""', true],
  ["Service.Meta.owner == `team \"a\"`", true],
  ['Service.Meta.owner contains "\\x22a\\u0022"', true],
  ['Service.Service == "we\\"b"', false],
  ['Service.Meta.version == "2\\u002e1"', true],
  ['Service.Meta.version == "2\\0561"', true],
  ["Service.Meta.version == `2\\u002e1`", false],
  // a bare value may be any selector, taken as its text
  ['Service.Service == Service.Service', false],
  ['Node.Node == Node', false],
];

const agentCases: Array<[string, boolean]> = [
  ['Meta.env == "production"', true],
  ['Meta.env == "qa"', false],
  ['Service == "redis" and "primary" in Tags', true],
  ["Port == 1234 and EnableTagOverride == true", true],
  ['EnableTagOverride == "True"', true],
  ['Address == ""', true],
  ['Address != ""', false],
  ["Weights.Warning == 1", true],
  ['Tags contains "production" and not Tags contains "qa"', true],
  ['Meta["foo"] == bar', true],
  ['ID matches "^redis[0-9]+$"', true],
];

describe("filter expressions on a health entry", () => {
  for (const [expr, want] of healthCases) test(expr, () => expect(compileFilter(expr)(entry)).toBe(want));
});

describe("filter expressions on an agent service", () => {
  for (const [expr, want] of agentCases) test(expr, () => expect(compileFilter(expr)(agentService)).toBe(want));
});

describe("filter semantics", () => {
  test("a list with no elements satisfies no test that crosses it, negated or not", () => {
    for (const expr of ['Checks.Status == "passing"', 'Checks.Status != "passing"', "Checks.Status is empty", '"x" not in Checks.Status']) {
      expect(compileFilter(expr)(noChecks)).toBe(false);
    }
    expect(compileFilter("Checks is empty")(noChecks)).toBe(true);
  });

  test("one compiled filter serves many items", () => {
    const f = compileFilter('Meta.env == "production"');
    const items = [agentService, { ...agentService, Meta: { env: "qa" } }, { ...agentService, Meta: null }, null, "x", 3];
    expect(items.map(f)).toEqual([true, false, false, false, false, false]);
  });

  test("numbers compare numerically", () => {
    expect(compileFilter("Weight == 1.50")({ Weight: 1.5 })).toBe(true);
    expect(compileFilter('Weight == "0x10"')({ Weight: 16 })).toBe(true);
    expect(compileFilter("Weight == -2")({ Weight: -2 })).toBe(true);
    expect(compileFilter("2 in Ports")({ Ports: [1, 2] })).toBe(true);
    expect(compileFilter('"true" in Flags')({ Flags: [false, true] })).toBe(true);
  });

  test("a top-level array is crossed like any other", () => {
    expect(compileFilter('Status == "critical"')([{ Status: "passing" }, { Status: "critical" }])).toBe(true);
  });
});

describe("syntax errors", () => {
  const bad: Array<[string, RegExp]> = [
    ["", /^1:1 \(0\): no match found at end of input, expected: /],
    ["   ", /^1:4 \(3\): /],
    ["Service.Service ==", /^1:19 \(18\): .*expected: value/],
    ['"x" in', /expected: selector/],
    ['"x" in "y"', /expected: selector/],
    ['"x" Service.Tags', /expected: "in", "not"/],
    ["Service.Service = 1", /^1:17 \(16\): no match found at "=", expected: "!=", "=="/],
    ["Service.Service", /at end of input, expected: "!=", "==", "contains", "is", "matches", "not"/],
    ["Service.Tags not has x", /expected: "contains", "in", "matches"/],
    ["Service.Tags is full", /expected: "empty", "not"/],
    ["Service.Tags is not", /expected: "empty"/],
    ["(Service.Port == 80", /expected: "\)", "and", "or"/],
    ["Service.Port == 80)", /expected: "and", "or", end of input/],
    ["Service.Port == 80 Service.Port == 81", /expected: "and", "or", end of input/],
    ["Service.Port == 80 and", /at end of input/],
    ["Service.Port == 80 or or", /at end of input/],
    ['"web" == Service.Service', /^1:7 \(6\): no match found at "==", expected: "in", "not"/],
    ["Service.Port == 080", /invalid number literal/],
    ["Node.Node == node-1", /at "-1", expected: "and", "or", end of input/],
    ["Node.Address == 10.0.0.1", /^1:17 \(16\): invalid number literal/],
    ["Service.Port == 1e3", /invalid number literal/],
    ['Service.Service == "open', /^1:20 \(19\): unterminated string literal/],
    ["Service.Service == `open", /unterminated string literal/],
    ['Service.Service == "a\\qb"', /^1:22 \(21\): invalid escape/],
    ['Service.Service == "a\nb"', /newline in string literal/],
    ["Service.", /identifier after "\."/],
    ["Service.9 == x", /identifier after "\."/],
    ["Node.Meta[rack] == x", /invalid index/],
    ['Node.Meta["rack" == x', /unclosed index expression/],
    ['Node matches "("', /^1:14 \(13\): invalid regular expression "\("/],
    ['Service.Service == "a" &&  Service.Port == 1', /at "&&"/],
    ['Service.Service == "a"\nand Service.Port = 1', /^2:18 \(40\): no match found at "="/],
  ];
  for (const [expr, want] of bad) {
    test(JSON.stringify(expr), () => {
      let err: unknown;
      try {
        compileFilter(expr);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FilterError);
      const msg = (err as Error).message;
      expect(msg).not.toContain("\n");
      expect(msg).toMatch(want);
    });
  }
});
