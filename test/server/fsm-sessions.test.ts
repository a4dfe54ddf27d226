import { expect, test } from "bun:test";
import { encodeCommand } from "../../src/server/commands.ts";
import { Fsm } from "../../src/server/fsm.ts";
import { chk, node } from "../state/fixtures.ts";

// Session commands through the FSM's log encoding and its msgpack snapshot: what a replica
// replays and what a restarted or lagging server restores must be the same sessions.

test("session-create/destroy and KV locks replay from the log and survive a snapshot", async () => {
  const fsm = new Fsm();
  let i = 0;
  const apply = (cmd: Parameters<typeof encodeCommand>[0]) => fsm.apply(++i, encodeCommand(cmd));
  apply({ type: "register", ...node("n1", { checks: [chk("n1", "serfHealth", "passing")] }) });
  const base = { name: "", node: "n1", lockDelayNs: 0, behavior: "release" as const, ttl: "15s", serviceChecks: null, checks: null };
  expect(apply({ type: "session-create", session: { ...base, id: "s1", nodeChecks: null } })).toBe("s1");
  expect(apply({ type: "session-create", session: { ...base, id: "s2", nodeChecks: ["serfHealth"], behavior: "delete" } })).toBe("s2");
  expect(apply({ type: "session-create", session: { ...base, id: "s3", node: "ghost", nodeChecks: null } })).toEqual(new Error("Missing node registration"));
  const lock = (key: string, session: string) => apply({ type: "kv", op: "lock", key, flags: 0n, value: null, session, casIndex: 0 });
  expect(lock("a", "s1")).toBe(true);
  expect(lock("b", "s2")).toBe(true);
  expect(lock("c", "nobody")).toEqual(new Error('invalid session "nobody"'));

  const restored = new Fsm();
  restored.restore(await fsm.snapshot());
  expect(restored.store.sessions.list(undefined)).toEqual(fsm.store.sessions.list(undefined));
  expect(restored.store.sessions.get(undefined, "s1").session?.nodeChecks).toBeNull();
  // On the restored store serfHealth going critical ends s2 (delete) but not s1 (no checks).
  restored.apply(++i, encodeCommand({ type: "register", ...node("n1", { checks: [chk("n1", "serfHealth", "critical")] }) }));
  expect(restored.store.sessions.list(undefined).sessions.map((s) => s.id)).toEqual(["s1"]);
  expect(restored.store.kv.get(undefined, "b").entry).toBeUndefined();
  expect(restored.store.kv.get(undefined, "a").entry?.session).toBe("s1");
  restored.apply(++i, encodeCommand({ type: "session-destroy", id: "s1" }));
  expect(restored.store.kv.get(undefined, "a").entry).toMatchObject({ session: "", lockIndex: 1 });
});
