import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { RaftNode } from "../../src/raft/node.ts";
import { encodeCommand } from "../../src/server/commands.ts";
import { Fsm } from "../../src/server/fsm.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(dir: string | undefined, fsm: Fsm, snapshotThreshold = 1_000_000, trailingLogs = 10, snapshotIntervalMs = 0) {
  return new RaftNode({
    id: "n1",
    dir,
    fsm,
    tickMs: 50,
    electionTicks: 2,
    snapshotThreshold,
    snapshotIntervalMs,
    heartbeatTicks: 1,
    initialVoters: ["n1"],
    trailingLogs,
    randomInt: (lo) => lo,
    info: () => {},
    warn: () => {},
    onFatal: (err) => {
      throw err;
    },
  });
}

const put = (key: string, value: string) =>
  encodeCommand({ type: "kv", op: "set", key, flags: 0n, value: new TextEncoder().encode(value), session: "", casIndex: 0 });

describe("single-voter Raft node", () => {
  test("elects itself, commits proposals in order, and answers with the FSM's result", async () => {
    const fsm = new Fsm();
    const node = open(undefined, fsm);
    node.start();
    expect(await node.waitLeader(2000)).toBe(true);
    const results = await Promise.all([node.propose(put("a", "1")), node.propose(put("b", "2"))]);
    expect(results).toEqual([true, true]);
    expect(fsm.store.kv.list(undefined, "").entries.map((e) => e.key)).toEqual(["a", "b"]);
    await node.stop();
  });

  test("acknowledged writes survive a reopen of the data dir, with their indexes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsc-raft-"));
    dirs.push(dir);
    const first = new Fsm();
    const n1 = open(dir, first);
    n1.start();
    await n1.waitLeader(2000);
    for (let i = 0; i < 20; i++) await n1.propose(put(`k${i}`, String(i)));
    const before = first.store.kv.snapshot();
    // No stop(): a crash after acknowledgement must lose nothing. Close the handle only.
    (n1 as unknown as { log: { close(): void } }).log.close();

    const second = new Fsm();
    const n2 = open(dir, second);
    n2.start();
    expect(await n2.waitLeader(2000)).toBe(true);
    expect(second.store.kv.snapshot()).toEqual(before);
    expect(n2.stats.term).toBe(2);
    await n2.stop();
  });

  test("snapshots bound the log; restart restores snapshot plus the log after it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsc-raft-"));
    dirs.push(dir);
    const fsm = new Fsm();
    const n1 = open(dir, fsm, 10, 2);
    n1.start();
    await n1.waitLeader(2000);
    for (let i = 0; i < 35; i++) await n1.propose(put(`k${i}`, String(i)));
    await n1.stop();
    expect(readdirSync(join(dir, "snapshots")).filter((n) => n.endsWith(".snap")).length).toBeGreaterThan(0);
    const db = new Database(join(dir, "raft.db"));
    const rows = db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM log").get()!.n;
    db.close();
    expect(rows).toBeLessThan(20); // 36 entries written, compacted behind snapshots

    const again = new Fsm();
    const n2 = open(dir, again, 10, 2);
    n2.start();
    await n2.waitLeader(2000);
    expect(again.store.kv.size).toBe(35);
    expect(Buffer.from(again.store.kv.get(undefined, "k34").entry!.value!).toString()).toBe("34");
    await n2.stop();
  });

  test("past the threshold, a snapshot waits for raft_snapshot_interval", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsc-raft-"));
    dirs.push(dir);
    const n1 = open(dir, new Fsm(), 10, 2, 60_000);
    n1.start();
    await n1.waitLeader(2000);
    for (let i = 0; i < 35; i++) await n1.propose(put(`k${i}`, String(i)));
    await Bun.sleep(200);
    await n1.stop();
    expect(readdirSync(join(dir, "snapshots")).filter((n) => n.endsWith(".snap"))).toEqual([]);
  });
});
