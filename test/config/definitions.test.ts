import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { DefinitionError, fieldKey, looseField, parseCheckDefinition, parseServiceDefinition } from "../../src/config/definitions.ts";
import { validatePaths } from "../../src/config/validate.ts";
import { load, loadError } from "./load-helpers.ts";
import { TempDir } from "./temp-dir.ts";

/** The DefinitionError message `fn` throws (Consul's HTTP 400 reason). */
function err(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof DefinitionError) return e.message;
    throw e;
  }
  return "no error";
}
const serviceErr = (body: unknown) => err(() => parseServiceDefinition(body));
const checkErr = (body: unknown) => err(() => parseCheckDefinition(body));

describe("seed examples", () => {
  test("a service with a script check, given Consul's check ID and name", () => {
    const s = parseServiceDefinition({ name: "web", tags: ["rails"], port: 80, check: { script: "curl localhost >/dev/null 2>&1", interval: "10s" } });
    expect(s).toMatchObject({ id: "web", name: "web", tags: ["rails"], port: 80, address: "", meta: {}, weights: { passing: 1, warning: 1 }, enableTagOverride: false });
    expect(s.checks).toEqual([
      expect.objectContaining({ id: "service:web", name: "Service 'web' check", serviceId: "web", kind: "script", script: "curl localhost >/dev/null 2>&1", intervalMs: 10_000, status: "critical" }),
    ]);
  });

  test("a node check whose ID is its name", () => {
    const c = parseCheckDefinition({ name: "ping", script: "ping -c1 example.org >/dev/null", interval: "30s" });
    expect(c).toMatchObject({ id: "ping", name: "ping", serviceId: "", kind: "script", intervalMs: 30_000, status: "critical", args: [] });
  });
});

