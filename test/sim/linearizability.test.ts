import { describe, expect, test } from "bun:test";
import { Prng } from "../../src/lib/prng.ts";
import {
  checkKvHistory,
  checkOperations,
  type KvInput,
  kvModel,
  type KvOutput,
  type KvState,
  type Op,
  UNKNOWN,
} from "./linearizability.ts";

// The checker is only worth trusting if it fails when it should. Hand-written golden
// histories pin the model's rules, a brute-force enumeration cross-checks the search on tiny
// random histories, and histories recorded from a real sequential execution must pass until
// one read is made provably impossible. Seeds replay: LIN_SEEDS=500 runs more.

const SEEDS = Number(process.env.LIN_SEEDS ?? 40);

type Io = [KvInput, KvOutput];
const get = (v: string | null, idx?: number): Io => [{ f: "get" }, idx === undefined ? { ok: true, v } : { ok: true, v, idx }];
const put = (v: string, ok = true): Io => [{ f: "put", v }, { ok }];
const cas = (idx: number, v: string, ok: boolean): Io => [{ f: "cas", idx, v }, { ok }];
const cas0 = (v: string, ok: boolean): Io => [{ f: "cas0", v }, { ok }];
const del = (): Io => [{ f: "del" }, { ok: true }];
const delcas = (idx: number, ok: boolean): Io => [{ f: "delcas", idx }, { ok }];
const unknown = ([input]: Io): Io => [input, UNKNOWN];

/** One op: [client, call, ret, io] on key "k"; an UNKNOWN output gets ret = +Infinity. */
function history(...rows: Array<[number, number, number, Io] | [number, number, number, Io, string]>): Op[] {
  return rows.map(([client, call, ret, [input, output], key]) => ({
    client,
    key: key ?? "k",
    input,
    output,
    call,
    ret: output === UNKNOWN ? Number.POSITIVE_INFINITY : ret,
  }));
}

const INF = Number.POSITIVE_INFINITY;

const good: Record<string, Op[]> = {
  "sequential writes and reads": history(
    [0, 0, 1, get(null)],
    [0, 2, 3, put("a")],
    [1, 4, 5, get("a", 5)],
    [1, 6, 7, put("b")],
    [0, 8, 9, get("b")],
  ),
  "overlapping writes, reads see a then b": history(
    [0, 0, 10, put("a")],
    [1, 1, 11, put("b")],
    [2, 2, 9, get("a")],
    [3, 3, 8, get("b")],
    [2, 12, 13, get("b")],
  ),
  "overlapping writes, reads see b then a": history(
    [0, 0, 10, put("a")],
    [1, 1, 11, put("b")],
    [2, 2, 9, get("b")],
    [2, 12, 13, get("a")],
    [3, 14, 15, get("a")],
  ),
  "a write and a read that touch at one instant are concurrent": history([0, 0, 5, put("a")], [1, 1, 5, get(null)]),
  "unknown write seen later": history(
    [0, 0, 1, put("a")],
    [1, 2, INF, unknown(put("b"))],
    [2, 5, 6, get("b")],
    [2, 7, 8, get("b")],
  ),
  "unknown write never seen": history(
    [0, 0, 1, put("a")],
    [1, 2, INF, unknown(put("b"))],
    [2, 5, 6, get("a")],
    [2, 7, 8, get("a")],
  ),
  "unknown cas0 that did not happen, then a cas0 wins": history(
    [0, 0, INF, unknown(cas0("a", true))],
    [1, 1, 2, cas0("b", true)],
    [1, 3, 4, get("b")],
  ),
  "unknown delete seen": history([0, 0, 1, put("a")], [1, 2, INF, unknown(del())], [2, 5, 6, get(null)]),
  "cas0 race: exactly one wins": history(
    [0, 0, 5, cas0("a", true)],
    [1, 1, 4, cas0("b", false)],
    [2, 2, 3, cas0("c", false)],
    [0, 6, 7, get("a")],
  ),
  "cas with the index a read revealed": history(
    [0, 0, 1, put("a")],
    [1, 2, 3, get("a", 7)],
    [1, 4, 5, cas(7, "b", true)],
    [2, 6, 7, cas(7, "c", false)],
    [0, 8, 9, get("b", 9)],
    [2, 10, 11, cas(9, "c", true)],
    [0, 12, 13, get("c")],
  ),
  "concurrent cas with the same index: one wins": history(
    [0, 0, 1, put("a")],
    [0, 2, 3, get("a", 4)],
    [1, 4, 9, cas(4, "b", false)],
    [2, 5, 8, cas(4, "c", true)],
    [0, 10, 11, get("c")],
  ),
  "delete then get null, then recreate": history(
    [0, 0, 1, put("a")],
    [0, 2, 3, del()],
    [1, 4, 5, get(null)],
    [1, 6, 7, cas0("b", true)],
    [0, 8, 9, get("b")],
  ),
  "delete-cas by index, and on an absent key": history(
    [0, 0, 1, put("a")],
    [0, 2, 3, get("a", 3)],
    [1, 4, 5, delcas(2, false)],
    [1, 6, 7, delcas(3, true)],
    [0, 8, 9, get(null)],
    [0, 10, 11, delcas(3, true)],
  ),
  // Values not unique: the cache must tell {a, idx 5} from {a, idx unknown} for the same ops.
  "one value written twice, the read index belongs to the first": history(
    [0, 0, 10, put("a")],
    [1, 0, 10, put("a")],
    [2, 0, 10, get("a", 5)],
    [0, 11, 12, cas(7, "b", true)],
  ),
  "keys are independent": history(
    [0, 0, 1, put("a"), "x"],
    [1, 2, 3, get(null), "y"],
    [1, 4, 5, get("a"), "x"],
  ),
};

