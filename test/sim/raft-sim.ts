import { Prng } from "../../src/lib/prng.ts";
import { decodeConfiguration } from "../../src/raft/core/conf.ts";
import { NotLeaderError, ProposalDroppedError, RaftCore } from "../../src/raft/core/raft.ts";
import { type Entry, EntryType, type Message, type Ready } from "../../src/raft/core/types.ts";
import { MemoryStorage } from "../raft/memory-storage.ts";
import { EventQueue } from "./event-queue.ts";
import { decodeCommand, encodeCommand, KvFsm } from "./kv-fsm.ts";
import { checkKvHistory, type KvOutput, type Op } from "./linearizability.ts";
import { DiskHashes, RaftChecker, SafetyViolation } from "./raft-checks.ts";
import { Clients, type Reply, type Request } from "./raft-sim-clients.ts";

// A seeded Raft cluster in one process, as TigerBeetle's VOPR tests itself: pure cores, a
// shell per node that handles each Ready in the documented order against a simulated disk,
// a network that loses, delays, duplicates, reorders and partitions messages, crashes and
// restarts from disk, snapshots with compaction, membership changes and leadership
// transfers, and KV clients whose history is checked for linearizability at the end.
// Safety is checked after every event (raft-checks.ts); then every fault heals and the
// cluster must elect a leader and commit within a bound. One seed replays one run exactly.

export interface Bugs {
  /** Voters' rejections go out as grants: more than one vote per term. */
  doubleVote?: boolean;
  /** A node that believes it leads answers reads from its own state, without ReadIndex or lease. */
  unsafeReads?: boolean;
}

export interface SimOptions {
  seed: number;
  nodes: 3 | 5;
  safetyMs?: number;
  livenessMs?: number;
  bugs?: Bugs;
  traceLines?: number;
}

/** Drawn from the seed, so some runs are calm and some brutal (swarm testing). */
export interface SimParams {
  lossRate: number;
  dupRate: number;
  maxDelayMs: number;
  tailRate: number;
  diskMaxMs: number;
  crashEveryMs: number;
  partitionEveryMs: number;
  snapshotEveryMs: number;
  confEveryMs: number;
  transferEveryMs: number;
  clients: number;
  keys: number;
  leaseReadRate: number;
  driftMax: number;
}

export interface SimResult {
  seed: number;
  nodes: number;
  params: SimParams;
  ok: boolean;
  failure: string | undefined;
  trace: string[];
  history: Op[];
  stats: Record<string, number | string>;
}

const TICK_MS = 10;
const ELECTION_TICKS = 10;
const HEARTBEAT_TICKS = 2;

interface PendingWrite {
  client: number;
  seq: number;
  reply: (r: Reply) => void;
}

interface PendingRead {
  req: Request;
  term: number;
  reply: (r: Reply) => void;
}

interface SimNode {
  id: string;
  /** The configuration it boots with when its disk holds none: founders know each other, newcomers nobody. */
  bootstrap: string[];
  disk: MemoryStorage;
  hashes: DiskHashes;
  rng: Prng;
  /** Its clock's tick period relative to TICK_MS (bounded drift). */
  drift: number;
  up: boolean;
  decommissioned: boolean;
  wasMember: boolean;
  incarnation: number;
  core: RaftCore | undefined;
  fsm: KvFsm;
  appliedIndex: number;
  appliedTerm: number;
  busy: boolean;
  seenCommit: number;
  ledTerm: number;
  writes: Map<number, PendingWrite>;
  reads: Map<string, PendingRead>;
  readWaits: { index: number; read: PendingRead }[];
  readSeq: number;
}

