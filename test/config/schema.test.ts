import { describe, expect, test } from "bun:test";
import { describeProblem, parseFragment } from "../../src/config/schema.ts";

/** The one-line problem text for `raw`, or "ok". */
function problem(raw: unknown): string {
  const r = parseFragment(raw);
  return r.ok ? "ok" : describeProblem(r.problem);
}

function accepted(raw: unknown) {
  const r = parseFragment(raw);
  if (!r.ok) throw new Error(describeProblem(r.problem));
  return r;
}

describe("parseFragment: key path and reason", () => {
  const cases: Array<[string, unknown, string]> = [
    ["top level must be an object", [1, 2], "must be a JSON object"],
    ["unknown top-level key", { bogus: 1 }, "invalid config key bogus"],
    ["unknown nested key", { ports: { htp: 1 } }, "invalid config key ports.htp"],
    ["port out of range", { ports: { http: 70000 } }, "ports.http: must be an integer between -1 and 65535"],
    ["port not an integer", { ports: { http: 80.5 } }, "ports.http: must be an integer between -1 and 65535"],
    ["port given as string", { ports: { dns: "53" } }, "ports.dns: must be an integer between -1 and 65535"],
    ["section not an object", { ports: 8500 }, "ports: must be an object"],
    ["wrong scalar type", { server: "yes" }, "server: must be a boolean"],
    ["list element type", { retry_join: ["a", 2] }, "retry_join[1]: must be a string"],
    ["list given as string", { retry_join: "a" }, "retry_join: must be an array of strings"],
    ["negative bootstrap_expect", { bootstrap_expect: -1 }, "bootstrap_expect: must be an integer >= 0"],
    ["bad duration", { retry_interval: "soon" }, 'retry_interval: invalid duration "soon"'],
    ["duration as number", { session_ttl_min: 10 }, 'session_ttl_min: must be a duration string such as "10s"'],
    ["negative duration", { reconnect_timeout: "-1h" }, "reconnect_timeout: cannot be negative"],
    ["nested duration", { dns_config: { max_stale: "1x" } }, 'dns_config.max_stale: invalid duration "1x"'],
    ["service_ttl values", { dns_config: { service_ttl: { web: "x" } } }, 'dns_config.service_ttl.web: invalid duration "x"'],
    ["log level", { log_level: "loud" }, "log_level: must be one of trace, debug, info, warn, error"],
    ["datacenter chars", { datacenter: "dc 1" }, 'datacenter: can only contain lowercase alphanumeric, - or _ characters, received "dc 1"'],
    ["datacenter empty", { datacenter: "" }, "datacenter: cannot be empty"],
    ["node_id", { node_id: "abc" }, 'node_id: must be a UUID, received "abc"'],
    ["encrypt not base64", { encrypt: "not base64!" }, "encrypt: must be a base64-encoded key of 16, 24 or 32 bytes"],
    ["encrypt wrong size", { encrypt: Buffer.alloc(20).toString("base64") }, "encrypt: must be a base64-encoded key of 16, 24 or 32 bytes"],
    ["recursor strategy", { dns_config: { recursor_strategy: "fast" } }, 'dns_config.recursor_strategy: must be "sequential" or "random"'],
    ["recursors type", { recursors: 5 }, "recursors: must be a string or an array of strings"],
    ["raft_multiplier range", { performance: { raft_multiplier: 11 } }, "performance.raft_multiplier: must be an integer between 1 and 10"],
    ["check_output_max_size", { check_output_max_size: 0 }, "check_output_max_size: must be an integer >= 1"],
    ["service without name", { service: { port: 80 } }, "service: Missing service name"],
    ["services entry without name", { services: [{ name: "a" }, { name: "" }] }, "services[1]: Missing service name"],
    ["service not an object", { services: ["web"] }, "services[0]: must be a JSON object"],
    ["check without name", { checks: [{ ttl: "10s" }] }, "checks[0]: Missing check name"],
    ["check with neither ttl nor interval", { check: { name: "x", script: "true" } }, "check: Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks"],
    ["watches must be objects", { watches: [1] }, "watches[0]: must be an object"],
    ["watch without its key", { watches: [{ type: "key", args: ["true"] }] }, 'watches[0]: Failed to parse watch (map[string]interface {}{"args":[]interface {}{"true"}}): Must specify a single key to watch'],
    ["watch without a handler", { watches: [{ type: "nodes" }] }, "watches[0]: Must define a watch handler"],
  ];
  for (const [name, raw, want] of cases) test(name, () => expect(problem(raw)).toBe(want));
});

