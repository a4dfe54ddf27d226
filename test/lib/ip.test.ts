import { expect, test } from "bun:test";
import { bytesToIp, ipToBytes, peerIp, splitHostPort } from "../../src/lib/ip.ts";

test("IP text and bytes both ways; IPv6 canonical; a mapped IPv4 peer reads as IPv4", () => {
  expect(Array.from(ipToBytes("127.0.0.3"))).toEqual([127, 0, 0, 3]);
  expect(Buffer.from(ipToBytes("2001:db8::1")).toString("hex")).toBe("20010db8000000000000000000000001");
  expect(bytesToIp(ipToBytes("2001:0db8:0:0:0:0:0:1"))).toBe("2001:db8::1");
  const mapped = Buffer.from("00000000000000000000ffff0a000001", "hex");
  expect(bytesToIp(mapped)).toBe("::ffff:a00:1");
  expect(peerIp(mapped)).toBe("10.0.0.1");
  expect(peerIp(ipToBytes("10.0.0.2"))).toBe("10.0.0.2");
});

test("host:port with a default port, IPv6 in brackets or bare", () => {
  expect(splitHostPort("10.0.0.2", 53)).toEqual({ host: "10.0.0.2", port: 53 });
  expect(splitHostPort("10.0.0.2:5353", 53)).toEqual({ host: "10.0.0.2", port: 5353 });
  expect(splitHostPort("[::1]:8301", 8301)).toEqual({ host: "::1", port: 8301 });
  expect(splitHostPort("[::1]", 53)).toEqual({ host: "::1", port: 53 });
  expect(splitHostPort("::1", 53)).toEqual({ host: "::1", port: 53 });
});