describe("field names: any case, with or without underscores", () => {
  test("fieldKey and looseField", () => {
    expect(["tls_skip_verify", "TLSSkipVerify", "tlsskipverify"].map(fieldKey)).toEqual(["tlsskipverify", "tlsskipverify", "tlsskipverify"]);
    expect(looseField({ Check_ID: "a" }, "CheckID")).toBe("a");
    expect(looseField({ id: null, CheckID: "b" }, "id", "check_id")).toBe("b"); // null is absent
    expect(looseField({ ID: "c", check_id: "d" }, "id", "check_id")).toBe("c"); // the first name wins
    expect(looseField({ x: 1 }, "y")).toBeUndefined();
  });

  test("PascalCase (Go api, node-consul), lowercase (python-consul) and snake_case read the same", () => {
    const pascal = parseServiceDefinition({
      Name: "api", ID: "api-1", Tags: ["v1"], Address: "10.0.0.5", Port: 9000, EnableTagOverride: true,
      Meta: { Env: "prod" }, Weights: { Passing: 3, Warning: 1 }, TaggedAddresses: { lan: { Address: "10.0.0.5", Port: 9000 } },
      Check: { HTTP: "http://10.0.0.5:9000/health", Interval: "10s", Timeout: "2s", TLSSkipVerify: true, TLSServerName: "api", DeregisterCriticalServiceAfter: "90m", Header: { "X-Token": ["t"] } },
    });
    const lower = parseServiceDefinition({
      name: "api", id: "api-1", tags: ["v1"], address: "10.0.0.5", port: 9000, enabletagoverride: true,
      meta: { Env: "prod" }, weights: { passing: 3, warning: 1 }, taggedaddresses: { lan: { address: "10.0.0.5", port: 9000 } },
      check: { http: "http://10.0.0.5:9000/health", interval: "10s", timeout: "2s", tlsskipverify: true, tlsservername: "api", deregistercriticalserviceafter: "90m", header: { "X-Token": ["t"] } },
    });
    const snake = parseServiceDefinition({
      name: "api", id: "api-1", tags: ["v1"], address: "10.0.0.5", port: 9000, enable_tag_override: true,
      meta: { Env: "prod" }, weights: { passing: 3, warning: 1 }, tagged_addresses: { lan: { address: "10.0.0.5", port: 9000 } },
      check: { http: "http://10.0.0.5:9000/health", interval: "10s", timeout: "2s", tls_skip_verify: true, tls_server_name: "api", deregister_critical_service_after: "90m", header: { "X-Token": ["t"] } },
    });
    expect(lower).toEqual(pascal);
    expect(snake).toEqual(pascal);
    expect(pascal).toMatchObject({ enableTagOverride: true, weights: { passing: 3, warning: 1 }, taggedAddresses: { lan: { address: "10.0.0.5", port: 9000 } } });
    expect(pascal.checks[0]).toMatchObject({ kind: "http", intervalMs: 10_000, timeoutMs: 2_000, tlsSkipVerify: true, tlsServerName: "api", deregisterCriticalServiceAfterMs: 5_400_000 });
  });

  test("user data keeps its spelling: Meta keys, Header names, tagged address names", () => {
    const s = parseServiceDefinition({ Name: "x", Meta: { Some_Key: "v" }, TaggedAddresses: { WAN_ipv4: { Address: "1.2.3.4", Port: 1 } }, Check: { HTTP: "http://x/", Interval: "1s", Header: { "X-Some_Header": ["a", "b"] } } });
    expect(s.meta).toEqual({ Some_Key: "v" });
    expect(Object.keys(s.taggedAddresses)).toEqual(["WAN_ipv4"]);
    expect(s.checks[0]!.header).toEqual({ "X-Some_Header": ["a", "b"] });
  });

  test("python-consul's bodies", () => {
    // agent.service.register("web", service_id="web1", port=80, tags=["a"], check=Check.http(url, "10s", timeout="1s", deregister="1m", header=...))
    const s = parseServiceDefinition({ name: "web", enabletagoverride: true, id: "web1", port: 80, tags: ["a"], check: { http: "http://localhost/", interval: "10s", timeout: "1s", DeregisterCriticalServiceAfter: "1m", header: { "x-foo": ["bar"] } } });
    expect(s).toMatchObject({ id: "web1", enableTagOverride: true, checks: [{ id: "service:web1", kind: "http", timeoutMs: 1_000, deregisterCriticalServiceAfterMs: 60_000, header: { "x-foo": ["bar"] } }] });
    // agent.check.register("mem", Check.script("/bin/check_mem", "10s"), check_id="mem1", notes="n", service_id="web1")
    const c = parseCheckDefinition({ name: "mem", script: "/bin/check_mem", interval: "10s", id: "mem1", notes: "n", serviceid: "web1" });
    expect(c).toMatchObject({ id: "mem1", name: "mem", notes: "n", serviceId: "web1", kind: "script", script: "/bin/check_mem" });
    // Check.tcp(host, port, interval) and Check.ttl(ttl)
    expect(parseCheckDefinition({ name: "db", tcp: "localhost:5432", interval: "5s" })).toMatchObject({ kind: "tcp", tcp: "localhost:5432" });
    expect(parseCheckDefinition({ name: "hb", ttl: "30s" })).toMatchObject({ kind: "ttl", ttlMs: 30_000 });
    // Check.docker(...) names a kind this agent cannot run.
    expect(checkErr({ name: "d", docker_container_id: "c1", shell: "/bin/sh", script: "true", interval: "10s" })).toBe("Invalid check: Docker checks are not supported by this agent");
  });

  test("the consul npm client's bodies", () => {
    // consul.agent.service.register({ name, id, tags, meta, address, port, checks: [...] }) after createService
    const s = parseServiceDefinition({
      Name: "web", ID: "web-1", Tags: ["a"], Meta: { v: "1" }, Address: "127.0.0.1", Port: 8080,
      Checks: [
        { CheckID: "web-http", Name: "web http", HTTP: "http://127.0.0.1:8080/", Interval: "10s", Method: "HEAD", Body: "", DisableRedirects: true, Status: "passing", FailuresBeforeWarning: 1, FailuresBeforeCritical: 3, SuccessBeforePassing: 2 },
        { TTL: "15s", Notes: "heartbeat" },
        { Args: ["/bin/true"], Interval: "30s", OutputMaxSize: 100 },
      ],
    });
    expect(s.checks.map((c) => [c.id, c.name, c.kind, c.status])).toEqual([
      ["web-http", "web http", "http", "passing"],
      ["service:web-1:2", "Service 'web' check", "ttl", "critical"],
      ["service:web-1:3", "Service 'web' check", "script", "critical"],
    ]);
    expect(s.checks[0]).toMatchObject({ method: "HEAD", disableRedirects: true, failuresBeforeWarning: 1, failuresBeforeCritical: 3, successBeforePassing: 2 });
    expect(s.checks[2]).toMatchObject({ args: ["/bin/true"], outputMaxSize: 100 });
    // consul.agent.check.register({ name, id, serviceid, ttl }) after createCheck
    expect(parseCheckDefinition({ TTL: "10s", Notes: "n", Name: "c", ID: "c1", ServiceID: "web-1" })).toMatchObject({ id: "c1", serviceId: "web-1", notes: "n" });
  });

  test("every spelling of the check ID, the service ID and the script arguments", () => {
    for (const key of ["id", "ID", "check_id", "CheckID", "checkid"]) expect(parseCheckDefinition({ name: "n", ttl: "1s", [key]: "x" }).id).toBe("x");
    for (const key of ["service_id", "ServiceID", "serviceid"]) expect(parseCheckDefinition({ name: "n", ttl: "1s", [key]: "s" }).serviceId).toBe("s");
    for (const key of ["args", "Args", "script_args", "ScriptArgs"]) expect(parseCheckDefinition({ name: "n", interval: "1s", [key]: ["a", "b"] }).args).toEqual(["a", "b"]);
  });
});

