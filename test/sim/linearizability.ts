// A linearizability checker for recorded client histories: the Wing-Gong/Lowe search with
// Porcupine's optimisations (per-key split, dancing-links event list, cache of explored
// (linearized set, state) configurations), per reliability.md §4. Written here because no
// maintained JS/TS port of Porcupine or Knossos exists.
//
// Keys are checked one after another in this thread, not in Bun Workers: a model holds
// functions, which cannot be posted to a Worker, and simulation-sized histories finish in
// milliseconds, well under a Worker's start-up cost. A sequential loop also keeps reports
// deterministic for a given seed.

import { Prng } from "../../src/lib/prng.ts";

/** Output of an op whose outcome is unknown (timeout, reset or 5xx on a write); its ret is +Infinity. */
export const UNKNOWN: unique symbol = Symbol("unknown");

export type KvInput =
  | { f: "get" }
  | { f: "put"; v: string }
  | { f: "cas"; idx: number; v: string } // Consul ?cas=<ModifyIndex>
  | { f: "cas0"; v: string } // ?cas=0: create only if absent
  | { f: "del" }
  | { f: "delcas"; idx: number };

/**
 * For get: v is the value, null when the key is absent; idx is its ModifyIndex if known; ok is
 * not consulted. For writes, ok is Consul's true/false. A write known not to have happened
 * (refused before sending, 4xx) should be dropped from the history, not recorded as ok: false.
 */
export type KvOutput = typeof UNKNOWN | { ok: boolean; v?: string | null; idx?: number };

export interface Op {
  client: number;
  key: string;
  input: KvInput;
  output: KvOutput;
  call: number;
  /** +Infinity when the output is UNKNOWN: the op may take effect at any time after its call. */
  ret: number;
}

export interface Model<S, I, O> {
  init(): S;
  /** Whether the op may take effect in state s with this output, and the state after it. */
  step(s: S, input: I, output: O): [boolean, S];
  /** Must be injective: two states with the same hash are treated as one by the cache. */
  hash(s: S): string;
  describe?(s: S): string;
  describeOp?(input: I, output: O): string;
}

export interface TimedOp<I, O> {
  input: I;
  output: O;
  call: number;
  ret: number;
}

export type CheckResult<S> =
  /** order: op indexes in a witness linearization. */
  | { result: "ok"; order: number[] }
  /** prefix: the longest linearizable prefix found; stuck: the op whose return was reached unplaced there. */
  | { result: "illegal"; prefix: number[]; stuck: number; state: S }
  | { result: "timeout" };

export interface CheckOptions {
  /** Bound on the search, which is NP-complete; default 10 s. For checkKvHistory, the budget for all keys. */
  timeoutMs?: number;
  /** Bound on the cache's memory: past this many explored configurations (per key) the answer is "timeout". */
  configsMax?: number;
}

const TIMEOUT_MS_DEFAULT = 10_000;
// Roughly 100-200 bytes each for keys of a few hundred ops.
const CONFIGS_MAX_DEFAULT = 1_000_000;
const CLOCK_CHECK_ITERATIONS = 1024;

// ---- the search -----------------------------------------------------------------------------

/** Node 0 is the head sentinel; op i has call node 2i+1 and return node 2i+2. */
interface EventList {
  next: Int32Array;
  prev: Int32Array;
}

function buildEventList<I, O>(ops: ReadonlyArray<TimedOp<I, O>>): EventList {
  const events: Array<{ node: number; t: number; isCall: boolean }> = [];
  ops.forEach((op, i) => {
    if (!(op.call <= op.ret)) throw new Error(`op ${i}: call ${op.call} is after ret ${op.ret}`);
    events.push({ node: 2 * i + 1, t: op.call, isCall: true }, { node: 2 * i + 2, t: op.ret, isCall: false });
  });
  // Calls before returns on ties: ops that touch at one instant count as concurrent, the
  // conservative reading when stamps come from a coarse clock.
  events.sort((a, b) => a.t - b.t || (a.isCall === b.isCall ? a.node - b.node : a.isCall ? -1 : 1));
  const size = 2 * ops.length + 1;
  const next = new Int32Array(size).fill(-1);
  const prev = new Int32Array(size).fill(-1);
  let last = 0;
  for (const e of events) {
    next[last] = e.node;
    prev[e.node] = last;
    last = e.node;
  }
  return { next, prev };
}

// An unlinked node keeps its own links, so relinking it is O(1) as long as undoing happens in
// the reverse order of unlinking, which the search stack guarantees.
function lift(l: EventList, call: number): void {
  unlink(l, call);
  unlink(l, call + 1);
}

function unlift(l: EventList, call: number): void {
  relink(l, call + 1);
  relink(l, call);
}

