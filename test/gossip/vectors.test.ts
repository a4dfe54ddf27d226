import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { decryptPacket, decryptStream, encryptPacket, encryptStream } from "../../src/gossip/crypto.ts";
import { lzwCompress, lzwDecompress } from "../../src/gossip/lzw.ts";
import {
  type Alive,
  compound,
  compressed,
  decodePacket,
  decodeStream,
  encodeMessage,
  encodePushPull,
  MSG,
  type PacketMessage,
  type PushPull,
  withCrc,
} from "../../src/gossip/messages.ts";
import { encode, F64 } from "../../src/gossip/msgpack.ts";
import { decodeCoordinate, decodeSerf, decodeTags, encodeSerf, encodeTags } from "../../src/gossip/serf.ts";

// The captured memberlist/Serf traffic in shared/gossip-vectors (real serf 0.9.4 agents and
// Go-generated edge cases) is the ground truth: every vector decodes, and every plaintext,
// uncompressed one re-encodes byte for byte.

const DIR = resolve(import.meta.dir, "vectors");
const index = JSON.parse(readFileSync(join(DIR, "index.json"), "utf8")) as Array<{ name: string; file: string; proto: "udp" | "tcp"; encrypted_with: string | null }>;
const go = JSON.parse(readFileSync(join(DIR, "go-generated-vectors.json"), "utf8")) as Record<string, unknown>;
const g = (k: string): string => go[k] as string;
const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));
const vector = (file: string): Uint8Array => fromHex(readFileSync(join(DIR, file), "utf8").trim());
const KEY = new Uint8Array(Buffer.from(readFileSync(join(DIR, "encryption-key.b64"), "utf8").trim(), "base64"));
const utf8 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array(0)).toString();

/** Rebuilds a UDP packet with our encoders, following the structure of the original. */
function reencodeUdp(buf: Uint8Array): Uint8Array {
  if (buf[0] === MSG.hasCrc) return withCrc(reencodeUdp(buf.subarray(5)));
  if (buf[0] === MSG.compound) {
    const n = buf[1]!;
    const view = new DataView(buf.buffer, buf.byteOffset);
    const parts: Uint8Array[] = [];
    let at = 2 + 2 * n;
    for (let i = 0; i < n; i++) {
      const len = view.getUint16(2 + 2 * i);
      parts.push(reencodeUdp(buf.subarray(at, at + len)));
      at += len;
    }
    return compound(parts);
  }
  const [m] = decodePacket(buf) as [PacketMessage];
  if (m.type === "user") return encodeMessage({ type: "user", payload: encodeSerf(decodeSerf(m.payload)) });
  return encodeMessage(m);
}

function decodeVector(name: string, proto: "udp" | "tcp", encrypted: boolean): { udp?: PacketMessage[]; tcp?: ReturnType<typeof decodeStream> } {
  let buf: Uint8Array = vector(`${name}.hex`);
  if (proto === "udp") {
    if (encrypted) buf = decryptPacket([KEY], buf);
    return { udp: decodePacket(buf) };
  }
  if (encrypted && buf[0] === MSG.encrypt) buf = decryptStream([KEY], buf);
  return { tcp: decodeStream(buf) };
}

