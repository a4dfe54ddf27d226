import { expect, test } from "bun:test";
import { FrameBatch } from "../../src/rpc/batch.ts";

const bytes = (...xs: number[]) => Uint8Array.from(xs);

test("frames pushed in one turn leave in one write, in order; a later turn is a write of its own", async () => {
  const writes: number[][] = [];
  const b = new FrameBatch((w) => writes.push([...w]));
  b.push(bytes(1, 2));
  b.push(bytes(3));
  b.push(bytes(4, 5, 6));
  expect(b.pending).toBe(6);
  expect(writes).toEqual([]);
  await new Promise((r) => setImmediate(r));
  expect(writes).toEqual([[1, 2, 3, 4, 5, 6]]);
  expect(b.pending).toBe(0);
  b.push(bytes(7));
  await new Promise((r) => setImmediate(r));
  expect(writes).toEqual([[1, 2, 3, 4, 5, 6], [7]]);
});

test("with queueMicrotask the frames of one synchronous pass go out before any I/O callback", async () => {
  const writes: number[][] = [];
  const b = new FrameBatch((w) => writes.push([...w]), queueMicrotask);
  b.push(bytes(1));
  b.push(bytes(2));
  await Promise.resolve();
  expect(writes).toEqual([[1, 2]]);
});

test("clear() drops what is queued: nothing is written to a connection that is gone", async () => {
  const writes: number[][] = [];
  const b = new FrameBatch((w) => writes.push([...w]));
  b.push(bytes(1));
  b.clear();
  expect(b.pending).toBe(0);
  await new Promise((r) => setImmediate(r));
  expect(writes).toEqual([]);
});