function unlink(l: EventList, n: number): void {
  l.next[l.prev[n]!] = l.next[n]!;
  if (l.next[n]! !== -1) l.prev[l.next[n]!] = l.prev[n]!;
}

function relink(l: EventList, n: number): void {
  l.next[l.prev[n]!] = n;
  if (l.next[n]! !== -1) l.prev[l.next[n]!] = n;
}

/**
 * The set of linearized ops as a bitset plus a Zobrist hash kept up to date on every flip, so
 * that a cache probe costs O(1) instead of hashing the whole bitset (which dominated profiles).
 */
class LinearizedSet {
  readonly bits: Uint32Array;
  private readonly z1: Uint32Array;
  private readonly z2: Uint32Array;
  private h1 = 0;
  private h2 = 0;

  constructor(n: number) {
    this.bits = new Uint32Array(Math.ceil(n / 32));
    const rng = Prng.fromSeed(n);
    this.z1 = Uint32Array.from({ length: n }, () => rng.nextU32());
    this.z2 = Uint32Array.from({ length: n }, () => rng.nextU32());
  }

  flip(op: number): void {
    this.bits[op >> 5]! ^= 1 << (op & 31);
    this.h1 ^= this.z1[op]!;
    this.h2 ^= this.z2[op]!;
  }

  equals(other: Uint32Array): boolean {
    for (let i = 0; i < this.bits.length; i++) if (this.bits[i] !== other[i]) return false;
    return true;
  }

  /** 53 bits of hash, exact as a Map key. */
  hash(): number {
    return (this.h1 >>> 0) * 0x200000 + (this.h2 >>> 11);
  }
}

/** Configurations already explored: (linearized set, state). Hash hits are verified bit for bit. */
class ConfigCache {
  size = 0;
  private readonly byState = new Map<string, Map<number, Uint32Array[]>>();

  /** Adds the configuration; false if it was there already. */
  add(stateKey: string, lin: LinearizedSet): boolean {
    let bySet = this.byState.get(stateKey);
    if (bySet === undefined) this.byState.set(stateKey, (bySet = new Map()));
    const h = lin.hash();
    const bucket = bySet.get(h);
    if (bucket === undefined) {
      bySet.set(h, [lin.bits.slice()]);
      this.size++;
      return true;
    }
    if (bucket.some((b) => lin.equals(b))) return false;
    bucket.push(lin.bits.slice());
    this.size++;
    return true;
  }
}

export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  ops: ReadonlyArray<TimedOp<I, O>>,
  opts: CheckOptions = {},
): CheckResult<S> {
  const deadline = performance.now() + (opts.timeoutMs ?? TIMEOUT_MS_DEFAULT);
  const configsMax = opts.configsMax ?? CONFIGS_MAX_DEFAULT;
  const list = buildEventList(ops);
  const lin = new LinearizedSet(ops.length);
  const cache = new ConfigCache();
  const stack: Array<{ call: number; before: S }> = [];
  let state = model.init();
  let best: { prefix: number[]; stuck: number; state: S } | null = null;
  let iterations = 0;

  let cur = list.next[0]!;
  while (list.next[0]! !== -1) {
    if (++iterations % CLOCK_CHECK_ITERATIONS === 0 && (performance.now() > deadline || cache.size > configsMax)) {
      return { result: "timeout" };
    }
    const op = (cur - 1) >> 1;
    if (cur % 2 === 1) {
      const o = ops[op]!;
      const [legal, after] = model.step(state, o.input, o.output);
      if (legal) {
        lin.flip(op);
        if (cache.add(model.hash(after), lin)) {
          stack.push({ call: cur, before: state });
          state = after;
          lift(list, cur);
          cur = list.next[0]!;
          continue;
        }
        lin.flip(op);
      }
      cur = list.next[cur]!;
      continue;
    }
    // A return node of an op still unplaced: every call after it began later, so nothing can
    // go here instead. Undo the last placement and try the candidate after it.
    if (best === null || stack.length > best.prefix.length) {
      best = { prefix: stack.map((e) => (e.call - 1) >> 1), stuck: op, state };
    }
    const top = stack.pop();
    if (top === undefined) return { result: "illegal", ...best };
    lin.flip((top.call - 1) >> 1);
    state = top.before;
    unlift(list, top.call);
    cur = list.next[top.call]!;
  }
  return { result: "ok", order: stack.map((e) => (e.call - 1) >> 1) };
}

// ---- the Consul KV model (one key) ------------------------------------------------------------

/** value null: the key is absent. idx null: its ModifyIndex is not known yet (a later read may reveal it). */
export interface KvState {
  value: string | null;
  idx: number | null;
}