describe("IDs and names", () => {
  test("service ID defaults to the name", () => {
    expect(parseServiceDefinition({ name: "web" }).id).toBe("web");
    expect(parseServiceDefinition({ name: "web", id: "" }).id).toBe("web");
  });

  test("one check: service:<id>; several: service:<id>:<n>; an own ID or name is kept", () => {
    expect(parseServiceDefinition({ name: "web", id: "w1", checks: [{ ttl: "1s" }] }).checks[0]!.id).toBe("service:w1");
    const s = parseServiceDefinition({ name: "web", id: "w1", check: { ttl: "1s" }, checks: [{ ttl: "2s", name: "mine" }, { ttl: "3s", id: "own" }] });
    expect(s.checks.map((c) => [c.id, c.name, c.ttlMs, c.serviceId])).toEqual([
      ["service:w1:1", "Service 'web' check", 1_000, "w1"],
      ["service:w1:2", "mine", 2_000, "w1"],
      ["own", "Service 'web' check", 3_000, "w1"],
    ]);
  });

  test("an embedded check belongs to its service whatever service_id it names", () => {
    expect(parseServiceDefinition({ name: "web", check: { ttl: "1s", service_id: "other" } }).checks[0]!.serviceId).toBe("web");
  });

  test("config files number `checks` before `check`, as Consul's config builder does", () => {
    const s = parseServiceDefinition({ name: "web", check: { ttl: "1s" }, checks: [{ ttl: "2s" }] }, "config");
    expect(s.checks.map((c) => [c.id, c.ttlMs])).toEqual([
      ["service:web:1", 2_000],
      ["service:web:2", 1_000],
    ]);
  });

  test("an empty Check block is ignored over HTTP (CheckType.Empty), not in a config file", () => {
    const s = parseServiceDefinition({ Name: "web", Check: {}, Checks: [{ TTL: "1s" }] });
    expect(s.checks.map((c) => c.id)).toEqual(["service:web"]);
    expect(parseServiceDefinition({ name: "web", check: { script: "", interval: null } }).checks).toEqual([]);
    expect(err(() => parseServiceDefinition({ name: "web", check: {} }, "config"))).toBe("Invalid check: TTL must be > 0 for TTL checks");
  });

  test("a config-file node check may have an ID instead of a name; an API one may not", () => {
    expect(parseCheckDefinition({ id: "disk", ttl: "1s" }, "config")).toMatchObject({ id: "disk", name: "" });
    expect(checkErr({ id: "disk", ttl: "1s" })).toBe("Missing check name");
    expect(err(() => parseCheckDefinition({ ttl: "1s" }, "config"))).toBe("Missing check name");
  });
});

