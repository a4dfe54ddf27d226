import { describe, expect, test } from "bun:test";
import dnsPacket from "dns-packet";
import { Malformed, parseQuery } from "../../src/dns/query.ts";
import { encodeResponse } from "../../src/dns/wire.ts";

describe("query parsing and answer writing", () => {
  test("question, type and EDNS size; the question bytes are the request's own", () => {
    const msg = dnsPacket.encode({
      id: 42,
      type: "query",
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: "SRV", name: "Web.Service.Consul" }],
      additionals: [{ type: "OPT", name: ".", udpPayloadSize: 4096 } as never],
    });
    const q = parseQuery(msg);
    expect([q.id, q.name, q.type, q.ednsSize]).toEqual([42, "Web.Service.Consul", "SRV", 4096]);
    expect(parseQuery(dnsPacket.encode({ id: 1, type: "query", questions: [{ type: "A", name: "a.consul" }] })).ednsSize).toBeUndefined();
  });

  test("malformed queries throw Malformed", () => {
    const header = (qd: number) => Buffer.from([0, 1, 1, 0, 0, qd, 0, 0, 0, 0, 0, 0]);
    for (const bad of [
      header(0),
      header(2),
      Buffer.concat([header(1), Buffer.from([0xc0, 12, 0, 1, 0, 1])]), // pointer loop in the question
      Buffer.concat([header(1), Buffer.from([5, 97, 98])]), // label runs past the end
      Buffer.concat([header(1), ...new Array(60).fill(Buffer.from([4, 97, 97, 97, 97])), Buffer.from([0, 0, 1, 0, 1])]), // 301-byte name
    ]) {
      expect(() => parseQuery(bad)).toThrow(Malformed);
    }
  });

  test("the writer's answers decode as the records we meant, names compressed", () => {
    const msg = dnsPacket.encode({ id: 7, type: "query", questions: [{ type: "SRV", name: "web.service.consul" }] });
    const q = parseQuery(msg);
    const out = encodeResponse({
      id: 7,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      question: q.question,
      questionName: q.name,
      answers: [{ type: "SRV", name: "web.service.consul", ttl: 5, class: "IN", data: { priority: 1, weight: 2, port: 80, target: "n1.node.dc1.consul" } }],
      authorities: [{ type: "SOA", name: "consul", ttl: 0, class: "IN", data: { mname: "ns.consul", rname: "hostmaster.consul", serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 0 } }],
      additionals: [
        { type: "A", name: "n1.node.dc1.consul", ttl: 5, class: "IN", data: "10.0.0.1" },
        { type: "AAAA", name: "n1.node.dc1.consul", ttl: 5, class: "IN", data: "2001:db8::1" },
        { type: "TXT", name: "n1.node.dc1.consul", ttl: 5, class: "IN", data: ["rack=r1"] },
      ],
    });
    const d = dnsPacket.decode(out);
    expect(d.answers?.[0]).toMatchObject({ type: "SRV", name: "web.service.consul", ttl: 5, data: { priority: 1, weight: 2, port: 80, target: "n1.node.dc1.consul" } });
    expect(d.authorities?.[0]).toMatchObject({ type: "SOA", data: { mname: "ns.consul", rname: "hostmaster.consul", expire: 86400 } });
    expect(d.additionals?.map((a) => (a as { data: unknown }).data)).toEqual(["10.0.0.1", "2001:db8::1", [Buffer.from("rack=r1")]]);
    // Compression: the owner name of the answer is a 2-byte pointer to the question.
    expect(out.length).toBeLessThan(dnsPacket.encodingLength(d));
  });
});
