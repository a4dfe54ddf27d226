import { describe, expect, test } from "bun:test";
import { mergeFragments, splitLists } from "../../src/config/merge.ts";
import type { ConfigFragment } from "../../src/config/schema.ts";
import { parseCheckDefinition, parseServiceDefinition } from "../../src/config/definitions.ts";

const svc = (name: string, extra: Record<string, unknown> = {}) => parseServiceDefinition({ name, ...extra });
const chk = (name: string) => parseCheckDefinition({ name, ttl: "10s" });

describe("mergeFragments", () => {
  const cases: Array<[string, ConfigFragment, ConfigFragment, ConfigFragment]> = [
    ["later scalar wins", { datacenter: "a", server: true }, { datacenter: "b" }, { datacenter: "b", server: true }],
    ["false replaces true", { server: true }, { server: false }, { server: false }],
    ["empty b keeps a", { node_name: "n" }, {}, { node_name: "n" }],
    ["lists append", { retry_join: ["a", "b"] }, { retry_join: ["c"] }, { retry_join: ["a", "b", "c"] }],
    ["recursors append", { recursors: ["1.1.1.1"] }, { recursors: ["8.8.8.8"] }, { recursors: ["1.1.1.1", "8.8.8.8"] }],
    ["objects merge key-wise", { ports: { http: 1, dns: 2 } }, { ports: { dns: 3 } }, { ports: { http: 1, dns: 3 } }],
    ["maps merge key-wise", { node_meta: { a: "1", b: "2" } }, { node_meta: { b: "3" } }, { node_meta: { a: "1", b: "3" } }],
    [
      "nested maps merge",
      { dns_config: { service_ttl: { "*": 1000 }, allow_stale: false } },
      { dns_config: { service_ttl: { web: 2000 } } },
      { dns_config: { service_ttl: { "*": 1000, web: 2000 }, allow_stale: false } },
    ],
    [
      "singular service joins services of its own fragment, after them",
      { services: [svc("a")], service: svc("b") },
      { service: svc("c") },
      { services: [svc("a"), svc("b"), svc("c")] },
    ],
    [
      "two singular services both survive",
      { service: svc("a") },
      { service: svc("b") },
      { services: [svc("a"), svc("b")] },
    ],
    [
      "singular check joins checks",
      { checks: [chk("x")] },
      { check: chk("y") },
      { checks: [chk("x"), chk("y")] },
    ],
    [
      "service bodies are not merged with each other",
      { services: [svc("a", { port: 1 })] },
      { services: [svc("a", { tags: ["t"] })] },
      { services: [svc("a", { port: 1 }), svc("a", { tags: ["t"] })] },
    ],
  ];
  for (const [name, a, b, want] of cases) {
    test(name, () => expect(mergeFragments(a, b)).toEqual(want));
  }

  test("does not modify its inputs", () => {
    const a: ConfigFragment = { retry_join: ["a"], ports: { http: 1 }, service: svc("s") };
    const b: ConfigFragment = { retry_join: ["b"], ports: { http: 2 } };
    const snapshot = structuredClone([a, b]);
    mergeFragments(a, b);
    expect([a, b]).toEqual(snapshot);
  });
});

describe("splitLists", () => {
  test("separates top-level lists from the rest", () => {
    const { lists, scalars } = splitLists({ retry_join: ["a"], recursors: ["r"], server: true, ports: { http: 1 } });
    expect(lists).toEqual({ retry_join: ["a"], recursors: ["r"] });
    expect(scalars).toEqual({ server: true, ports: { http: 1 } });
  });
});