describe("parseFragment: node_meta", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["valid", { rack: "r1", "zone_a-1": "x" }, "ok"],
    ["blank key", { "": "x" }, "node_meta: Key cannot be blank"],
    ["invalid characters", { "a.b": "x" }, "node_meta.a.b: Key contains invalid characters"],
    ["key too long", { ["k".repeat(129)]: "x" }, `node_meta.${"k".repeat(129)}: Key is too long (limit: 128 characters)`],
    ["key of 128 is fine", { ["k".repeat(128)]: "x" }, "ok"],
    ["reserved prefix", { "consul-version": "1" }, "node_meta.consul-version: Key prefix 'consul-' is reserved for internal use"],
    ["value too long", { k: "v".repeat(513) }, "node_meta.k: Value is too long (limit: 512 characters)"],
    ["value of 512 is fine", { k: "v".repeat(512) }, "ok"],
    ["value must be a string", { k: 1 }, "node_meta.k: must be a string"],
  ];
  for (const [name, meta, want] of cases) test(name, () => expect(problem({ node_meta: meta })).toBe(want));

  test("at most 64 pairs", () => {
    const meta = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));
    expect(problem({ node_meta: meta(64) })).toBe("ok");
    expect(problem({ node_meta: meta(65) })).toBe("node_meta: Node metadata cannot contain more than 64 key/value pairs");
  });
});

describe("parseFragment: normalizing", () => {
  test("durations become milliseconds", () => {
    const { fragment } = accepted({ retry_interval: "1m30s", dns_config: { service_ttl: { "*": "5s" } } });
    expect(fragment.retry_interval).toBe(90_000);
    expect(fragment.dns_config?.service_ttl).toEqual({ "*": 5000 });
  });

  test("datacenter is lower-cased", () => {
    expect(accepted({ datacenter: "DC-East" }).fragment.datacenter).toBe("dc-east");
  });

  test("log level spellings map to one name", () => {
    const level = (s: string) => accepted({ log_level: s }).fragment.log_level;
    expect([level("INFO"), level("Warning"), level("warn"), level("ERR"), level("error"), level("trace")]).toEqual([
      "info", "warn", "warn", "error", "error", "trace",
    ]);
  });

  test("a single recursor string becomes a list", () => {
    expect(accepted({ recursors: "8.8.8.8" }).fragment.recursors).toEqual(["8.8.8.8"]);
  });

  test("valid gossip keys of 16, 24 and 32 bytes, and the empty key", () => {
    for (const n of [16, 24, 32]) expect(problem({ encrypt: Buffer.alloc(n, 7).toString("base64") })).toBe("ok");
    expect(problem({ encrypt: "" })).toBe("ok");
  });

  test("service and check bodies are parsed, any key casing", () => {
    const service = { Name: "web", port: 80, check: { TTL: "10s" } };
    expect(accepted({ service }).fragment.service).toMatchObject({ id: "web", name: "web", port: 80, checks: [{ id: "service:web", kind: "ttl", ttlMs: 10_000 }] });
  });
});

describe("parseFragment: accepted but not implemented", () => {
  test("keys Consul knows load with a warning each", () => {
    const r = accepted({
      acl: { enabled: true },
      telemetry: { statsd_address: "x" },
      ports: { http: 8500, grpc_tls: 8503 },
      limits: { rpc_rate: 10, kv_max_value_size: 1024 },
      datacenter: "dc2",
    });
    expect(r.warnings).toEqual([
      "config key acl is accepted but not implemented",
      "config key telemetry is accepted but not implemented",
      "config key limits.rpc_rate is accepted but not implemented",
      "config key ports.grpc_tls is accepted but not implemented",
    ]);
    expect(r.fragment).toEqual({ ports: { http: 8500 }, limits: { kv_max_value_size: 1024 }, datacenter: "dc2" });
  });

  test("their values are not checked", () => {
    expect(problem({ disable_host_node_id: "whatever", tls: 5 })).toBe("ok");
  });
});