const bad: Record<string, Op[]> = {
  "stale read after a completed write": history([0, 0, 1, put("a")], [0, 2, 3, put("b")], [1, 4, 5, get("a")]),
  "two cas0 both succeed": history([0, 0, 5, cas0("a", true)], [1, 1, 4, cas0("b", true)]),
  "read of a value never written": history([0, 0, 1, put("a")], [1, 2, 3, get("z")]),
  "read sees a write that started after the read returned": history([0, 0, 1, get("a")], [1, 2, 3, put("a")]),
  "lost acknowledged write": history([0, 0, 1, put("a")], [1, 2, 3, get(null)]),
  "flip-flop a, b, a with one write of a": history(
    [0, 0, 10, put("a")],
    [1, 0, 10, put("b")],
    [2, 11, 12, get("a")],
    [2, 13, 14, get("b")],
    [2, 15, 16, get("a")],
  ),
  "unknown write seen, then gone": history(
    [0, 0, 1, put("a")],
    [1, 2, INF, unknown(put("b"))],
    [2, 5, 6, get("b")],
    [2, 7, 8, get("a")],
  ),
  "cas succeeds against an index whose value was overwritten": history(
    [0, 0, 1, put("a")],
    [0, 2, 3, get("a", 5)],
    [1, 4, 5, put("b")],
    [0, 6, 7, cas(5, "c", true)],
  ),
  "two cas with the same index both succeed": history(
    [0, 0, 1, put("a")],
    [0, 2, 3, get("a", 5)],
    [1, 4, 9, cas(5, "b", true)],
    [2, 5, 8, cas(5, "c", true)],
  ),
  "unknown cas with a stale index takes effect": history(
    [0, 0, 1, put("a")],
    [0, 2, 3, get("a", 5)],
    [1, 4, INF, unknown(cas(4, "b", true))],
    [2, 6, 7, get("b")],
  ),
  "unknown cas0 on a present key takes effect": history([0, 0, 1, put("a")], [1, 2, INF, unknown(cas0("b", true))], [2, 6, 7, get("b")]),
  "unknown delete-cas with a stale index takes effect": history(
    [0, 0, 1, put("a")],
    [0, 2, 3, get("a", 5)],
    [1, 4, INF, unknown(delcas(4, true))],
    [2, 6, 7, get(null)],
  ),
  "cas0 fails on an absent key": history([0, 0, 1, get(null)], [0, 2, 3, cas0("a", false)]),
  "cas fails although the index matched": history([0, 0, 1, put("a")], [0, 2, 3, get("a", 5)], [0, 4, 5, cas(5, "b", false)]),
  "one ModifyIndex read with two values": history(
    [0, 0, 1, put("a")],
    [0, 2, 3, get("a", 5)],
    [0, 4, 5, put("b")],
    [0, 6, 7, get("b", 5)],
  ),
  "get after delete sees the old value": history([0, 0, 1, put("a")], [0, 2, 3, del()], [1, 4, 5, get("a")]),
  "violation on the second key": history([0, 0, 1, put("a"), "x"], [1, 2, 3, put("b"), "y"], [1, 4, 5, get(null), "y"]),
};

