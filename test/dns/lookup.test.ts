import { describe, expect, test } from "bun:test";
import { defaultConfig } from "../../src/config/defaults.ts";
import { type DnsView, lookup, NOT_OURS } from "../../src/dns/lookup.ts";
import { emptyDefinition, type RegisterRequest } from "../../src/state/catalog-types.ts";
import { StateStore } from "../../src/state/store.ts";

// Name forms and record construction, without sockets.

function view(overrides: Partial<DnsView["config"]> = {}): DnsView {
  const store = StateStore.empty();
  let i = 0;
  const reg = (r: Partial<RegisterRequest> & { node: string; address: string }) =>
    store.write(++i, (tx) =>
      store.catalog.register(tx, { id: "", datacenter: "dc1", taggedAddresses: {}, nodeMeta: {}, skipNodeUpdate: false, service: undefined, checks: [], ...r }),
    );
  const svc = (id: string, extra: Record<string, unknown> = {}) => ({
    id, service: id, tags: [], address: "", taggedAddresses: {}, meta: {}, port: 80, weights: { passing: 3, warning: 1 }, enableTagOverride: false, ...extra,
  });
  reg({ node: "n1", address: "10.0.0.1", nodeMeta: { rack: "r1", "rfc1035-note": "plain" }, service: svc("web", { tags: ["v1"] }) });
  reg({ node: "n2", address: "10.0.0.2", service: svc("web", { address: "10.9.9.9" }) });
  reg({
    node: "n2", address: "10.0.0.2", skipNodeUpdate: true,
    checks: [{ node: "n2", checkId: "c", name: "c", status: "warning", notes: "", output: "", serviceId: "web", type: "", definition: emptyDefinition() }],
  });
  reg({ node: "v6", address: "2001:db8::1", service: svc("six") });
  return {
    domain: "consul.", altDomain: "alt.", datacenter: "dc1",
    config: { ...defaultConfig().dnsConfig, serviceTtlMs: { "we*": 30_000, "*": 5_000 }, ...overrides },
    catalog: store.catalog, random: () => 0, nowSec: () => 1_700_000_000,
  };
}

type Rec = { type: string; name: string; ttl: number; data: unknown };

/** The sections as plain records (dns-packet's union type hides `data` on some members). */
const ask = (v: DnsView, name: string, type = "A") => {
  const r = lookup(v, { name, type: type as never });
  if (r === NOT_OURS) throw new Error("not ours");
  return { rcode: r.rcode, answers: r.answers as unknown as Rec[], additionals: r.additionals as unknown as Rec[] };
};

describe("DNS lookup", () => {
  test("services: own service address, TTL by prefix, warning uses the warning weight", () => {
    const v = view();
    expect(ask(v, "web.service.consul").answers.map((a) => [a.data, a.ttl]).sort()).toEqual([
      ["10.0.0.1", 30],
      ["10.9.9.9", 30],
    ]);
    const srv = ask(v, "web.service.consul", "SRV");
    expect(srv.answers.map((a) => a.data)).toContainEqual({ priority: 1, weight: 1, port: 80, target: "0a090909.addr.dc1.consul" });
    expect(srv.answers.map((a) => a.data)).toContainEqual({ priority: 1, weight: 3, port: 80, target: "n1.node.dc1.consul" });
    expect(srv.additionals).toContainEqual(expect.objectContaining({ type: "A", name: "0a090909.addr.dc1.consul", ttl: 30, data: "10.9.9.9" }));
    expect(ask(v, "six.service.consul", "AAAA").answers.map((a) => [a.data, a.ttl])).toEqual([["2001:db8::1", 5]]);
  });

  test("only_passing drops warning instances; tags and RFC 2782 forms, with or without .service", () => {
    expect(ask(view({ onlyPassing: true }), "web.service.consul").answers.map((a) => a.data)).toEqual(["10.0.0.1"]);
    const v = view();
    for (const name of ["v1.web.service.consul", "_web._v1.service.consul", "_web._v1.consul", "_web._v1.dc1.consul", "v1.web.service.dc1.alt"]) {
      expect(ask(v, name).answers.map((a) => a.data)).toEqual(["10.0.0.1"]);
    }
    expect(ask(v, "_web._tcp.consul").answers).toHaveLength(2);
  });

  test("node TXT: key=value, rfc1035- keys as bare values; .addr for IPv6; PTR", () => {
    const v = view();
    expect(ask(v, "n1.node.consul", "TXT").answers.map((a) => a.data)).toEqual([["rack=r1"], ["plain"]]);
    expect(ask(v, "20010db8000000000000000000000001.addr.dc1.consul", "AAAA").answers[0]?.data).toBe("2001:db8::1");
    expect(ask(v, "1.0.0.10.in-addr.arpa", "PTR").answers[0]?.data).toBe("n1.node.dc1.consul");
    const v6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    expect(ask(v, v6, "PTR").answers[0]?.data).toBe("v6.node.dc1.consul");
    expect(lookup(v, { name: "9.9.9.9.in-addr.arpa", type: "PTR" })).toBe(NOT_OURS);
    expect(lookup(v, { name: "example.org", type: "A" })).toBe(NOT_OURS);
  });

  test("an agent without a catalog answers SERVFAIL for its domain", () => {
    const v = { ...view(), catalog: undefined };
    expect(ask(v, "web.service.consul").rcode).toBe("SERVFAIL");
  });
});
