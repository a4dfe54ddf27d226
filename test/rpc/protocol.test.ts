import { expect, test } from "bun:test";
import { FrameReader, frame } from "../../src/rpc/protocol.ts";
test("frames split anywhere come out whole", () => {
  const msgs = [{ a: 1 }, { b: new Uint8Array(100000).fill(7) }, { c: "x" }];
  const bytes = Buffer.concat(msgs.map((m) => frame(m)));
  for (const step of [1, 3, 4, 5, 1000, 65536, bytes.length]) {
    const r = new FrameReader();
    const got: unknown[] = [];
    for (let i = 0; i < bytes.length; i += step) got.push(...r.push(new Uint8Array(bytes.subarray(i, i + step))));
    expect(got).toEqual(msgs);
  }
});

test("a frame over the limit is refused before it is buffered", () => {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, 0xffffffff);
  expect(() => new FrameReader().push(header)).toThrow("frame of 4294967295 bytes is over the limit");
});

test("the reader keeps its own copy: a caller reusing its buffer does not corrupt a partial frame", () => {
  const bytes = frame({ k: "x".repeat(100) });
  const r = new FrameReader();
  const buf = new Uint8Array(60);
  buf.set(bytes.subarray(0, 60));
  expect(r.push(buf)).toEqual([]);
  buf.fill(0); // as a socket read buffer is reused
  const rest = new Uint8Array(bytes.subarray(60));
  expect(r.push(rest)).toEqual([{ k: "x".repeat(100) }]);
});

test("Buffers with an offset, as sockets deliver them, read right (Buffer#slice is a view, not a copy)", () => {
  const a = frame({ n: 1 });
  const b = frame({ n: 2 });
  const pool = Buffer.alloc(a.length + b.length + 7);
  pool.set(a, 3);
  pool.set(b, 3 + a.length);
  const r = new FrameReader();
  expect(r.push(pool.subarray(3, 3 + a.length + b.length))).toEqual([{ n: 1 }, { n: 2 }]);
});
