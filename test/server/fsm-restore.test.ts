import { describe, expect, test } from "bun:test";
import { encodeCommand } from "../../src/server/commands.ts";
import { decodeState, Fsm } from "../../src/server/fsm.ts";
import { blockingQuery } from "../../src/server/query.ts";

// A user restore is a log entry: every FSM that applies it ends with the same store, whose
// index keeps going up even when the snapshot came from a cluster further along.

const put = (key: string, value: string) =>
  encodeCommand({ type: "kv", op: "set", key, flags: 0n, value: new TextEncoder().encode(value), session: "", casIndex: 0 });
const restore = (state: Uint8Array) => encodeCommand({ type: "restore", state });
const value = (f: Fsm, key: string) => {
  const e = f.store.kv.get(undefined, key).entry;
  return e ? { value: new TextDecoder().decode(e.value!), modifyIndex: e.modifyIndex } : undefined;
};

/** A store 50 writes along, as another cluster's snapshot would be. */
async function source(): Promise<Uint8Array> {
  const f = new Fsm();
  for (let i = 1; i <= 50; i++) f.apply(i, put(`k${i % 5}`, `v${i}`));
  return f.snapshot();
}

describe("restore command", () => {
  test("replaces the store; rows keep their indexes and the store continues after them", async () => {
    const f = new Fsm();
    f.apply(1, put("old", "x"));
    expect(f.apply(2, restore(await source()))).toBe(true);
    expect(value(f, "old")).toBeUndefined();
    expect(value(f, "k0")).toEqual({ value: "v50", modifyIndex: 50 });
    expect(f.store.index).toBe(51);
    f.apply(3, put("new", "y"));
    expect(value(f, "new")).toEqual({ value: "y", modifyIndex: 52 });
    expect(f.store.kv.list(undefined, "").index).toBe(52);
    expect(f.replacedAt).toBe(2);
  });

  test("a log already past the snapshot's index just goes on", async () => {
    const f = new Fsm();
    for (let i = 1; i <= 80; i++) f.skip(i);
    f.apply(81, restore(await source()));
    expect(f.store.index).toBe(81);
    f.apply(82, put("new", "y"));
    expect(value(f, "new")?.modifyIndex).toBe(82);
  });

  test("a Raft snapshot taken after a restore carries the offset to a fresh FSM", async () => {
    const f = new Fsm();
    f.apply(1, restore(await source()));
    f.apply(2, put("a", "1"));
    const g = new Fsm();
    g.restore(await f.snapshot());
    g.apply(3, put("b", "2"));
    f.apply(3, put("b", "2"));
    expect(value(g, "b")).toEqual(value(f, "b"));
    expect(value(g, "b")?.modifyIndex).toBe(53);
  });

  test("every replica applying the same entries ends with the same state", async () => {
    const a = new Fsm();
    const b = new Fsm();
    const state = await source();
    for (const f of [a, b]) {
      f.apply(1, put("x", "1"));
      f.apply(2, restore(state));
      f.apply(3, put("y", "2"));
    }
    expect(await a.snapshot()).toEqual(await b.snapshot());
  });

  test("a query blocked on the old store answers from the restored one at once, even at a lower index", async () => {
    const f = new Fsm();
    for (let i = 1; i <= 99; i++) f.skip(i);
    f.apply(100, put("k0", "before"));
    const started = Date.now();
    // Waiting past index 100; the restored key is at 50, which Consul's clients take as "start over".
    const pending = blockingQuery(() => f.store, { minIndex: 100, maxWaitMs: 3000, consistency: "default" }, (s, ws) => {
      const r = s.kv.get(ws, "k0");
      return { index: r.index, value: r.entry ? new TextDecoder().decode(r.entry.value!) : undefined };
    });
    f.apply(101, restore(await source()));
    const r = await pending;
    expect(r).toEqual({ index: 50, value: "v50" });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test("state that is not ours is refused with one line", () => {
    expect(() => decodeState(new TextEncoder().encode("not msgpack at all"))).toThrow(/^state\.bin is not in tsc's state encoding/);
    expect(() => decodeState(Uint8Array.of(0x81, 0xa1, 0x61, 0x01))).toThrow(/^state\.bin is not in tsc's state encoding/);
  });
});