export function drawParams(rng: Prng): SimParams {
  const pick = <T>(xs: T[]): T => xs[rng.int(0, xs.length - 1)]!;
  return {
    lossRate: pick([0, 0.01, 0.05, 0.15]),
    dupRate: pick([0, 0.02, 0.1]),
    maxDelayMs: pick([3, 10, 25]),
    tailRate: pick([0, 0.01, 0.05]),
    diskMaxMs: pick([0, 2, 8]),
    crashEveryMs: pick([Number.POSITIVE_INFINITY, 1200, 400]),
    partitionEveryMs: pick([Number.POSITIVE_INFINITY, 900, 350]),
    snapshotEveryMs: pick([Number.POSITIVE_INFINITY, 250, 80]),
    confEveryMs: pick([Number.POSITIVE_INFINITY, 500, 200]),
    transferEveryMs: pick([Number.POSITIVE_INFINITY, 700]),
    clients: rng.int(2, 5),
    keys: rng.int(1, 4),
    leaseReadRate: pick([0, 0.5]),
    driftMax: pick([0, 0.03]),
  };
}

export class RaftSim {
  readonly q = new EventQueue();
  readonly checker = new RaftChecker();
  readonly params: SimParams;
  readonly nodes = new Map<string, SimNode>();
  readonly clients: Clients;
  private readonly rng: Prng;
  private readonly net: Prng;
  private readonly faults: Prng;
  private readonly blocked = new Set<string>();
  private partitioned = false;
  private phase: "safety" | "liveness" | "drain" = "safety";
  private nextId: number;
  private readonly traceRing: string[] = [];
  private livenessAt: number | undefined;
  private probe: { seq: number; index: number; node: string } | undefined;
  private probeSeq = 0;
  private newestConfigIndex = 0;
  private readonly stats = {
    events: 0,
    crashes: 0,
    partitions: 0,
    snapshots: 0,
    snapshotsSent: 0,
    confChanges: 0,
    transfers: 0,
    leaseReads: 0,
    maxTerm: 0,
    dropped: 0,
  };

  constructor(private readonly opts: SimOptions) {
    this.rng = Prng.fromSeed(opts.seed);
    this.params = drawParams(this.rng.fork());
    this.net = this.rng.fork();
    this.faults = this.rng.fork();
    const founders = Array.from({ length: opts.nodes }, (_, i) => `n${i + 1}`);
    this.nextId = opts.nodes + 1;
    for (const id of founders) this.spawn(id, founders);
    const p = this.params;
    this.clients = new Clients(
      {
        q: this.q,
        request: (to, req, reply) => this.clientRequest(to, req, reply),
        candidates: () => [...this.nodes.values()].filter((n) => !n.decommissioned).map((n) => n.id),
        writeAcked: (index) => this.checker.writeAcked(this.q.now, index),
        trace: (line) => this.trace(line),
      },
      this.rng.fork(),
      { clients: p.clients, keys: p.keys, leaseReadRate: p.leaseReadRate, attemptTimeoutMs: 400, opTimeoutMs: 1200 },
    );
  }

  run(): SimResult {
    const safetyMs = this.opts.safetyMs ?? 3000;
    const livenessMs = this.opts.livenessMs ?? 3000;
    let failure: string | undefined;
    try {
      this.trace(`seed ${this.opts.seed} nodes ${this.opts.nodes} ${JSON.stringify(this.params)}`);
      this.clients.start();
      this.scheduleFaults();
      this.runUntil(safetyMs);
      this.heal();
      this.runUntil(safetyMs + livenessMs, () => this.livenessAt !== undefined);
      if (this.livenessAt === undefined) throw new SafetyViolation(`liveness: no leader committed a new entry on every member within ${livenessMs} ms of healing (${this.describe()})`);
      this.phase = "drain";
      this.clients.stopped = true;
      const end = this.q.now + 2000;
      this.runUntil(end, () => !this.clients.busy());
      const lin = checkKvHistory(this.clients.history, { timeoutMs: 5000 });
      (this.stats as Record<string, number | string>).lin = lin.result;
      if (lin.result === "illegal") throw new SafetyViolation(`linearizability: ${lin.report ?? lin.key}`);
    } catch (err) {
      const e = err as Error;
      failure = e instanceof SafetyViolation ? e.message : `${e.message} (${e.stack?.split("\n")[1]?.trim() ?? "?"})`;
      this.trace(`FAIL ${failure}`);
    }
    const c = this.clients.stats;
    return {
      seed: this.opts.seed,
      nodes: this.opts.nodes,
      params: this.params,
      ok: failure === undefined,
      failure,
      trace: this.traceRing,
      history: this.clients.history,
      stats: { ...this.stats, ops: c.ops, okOps: c.ok, unknownOps: c.unknown, reads: c.reads, maxCommitted: this.checker.maxCommitted, simMs: Math.round(this.q.now) },
    };
  }

