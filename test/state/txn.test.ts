import { describe, expect, test } from "bun:test";
import { StateStore } from "../../src/state/store.ts";
import { isReadOnly, type KvTxnOp, runKvTxn, TxnAbort } from "../../src/state/txn.ts";

const op = (verb: string, key: string, extra: Partial<KvTxnOp> = {}): KvTxnOp => ({
  verb,
  key,
  value: extra.value ?? null,
  flags: 0n,
  index: 0,
  session: "",
  ...extra,
});
const bytes = (s: string) => new TextEncoder().encode(s);

describe("KV transactions", () => {
  test("writes answer entries without values; gets with them; deletes answer nothing", () => {
    const s = StateStore.empty();
    const r = s.write(1, (tx) => runKvTxn(s, tx, [op("set", "a", { value: bytes("x") }), op("get", "a"), op("delete", "zz")]));
    expect(r.map((e) => [e.key, e.value === null])).toEqual([
      ["a", true],
      ["a", false],
    ]);
  });

  test("every failing op is reported and nothing is applied", () => {
    const s = StateStore.empty();
    s.write(1, (tx) => s.kv.set(tx, { key: "a", flags: 0n, value: bytes("1") }));
    let errors: unknown;
    try {
      s.write(2, (tx) =>
        runKvTxn(s, tx, [
          op("set", "b", { value: bytes("2") }),
          op("cas", "a", { index: 99 }),
          op("check-index", "a", { index: 7 }),
          op("get", "missing"),
          op("check-not-exists", "a"),
          op("check-index", "gone"),
          op("check-session", "gone"),
          op("delete-cas", "a", { index: 3 }),
          op("lock", "a", { session: "s1" }),
          op("frobnicate", "a"),
          op("set", ""),
        ]),
      );
    } catch (e) {
      errors = (e as TxnAbort).errors;
    }
    expect(errors).toEqual([
      { opIndex: 1, what: 'failed to set key "a", index is stale' },
      { opIndex: 2, what: 'failed index check for key "a", current modify index 1 != 7' },
      { opIndex: 3, what: 'key "missing" doesn\'t exist' },
      { opIndex: 4, what: 'key "a" exists' },
      { opIndex: 5, what: 'failed to check index, key "gone" doesn\'t exist' },
      { opIndex: 6, what: 'failed to check session, key "gone" doesn\'t exist' },
      { opIndex: 7, what: 'failed to delete key "a", index is stale' },
      { opIndex: 8, what: 'invalid session "s1"' },
      { opIndex: 9, what: 'unknown KV verb "frobnicate"' },
      { opIndex: 10, what: "Must provide key" },
    ]);
    expect(s.kv.get(undefined, "b").entry).toBeUndefined();
  });

  test("get-or-empty echoes a missing key; get-tree lists with values", () => {
    const s = StateStore.empty();
    s.write(1, (tx) => s.kv.set(tx, { key: "t/1", flags: 0n, value: bytes("v") }));
    const r = runKvTxn(s, undefined, [op("get-or-empty", "nope", { index: 4 }), op("get-tree", "t/")]);
    expect(r[0]).toMatchObject({ key: "nope", value: null, modifyIndex: 4 });
    expect(Buffer.from(r[1]!.value!).toString()).toBe("v");
  });

  test("read-only detection treats unknown verbs as reads, as Consul does", () => {
    expect(isReadOnly([op("get", "a"), op("check-index", "a"), op("bogus", "a")])).toBe(true);
    expect(isReadOnly([op("get", "a"), op("delete", "a")])).toBe(false);
  });
});