describe("values", () => {
  test("durations: Go strings or nanosecond numbers; minimums are left to the agent", () => {
    const ms = (interval: unknown) => parseCheckDefinition({ name: "c", tcp: "x:1", interval }).intervalMs;
    expect(ms("10s")).toBe(10_000);
    expect(ms("1m30s")).toBe(90_000);
    expect(ms("0.5s")).toBe(500);
    expect(ms("100ms")).toBe(100);
    expect(ms(10_000_000_000)).toBe(10_000);
    expect(ms(1_500_000.9)).toBe(1.5); // Go truncates to whole nanoseconds
    expect(parseCheckDefinition({ name: "c", ttl: "1s", deregister_critical_service_after: "10s" }).deregisterCriticalServiceAfterMs).toBe(10_000);
  });

  test("a timeout or deregister delay <= 0 means unset, as in Consul", () => {
    expect(parseCheckDefinition({ name: "c", tcp: "x:1", interval: "1s", timeout: "-1s", deregister_critical_service_after: -5 })).toMatchObject({ timeoutMs: 0, deregisterCriticalServiceAfterMs: 0 });
  });

  test("status defaults to critical; a valid one is kept", () => {
    expect(parseCheckDefinition({ name: "c", ttl: "1s" }).status).toBe("critical");
    expect(parseCheckDefinition({ name: "c", ttl: "1s", status: "passing" }).status).toBe("passing");
    expect(parseServiceDefinition({ name: "s", check: { ttl: "1s", Status: "warning" } }).checks[0]!.status).toBe("warning");
  });

  test("check kinds, chosen in the order Consul's agent picks a runner", () => {
    const kind = (body: Record<string, unknown>) => parseCheckDefinition({ name: "c", ...body }).kind;
    expect(kind({ script: "true", interval: "1s" })).toBe("script");
    expect(kind({ args: ["true"], interval: "1s" })).toBe("script");
    expect(kind({ http: "http://x/", interval: "1s" })).toBe("http");
    expect(kind({ tcp: "x:1", interval: "1s" })).toBe("tcp");
    expect(kind({ ttl: "1s" })).toBe("ttl");
    expect(kind({ alias_service: "web" })).toBe("alias");
    expect(kind({ AliasNode: "n1" })).toBe("alias");
    expect(kind({ http: "http://x/", args: ["true"], interval: "1s" })).toBe("http");
    expect(kind({ http: "http://x/", grpc: "x:1", interval: "1s" })).toBe("http");
  });

  test("weights: over HTTP a Weights object is whole; a config file overrides field by field", () => {
    expect(parseServiceDefinition({ name: "s", weights: { passing: 5 } }).weights).toEqual({ passing: 5, warning: 0 });
    expect(parseServiceDefinition({ name: "s", weights: { passing: 5 } }, "config").weights).toEqual({ passing: 5, warning: 1 });
    expect(parseServiceDefinition({ name: "s", weights: { warning: 0 } }, "config").weights).toEqual({ passing: 1, warning: 0 });
  });

  test("null is absent; Token and Locality are accepted and change nothing", () => {
    const s = parseServiceDefinition({ Name: "s", Tags: null, Meta: null, Check: null, Token: "secret", Locality: { Region: "r", Zone: "z" }, Kind: "", Connect: null });
    expect(s).toMatchObject({ tags: [], meta: {}, checks: [] });
    expect(parseCheckDefinition({ Name: "c", TTL: "1s", Token: "t", Shell: "/bin/sh", GRPCUseTLS: false }).kind).toBe("ttl");
  });
});