describe("golden histories", () => {
  for (const [name, ops] of Object.entries(good)) {
    test(`ok: ${name}`, () => expect(checkKvHistory(ops)).toEqual({ result: "ok" }));
  }
  for (const [name, ops] of Object.entries(bad)) {
    test(`illegal: ${name}`, () => expect(checkKvHistory(ops).result).toBe("illegal"));
  }

  test("the report names the key, the stuck op with its times, and what was placed", () => {
    const res = checkKvHistory(bad["violation on the second key"]!);
    expect(res.key).toBe("y");
    expect(res.report).toContain('key "y": not linearizable');
    expect(res.report).toContain('#2 client 1 [4, 5] get -> absent');
    expect(res.report).toContain('placed: #1 client 1 [2, 3] put "b" -> true');
  });

  test("checkOperations gives a witness order, or the longest prefix and the op it could not place", () => {
    const ok = checkOperations(kvModel, good["overlapping writes, reads see b then a"]!);
    expect(ok).toEqual({ result: "ok", order: [1, 2, 0, 3, 4] });
    const illegal = checkOperations(kvModel, bad["stale read after a completed write"]!);
    expect(illegal).toEqual({ result: "illegal", prefix: [0, 1], stuck: 2, state: { value: "b", idx: null } });
  });

  test("a hopeless search stops at the deadline or the cache bound", () => {
    // 24 concurrent unknown writes before an impossible read: every subset of them is a distinct configuration.
    const ops = history(
      ...Array.from({ length: 24 }, (_, i): [number, number, number, Io] => [i, 0, INF, unknown(put(`v${i}`))]),
      [99, 1, 2, get("never")],
    );
    const started = performance.now();
    expect(checkKvHistory(ops, { timeoutMs: 50 }).result).toBe("timeout");
    expect(performance.now() - started).toBeLessThan(1000);
    expect(checkKvHistory(ops, { timeoutMs: 60_000, configsMax: 5000 }).result).toBe("timeout");
  });
});

describe("unknown-outcome writes nobody read", () => {
  // 24 writes that timed out, concurrent with everything: the full search alone may explore
  // every subset of them; taken as never having happened they cost nothing.
  const timedOut = Array.from({ length: 24 }, (_, i): [number, number, number, Io] => [i, 0, INF, unknown(put(`t${i}`))]);

  test("do not blow up the search: the history is decided, where the full search alone gives up", () => {
    // The first read rules out every subset the search tries before the empty one.
    const ops = history(...timedOut, [90, 1, 2, get(null)], [91, 3, 4, put("a")], [92, 5, 6, cas0("z", false)], [93, 7, 8, get("a")]);
    expect(checkOperations(kvModel, ops, { configsMax: 5000 }).result).toBe("timeout");
    expect(checkKvHistory(ops, { configsMax: 5000 })).toEqual({ result: "ok" });
  });

  test("still explain what they must: a CAS that only an unread write's index makes possible", () => {
    const ops = history([0, 0, 1, put("a")], [1, 2, 3, get("a", 5)], [2, 4, INF, unknown(put("w"))], [3, 6, 7, cas(7, "c", true)], [4, 8, 9, get("c")]);
    expect(checkKvHistory(ops)).toEqual({ result: "ok" });
    expect(checkKvHistory(ops.filter((op) => op.output !== UNKNOWN)).result).toBe("illegal");
  });

  test("hide no violation: a stale read among them is still illegal", () => {
    const ops = history(...timedOut.slice(0, 8), [90, 1, 2, put("a")], [91, 3, 4, put("b")], [92, 5, 6, get("a")]);
    expect(checkKvHistory(ops).result).toBe("illegal");
  });
});