  private runUntil(until: number, stop?: () => boolean): void {
    while (this.q.now < until) {
      if (stop?.()) return;
      const next = Math.min(until, this.q.now + 50);
      this.q.runUntil(next, () => {
        if (++this.stats.events > 3_000_000) throw new Error("event budget exhausted");
      });
    }
  }

  // --- nodes and their shells ---

  private spawn(id: string, bootstrap: string[]): SimNode {
    const n: SimNode = {
      id,
      bootstrap,
      disk: new MemoryStorage(),
      hashes: new DiskHashes(),
      rng: this.rng.fork(),
      drift: 1,
      up: false,
      decommissioned: false,
      wasMember: bootstrap.includes(id),
      incarnation: 0,
      core: undefined,
      fsm: new KvFsm(),
      appliedIndex: 0,
      appliedTerm: 0,
      busy: false,
      seenCommit: 0,
      ledTerm: 0,
      writes: new Map(),
      reads: new Map(),
      readWaits: [],
      readSeq: 0,
    };
    n.drift = 1 + (n.rng.float() * 2 - 1) * this.params.driftMax;
    this.nodes.set(id, n);
    this.boot(n);
    return n;
  }

  /** Starts (or restarts) a node from its disk alone. */
  private boot(n: SimNode): void {
    n.incarnation++;
    n.up = true;
    n.busy = false;
    const snap = n.disk.snapshotMeta();
    n.fsm = KvFsm.restore(n.disk.snapData);
    n.appliedIndex = snap.index;
    n.appliedTerm = snap.term;
    n.seenCommit = snap.index;
    n.writes = new Map();
    n.reads = new Map();
    n.readWaits = [];
    n.core = new RaftCore(
      {
        id: n.id,
        voters: n.bootstrap,
        electionTicks: ELECTION_TICKS,
        heartbeatTicks: HEARTBEAT_TICKS,
        maxApplyBatch: 32,
        maxInflight: 4,
        maxMsgEntries: 8,
        maxMsgBytes: 2048,
        randomInt: (lo, hi) => n.rng.int(lo, hi),
      },
      n.disk,
    );
    const inc = n.incarnation;
    const tick = (): void => {
      if (n.incarnation !== inc || !n.up) return;
      n.core!.tick();
      this.touch(n);
      this.q.after(TICK_MS * n.drift, tick);
    };
    this.q.after(TICK_MS * n.drift * n.rng.float(), tick);
  }

  private crash(n: SimNode, why: string): void {
    if (!n.up) return;
    this.trace(`${why} ${n.id}${n.busy ? " (losing an unpersisted Ready)" : ""}`);
    n.up = false;
    n.core = undefined;
    n.busy = false;
    n.incarnation++;
  }

  /** After anything happened to a node: check what can be seen from outside, then run its shell. */
  private touch(n: SimNode): void {
    if (!n.up) return;
    const core = n.core!;
    const s = core.state;
    if (s.term > this.stats.maxTerm) this.stats.maxTerm = s.term;
    if (s.role === "leader") {
      this.checker.electionSafety(n.id, s.term);
      if (n.ledTerm !== s.term) {
        n.ledTerm = s.term;
        this.trace(`${n.id} leads term ${s.term} (last ${s.last}, commit ${s.commit})`);
        this.checker.leaderCompleteness(n.id, s.term, (i) => core.termAt(i), n.disk.snapshotMeta().index);
      }
    }
    this.checker.commitSeen(n.id, n.seenCommit, s.commit, (i) => core.termAt(i));
    n.seenCommit = s.commit;
    // A ReadIndex request dies with the leadership (term) it was made in.
    if (n.reads.size > 0 && (s.role !== "leader" || [...n.reads.values()].some((r) => r.term !== s.term))) {
      for (const [ctx, r] of n.reads) {
        if (s.role === "leader" && r.term === s.term) continue;
        n.reads.delete(ctx);
        r.reply({ kind: "redirect", leader: s.leader });
      }
    }
    this.pump(n);
  }