describe("Consul's texts", () => {
  test("service: name, address, weights", () => {
    expect(serviceErr({ port: 80 })).toBe("Missing service name");
    expect(serviceErr({ Name: "" })).toBe("Missing service name");
    expect(serviceErr({ name: "x", address: "0.0.0.0" })).toBe("Invalid service address");
    expect(serviceErr({ name: "x", address: "::" })).toBe("Invalid service address");
    expect(serviceErr({ name: "x", weights: { passing: 0, warning: 1 } })).toBe("Invalid Weights: Passing must be greater than 0");
    expect(serviceErr({ name: "x", weights: { warning: 1 } })).toBe("Invalid Weights: Passing must be greater than 0");
    expect(serviceErr({ name: "x", weights: { passing: 1, warning: -1 } })).toBe("Invalid Weights: Warning must be greater or equal than 0");
    expect(serviceErr({ name: "x", weights: { passing: 65536, warning: 1 } })).toBe("Invalid Weights: DNS Weight must be between 0 and 65535");
  });

  test("service meta (ValidateServiceMetadata)", () => {
    const meta = (m: Record<string, string>) => serviceErr({ name: "x", meta: m });
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
    expect(meta(many)).toBe("Invalid Service Meta: Node metadata cannot contain more than 64 key/value pairs");
    expect(meta({ "": "v" })).toBe("Invalid Service Meta: Couldn't load metadata pair ('', 'v'): Key cannot be blank");
    expect(meta({ "a b": "1" })).toBe("Invalid Service Meta: Couldn't load metadata pair ('a b', '1'): Key contains invalid characters");
    expect(meta({ ["k".repeat(129)]: "v" })).toBe(`Invalid Service Meta: Couldn't load metadata pair ('${"k".repeat(129)}', 'v'): Key is too long (limit: 128 characters)`);
    expect(meta({ "consul-x": "1" })).toBe("Invalid Service Meta: Couldn't load metadata pair ('consul-x', '1'): Key prefix 'consul-' is reserved for internal use");
    expect(meta({ k: "é".repeat(257) })).toBe(`Invalid Service Meta: Couldn't load metadata pair ('k', '${"é".repeat(257)}'): Value is too long (limit: 512 characters)`);
    expect(meta({ ...Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, "v"])) })).toBe("no error");
    expect(meta({ ["k".repeat(128)]: "v".repeat(512) })).toBe("no error");
  });

  test("CheckType.Validate, prefixed as Consul's handlers prefix it", () => {
    const v = (body: Record<string, unknown>) => checkErr({ name: "c", ...body });
    expect(v({ ttl: "10s", interval: "10s" })).toBe("Invalid check: Interval and TTL cannot both be specified");
    expect(v({ script: "true" })).toBe("Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks");
    expect(v({ http: "http://x/", interval: "0s" })).toBe("Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks");
    expect(v({ grpc: "x:1" })).toBe("Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks");
    expect(v({ tcp: "x:1", interval: "1s", alias_service: "web" })).toBe("Invalid check: Interval cannot be set for Alias checks");
    expect(v({ alias_service: "web", ttl: "5s" })).toBe("Invalid check: TTL must be not be set for Alias checks");
    expect(v({})).toBe("Invalid check: TTL must be > 0 for TTL checks");
    expect(v({ notes: "no kind at all" })).toBe("Invalid check: TTL must be > 0 for TTL checks");
    expect(v({ ttl: "1s", output_max_size: -1 })).toBe("Invalid check: MaxOutputMaxSize must be positive");
    expect(v({ ttl: "1s", failures_before_warning: 3, failures_before_critical: 2 })).toBe("Invalid check: FailuresBeforeWarning can't be higher than FailuresBeforeCritical");
  });

  test("the same texts for a service's checks", () => {
    expect(serviceErr({ name: "s", checks: [{ ttl: "1s" }, { http: "http://x/" }] })).toBe("Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks");
  });

  test("check name and status: node checks and service checks word them differently", () => {
    expect(checkErr({ ttl: "10s" })).toBe("Missing check name");
    expect(checkErr({ name: "c", ttl: "10s", status: "ok" })).toBe("Bad check status");
    expect(checkErr({ name: "c", ttl: "10s", status: "Passing" })).toBe("Bad check status");
    expect(serviceErr({ name: "s", check: { ttl: "10s", status: "ok" } })).toBe("Status for checks must 'passing', 'warning', 'critical'");
  });

  test("Consul's order: decoding, then the name, then the check types, then their statuses", () => {
    expect(serviceErr({ port: "80" })).toBe("Request decode failed: port: must be an integer from 0 to 65535");
    expect(serviceErr({ checks: [{ ttl: "1s" }] })).toBe("Missing service name");
    expect(serviceErr({ name: "s", checks: [{ ttl: "1s", status: "ok" }, { script: "x" }] })).toBe("Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks");
    expect(checkErr({ status: "ok" })).toBe("Missing check name");
    expect(checkErr({ name: "c", status: "ok" })).toBe("Bad check status");
  });
});