/**
 * The per-key model. idxValues maps a ModifyIndex to the value a read saw with it: an index is
 * the Raft index of one write, so while the key holds another value it cannot have that index.
 * That is what catches a second CAS succeeding with an index already used up.
 */
export function makeKvModel(idxValues: ReadonlyMap<number, string> = new Map()): Model<KvState, KvInput, KvOutput> {
  const absent: KvState = { value: null, idx: null };
  const mayHaveIdx = (s: KvState, idx: number): boolean =>
    s.value !== null && (s.idx === null ? (idxValues.get(idx) ?? s.value) === s.value : s.idx === idx);
  const mustHaveIdx = (s: KvState, idx: number): boolean => s.value !== null && s.idx === idx;
  const written = (v: string): KvState => ({ value: v, idx: null });

  // An op with unknown outcome is applied wherever it is placed and could succeed; "never
  // happened" needs no branch, since with ret = +Infinity it can always be placed last.
  const stepUnknown = (s: KvState, i: KvInput): KvState => {
    switch (i.f) {
      case "get": return s;
      case "put": return written(i.v);
      case "cas": return mayHaveIdx(s, i.idx) ? written(i.v) : s;
      case "cas0": return s.value === null ? written(i.v) : s;
      case "del": return absent;
      case "delcas": return s.value === null || mayHaveIdx(s, i.idx) ? absent : s;
    }
  };

  const step = (s: KvState, i: KvInput, out: KvOutput): [boolean, KvState] => {
    if (out === UNKNOWN) return [true, stepUnknown(s, i)];
    switch (i.f) {
      case "get": {
        const v = out.v ?? null;
        if (v !== s.value) return [false, s];
        // An absent key has no ModifyIndex; the X-Consul-Index of a 404 says nothing about it.
        if (v === null || out.idx === undefined) return [true, s];
        const idxOk = s.idx === null ? (idxValues.get(out.idx) ?? v) === v : s.idx === out.idx;
        return [idxOk, idxOk ? { value: v, idx: out.idx } : s];
      }
      case "put": return [out.ok, out.ok ? written(i.v) : s];
      case "cas": return out.ok ? [mayHaveIdx(s, i.idx), written(i.v)] : [!mustHaveIdx(s, i.idx), s];
      case "cas0": return out.ok ? [s.value === null, written(i.v)] : [s.value !== null, s];
      case "del": return [out.ok, absent];
      // Consul answers true to a delete-cas of an absent key (kvsDeleteCASTxn).
      case "delcas": return out.ok
        ? [s.value === null || mayHaveIdx(s, i.idx), absent]
        : [s.value !== null && !mustHaveIdx(s, i.idx), s];
    }
  };

  return {
    init: () => absent,
    step,
    // Injective and cheap: an absent key is "", a present one always holds the ":".
    hash: (s) => (s.value === null ? "" : `${s.idx ?? ""}:${s.value}`),
    describe: describeKvState,
    describeOp: describeKvOp,
  };
}

/** The KV model with no index facts; checkKvHistory adds the facts its history reveals. */
export const kvModel: Model<KvState, KvInput, KvOutput> = makeKvModel();

function describeKvState(s: KvState): string {
  return s.value === null ? "absent" : `${JSON.stringify(s.value)} idx=${s.idx ?? "?"}`;
}

function describeKvOp(i: KvInput, out: KvOutput): string {
  const args =
    i.f === "get" || i.f === "del" ? ""
    : i.f === "delcas" ? ` idx=${i.idx}`
    : i.f === "cas" ? ` idx=${i.idx} ${JSON.stringify(i.v)}`
    : ` ${JSON.stringify(i.v)}`;
  if (out === UNKNOWN) return `${i.f}${args} -> unknown`;
  if (i.f !== "get") return `${i.f}${args} -> ${out.ok}`;
  const v = out.v ?? null;
  return `get -> ${v === null ? "absent" : JSON.stringify(v)}${v !== null && out.idx !== undefined ? ` idx=${out.idx}` : ""}`;
}

// ---- whole histories ------------------------------------------------------------------------

export interface KvCheckResult {
  result: "ok" | "illegal" | "timeout";
  /** The key that is illegal or timed out. */
  key?: string;
  report?: string;
}

const REPORT_OPS_MAX = 8;