  private pump(n: SimNode): void {
    if (!n.up || n.busy || !n.core!.hasReady()) return;
    const rd = n.core!.ready();
    n.busy = true;
    const inc = n.incarnation;
    if (rd.softState) this.trace(`${n.id} ${rd.softState.role} (leader ${rd.softState.leader || "-"}) term ${n.core!.state.term}`);
    const delay = rd.mustSync ? this.net.float() * this.params.diskMaxMs : 0;
    this.q.after(delay, () => {
      if (n.incarnation === inc) this.handleReady(n, rd);
    });
  }

  /** The shell's contract: persist -> send -> install/apply -> advance. */
  private handleReady(n: SimNode, rd: Ready): void {
    n.disk.persist(rd);
    this.checker.persisted(n.id, n.hashes, rd.snapshot?.meta, rd.entries);
    for (const m of rd.messages) this.send(n, m);
    if (rd.snapshot) {
      const meta = rd.snapshot.meta;
      if (rd.snapshot.data === undefined) throw new Error(`${n.id} got a snapshot without data`);
      n.fsm = KvFsm.restore(rd.snapshot.data);
      n.appliedIndex = meta.index;
      n.appliedTerm = meta.term;
      this.checker.snapshotInstalled(n.id, meta.index, n.fsm.digest());
      this.trace(`${n.id} installed snapshot ${meta.index}/${meta.term}`);
    }
    for (const e of rd.committed) this.apply(n, e);
    for (const rs of rd.readStates) {
      const read = n.reads.get(rs.ctx);
      if (!read) continue;
      n.reads.delete(rs.ctx);
      n.readWaits.push({ index: rs.index, read });
    }
    this.serveReads(n);
    n.core!.advance(rd);
    n.busy = false;
    this.touch(n);
  }

  private apply(n: SimNode, e: Entry): void {
    if (e.index !== n.appliedIndex + 1) throw new SafetyViolation(`apply order: ${n.id} applied ${e.index} after ${n.appliedIndex}`);
    let out: KvOutput | undefined;
    let cmd: ReturnType<typeof decodeCommand> | undefined;
    if (e.type === EntryType.Command) {
      cmd = decodeCommand(e.data);
      if (cmd.client >= 0) out = n.fsm.apply(e.index, cmd);
    } else if (e.type === EntryType.Config) {
      this.configCommitted(e);
    }
    n.appliedIndex = e.index;
    n.appliedTerm = e.term;
    this.checker.entryApplied(n.id, e, n.fsm.digest());
    if (cmd && cmd.client < 0 && cmd.seq === this.probe?.seq) this.probeApplied(e.index);
    const w = n.writes.get(e.index);
    if (w) {
      n.writes.delete(e.index);
      if (cmd && out && cmd.client === w.client && cmd.seq === w.seq) w.reply({ kind: "ok", out, index: e.index });
      else w.reply({ kind: "fail", why: "overwritten" }); // another entry won this index: ours is gone for good
    }
  }

  private serveReads(n: SimNode): void {
    if (n.readWaits.length === 0) return;
    const keep: typeof n.readWaits = [];
    for (const w of n.readWaits) {
      if (w.index > n.appliedIndex) keep.push(w);
      else this.answerRead(n, w.read.req, w.read.reply);
    }
    n.readWaits = keep;
  }

  private answerRead(n: SimNode, req: Request, reply: (r: Reply) => void): void {
    this.checker.readServed(n.id, req.call, n.appliedIndex, `get ${req.key}`);
    reply({ kind: "ok", out: n.fsm.get(req.key), index: n.appliedIndex });
  }

  // --- clients' requests, as a server would handle them ---