describe("what this agent does not do", () => {
  test("check kinds Consul runs and this agent does not", () => {
    const v = (body: Record<string, unknown>) => checkErr({ name: "c", interval: "10s", ...body });
    expect(v({ grpc: "localhost:1" })).toBe("Invalid check: gRPC checks are not supported by this agent");
    expect(v({ h2ping: "localhost:1" })).toBe("Invalid check: H2PING checks are not supported by this agent");
    expect(v({ udp: "localhost:1" })).toBe("Invalid check: UDP checks are not supported by this agent");
    expect(v({ docker_container_id: "c1", args: ["true"] })).toBe("Invalid check: Docker checks are not supported by this agent");
    expect(v({ os_service: "nginx" })).toBe("Invalid check: OS service checks are not supported by this agent");
    expect(v({ tcp: "localhost:1", tcp_use_tls: true })).toBe("Invalid check: TCP-over-TLS checks are not supported by this agent");
    expect(serviceErr({ name: "s", check: { GRPC: "localhost:1", Interval: "10s" } })).toBe("Invalid check: gRPC checks are not supported by this agent");
  });

  test("service mesh and socket services", () => {
    expect(serviceErr({ name: "s", kind: "connect-proxy" })).toBe('Service kind "connect-proxy" is not supported by this agent');
    expect(serviceErr({ name: "s", SocketPath: "/run/s.sock" })).toBe("Services on a Unix socket (SocketPath) are not supported by this agent");
    expect(serviceErr({ name: "s", Proxy: { DestinationServiceName: "web" } })).toBe("Connect proxy settings (Proxy) are not supported by this agent");
    expect(serviceErr({ name: "s", connect: { sidecar_service: {} } })).toBe("Connect (service mesh) settings are not supported by this agent");
    expect(serviceErr({ name: "s", Connect: { Native: false } })).toBe("no error");
  });
});

describe("decoding errors", () => {
  test("an unknown field is refused, in Consul's words", () => {
    expect(serviceErr({ Name: "s", Bogus: 1 })).toBe('Request decode failed: json: unknown field "Bogus"');
    expect(serviceErr({ Name: "s", Check: { TTL: "1s", Intervall: "1s" } })).toBe('Request decode failed: json: unknown field "Intervall"');
    expect(serviceErr({ Name: "s", Weights: { Passing: 1, Critical: 1 } })).toBe('Request decode failed: json: unknown field "Critical"');
    expect(serviceErr({ Name: "s", TaggedAddresses: { lan: { Address: "a", Prt: 1 } } })).toBe('Request decode failed: json: unknown field "Prt"');
    expect(checkErr({ Name: "c", TTL: "1s", Namespace: "ns" })).toBe('Request decode failed: json: unknown field "Namespace"');
  });

  test("wrong types name the field as the body spells it", () => {
    expect(serviceErr("web")).toBe("Request decode failed: body: must be a JSON object");
    expect(serviceErr({ Name: 5 })).toBe("Request decode failed: Name: must be a string");
    expect(serviceErr({ name: "s", port: 70000 })).toBe("Request decode failed: port: must be an integer from 0 to 65535");
    expect(serviceErr({ name: "s", tags: ["a", 1] })).toBe("Request decode failed: tags[1]: must be a string");
    expect(serviceErr({ name: "s", tags: "a" })).toBe("Request decode failed: tags: must be an array of strings");
    expect(serviceErr({ name: "s", Meta: { k: 1 } })).toBe("Request decode failed: Meta.k: must be a string");
    expect(serviceErr({ name: "s", enable_tag_override: "yes" })).toBe("Request decode failed: enable_tag_override: must be true or false");
    expect(serviceErr({ name: "s", Checks: [{ TTL: "1s" }, "x"] })).toBe("Request decode failed: Checks[1]: must be a JSON object");
    expect(serviceErr({ name: "s", Checks: { TTL: "1s" } })).toBe("Request decode failed: Checks: must be an array of objects");
    expect(serviceErr({ name: "s", Check: { Interval: "ten seconds", Args: ["x"] } })).toBe(
      'Request decode failed: Check.Interval: invalid duration "ten seconds", want a duration such as "10s" or a number of nanoseconds',
    );
    expect(checkErr({ name: "c", ttl: "10" })).toBe('Request decode failed: ttl: invalid duration "10", want a duration such as "10s" or a number of nanoseconds');
    expect(checkErr({ name: "c", ttl: "1s", Header: { "X-A": "v" } })).toBe("Request decode failed: Header.X-A: must be an array of strings");
    expect(checkErr({ name: "c", ttl: "1s", failures_before_critical: -1 })).toBe("Request decode failed: failures_before_critical: must be an integer >= 0");
  });

  test("config files get the same facts as a key path and a reason", () => {
    const e = (() => {
      try {
        parseServiceDefinition({ name: "s", checks: [{ ttl: "1s" }, { ttl: "1s", Bogus: 1 }] }, "config");
      } catch (x) {
        return x as DefinitionError;
      }
      throw new Error("no error");
    })();
    expect([e.path, e.reason, e.unknownKey]).toEqual([["checks", 1, "Bogus"], "invalid config key", true]);
  });
});

