import { describe, expect, test } from "bun:test";
import { DefinitionError, parseCheckDefinition, parseServiceDefinition } from "../../src/config/definitions.ts";

const err = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof DefinitionError) return e.message;
    throw e;
  }
  return "no error";
};

describe("service definitions", () => {
  test("the seed's service, with its script check given Consul's ID and name", () => {
    const s = parseServiceDefinition({ name: "web", tags: ["rails"], port: 80, check: { script: "curl localhost >/dev/null 2>&1", interval: "10s" } });
    expect(s).toMatchObject({ id: "web", name: "web", tags: ["rails"], port: 80, weights: { passing: 1, warning: 1 } });
    expect(s.checks).toEqual([expect.objectContaining({ id: "service:web", name: "Service 'web' check", serviceId: "web", kind: "script", intervalMs: 10_000, status: "critical" })]);
  });

  test("PascalCase, lowercase and snake_case bodies read the same", () => {
    const pascal = parseServiceDefinition({ Name: "api", ID: "api/1", EnableTagOverride: true, Meta: { Env: "prod" }, Check: { TTL: "15s", DeregisterCriticalServiceAfter: "90m" } });
    const lower = parseServiceDefinition({ name: "api", id: "api/1", enabletagoverride: true, meta: { Env: "prod" }, check: { ttl: "15s", deregistercriticalserviceafter: "90m" } });
    const snake = parseServiceDefinition({ name: "api", id: "api/1", enable_tag_override: true, meta: { Env: "prod" }, check: { ttl: "15s", deregister_critical_service_after: "90m" } });
    expect(lower).toEqual(pascal);
    expect(snake).toEqual(pascal);
    expect(pascal.meta).toEqual({ Env: "prod" }); // user data keeps its case
    expect(pascal.checks[0]).toMatchObject({ kind: "ttl", ttlMs: 15_000, deregisterCriticalServiceAfterMs: 5_400_000 });
  });

  test("several checks get service:<id>:<n>; durations may be nanoseconds", () => {
    const s = parseServiceDefinition({ name: "db", checks: [{ tcp: "localhost:5432", interval: 10_000_000_000 }, { http: "http://localhost/", interval: "5s", header: { "X-A": ["1"] } }] });
    expect(s.checks.map((c) => [c.id, c.kind, c.intervalMs])).toEqual([
      ["service:db:1", "tcp", 10_000],
      ["service:db:2", "http", 5_000],
    ]);
    expect(s.checks[1]!.header).toEqual({ "X-A": ["1"] });
  });

  test("Consul's validation texts", () => {
    expect(err(() => parseServiceDefinition({ port: 80 }))).toBe("Missing service name");
    expect(err(() => parseServiceDefinition({ name: "x", weights: { passing: 0 } }))).toBe("Invalid Weights: Passing must be greater than 0");
    expect(err(() => parseServiceDefinition({ name: "x", meta: { "consul-x": "1" } }))).toBe("Invalid Service Meta: Couldn't load metadata pair ('consul-x', '1'): Key prefix 'consul-' is reserved for internal use");
    expect(err(() => parseServiceDefinition({ name: "x", meta: { "a b": "1" } }))).toContain("Key contains invalid characters");
    expect(err(() => parseServiceDefinition({ name: "x", port: "80" }))).toBe("service: port must be an integer from 0 to 65535");
    expect(err(() => parseServiceDefinition("web"))).toBe("service must be a JSON object");
  });
});

describe("check definitions", () => {
  test("the seed's ping check; ID defaults to the name", () => {
    expect(parseCheckDefinition({ name: "ping", script: "ping -c1 example.org >/dev/null", interval: "30s" })).toMatchObject({ id: "ping", kind: "script", intervalMs: 30_000, serviceId: "" });
    expect(parseCheckDefinition({ Name: "mem", CheckID: "mem-1", Args: ["/bin/check_mem"], Interval: "10s", ServiceID: "web" })).toMatchObject({ id: "mem-1", args: ["/bin/check_mem"], serviceId: "web" });
  });

  test("CheckType.Validate, in Consul's words", () => {
    const v = (body: Record<string, unknown>) => err(() => parseCheckDefinition({ name: "c", ...body }));
    expect(v({ script: "true" })).toBe("Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks");
    expect(v({ ttl: "10s", interval: "10s" })).toBe("Invalid check: Interval and TTL cannot both be specified");
    expect(v({})).toBe("Invalid check: TTL must be > 0 for TTL checks");
    expect(v({ alias_service: "web", ttl: "5s" })).toBe("Invalid check: TTL must be not be set for Alias checks");
    expect(v({ ttl: "10s", status: "ok" })).toBe("Status for checks must 'passing', 'warning', 'critical'");
    expect(v({ grpc: "localhost:1", interval: "1s" })).toBe("Invalid check: gRPC checks are not supported by this agent");
    expect(v({ ttl: "ten seconds" })).toBe('check: ttl must be a duration such as "10s", not "ten seconds"');
    expect(err(() => parseCheckDefinition({ ttl: "10s" }))).toBe("Missing check name");
  });
});