// ---- brute force on tiny random histories ---------------------------------------------------

/** Every order that respects real time, with any subset of unknown ops left out entirely. */
function bruteForce(ops: Op[]): boolean {
  const n = ops.length;
  const placed = new Array<boolean>(n).fill(false);
  const dfs = (s: KvState, remaining: number): boolean => {
    if (remaining === 0) return true;
    for (let i = 0; i < n; i++) {
      if (placed[i]) continue;
      const mustWait = ops.some((o, j) => !placed[j] && j !== i && o.ret < ops[i]!.call);
      if (mustWait) continue;
      const [legal, after] = kvModel.step(s, ops[i]!.input, ops[i]!.output);
      placed[i] = true;
      const found = legal && dfs(after, remaining - 1);
      // Or it never happened: only an op whose outcome is unknown may vanish.
      const vanished = !found && ops[i]!.output === UNKNOWN && dfs(s, remaining - 1);
      placed[i] = false;
      if (found || vanished) return true;
    }
    return false;
  };
  return dfs(kvModel.init(), n);
}

function randomTinyHistory(rng: Prng): Op[] {
  const pick = <T>(xs: T[]): T => xs[rng.int(0, xs.length - 1)]!;
  const ops: Op[] = [];
  for (let i = rng.int(2, 6); i > 0; i--) {
    const ok = rng.float() < 0.7;
    const v = pick(["a", "b", "c"]);
    const idx = rng.int(1, 3);
    const io = pick<() => Io>([
      () => get(pick(["a", "b", null]), rng.float() < 0.5 ? idx : undefined),
      () => get(pick(["a", "b", null])),
      () => put(v),
      () => cas(idx, v, ok),
      () => cas0(v, ok),
      () => del(),
      () => delcas(idx, ok),
    ])();
    const call = rng.int(0, 10);
    ops.push({ client: i, key: "k", input: io[0], output: rng.float() < 0.15 ? UNKNOWN : io[1], call, ret: call + rng.int(0, 6) });
    if (ops.at(-1)!.output === UNKNOWN) ops.at(-1)!.ret = INF;
  }
  return ops;
}

test("the search agrees with brute-force enumeration on tiny random histories", () => {
  const rng = Prng.fromSeed(7);
  const verdicts = { ok: 0, illegal: 0 };
  for (let i = 0; i < 60 * SEEDS; i++) {
    const ops = randomTinyHistory(rng);
    const expected = bruteForce(ops) ? "ok" : "illegal";
    const got = checkOperations(kvModel, ops).result;
    if (got !== expected) throw new Error(`case ${i}: checker says ${got}, brute force ${expected}\n${JSON.stringify(ops)}`);
    verdicts[expected]++;
  }
  // Both verdicts must be common, or the comparison proves little.
  expect(verdicts.ok).toBeGreaterThan(10 * SEEDS);
  expect(verdicts.illegal).toBeGreaterThan(10 * SEEDS);
});

// ---- histories recorded from a real execution -----------------------------------------------

interface GenOptions {
  keys: number;
  opsPerKey: number;
  clientsPerKey: number;
  unknownRate: number;
}

/**
 * Each key's clients issue ops back to back with random durations; each op takes effect at a
 * random instant inside its window, and ops run in that order against a Consul-like store, so
 * the recorded history is linearizable by construction. Values are unique per key.
 */