export function checkKvHistory(ops: ReadonlyArray<Op>, opts: CheckOptions = {}): KvCheckResult {
  const deadline = performance.now() + (opts.timeoutMs ?? TIMEOUT_MS_DEFAULT);
  const byKey = new Map<string, number[]>();
  ops.forEach((op, i) => {
    // A read that failed has no effect and tells nothing; leaving it out only shrinks the search.
    if (op.input.f === "get" && op.output === UNKNOWN) return;
    const ids = byKey.get(op.key) ?? [];
    ids.push(i);
    byKey.set(op.key, ids);
  });
  // Linearizability is local (P-compositionality): each key is checked alone. Small keys
  // first, so a violation there is found before the budget goes on a large one.
  const keys = [...byKey.entries()].sort((a, b) => a[1].length - b[1].length || (a[0] < b[0] ? -1 : 1));
  for (const [key, ids] of keys) {
    const keyOps = ids.map((i) => ops[i]!);
    const facts = idxFacts(keyOps);
    if ("conflict" in facts) {
      const [a, b] = facts.conflict.map((j) => `  ${opLine(ids[j]!, keyOps[j]!)}`);
      return { result: "illegal", key, report: `key ${JSON.stringify(key)}: one ModifyIndex read with two values\n${a}\n${b}` };
    }
    const model = makeKvModel(facts.values);
    // Fast path: an unknown-outcome write may always be taken as never having happened, so if
    // the history is linearizable without the ones nobody ever read, it is linearizable. Each
    // of them doubles the configurations the full search may explore (timeouts under a
    // partition leave many). Otherwise the full search decides, with every op.
    const unseen = unobservedWrites(keyOps);
    if (unseen.size > 0) {
      const fast = checkOperations(model, keyOps.filter((op) => !unseen.has(op)), { ...opts, timeoutMs: deadline - performance.now() });
      if (fast.result === "ok") continue;
    }
    const res = checkOperations(model, keyOps, { ...opts, timeoutMs: deadline - performance.now() });
    if (res.result === "timeout") return { result: "timeout", key, report: `key ${JSON.stringify(key)}: search timed out (${keyOps.length} ops)` };
    if (res.result === "illegal") return { result: "illegal", key, report: illegalReport(key, ids, keyOps, res) };
  }
  return { result: "ok" };
}

/** Writes of unknown outcome whose value no completed read returned. */
function unobservedWrites(ops: ReadonlyArray<Op>): Set<Op> {
  const read = new Set<string>();
  for (const op of ops) if (op.input.f === "get" && op.output !== UNKNOWN && op.output.v != null) read.add(op.output.v);
  const unseen = new Set<Op>();
  for (const op of ops) {
    const i = op.input;
    if (op.output === UNKNOWN && (i.f === "put" || i.f === "cas" || i.f === "cas0") && !read.has(i.v)) unseen.add(op);
  }
  return unseen;
}

function idxFacts(ops: ReadonlyArray<Op>): { values: Map<number, string> } | { conflict: [number, number] } {
  const values = new Map<number, string>();
  const seenBy = new Map<number, number>();
  for (let j = 0; j < ops.length; j++) {
    const out = ops[j]!.output;
    if (ops[j]!.input.f !== "get" || out === UNKNOWN || out.idx === undefined || out.v == null) continue;
    const had = values.get(out.idx);
    if (had !== undefined && had !== out.v) return { conflict: [seenBy.get(out.idx)!, j] };
    values.set(out.idx, out.v);
    seenBy.set(out.idx, j);
  }
  return { values };
}

function fmtTime(t: number): string {
  return Number.isFinite(t) ? String(Math.round(t * 1000) / 1000) : "∞";
}

function opLine(id: number, op: Op): string {
  return `#${id} client ${op.client} [${fmtTime(op.call)}, ${fmtTime(op.ret)}] ${describeKvOp(op.input, op.output)}`;
}

function illegalReport(key: string, ids: number[], ops: Op[], res: { prefix: number[]; stuck: number; state: KvState }): string {
  const placed = new Set(res.prefix);
  const stuck = ops[res.stuck]!;
  // The other candidates at the stuck point: unplaced ops that began before the stuck op returned.
  const rivals = ops
    .map((op, j) => ({ op, j }))
    .filter(({ op, j }) => j !== res.stuck && !placed.has(j) && op.call <= stuck.ret)
    .slice(0, REPORT_OPS_MAX);
  const lines = [
    `key ${JSON.stringify(key)}: not linearizable`,
    `longest linearizable prefix: ${res.prefix.length} of ${ops.length} ops, ending in state ${describeKvState(res.state)}`,
    ...res.prefix.slice(-REPORT_OPS_MAX).map((j) => `  placed: ${opLine(ids[j]!, ops[j]!)}`),
    `no op left fits before this one returns:`,
    `  stuck: ${opLine(ids[res.stuck]!, stuck)}`,
    ...rivals.map(({ op, j }) => `  concurrent: ${opLine(ids[j]!, op)}`),
  ];
  return lines.join("\n");
}
