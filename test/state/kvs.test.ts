import { describe, expect, test } from "bun:test";
import { StateStore } from "../../src/state/store.ts";

const v = (s: string) => new TextEncoder().encode(s);
const set = (s: StateStore, idx: number, key: string, value: string, flags = 0n) =>
  s.write(idx, (tx) => s.kv.set(tx, { key, flags, value: v(value) }));

describe("KV table", () => {
  test("create and modify indexes; an unchanged write keeps ModifyIndex and wakes nobody", async () => {
    const s = StateStore.empty();
    set(s, 5, "web/key1", "a");
    set(s, 6, "web/key1", "b");
    expect(s.kv.get(undefined, "web/key1").entry).toMatchObject({ createIndex: 5, modifyIndex: 6 });
    const ws = s.watchSet();
    s.kv.get(ws, "web/key1");
    set(s, 7, "web/key1", "b");
    expect(s.kv.get(undefined, "web/key1").entry?.modifyIndex).toBe(6);
    expect(ws.hasFired).toBe(false);
    set(s, 8, "web/key1", "c");
    expect(ws.hasFired).toBe(true);
  });

  test("empty values read back as null", () => {
    const s = StateStore.empty();
    set(s, 1, "k", "");
    expect(s.kv.get(undefined, "k").entry?.value).toBeNull();
  });

  test("cas=0 creates only if absent; cas=N needs ModifyIndex N", () => {
    const s = StateStore.empty();
    const cas = (idx: number, value: string, c: number) => s.write(idx, (tx) => s.kv.setCas(tx, { key: "k", flags: 0n, value: v(value) }, c).ok);
    expect(cas(1, "a", 5)).toBe(false);
    expect(cas(2, "a", 0)).toBe(true);
    expect(cas(3, "b", 0)).toBe(false);
    expect(cas(4, "b", 1)).toBe(false);
    expect(cas(5, "b", 2)).toBe(true);
    expect(Buffer.from(s.kv.get(undefined, "k").entry!.value!).toString()).toBe("b");
  });

  test("delete-cas: stale index fails, missing key counts as done", () => {
    const s = StateStore.empty();
    set(s, 3, "k", "a");
    expect(s.write(4, (tx) => s.kv.deleteCas(tx, "k", 2))).toBe(false);
    expect(s.write(5, (tx) => s.kv.deleteCas(tx, "k", 3))).toBe(true);
    expect(s.write(6, (tx) => s.kv.deleteCas(tx, "k", 3))).toBe(true);
  });

  test("a single key's index is its ModifyIndex, then its tombstone's; a key watch ignores other keys", () => {
    const s = StateStore.empty();
    set(s, 10, "a", "1");
    set(s, 11, "b", "1");
    expect(s.kv.get(undefined, "a").index).toBe(10);
    const ws = s.watchSet();
    s.kv.get(ws, "a");
    set(s, 12, "b", "2");
    expect(ws.hasFired).toBe(false);
    s.write(13, (tx) => s.kv.delete(tx, "a"));
    expect(ws.hasFired).toBe(true);
    expect(s.kv.get(undefined, "a")).toEqual({ index: 13, entry: undefined });
    expect(s.kv.get(undefined, "never").index).toBe(13);
  });

  test("a prefix's index never goes backwards after a delete", () => {
    const s = StateStore.empty();
    set(s, 1, "web/a", "1");
    set(s, 2, "web/b", "1");
    set(s, 3, "other", "1");
    s.write(4, (tx) => s.kv.delete(tx, "web/b"));
    expect(s.kv.list(undefined, "web/").index).toBe(4);
    expect(s.kv.list(undefined, "web/").entries.map((e) => e.key)).toEqual(["web/a"]);
    s.write(5, (tx) => s.kv.deleteTree(tx, "web/"));
    expect(s.kv.list(undefined, "web/")).toEqual({ index: 5, entries: [] });
    expect(s.kv.list(undefined, "nothing/").index).toBe(5);
  });

  test("delete-tree uses the string prefix: a trailing slash matters", () => {
    const s = StateStore.empty();
    for (const [i, k] of ["web", "web/a", "webby"].entries()) set(s, i + 1, k, "x");
    s.write(10, (tx) => s.kv.deleteTree(tx, "web/"));
    expect(s.kv.list(undefined, "").entries.map((e) => e.key)).toEqual(["web", "webby"]);
    s.write(11, (tx) => s.kv.deleteTree(tx, "web"));
    expect(s.kv.size).toBe(0);
  });

  test("keys with a separator are cut after it, deduplicated, sorted", () => {
    const s = StateStore.empty();
    for (const [i, k] of ["web/a", "web/sub/x", "web/sub/y", "web/z", "zz"].entries()) set(s, i + 1, k, "x");
    expect(s.kv.listKeys(undefined, "web/", "/").keys).toEqual(["web/a", "web/sub/", "web/z"]);
    expect(s.kv.listKeys(undefined, "", "/").keys).toEqual(["web/", "zz"]);
    expect(s.kv.listKeys(undefined, "web/", "").keys).toEqual(["web/a", "web/sub/x", "web/sub/y", "web/z"]);
  });

  test("a failed transaction undoes everything and wakes nobody", () => {
    const s = StateStore.empty();
    set(s, 1, "a", "1");
    const ws = s.watchSet();
    s.kv.list(ws, "");
    expect(() =>
      s.write(2, (tx) => {
        s.kv.set(tx, { key: "a", flags: 0n, value: v("2") });
        s.kv.set(tx, { key: "b", flags: 0n, value: v("2") });
        s.kv.delete(tx, "a");
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(s.kv.list(undefined, "").entries.map((e) => [e.key, Buffer.from(e.value!).toString(), e.modifyIndex])).toEqual([["a", "1", 1]]);
    expect(s.kv.tombstoneCount).toBe(0);
    expect(s.kv.index).toBe(1);
    expect(ws.hasFired).toBe(false);
    expect(s.index).toBe(2);
  });

  test("snapshot and restore give the same table; restore wakes queries on the old store", () => {
    const s = StateStore.empty();
    set(s, 1, "a", "1", 0x2ddccbc058a50c18n);
    s.write(2, (tx) => s.kv.delete(tx, "a"));
    set(s, 3, "b", "2");
    const copy = StateStore.restore(structuredClone(s.snapshot()));
    expect(copy.snapshot()).toEqual(s.snapshot());
    const ws = s.watchSet();
    s.kv.get(ws, "zzz");
    s.abandon();
    expect(ws.hasFired).toBe(true);
  });

  test("tombstone reaping forgets old tombstones only", () => {
    const s = StateStore.empty();
    set(s, 1, "a", "1");
    set(s, 2, "b", "1");
    s.write(3, (tx) => s.kv.delete(tx, "a"));
    s.write(4, (tx) => s.kv.delete(tx, "b"));
    expect(s.write(5, (tx) => s.kv.reapTombstones(tx, 3))).toBe(1);
    expect(s.kv.tombstoneCount).toBe(1);
  });
});