  private clientRequest(to: string, req: Request, reply: (r: Reply) => void): void {
    const back = (r: Reply): void => this.q.after(this.clientDelay(), () => reply(r));
    this.q.after(this.clientDelay(), () => {
      const n = this.nodes.get(to);
      if (!n || !n.up) return; // lost with the node: the client times out
      const core = n.core!;
      const s = core.state;
      if (req.input.f === "get") {
        if (this.opts.bugs?.unsafeReads && s.role === "leader") return this.answerRead(n, req, back);
        if (s.role !== "leader") return back({ kind: "redirect", leader: s.leader });
        const read: PendingRead = { req, term: s.term, reply: back };
        if (req.lease && core.leaseValid()) {
          this.stats.leaseReads++;
          n.readWaits.push({ index: s.commit, read });
          this.serveReads(n);
          return;
        }
        const ctx = `${n.id}/${n.incarnation}/${n.readSeq++}`;
        core.readIndex(ctx);
        n.reads.set(ctx, read);
        this.touch(n);
        return;
      }
      try {
        const index = core.propose(encodeCommand({ client: req.client, seq: req.seq, key: req.key, input: req.input }));
        n.writes.set(index, { client: req.client, seq: req.seq, reply: back });
      } catch (err) {
        if (err instanceof NotLeaderError) return back({ kind: "redirect", leader: err.leader });
        if (err instanceof ProposalDroppedError) return back({ kind: "fail", why: err.message });
        throw err;
      }
      this.touch(n);
    });
  }

  private clientDelay(): number {
    return 1 + this.net.float() * 4;
  }

  // --- the network ---

  private send(from: SimNode, m: Message): void {
    if (m.type === "snapshot") {
      // The shell attaches its newest snapshot, which may be newer than the one the core named.
      m = { ...m, meta: from.disk.snapshotMeta(), data: from.disk.snapData };
      this.stats.snapshotsSent++;
    }
    if (this.opts.bugs?.doubleVote && m.type === "voteResp" && m.reject) m = { ...m, reject: false };
    if (this.blocked.has(`${m.from}>${m.to}`) || this.net.float() < this.params.lossRate) {
      this.stats.dropped++;
      return;
    }
    const copies = this.net.float() < this.params.dupRate ? 2 : 1;
    for (let i = 0; i < copies; i++) this.q.after(this.netDelay(), () => this.deliver(m));
  }

  private netDelay(): number {
    const p = this.params;
    if (this.net.float() < p.tailRate) return p.maxDelayMs + this.net.float() * 150;
    return 0.5 + this.net.float() * p.maxDelayMs;
  }

  private deliver(m: Message): void {
    const n = this.nodes.get(m.to);
    if (!n || !n.up || this.blocked.has(`${m.from}>${m.to}`)) return;
    n.core!.step(m);
    this.touch(n);
  }

  // --- faults, operators, healing ---

  private scheduleFaults(): void {
    const p = this.params;
    const every = (meanMs: number, what: () => void): void => {
      if (!Number.isFinite(meanMs)) return;
      const loop = (): void => {
        if (this.phase !== "safety") return;
        what();
        this.q.after(meanMs * (0.5 + this.faults.float()), loop);
      };
      this.q.after(meanMs * (0.5 + this.faults.float()), loop);
    };
    every(p.crashEveryMs, () => this.crashSome());
    every(p.partitionEveryMs, () => this.partition());
    every(p.snapshotEveryMs, () => this.snapshotSome());
    every(p.confEveryMs, () => this.changeMembership());
    every(p.transferEveryMs, () => this.transfer());
  }

