import { describe, expect, test } from "bun:test";
import { StateError } from "../../src/state/errors.ts";
import { createSession, destroySession, kvLock, kvUnlock } from "../../src/state/session-ops.ts";
import type { SessionInput } from "../../src/state/sessions.ts";
import { StateStore } from "../../src/state/store.ts";
import { type KvTxnOp, runKvTxn, TxnAbort } from "../../src/state/txn.ts";
import { chk, node, svc } from "./fixtures.ts";

// Sessions against the catalog and the KV table: creation rules, invalidation by checks and
// nodes, release/delete behaviour, lock-delay, the txn verbs, and snapshots.

const v = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => (b ? new TextDecoder().decode(b) : null);

const session = (id: string, extra: Partial<SessionInput> = {}): SessionInput => ({
  id,
  name: "",
  node: "n1",
  lockDelayNs: 15e9,
  behavior: "release",
  ttl: "",
  nodeChecks: ["serfHealth"],
  serviceChecks: null,
  checks: null,
  ...extra,
});

/** A store at a fake clock with node n1 (serfHealth passing) registered at index 1. */
function setup(): { s: StateStore; clock: { now: number }; next: () => number } {
  const clock = { now: 1_000_000 };
  const s = StateStore.empty(() => clock.now);
  let index = 0;
  const next = () => ++index;
  s.write(next(), (tx) => s.catalog.register(tx, node("n1", { checks: [chk("n1", "serfHealth", "passing")] })));
  return { s, clock, next };
}

const lock = (s: StateStore, idx: number, key: string, sess: string, value = "v") =>
  s.write(idx, (tx) => kvLock(s, tx, { key, flags: 0n, value: v(value), session: sess }));
const unlock = (s: StateStore, idx: number, key: string, sess: string, value = "v") =>
  s.write(idx, (tx) => kvUnlock(s, tx, { key, flags: 0n, value: v(value), session: sess }));
const create = (s: StateStore, idx: number, input: SessionInput) => s.write(idx, (tx) => createSession(s, tx, input));