describe("captured vectors", () => {
  for (const v of index) {
    test(`${v.name} decodes`, () => {
      const d = decodeVector(v.name, v.proto, v.encrypted_with !== null);
      const messages: unknown[] = d.udp ?? [d.tcp];
      expect(messages.length).toBeGreaterThan(0);
      // Serf payloads and tags decode too.
      for (const m of d.udp ?? []) {
        if (m.type === "user") expect(decodeSerf(m.payload).type).toBeString();
        if (m.type === "alive") expect(decodeTags(m.meta)).toBeObject();
      }
      if (d.tcp?.type === "pushPull") {
        expect(decodeSerf(d.tcp.userState).type).toBe("pushPull");
        for (const n of d.tcp.nodes) expect(decodeTags(n.meta)).toBeObject();
      }
    });
  }

  const plain = ["01", "02", "03", "04", "11", "12", "13", "14", "15", "20", "21", "22", "23", "30", "32"];
  for (const v of index.filter((x) => plain.includes(x.name.slice(0, 2)))) {
    test(`${v.name} re-encodes byte for byte`, () => {
      const original = vector(v.file);
      if (v.proto === "udp") {
        expect(hexOf(reencodeUdp(original))).toBe(hexOf(original));
        return;
      }
      const m = decodeStream(original);
      const again =
        m.type === "pushPull"
          ? encodePushPull({ join: m.join, nodes: m.nodes, userState: encodeSerf(decodeSerf(m.userState)) })
          : encodeMessage(m as PacketMessage);
      expect(hexOf(again)).toBe(hexOf(original));
    });
  }

  test("what the vectors say: V1 ping, V2 coordinate, V4 alive, V5 join push/pull, V7 leave, V10 query and event", () => {
    expect(decodePacket(vector("01-udp-ping.hex"))).toEqual([
      { type: "ping", seqNo: 1, node: "s1", sourceAddr: fromHex("7f000003"), sourcePort: 7946, sourceNode: "s2" },
    ]);
    const [ack] = decodePacket(vector("02-udp-ack-with-coordinate.hex"));
    expect(ack).toMatchObject({ type: "ack", seqNo: 1 });
    const coord = decodeCoordinate((ack as { payload: Uint8Array }).payload);
    expect(coord.vec).toHaveLength(8);
    expect(coord.height).toBeCloseTo(1e-5);
    const alive = decodePacket(vector("04-udp-crc-compound-alive-alive.hex")) as Alive[];
    expect(alive.map((a) => [a.node, hexOf(a.addr), a.port, a.incarnation, hexOf(a.vsn)])).toEqual([
      ["s2", "7f000003", 7946, 1, "010502020505"],
      ["s1", "7f000002", 7946, 1, "010502020505"],
    ]);
    expect(decodeTags(alive[0]!.meta)).toEqual({});
    const join = decodeStream(vector("20-tcp-pushpull-join-req-plain.hex")) as PushPull;
    expect(join.join).toBe(true);
    expect(join.nodes.map((n) => [n.name, n.state, decodeTags(n.meta)])).toEqual([["s2", 0, { role: "node", dc: "dc1" }]]);
    const serfState = decodeSerf(join.userState);
    expect(serfState).toMatchObject({ type: "pushPull", ltime: 1, leftMembers: [], eventLTime: 1, queryLTime: 1 });
    expect(serfState.type === "pushPull" && serfState.events).toHaveLength(512);
    const [leave] = decodePacket(vector("14-udp-crc-serf-leave.hex"));
    expect(decodeSerf((leave as { payload: Uint8Array }).payload)).toEqual({ type: "leave", ltime: 3, node: "s2", prune: false });
    const [query, event] = decodePacket(decryptPacket([KEY], vector("45-enc-udp-crc-compound-query-userevent.hex")));
    expect(decodeSerf((query as { payload: Uint8Array }).payload)).toMatchObject({ type: "query", name: "uptime", sourceNode: "s1", flags: 1, port: 7946, timeoutNs: 2_000_000_000 });
    expect(decodeSerf((event as { payload: Uint8Array }).payload)).toMatchObject({ type: "userEvent", name: "deploy", cc: true });
    expect(utf8((decodeSerf((event as { payload: Uint8Array }).payload) as { payload: Uint8Array }).payload)).toBe("v1.2.3");
    const err = decodeStream(decryptOrPlain(vector("43-enc-tcp-err-resp.hex")));
    expect(err.type).toBe("err");
  });
});

function decryptOrPlain(buf: Uint8Array): Uint8Array {
  return buf[0] === MSG.encrypt ? decryptStream([KEY], buf) : buf;
}

