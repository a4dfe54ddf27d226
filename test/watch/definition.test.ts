import { describe, expect, test } from "bun:test";
import { parseWatchDefinition } from "../../src/watch/definition.ts";
import { WatchParamError } from "../../src/watch/params.ts";

function problem(raw: Record<string, unknown>): string {
  try {
    parseWatchDefinition(raw);
    return "ok";
  } catch (err) {
    if (err instanceof WatchParamError) return err.message;
    throw err;
  }
}

describe("config watches: Consul's agent errors", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["unknown handler type", { type: "key", key: "a", handler_type: "email" }, "Handler type 'email' not recognized"],
    ["handler type not a string", { type: "key", key: "a", handler_type: true }, "Handler type '%!s(bool=true)' not recognized"],
    ["connect watches", { type: "connect_leaf", args: ["x"] }, "Watch type connect_leaf is not allowed in agent config"],
    // What Parse had not consumed yet is printed, handler_type and type already gone.
    ["parse error with the rest", { type: "key", args: ["/bin/true", "x"] }, 'Failed to parse watch (map[string]interface {}{"args":[]interface {}{"/bin/true", "x"}}): Must specify a single key to watch'],
    ["parse error early", { type: "key", datacenter: 1, key: "a", handler: "x" }, 'Failed to parse watch (map[string]interface {}{"datacenter":1, "handler":"x", "handler_type":"script", "key":"a", "type":"key"}): Expecting datacenter to be a string'],
    ["leftovers", { type: "nodes", args: ["x"], interval: "10s" }, 'Failed to parse watch (map[string]interface {}{"interval":"10s"}): Invalid parameters: [interval]'],
    ["handler not a string", { type: "nodes", handler: ["x"] }, "Watch handler must be a string"],
    ["args not strings", { type: "nodes", args: ["x", 1] }, "Watch args must be a list of strings"],
    ["args not a list", { type: "nodes", args: { a: 1 } }, "Watch args must be a list of strings"],
    ["handler and args", { type: "nodes", handler: "x", args: ["y"] }, "Only one watch handler allowed"],
    ["args and http", { type: "nodes", args: ["y"], handler_type: "http", http_handler_config: { path: "http://h/" } }, "Only one watch handler allowed"],
    ["no handler", { type: "nodes" }, "Must define a watch handler"],
    ["http without its config", { type: "nodes", handler_type: "http" }, 'Failed to parse watch (map[string]interface {}{}): Handler type \'http\' requires \'http_handler_config\' to be set'],
    ["http without a path", { type: "nodes", handler_type: "http", http_handler_config: { method: "PUT" } }, 'Failed to parse watch (map[string]interface {}{"http_handler_config":map[string]interface {}{"method":"PUT"}}): Failed to parse \'http_handler_config\': Requires \'path\' to be set'],
    ["http bad timeout", { type: "nodes", handler_type: "http", http_handler_config: { path: "http://h/", timeout: "soon" } }, `Failed to parse watch (map[string]interface {}{"http_handler_config":map[string]interface {}{"path":"http://h/", "timeout":"soon"}}): Failed to parse 'http_handler_config': Failed to parse timeout: time: invalid duration "soon"`],
    ["http config not a map", { type: "nodes", handler_type: "http", http_handler_config: "http://h/" }, `Failed to parse watch (map[string]interface {}{"http_handler_config":"http://h/"}): Failed to parse 'http_handler_config': '' expected a map, got 'string'`],
  ];
  for (const [name, raw, want] of cases) test(name, () => expect(problem(raw)).toBe(want));
});

describe("config watches: handlers", () => {
  test("args run directly; a single string is one argument", () => {
    expect(parseWatchDefinition({ type: "nodes", args: ["/bin/echo", "hi"] }).handler).toEqual({ kind: "args", args: ["/bin/echo", "hi"] });
    expect(parseWatchDefinition({ type: "nodes", args: "/bin/true" }).handler).toEqual({ kind: "args", args: ["/bin/true"] });
  });

  test("handler is a shell script", () => {
    const def = parseWatchDefinition({ type: "key", key: "a", handler: "cat >> /tmp/x" });
    expect(def.handler).toEqual({ kind: "shell", script: "cat >> /tmp/x" });
    expect(def.plan.query).toEqual({ type: "key", key: "a", stale: false });
  });

  test("http: POST and 10s by default; weak decoding as mapstructure's", () => {
    const def = parseWatchDefinition({ type: "nodes", handler_type: "http", http_handler_config: { path: "http://h/hook" } });
    expect(def.handler).toEqual({ kind: "http", config: { path: "http://h/hook", method: "POST", header: [], timeoutMs: 10_000, tlsSkipVerify: false } });
    const weak = parseWatchDefinition({
      type: "nodes",
      handler_type: "http",
      http_handler_config: { Path: "http://h/", method: "PUT", timeout: "1500ms", header: { "x-one": "a", "x-two": ["b", "c"] }, tls_skip_verify: "true" },
    });
    expect(weak.handler).toEqual({ kind: "http", config: { path: "http://h/", method: "PUT", header: [["x-one", ["a"]], ["x-two", ["b", "c"]]], timeoutMs: 1500, tlsSkipVerify: true } });
  });
});
