import { describe, expect, test } from "bun:test";
import { parseWatchParams, WatchParamError } from "../../src/watch/params.ts";

/** Consul's answer for these parameters: the parsed query, or the error text. */
function parse(params: Record<string, unknown>, exempt: string[] = []): unknown {
  try {
    return parseWatchParams(new Map(Object.entries(params)), exempt).query;
  } catch (err) {
    if (err instanceof WatchParamError) return err.message;
    throw err;
  }
}

describe("parseWatchParams: Consul's errors", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["no type", { key: "x" }, "Watch type must be specified"],
    ["empty type", { type: "" }, "Watch type must be specified"],
    ["type not a string", { type: 1 }, "Expecting type to be a string"],
    ["datacenter not a string", { type: "key", datacenter: true }, "Expecting datacenter to be a string"],
    ["unknown type", { type: "keys" }, "Unsupported watch type: keys"],
    ["connect types are not ours", { type: "connect_roots" }, "Unsupported watch type: connect_roots"],
    ["key missing", { type: "key" }, "Must specify a single key to watch"],
    ["key not a string", { type: "key", key: ["a"] }, "Expecting key to be a string"],
    ["stale not a boolean", { type: "key", key: "a", stale: "yes" }, "Expecting stale to be a boolean"],
    ["prefix missing", { type: "keyprefix" }, "Must specify a single prefix to watch"],
    ["service missing", { type: "service", tag: "v1" }, "Must specify a single service to watch"],
    ["tag of the wrong type", { type: "service", service: "web", tag: 3 }, "Expecting tag to be a string or []string"],
    ["tag list element", { type: "service", service: "web", tag: ["a", 2] }, "Index 1 of tag expected to be string"],
    ["passingonly not a boolean", { type: "service", service: "web", passingonly: "true" }, "Expecting passingonly to be a boolean"],
    ["service and state", { type: "checks", service: "web", state: "critical" }, "Cannot specify service and state"],
    ["leftovers, sorted", { type: "nodes", zeta: 1, alpha: 2 }, "Invalid parameters: [alpha zeta]"],
    ["stale is not an event parameter", { type: "event", stale: true }, "Invalid parameters: [stale]"],
    ["tag is not a checks parameter", { type: "checks", tag: "v1" }, "Invalid parameters: [tag]"],
    ["http without its config", { type: "key", key: "a", handler_type: "http" }, "Handler type 'http' requires 'http_handler_config' to be set"],
  ];
  for (const [name, params, want] of cases) test(name, () => expect(parse(params)).toBe(want));
});

describe("parseWatchParams: queries", () => {
  test("each type, with Consul's defaults", () => {
    expect(parse({ type: "key", key: "a/b", stale: true })).toEqual({ type: "key", key: "a/b", stale: true });
    expect(parse({ type: "keyprefix", prefix: "app/" })).toEqual({ type: "keyprefix", prefix: "app/", stale: false });
    expect(parse({ type: "services" })).toEqual({ type: "services", stale: false });
    expect(parse({ type: "nodes", stale: false })).toEqual({ type: "nodes", stale: false });
    expect(parse({ type: "service", service: "web", tag: "v1", passingonly: true })).toEqual({ type: "service", service: "web", tags: ["v1"], passingOnly: true, stale: false });
    expect(parse({ type: "service", service: "web", tag: ["a", "b"] })).toEqual({ type: "service", service: "web", tags: ["a", "b"], passingOnly: false, stale: false });
    expect(parse({ type: "checks" })).toEqual({ type: "checks", service: "", state: "any", stale: false });
    expect(parse({ type: "checks", service: "web" })).toEqual({ type: "checks", service: "web", state: "", stale: false });
    expect(parse({ type: "event" })).toEqual({ type: "event", name: "" });
    expect(parse({ type: "event", name: "deploy" })).toEqual({ type: "event", name: "deploy" });
  });

  test("datacenter, token and exempt parameters are kept beside the query", () => {
    const plan = parseWatchParams(new Map<string, unknown>([["type", "nodes"], ["datacenter", "dc2"], ["token", "t"], ["args", ["x"]]]), ["handler", "args"]);
    expect(plan.datacenter).toBe("dc2");
    expect(plan.token).toBe("t");
    expect(plan.exempt.get("args")).toEqual(["x"]);
    expect(plan.exempt.has("handler")).toBe(false);
  });

  test("parameters are consumed as they are read, so the caller sees what was left", () => {
    const params = new Map<string, unknown>([["type", "key"], ["stale", true], ["args", ["x"]]]);
    expect(() => parseWatchParams(params, ["args"])).toThrow("Must specify a single key to watch");
    expect([...params.keys()]).toEqual(["args"]);
  });
});