describe("config files", () => {
  let tmp: TempDir;
  beforeEach(() => {
    tmp = new TempDir();
  });
  afterEach(() => tmp.remove());

  const interval = "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks";

  test("a bad definition is one line: file, key path, reason", () => {
    const file = tmp.write("web.json", { services: [{ name: "web", checks: [{ ttl: "10s" }, { script: "curl localhost", interval: "0s" }] }] });
    expect(loadError({ configFiles: [file] })).toBe(`${file}: services[0].checks[1]: ${interval}`);
    const single = tmp.write("one.json", { service: { name: "web", check: { script: "true" } } });
    expect(loadError({ configFiles: [single] })).toBe(`${single}: service.check: ${interval}`);
    const node = tmp.write("node.json", { checks: [{ name: "a", ttl: "1s" }, { name: "b", ttl: "1s", status: "up" }] });
    expect(loadError({ configFiles: [node] })).toBe(`${node}: checks[1]: Bad check status`);
    const meta = tmp.write("meta.json", { service: { name: "web", meta: { "consul-x": "1" } } });
    expect(loadError({ configFiles: [meta] })).toBe(`${meta}: service: Invalid Service Meta: Couldn't load metadata pair ('consul-x', '1'): Key prefix 'consul-' is reserved for internal use`);
  });

  test("unknown keys and wrong types, as the rest of the config file reports them", () => {
    const unknown = tmp.write("u.json", { services: [{ name: "web", check: { ttl: "1s", intervl: "1s" } }] });
    expect(loadError({ configFiles: [unknown] })).toBe(`${unknown}: invalid config key services[0].check.intervl`);
    const typed = tmp.write("t.json", { service: { name: "web", port: "80" } });
    expect(loadError({ configFiles: [typed] })).toBe(`${typed}: service.port: must be an integer from 0 to 65535`);
    const duration = tmp.write("d.json", { check: { name: "c", ttl: "soon" } });
    expect(loadError({ configFiles: [duration] })).toBe(`${duration}: check.ttl: invalid duration "soon", want a duration such as "10s" or a number of nanoseconds`);
    const notObject = tmp.write("n.json", { services: ["web"] });
    expect(loadError({ configFiles: [notObject] })).toBe(`${notObject}: services[0]: must be a JSON object`);
  });

  test("`tsc validate` reports the same lines", () => {
    const file = tmp.write("web.json", { services: [{ name: "web", checks: [{ ttl: "10s" }, { script: "curl localhost" }] }] });
    expect(validatePaths([file])).toEqual({ ok: false, error: `${file}: services[0].checks[1]: ${interval}` });
  });

  test("definitions are typed in the config and append in source order", () => {
    const dir = tmp.dir("d");
    tmp.write("d/a.json", { service: { name: "web", tags: ["rails"], port: 80, check: { script: "curl localhost >/dev/null 2>&1", interval: "10s" } }, services: [{ Name: "db", Port: 5432 }] });
    tmp.write("d/b.json", { check: { name: "ping", script: "ping -c1 example.org >/dev/null", interval: "30s" }, checks: [{ id: "disk", ttl: "1m" }] });
    tmp.write("d/c.json", { services: [{ name: "cache" }] });
    const { config } = load({ configDirs: [dir] });
    expect(config.services.map((s) => [s.id, s.port, s.checks.map((c) => c.id)])).toEqual([
      ["db", 5432, []],
      ["web", 80, ["service:web"]],
      ["cache", 0, []],
    ]);
    expect(config.checks.map((c) => [c.id, c.kind, c.intervalMs || c.ttlMs])).toEqual([
      ["disk", "ttl", 60_000],
      ["ping", "script", 30_000],
    ]);
  });
});
