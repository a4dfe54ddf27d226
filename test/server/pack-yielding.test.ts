import { describe, expect, test } from "bun:test";
import { packValue, packValueYielding, unpackValue } from "../../src/server/commands.ts";
import { Fsm } from "../../src/server/fsm.ts";
import { encodeCommand } from "../../src/server/commands.ts";

// Snapshots are packed in slices so a big store does not stall the event loop; what they
// unpack to must be exactly what one-shot packing gives.

function row(i: number): Record<string, unknown> {
  return { key: `k/${i}`, flags: i % 7 === 0 ? 0x2ddccbc058a50c18n : BigInt(i), value: i % 5 === 0 ? null : new TextEncoder().encode(`v${i}`), session: "", lockIndex: 0, createIndex: i, modifyIndex: i + 1 };
}

describe("packValueYielding", () => {
  test.each([0, 15, 16, 1000, 1001, 65_536])("a %i-row snapshot unpacks as one-shot packing does", async (n) => {
    const v = { version: 2, index: n, kvs: { index: n, rows: Array.from({ length: n }, (_, i) => row(i)), tombstones: [["gone", 3]] }, catalog: { nodes: [], nested: { deep: [1, "two", null, true] } } };
    const sliced = await packValueYielding(v);
    expect(unpackValue(sliced)).toEqual(unpackValue(packValue(v)));
    expect(unpackValue(sliced)).toEqual(v);
  });

  test("maps of 16 and 65,536 keys take the wide headers", async () => {
    for (const n of [16, 65_536]) {
      const v = Object.fromEntries(Array.from({ length: n }, (_, i) => [`key${i}`, i]));
      expect(unpackValue(await packValueYielding(v))).toEqual(v);
    }
  });

  test("the event loop runs while a big snapshot is packed", async () => {
    const fsm = new Fsm();
    const value = new TextEncoder().encode("74a31e96-1d0f-4fa7-aa14-7212a326986e");
    for (let i = 1; i <= 60_000; i++) fsm.apply(i, encodeCommand({ type: "kv", op: "set", key: `bench/${i}`, flags: 0n, value, session: "", casIndex: 0 }));
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    const pending = fsm.snapshot();
    // The capture is synchronous: a write after the call is not in the snapshot.
    fsm.apply(60_001, encodeCommand({ type: "kv", op: "set", key: "late", flags: 0n, value, session: "", casIndex: 0 }));
    const bytes = await pending;
    clearInterval(timer);
    expect(turns).toBeGreaterThan(3);
    const restored = new Fsm();
    restored.restore(bytes);
    expect(restored.store.index).toBe(60_000);
    expect(restored.store.kv.size).toBe(60_000);
  });
});
