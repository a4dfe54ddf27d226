import { describe, expect, test } from "bun:test";
import { href, kvPath, parentOf, parseRoute, type Route, unaddressableKey } from "../../src/ui/route.ts";

// The web UI's URL layout: every route survives href -> parseRoute, whatever the names hold.

describe("parseRoute", () => {
  const cases: Array<[string, Route]> = [
    ["/ui/", { page: "root" }],
    ["/ui", { page: "root" }],
    ["/ui/dc1", { page: "services", dc: "dc1" }],
    ["/ui/dc1/services", { page: "services", dc: "dc1" }],
    ["/ui/dc1/services/web", { page: "service", dc: "dc1", name: "web" }],
    ["/ui/dc1/nodes", { page: "nodes", dc: "dc1" }],
    ["/ui/dc1/nodes/a%20b", { page: "node", dc: "dc1", name: "a b" }],
    ["/ui/dc1/kv/", { page: "kv", dc: "dc1", prefix: "" }],
    ["/ui/dc1/kv", { page: "kv", dc: "dc1", prefix: "" }],
    ["/ui/dc1/kv/web/sub/", { page: "kv", dc: "dc1", prefix: "web/sub/" }],
    ["/ui/dc1/kv/web/key1/edit", { page: "kv-edit", dc: "dc1", key: "web/key1" }],
    ["/ui/dc1/kv/create", { page: "kv-create", dc: "dc1", prefix: "" }],
    ["/ui/dc1/kv/web/create", { page: "kv-create", dc: "dc1", prefix: "web/" }],
    ["/ui/dc1/acls", { page: "not-found", dc: "dc1" }],
  ];
  for (const [path, route] of cases) test(path, () => expect(parseRoute(path)).toEqual(route));
});

describe("href", () => {
  const routes: Route[] = [
    { page: "service", dc: "dc1", name: "we b/<x>?#" },
    { page: "node", dc: "dc 2", name: "n%1" },
    { page: "kv", dc: "dc1", prefix: "a b/c?d/" },
    { page: "kv-edit", dc: "dc1", key: "x/y z#1" },
    { page: "kv-edit", dc: "dc1", key: "folder/edit" },
    { page: "kv-create", dc: "dc1", prefix: "p/" },
  ];
  for (const r of routes) test(`${r.page} round-trips`, () => expect(parseRoute(new URL(href(r), "http://x").pathname)).toEqual(r));
  test("data cannot add path segments or a query", () => {
    expect(href({ page: "service", dc: "dc1", name: "a/../b?c" })).toBe("/ui/dc1/services/a%2F..%2Fb%3Fc");
    expect(kvPath("a b/c?d")).toBe("/v1/kv/a%20b/c%3Fd");
  });
});

describe("KV keys", () => {
  test("parentOf", () => {
    expect(parentOf("a/b/c")).toBe("a/b/");
    expect(parentOf("a/b/")).toBe("a/");
    expect(parentOf("a")).toBe("");
  });
  test("keys a URL would rewrite are refused before any request", () => {
    expect(unaddressableKey("a/../b")).toContain("'..'");
    expect(unaddressableKey("..")).toContain("'..'");
    expect(unaddressableKey("a/./b")).toContain("'.'");
    expect(unaddressableKey("a//b")).toContain("//");
    expect(unaddressableKey("/a")).toContain("begin");
    for (const ok of ["a/b", "a b", "a..b/c", "folder/", ".hidden", "x/.y"]) expect(unaddressableKey(ok)).toBe("");
  });
});