  private live(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.live()) {
      const s = n.core!.state;
      if (s.role === "leader" && (!best || s.term > best.core!.state.term)) best = n;
    }
    return best;
  }

  private crashSome(): void {
    const up = this.live().filter((n) => !n.decommissioned);
    if (up.length === 0) return;
    const n = up[this.faults.int(0, up.length - 1)]!;
    this.stats.crashes++;
    this.crash(n, "crash");
    this.q.after(30 + this.faults.float() * 700, () => this.restart(n));
  }

  private restart(n: SimNode): void {
    if (n.up || n.decommissioned) return;
    this.trace(`restart ${n.id} (disk: last ${n.disk.lastIndex()}, snapshot ${n.disk.snapshotMeta().index}, term ${n.disk.hardState().term})`);
    this.boot(n);
  }

  private partition(): void {
    if (this.partitioned) return;
    const ids = [...this.nodes.values()].filter((n) => !n.decommissioned).map((n) => n.id);
    const mode = this.faults.int(0, 3);
    const leader = this.leader()?.id;
    let desc: string;
    if (mode === 0 || (mode === 3 && !leader)) {
      const side = ids.filter(() => this.faults.float() < 0.5);
      for (const a of side) for (const b of ids) if (!side.includes(b)) this.cut(a, b, true);
      desc = `split {${side.join(",")}} | rest`;
    } else if (mode === 1) {
      const pairs: string[] = [];
      for (const a of ids) for (const b of ids) if (a !== b && this.faults.float() < 0.3) {
        this.cut(a, b, false);
        pairs.push(`${a}>${b}`);
      }
      desc = `one-way ${pairs.join(" ")}`;
    } else {
      const l = leader ?? ids[0]!;
      const how = this.faults.int(0, 2); // both ways, deaf, mute
      for (const b of ids) {
        if (b === l) continue;
        if (how !== 2) this.blocked.add(`${b}>${l}`);
        if (how !== 1) this.blocked.add(`${l}>${b}`);
      }
      desc = `isolate leader ${l} ${["both ways", "inbound", "outbound"][how]}`;
    }
    this.partitioned = true;
    this.stats.partitions++;
    this.trace(`partition: ${desc}`);
    this.q.after(50 + this.faults.float() * 1200, () => {
      if (this.phase !== "safety") return;
      this.blocked.clear();
      this.partitioned = false;
      this.trace("partition healed");
    });
  }

  private cut(a: string, b: string, both: boolean): void {
    this.blocked.add(`${a}>${b}`);
    if (both) this.blocked.add(`${b}>${a}`);
  }

  /** A node writes a snapshot at its applied index and compacts its log behind it. */
  private snapshotSome(): void {
    const up = this.live().filter((n) => n.appliedIndex > n.disk.snapshotMeta().index);
    if (up.length === 0) return;
    const n = up[this.faults.int(0, up.length - 1)]!;
    const meta = { index: n.appliedIndex, term: n.appliedTerm, config: n.core!.appliedConfig() };
    n.disk.saveSnapshot(meta, n.fsm.snapshot());
    const keep = this.faults.int(0, 8);
    const upTo = Math.max(0, meta.index - keep);
    n.disk.compact(upTo);
    this.checker.compacted(n.hashes, upTo);
    this.stats.snapshots++;
    this.trace(`${n.id} snapshot at ${meta.index}, log from ${n.disk.firstIndex()}`);
  }

  /** Autopilot-like operator: add a nonvoter, promote it once caught up, remove a member (the leader too). */
  private changeMembership(): void {
    const l = this.leader();
    if (!l) return;
    const core = l.core!;
    const cfg = core.config();
    const members = [...cfg.voters, ...cfg.nonvoters];
    const caughtUp = core.progress().filter((p) => !p.voter && p.match >= core.state.commit && p.lastContactTicks < ELECTION_TICKS);
    const choices: (() => void)[] = [];
    if (members.length < this.opts.nodes + 2) {
      choices.push(() => {
        const idle = [...this.nodes.values()].find((n) => !n.wasMember && n.up && !members.includes(n.id));
        const n = idle ?? this.spawn(`n${this.nextId++}`, []);
        this.propose(l, { op: "addNonvoter", id: n.id });
      });
    }
    if (caughtUp.length > 0) choices.push(() => this.propose(l, { op: "promote", id: caughtUp[0]!.id }));
    if (cfg.voters.length > 3 || cfg.nonvoters.length > 0) {
      choices.push(() => {
        const pool = cfg.voters.length > 3 ? members : cfg.nonvoters;
        // Now and then the leader removes itself.
        const id = cfg.voters.length > 3 && this.faults.float() < 0.3 ? l.id : pool[this.faults.int(0, pool.length - 1)]!;
        this.propose(l, { op: "remove", id });
      });
    }
    if (choices.length > 0) choices[this.faults.int(0, choices.length - 1)]!();
  }

  private propose(l: SimNode, cc: { op: "addNonvoter" | "promote" | "remove"; id: string }): void {
    try {
      const index = l.core!.proposeConfChange(cc);
      this.stats.confChanges++;
      this.trace(`${l.id} proposes ${cc.op} ${cc.id} at ${index}`);
      this.touch(l);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError || err instanceof NotLeaderError)) throw err;
    }
  }

  /** A configuration entry was applied: once committed, members it dropped are shut down. */
  private configCommitted(e: Entry): void {
    // Nodes catching up apply old configurations too; only a newer one changes who is a member.
    if (e.index <= this.newestConfigIndex) return;
    this.newestConfigIndex = e.index;
    const cfg = decodeConfiguration(e.data);
    const members = new Set([...cfg.voters, ...cfg.nonvoters]);
    for (const n of this.nodes.values()) {
      if (members.has(n.id)) n.wasMember = true;
      else if (n.wasMember && !n.decommissioned) {
        n.decommissioned = true;
        this.trace(`${n.id} removed by the configuration at ${e.index}; shutting it down soon`);
        this.q.after(20 + this.faults.float() * 200, () => this.crash(n, "decommission"));
      }
    }
  }

  private transfer(): void {
    const l = this.leader();
    if (!l) return;
    const voters = l.core!.config().voters.filter((v) => v !== l.id);
    if (voters.length === 0) return;
    const to = voters[this.faults.int(0, voters.length - 1)]!;
    try {
      l.core!.transferLeadership(to);
      this.stats.transfers++;
      this.trace(`${l.id} transfers leadership to ${to}`);
      this.touch(l);
    } catch (err) {
      if (!(err instanceof NotLeaderError)) throw err;
    }
  }

  /** Ends the safety phase: the network becomes perfect and every member comes back. */
  private heal(): void {
    this.phase = "liveness";
    this.blocked.clear();
    this.partitioned = false;
    this.params.lossRate = 0;
    this.params.dupRate = 0;
    this.params.tailRate = 0;
    this.trace("heal: network perfect, all members restarted");
    for (const n of this.nodes.values()) if (!n.up && !n.decommissioned) this.restart(n);
    const loop = (): void => {
      if (this.livenessAt !== undefined) return;
      this.tryProbe();
      this.q.after(50, loop);
    };
    loop();
  }

  /** Liveness: some leader commits a new entry, and every live member applies it. */
  private tryProbe(): void {
    if (this.probe) {
      const holder = this.nodes.get(this.probe.node);
      if (holder?.up && holder.core!.state.role === "leader") return;
    }
    const l = this.leader();
    if (!l) return;
    try {
      const seq = ++this.probeSeq;
      const index = l.core!.propose(encodeCommand({ client: -1, seq, key: "", input: { f: "get" } }));
      this.probe = { seq, index, node: l.id };
      this.touch(l);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError || err instanceof NotLeaderError)) throw err;
    }
  }

  private probeApplied(index: number): void {
    const members = [...this.nodes.values()].filter((m) => m.up && !m.decommissioned && m.wasMember);
    if (members.every((m) => m.appliedIndex >= index)) {
      this.livenessAt = this.q.now;
      this.trace(`liveness: probe at ${index} applied on every member`);
    }
  }

  private describe(): string {
    return [...this.nodes.values()]
      .filter((n) => !n.decommissioned)
      .map((n) => (n.up ? `${n.id}:${n.core!.state.role}/t${n.core!.state.term}/c${n.core!.state.commit}/a${n.appliedIndex}` : `${n.id}:down`))
      .join(" ");
  }

  private trace(line: string): void {
    this.traceRing.push(`${this.q.now.toFixed(1).padStart(8)} ${line}`);
    const max = this.opts.traceLines ?? 400;
    if (this.traceRing.length > max) this.traceRing.splice(0, this.traceRing.length - max);
  }
}

export function runSim(opts: SimOptions): SimResult {
  return new RaftSim(opts).run();
}

export function replayCommand(r: { seed: number; nodes: number }): string {
  return `RAFT_SIM_SEED=${r.seed} RAFT_SIM_NODES=${r.nodes} bun test test/sim/raft.test.ts`;
}