function generate(rng: Prng, g: GenOptions): Op[] {
  const ops: Op[] = [];
  for (let k = 0; k < g.keys; k++) {
    const key = `key${k}`;
    const clockMs = Array.from({ length: g.clientsPerKey }, () => rng.int(0, 5));
    const planned: Array<{ client: number; call: number; ret: number; at: number }> = [];
    for (let i = 0; i < g.opsPerKey; i++) {
      const client = clockMs.indexOf(Math.min(...clockMs));
      const call = clockMs[client]!;
      const ret = call + rng.int(1, 30);
      planned.push({ client, call, ret, at: call + rng.float() * (ret - call) });
      clockMs[client] = ret + rng.int(0, 5);
    }
    planned.sort((a, b) => a.at - b.at);
    let value: string | null = null;
    let modifyIdx = 0;
    let raftIdx = 0;
    planned.forEach((p, seq) => {
      const r = rng.float();
      const v = `${key}:${p.client}-${seq}`;
      const guess = value !== null && rng.float() < 0.6 ? modifyIdx : rng.int(1, raftIdx + 1);
      const input: KvInput =
        r < 0.4 ? { f: "get" }
        : r < 0.6 ? { f: "put", v }
        : r < 0.75 ? { f: "cas", idx: guess, v }
        : r < 0.85 ? { f: "cas0", v }
        : r < 0.92 ? { f: "del" }
        : { f: "delcas", idx: guess };
      const lost = input.f !== "get" && rng.float() < g.unknownRate;
      // An op with unknown outcome took effect or did not, at random.
      const applied = !lost || rng.float() < 0.5;
      let ok = true;
      if (input.f === "get") {
        const out = value !== null && rng.float() < 0.5 ? { ok, v: value, idx: modifyIdx } : { ok, v: value };
        ops.push({ client: p.client, key, input, output: out, call: p.call, ret: p.ret });
        return;
      }
      if (input.f === "cas") ok = value !== null && modifyIdx === input.idx;
      if (input.f === "cas0") ok = value === null;
      if (input.f === "delcas") ok = value === null || modifyIdx === input.idx;
      if (applied && ok && input.f !== "delcas" && input.f !== "del") [value, modifyIdx] = [input.v, ++raftIdx];
      if (applied && ok && (input.f === "delcas" || input.f === "del")) [value, modifyIdx] = [null, ++raftIdx];
      ops.push(lost
        ? { client: p.client, key, input, output: UNKNOWN, call: p.call, ret: INF }
        : { client: p.client, key, input, output: { ok }, call: p.call, ret: p.ret });
    });
  }
  return ops;
}

function isKnownGet(op: Op): boolean {
  return op.input.f === "get" && op.output !== UNKNOWN;
}

describe("histories from a real sequential execution", () => {
  const shape: GenOptions = { keys: 2, opsPerKey: 40, clientsPerKey: 4, unknownRate: 0.05 };

  for (let seed = 1; seed <= SEEDS; seed++) {
    test(`seed ${seed}: passes, and fails once one read is made impossible`, () => {
      const rng = Prng.fromSeed(seed);
      const ops = generate(rng, shape);
      const verdict = checkKvHistory(ops);
      if (verdict.result !== "ok") throw new Error(`seed ${seed}: ${verdict.report}`);

      const reads = ops.map((_, i) => i).filter((i) => isKnownGet(ops[i]!));
      const r = reads[rng.int(0, reads.length - 1)]!;
      // A value no write ever carried.
      const invented = ops.with(r, { ...ops[r]!, output: { ok: true, v: "never-written" } });
      expect(checkKvHistory(invented).result).toBe("illegal");

      // A value written only by an op that began after the read returned: unique values make
      // this impossible whatever order the rest takes.
      const read = ops[r]!;
      const later = ops.find((o) => o.key === read.key && o.call > read.ret && "v" in o.input);
      if (later === undefined || !("v" in later.input)) return;
      const future = ops.with(r, { ...read, output: { ok: true, v: later.input.v } });
      const res = checkKvHistory(future);
      expect(res.result).toBe("illegal");
      expect(res.key).toBe(read.key);
    });
  }

  test("5 keys x 400 ops, 8 concurrent clients per key, in well under 2 s", () => {
    const ops = generate(Prng.fromSeed(2026), { keys: 5, opsPerKey: 400, clientsPerKey: 8, unknownRate: 0.02 });
    const started = performance.now();
    const verdict = checkKvHistory(ops);
    const tookMs = performance.now() - started;
    expect(verdict).toEqual({ result: "ok" });
    // About 50 ms once the JIT is warm; the margin is for a cold start on a loaded machine.
    expect(tookMs).toBeLessThan(1000);
  });
});
