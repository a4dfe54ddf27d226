import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { TarReader, writeTar } from "../../src/lib/tar.ts";
import { readArchive, type SnapshotMeta, writeArchive } from "../../src/server/snapshot-archive.ts";

// The snapshot archive: what we write reads back whole, standard tools read it too, and each
// kind of damage is refused with the text Consul's snapshot.Read gives for it.

const dir = mkdtempSync(join(tmpdir(), "tsc-archive-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const meta: SnapshotMeta = {
  Version: 1,
  ID: "2-42-1700000000000",
  Index: 42,
  Term: 2,
  Peers: null,
  Configuration: { Servers: [{ Suffrage: 0, ID: "id-1", Address: "127.0.0.1:8300" }] },
  ConfigurationIndex: 0,
  Size: 1000,
};
const state = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);
const sha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");
const metaText = `${JSON.stringify(meta)}\n`;
const sums = (m = metaText, s: Uint8Array = state) => `${sha(m)}  meta.json\n${sha(s)}  state.bin\n`;
const enc = (s: string) => new TextEncoder().encode(s);

/** An archive from parts, to damage one thing at a time. */
function archive(files: Array<[string, string | Uint8Array]>, trailing = new Uint8Array()): Uint8Array {
  const tar = writeTar(files.map(([name, data]) => ({ name, data: typeof data === "string" ? enc(data) : data, mtimeSec: 1_700_000_000 })));
  return gzipSync(Buffer.concat([tar, trailing]));
}

describe("snapshot archive", () => {
  test("round trip: meta.json, state.bin and SHA256SUMS come back as written", () => {
    const bytes = writeArchive(meta, state);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    const back = readArchive(bytes);
    expect(back.meta).toEqual(meta);
    expect(back.state).toEqual(state);
  });

  test("GNU tar lists and extracts it, and sha256sum accepts its SHA256SUMS", () => {
    const file = join(dir, "backup.snap");
    writeFileSync(file, writeArchive(meta, state));
    const list = spawnSync(["tar", "-tzf", file]);
    expect(list.stdout.toString()).toBe("meta.json\nstate.bin\nSHA256SUMS\n");
    const out = join(dir, "x");
    spawnSync(["mkdir", "-p", out]);
    expect(spawnSync(["tar", "-xzf", file, "-C", out]).exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "meta.json"), "utf8"))).toEqual(meta);
    const check = spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: out });
    expect(check.stdout.toString()).toBe("meta.json: OK\nstate.bin: OK\n");
  });

  test("a well-formed archive built by hand reads like ours", () => {
    const back = readArchive(archive([["meta.json", metaText], ["state.bin", state], ["SHA256SUMS", sums()]]));
    expect(back.state).toEqual(state);
  });

  const damaged: Array<[string, () => Uint8Array, string]> = [
    ["an empty file", () => new Uint8Array(), "failed to decompress snapshot: EOF"],
    ["not gzip at all", () => enc("this is not a snapshot, just text"), "failed to decompress snapshot: gzip: invalid header"],
    ["a gzip header cut short", () => writeArchive(meta, state).subarray(0, 6), "failed to decompress snapshot: unexpected EOF"],
    ["cut off soon after the gzip header", () => writeArchive(meta, state).subarray(0, 30), "failed to read snapshot file: failed reading snapshot: unexpected EOF"],
    ["cut off in the middle", () => { const b = writeArchive(meta, state); return b.subarray(0, b.length >> 1); }, "failed to read snapshot file: failed reading snapshot: unexpected EOF"],
    ["cut off in the gzip trailer", () => { const b = writeArchive(meta, state); return b.subarray(0, b.length - 4); }, "unexpected EOF"],
    ["a flipped bit in the gzip checksum", () => { const b = new Uint8Array(writeArchive(meta, state)); b[b.length - 6]! ^= 1; return b; }, "gzip: invalid checksum"],
    ["state.bin changed after the sums were taken", () => archive([["meta.json", metaText], ["state.bin", state.map((b, i) => (i === 500 ? b ^ 1 : b))], ["SHA256SUMS", sums()]]), 'failed to read snapshot file: failed checking integrity of snapshot: hash check failed for "state.bin"'],
    ["meta.json changed after the sums were taken", () => archive([["meta.json", metaText.replace('"Index":42', '"Index":43')], ["state.bin", state], ["SHA256SUMS", sums()]]), 'failed to read snapshot file: failed checking integrity of snapshot: hash check failed for "meta.json"'],
    ["no SHA256SUMS", () => archive([["meta.json", metaText], ["state.bin", state]]), 'failed to read snapshot file: failed checking integrity of snapshot: file missing for "meta.json"'],
    ["no state.bin", () => archive([["meta.json", metaText], ["SHA256SUMS", `${sha(metaText)}  meta.json\n`]]), 'failed to read snapshot file: failed checking integrity of snapshot: file missing for "state.bin"'],
    ["a sum for a file it does not have", () => archive([["meta.json", metaText], ["state.bin", state], ["SHA256SUMS", `${sums()}${sha("x")}  extra.bin\n`]]), 'failed to read snapshot file: failed checking integrity of snapshot: list missing hash for "extra.bin"'],
    ["a file it should not have", () => archive([["meta.json", metaText], ["notes.txt", "hello"], ["state.bin", state], ["SHA256SUMS", sums()]]), 'failed to read snapshot file: unexpected file "notes.txt" in snapshot'],
    ["meta.json that is not JSON", () => archive([["meta.json", "{nope"], ["state.bin", state], ["SHA256SUMS", sums("{nope")]]), "failed to read snapshot file: failed to decode snapshot metadata: "],
    ["meta.json with a field of the wrong type", () => { const m = '{"Index":"42"}\n'; return archive([["meta.json", m], ["state.bin", state], ["SHA256SUMS", sums(m)]]); }, "failed to read snapshot file: failed to decode snapshot metadata: json: cannot unmarshal string into Go struct field SnapshotMeta.Index of type uint64"],
    ["a corrupt tar header", () => { const tar = writeTar([{ name: "meta.json", data: enc(metaText), mtimeSec: 0 }]); tar[120] = 0x41; return gzipSync(tar); }, "failed to read snapshot file: failed reading snapshot: archive/tar: invalid tar header"],
    ["bytes after the end of the archive", () => archive([["meta.json", metaText], ["state.bin", state], ["SHA256SUMS", sums()]], enc("junk")), "4 unread uncompressed bytes remain"],
  ];
  for (const [what, make, message] of damaged) {
    test(`refuses ${what}`, () => {
      let err: Error | undefined;
      try {
        readArchive(make());
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message.startsWith(message)).toBe(true);
      expect(err?.message).not.toContain("\n");
      if (!message.endsWith(": ")) expect(err?.message).toBe(message);
    });
  }
});

describe("tar reader", () => {
  test("reads GNU tar's pax archives, long names and all", () => {
    const src = join(dir, "pax");
    const long = `${"d".repeat(120)}.txt`;
    spawnSync(["mkdir", "-p", src]);
    writeFileSync(join(src, long), "long name");
    writeFileSync(join(src, "short"), "x".repeat(1500));
    const file = join(dir, "pax.tar");
    expect(spawnSync(["tar", "--format=pax", "-cf", file, "-C", src, long, "short"]).exitCode).toBe(0);
    const r = new TarReader(readFileSync(file));
    const got: Array<[string, string]> = [];
    for (let e = r.next(); e; e = r.next()) got.push([e.name, new TextDecoder().decode(e.data)]);
    expect(got).toEqual([[long, "long name"], ["short", "x".repeat(1500)]]);
  });
});