describe("sessions", () => {
  test("create needs the node and every linked check, none critical; Consul's texts", () => {
    const { s, next } = setup();
    s.write(next(), (tx) => s.catalog.register(tx, node("n1", { checks: [chk("n1", "bad", "critical")] })));
    const err = (input: SessionInput) => {
      try {
        create(s, next(), input);
      } catch (e) {
        expect(e).toBeInstanceOf(StateError);
        return (e as Error).message;
      }
      return "created";
    };
    expect(err(session("a", { node: "nope" }))).toBe("Missing node registration");
    expect(err(session("a", { nodeChecks: ["serfHealth", "missing"] }))).toBe("Missing check 'missing' registration");
    expect(err(session("a", { checks: ["bad"] }))).toBe("Check 'bad' is in critical state");
    expect(s.sessions.size).toBe(0);
    expect(err(session("a", { node: "N1" }))).toBe("created");
    expect(err(session("a"))).toBe("Session ID 'a' already exists");
    const got = s.sessions.get(undefined, "a").session!;
    expect(got).toMatchObject({ id: "a", node: "N1", createIndex: 6, modifyIndex: 6 });
    expect(s.index).toBe(7); // the refused repeat still applied its index
    expect(s.sessions.nodeSessions(undefined, "n1").sessions.map((x) => x.id)).toEqual(["a"]);
    expect(s.sessions.get(undefined, "zzz")).toEqual({ index: 6, session: undefined });
  });

  test("a session watch fires on its own row; a list watch on any", () => {
    const { s, next } = setup();
    create(s, next(), session("a"));
    const one = s.watchSet();
    s.sessions.get(one, "a");
    const all = s.watchSet();
    s.sessions.list(all);
    create(s, next(), session("b"));
    expect(one.hasFired).toBe(false);
    expect(all.hasFired).toBe(true);
    s.write(next(), (tx) => destroySession(s, tx, "a"));
    expect(one.hasFired).toBe(true);
    expect(s.sessions.list(undefined)).toMatchObject({ index: 4, sessions: [{ id: "b" }] });
  });

  test("acquire: a new holder bumps LockIndex, the holder may rewrite, others get false; release keeps LockIndex", () => {
    const { s, next } = setup();
    create(s, next(), session("a"));
    create(s, next(), session("b"));
    expect(lock(s, next(), "lead", "a", "one")).toBe(true);
    expect(s.kv.get(undefined, "lead").entry).toMatchObject({ session: "a", lockIndex: 1 });
    expect(lock(s, next(), "lead", "a", "two")).toBe(true);
    expect(s.kv.get(undefined, "lead").entry).toMatchObject({ session: "a", lockIndex: 1 });
    expect(text(s.kv.get(undefined, "lead").entry!.value)).toBe("two");
    expect(lock(s, next(), "lead", "b")).toBe(false);
    expect(unlock(s, next(), "lead", "b")).toBe(false);
    expect(unlock(s, next(), "missing", "a")).toBe(false);
    expect(unlock(s, next(), "lead", "a", "bye")).toBe(true);
    expect(s.kv.get(undefined, "lead").entry).toMatchObject({ session: "", lockIndex: 1 });
    expect(lock(s, next(), "lead", "b")).toBe(true);
    expect(s.kv.get(undefined, "lead").entry).toMatchObject({ session: "b", lockIndex: 2 });
    // An explicit release starts no lock-delay.
    expect(s.lockDelay.expiration("lead")).toBeUndefined();
  });

  test("acquire with an unknown session or none is an error and writes nothing", () => {
    const { s, next } = setup();
    expect(() => lock(s, next(), "k", "ghost")).toThrow('invalid session "ghost"');
    expect(() => lock(s, next(), "k", "")).toThrow("missing session");
    expect(() => unlock(s, next(), "k", "")).toThrow("missing session");
    expect(s.kv.size).toBe(0);
  });

  test("destroy with release unlocks held keys, keeps LockIndex and value, and starts lock-delay", () => {
    const { s, clock, next } = setup();
    create(s, next(), session("a", { lockDelayNs: 5e9 }));
    lock(s, next(), "x", "a", "1");
    lock(s, next(), "y", "a", "2");
    s.write(next(), (tx) => s.kv.set(tx, { key: "other", flags: 0n, value: v("z") }));
    const watch = s.watchSet();
    s.kv.get(watch, "x");
    expect(s.write(next(), (tx) => destroySession(s, tx, "a"))).toBe(true);
    expect(watch.hasFired).toBe(true);
    for (const [key, value] of [["x", "1"], ["y", "2"]] as const) {
      const e = s.kv.get(undefined, key).entry!;
      expect(e).toMatchObject({ session: "", lockIndex: 1, modifyIndex: 6 });
      expect(text(e.value)).toBe(value);
      expect(s.lockDelay.expiration(key)).toBe(clock.now + 5000);
    }
    expect(s.kv.get(undefined, "other").entry!.modifyIndex).toBe(5);
    expect(s.lockDelay.expiration("other")).toBeUndefined();
    clock.now += 5000;
    expect(s.lockDelay.expiration("x")).toBeUndefined();
    expect(s.write(next(), (tx) => destroySession(s, tx, "a"))).toBe(false);
  });

  test("behavior delete deletes held keys (tombstoned), lock-delay capped at 60s", () => {
    const { s, clock, next } = setup();
    create(s, next(), session("a", { behavior: "delete", lockDelayNs: 600e9 }));
    lock(s, next(), "eph/1", "a");
    s.write(next(), (tx) => destroySession(s, tx, "a"));
    expect(s.kv.get(undefined, "eph/1")).toEqual({ index: 4, entry: undefined });
    expect(s.lockDelay.expiration("eph/1")).toBe(clock.now + 60_000);
  });

  test("a linked check going critical, being removed, or the node leaving invalidates sessions", () => {
    const { s, next } = setup();
    s.write(next(), (tx) =>
      s.catalog.register(tx, node("n1", { service: svc("web"), checks: [chk("n1", "web-check", "passing", "web")] })),
    );
    create(s, next(), session("by-service", { serviceChecks: [{ id: "web-check", namespace: "" }] }));
    create(s, next(), session("by-serf"));
    create(s, next(), session("no-checks", { nodeChecks: [] }));
    lock(s, next(), "svc", "by-service");
    // Warning is not critical: nothing happens.
    s.write(next(), (tx) => s.catalog.register(tx, node("n1", { checks: [chk("n1", "web-check", "warning", "web")] })));
    expect(s.sessions.size).toBe(3);
    s.write(next(), (tx) => s.catalog.register(tx, node("n1", { checks: [chk("n1", "web-check", "critical", "web")] })));
    expect(s.sessions.list(undefined).sessions.map((x) => x.id)).toEqual(["by-serf", "no-checks"]);
    expect(s.kv.get(undefined, "svc").entry!.session).toBe("");
    s.write(next(), (tx) => s.catalog.deregister(tx, { node: "n1", serviceId: "", checkId: "serfHealth" }));
    expect(s.sessions.list(undefined).sessions.map((x) => x.id)).toEqual(["no-checks"]);
    s.write(next(), (tx) => s.catalog.deregister(tx, { node: "n1", serviceId: "", checkId: "" }));
    expect(s.sessions.size).toBe(0);
  });

  test("a registration that fails undoes the invalidation it caused, lock-delay included", () => {
    const { s, next } = setup();
    create(s, next(), session("a"));
    lock(s, next(), "k", "a");
    // serfHealth goes critical, then the second check names a service that does not exist.
    expect(() => s.write(next(), (tx) => s.catalog.register(tx, node("n1", { checks: [chk("n1", "serfHealth", "critical"), chk("n1", "c", "passing", "nope")] })))).toThrow(
      "Missing service registration",
    );
    expect(s.sessions.get(undefined, "a").session?.id).toBe("a");
    expect(s.kv.get(undefined, "k").entry!.session).toBe("a");
    expect(s.lockDelay.expiration("k")).toBeUndefined();
    // And the held-key index came back too: destroying releases the key.
    s.write(next(), (tx) => destroySession(s, tx, "a"));
    expect(s.kv.get(undefined, "k").entry!.session).toBe("");
  });

  test("txn verbs lock, unlock and check-session", () => {
    const { s, next } = setup();
    create(s, next(), session("a"));
    create(s, next(), session("b"));
    const op = (verb: string, key: string, sess: string): KvTxnOp => ({ verb, key, value: v("x"), flags: 0n, index: 0, session: sess });
    const run = (ops: KvTxnOp[]) => {
      try {
        return s.write(next(), (tx) => runKvTxn(s, tx, ops));
      } catch (e) {
        if (e instanceof TxnAbort) return e.errors;
        throw e;
      }
    };
    expect(run([op("lock", "k", "a"), op("check-session", "k", "a")])).toMatchObject([
      { key: "k", session: "a", lockIndex: 1, value: null },
      { key: "k", session: "a", lockIndex: 1, value: null },
    ]);
    expect(run([op("lock", "k", "b"), op("unlock", "k", "b"), op("check-session", "k", "b"), op("lock", "j", "ghost")])).toEqual([
      { opIndex: 0, what: 'failed to lock key "k", lock is already held' },
      { opIndex: 1, what: `failed to unlock key "k", lock isn't held, or is held by another session` },
      { opIndex: 2, what: 'failed session check for key "k", current session "a" != "b"' },
      { opIndex: 3, what: 'invalid session "ghost"' },
    ]);
    expect(run([op("unlock", "k", "a"), op("check-session", "k", "")])).toMatchObject([{ session: "", lockIndex: 1 }, { session: "" }]);
  });

  test("snapshot and restore keep sessions, their check links and who holds what", () => {
    const { s, next } = setup();
    create(s, next(), session("a", { behavior: "delete", ttl: "15s", name: "leader", serviceChecks: null, checks: null }));
    lock(s, next(), "held", "a");
    const restored = StateStore.restore(structuredClone(s.snapshot()));
    expect(restored.sessions.list(undefined)).toEqual(s.sessions.list(undefined));
    expect(restored.sessions.linkedTo("n1", "serfHealth")).toEqual(["a"]);
    // The leftover of an old snapshot version restores with no sessions.
    const { sessions: _, ...v2 } = s.snapshot();
    expect(StateStore.restore({ ...v2, version: 2 }).sessions.size).toBe(0);
    // serfHealth critical on the restored store ends the session and deletes its key.
    restored.write(next(), (tx) => restored.catalog.register(tx, node("n1", { checks: [chk("n1", "serfHealth", "critical")] })));
    expect(restored.sessions.size).toBe(0);
    expect(restored.kv.get(undefined, "held").entry).toBeUndefined();
  });
});