describe("Go-generated edge cases", () => {
  test("msgpack: str16 names, IPv6, nil Meta, omitempty, indirect ping, nack, large ints", () => {
    const alive6 = decodePacket(fromHex(g("alive_ipv6_longname")))[0]!;
    expect(hexOf(encodeMessage(alive6))).toBe(g("alive_ipv6_longname"));
    expect((alive6 as Alive).node).toHaveLength(40);
    for (const k of ["alive_nil_meta", "ping_no_source", "indirect_ping", "nack", "hascrc_ping"]) {
      expect(hexOf(reencodeUdp(fromHex(g(k))))).toBe(g(k));
    }
    expect(hexOf(Buffer.concat([Uint8Array.of(6), encode({ Join: false, Nodes: 300, UserStateLen: 70000 })]))).toBe(g("pushpull_header_big"));
    expect(hexOf(encodeMessage({ type: "err", error: "x".repeat(200) })).startsWith(go.string_200_bytes_prefix as string)).toBe(true);
    expect(hexOf(compressed(fromHex("0082a44e6f6465a27332a55365714e6f01")))).toBe(g("compress_wrapped_ping"));
    expect(hexOf(encode(new F64(1.5)))).toBe("cb3ff8000000000000");
    expect(hexOf(encode(-1))).toBe("ff");
  });

  test("LZW: small, empty and 60 KB with table resets, both ways", () => {
    const small = go.lzw_small as { compressed_hex: string; plain_ascii: string };
    expect(hexOf(lzwCompress(Buffer.from(small.plain_ascii)))).toBe(small.compressed_hex);
    expect(utf8(lzwDecompress(fromHex(small.compressed_hex)))).toBe(small.plain_ascii);
    expect(hexOf(lzwCompress(new Uint8Array(0)))).toBe(g("lzw_empty"));
    const large = go.lzw_large as { compressed_hex: string; plain_hex: string; plain_sha256: string };
    const inflated = lzwDecompress(fromHex(large.compressed_hex));
    expect(new Bun.CryptoHasher("sha256").update(inflated).digest("hex")).toBe(large.plain_sha256);
    expect(hexOf(lzwCompress(fromHex(large.plain_hex)))).toBe(large.compressed_hex);
    expect(() => lzwDecompress(fromHex("00"))).toThrow();
  });

  test("AES-GCM: UDP packets and stream frames with a fixed nonce, and keyring fallback", () => {
    const udp = go.aesgcm_udp as { key_hex: string; nonce_hex: string; packet_hex: string; plain_hex: string };
    expect(hexOf(encryptPacket(fromHex(udp.key_hex), fromHex(udp.plain_hex), fromHex(udp.nonce_hex)))).toBe(udp.packet_hex);
    expect(hexOf(decryptPacket([fromHex(udp.key_hex)], fromHex(udp.packet_hex)))).toBe(udp.plain_hex);
    const stream = go.aesgcm_stream as { key_hex: string; nonce_hex: string; frame_hex: string; plain_hex: string };
    expect(hexOf(encryptStream(fromHex(stream.key_hex), fromHex(stream.plain_hex), fromHex(stream.nonce_hex)))).toBe(stream.frame_hex);
    const other = new Uint8Array(32).fill(7);
    expect(hexOf(decryptStream([other, fromHex(stream.key_hex)], fromHex(stream.frame_hex)))).toBe(stream.plain_hex);
    expect(() => decryptPacket([other], fromHex(udp.packet_hex))).toThrow("No installed keys could decrypt the message");
  });

  test("tags: Serf's magic byte, the legacy role form, the 512-byte limit", () => {
    expect(decodeTags(encodeTags({ role: "consul", dc: "dc1", port: "8300" }))).toEqual({ role: "consul", dc: "dc1", port: "8300" });
    expect(hexOf(encodeTags({}))).toBe("ff80");
    expect(decodeTags(null)).toEqual({ role: "" });
    expect(decodeTags(Buffer.from("lb"))).toEqual({ role: "lb" });
    expect(() => encodeTags({ big: "x".repeat(600) })).toThrow("exceeds limit of 512 bytes");
  });

  test("hostile input fails cleanly: bad CRC, truncated compound, huge counts, deep nesting", () => {
    const ping = fromHex("0082a44e6f6465a27332a55365714e6f01");
    const crc = withCrc(ping);
    crc[1] = crc[1]! ^ 0xff;
    expect(() => decodePacket(crc)).toThrow("CRC mismatch");
    expect(() => decodePacket(Uint8Array.of(7, 2, 0, 10, 0, 10, 0))).toThrow("truncated");
    expect(() => decodePacket(Uint8Array.of(4, 0xdf, 0xff, 0xff, 0xff, 0xff))).toThrow("truncated");
    let nested: Uint8Array = ping;
    for (let i = 0; i < 20; i++) nested = compound([nested]);
    expect(() => decodePacket(nested)).toThrow("nested too deeply");
    expect(() => decodePacket(Uint8Array.of(99, 0x80))).toThrow("unknown message type 99");
  });
});
