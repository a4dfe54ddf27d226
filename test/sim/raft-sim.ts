import { Prng } from "../../src/lib/prng.ts";
import { decodeConfiguration } from "../../src/raft/core/conf.ts";
import { NotLeaderError, ProposalDroppedError } from "../../src/raft/core/raft.ts";
import { type ConfChange, type Entry, EntryType, type Message } from "../../src/raft/core/types.ts";
import { EventQueue } from "./event-queue.ts";
import { encodeCommand, type KvCommand } from "./kv-fsm.ts";
import { checkKvHistory, type Op } from "./linearizability.ts";
import { RaftChecker, SafetyViolation } from "./raft-checks.ts";
import { Clients } from "./raft-sim-clients.ts";
import { type Bugs, ELECTION_TICKS, type NodeHost, SimNode } from "./raft-sim-node.ts";

export type { Bugs } from "./raft-sim-node.ts";

// A seeded Raft cluster in one process, as TigerBeetle's VOPR tests itself: pure cores, a
// shell per node (raft-sim-node.ts) that handles each Ready in the documented order against a
// simulated disk, a network that loses, delays, duplicates, reorders and partitions messages,
// crashes and restarts from disk, snapshots with compaction, membership changes and
// leadership transfers, and KV clients (raft-sim-clients.ts) whose history is checked for
// linearizability at the end. Safety is checked after every event (raft-checks.ts); then
// every fault heals and the cluster must elect a leader and commit within a bound. One seed
// replays one run exactly.

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
  pauseEveryMs: number;
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

export function drawParams(rng: Prng): SimParams {
  const pick = <T>(xs: T[]): T => xs[rng.int(0, xs.length - 1)]!;
  return {
    lossRate: pick([0, 0.01, 0.05, 0.15]),
    dupRate: pick([0, 0.02, 0.1]),
    maxDelayMs: pick([3, 10, 25]),
    tailRate: pick([0, 0.01, 0.05]),
    diskMaxMs: pick([0, 2, 8]),
    crashEveryMs: pick([Number.POSITIVE_INFINITY, 1200, 400]),
    pauseEveryMs: pick([Number.POSITIVE_INFINITY, 700]),
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

export class RaftSim implements NodeHost {
  readonly q = new EventQueue();
  readonly checker = new RaftChecker();
  readonly params: SimParams;
  readonly bugs: Bugs;
  readonly nodes = new Map<string, SimNode>();
  readonly clients: Clients;
  readonly stats = {
    events: 0,
    crashes: 0,
    pauses: 0,
    partitions: 0,
    snapshots: 0,
    snapshotsSent: 0,
    confChanges: 0,
    transfers: 0,
    leaseReads: 0,
    maxTerm: 0,
    dropped: 0,
    livenessMs: 0,
  };
  private readonly rng: Prng;
  private readonly net: Prng;
  private readonly faults: Prng;
  private readonly blocked = new Set<string>();
  private partitioned = false;
  private phase: "safety" | "liveness" | "drain" = "safety";
  private nextId: number;
  private readonly traceRing: string[] = [];
  private healedAt = 0;
  private livenessAt: number | undefined;
  private probe: { seq: number; index: number; node: string } | undefined;
  private probeSeq = 0;
  private newestConfigIndex = 0;

  constructor(private readonly opts: SimOptions) {
    this.rng = Prng.fromSeed(opts.seed);
    this.params = drawParams(this.rng.fork());
    this.bugs = opts.bugs ?? {};
    this.net = this.rng.fork();
    this.faults = this.rng.fork();
    const founders = Array.from({ length: opts.nodes }, (_, i) => `n${i + 1}`);
    this.nextId = opts.nodes + 1;
    for (const id of founders) this.spawn(id, founders);
    const p = this.params;
    this.clients = new Clients(
      {
        q: this.q,
        request: (to, req, reply) => {
          const back = (r: Parameters<typeof reply>[0]): void => this.q.after(this.clientDelay(), () => reply(r));
          this.q.after(this.clientDelay(), () => this.nodes.get(to)?.request(req, back));
        },
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
    let lin = "not reached";
    try {
      this.trace(`seed ${this.opts.seed} nodes ${this.opts.nodes} ${JSON.stringify(this.params)}`);
      this.clients.start();
      this.scheduleFaults();
      this.runUntil(safetyMs);
      this.heal();
      this.runUntil(safetyMs + livenessMs, () => this.livenessAt !== undefined);
      if (this.livenessAt === undefined) {
        throw new SafetyViolation(`liveness: no leader committed a new entry on every member within ${livenessMs} ms of healing (${this.describe()})`);
      }
      this.phase = "drain";
      this.clients.stopped = true;
      this.runUntil(this.q.now + 2000, () => !this.clients.busy());
      const verdict = checkKvHistory(this.clients.history, { timeoutMs: 5000 });
      lin = verdict.result;
      if (verdict.result === "illegal") throw new SafetyViolation(`linearizability: ${verdict.report ?? verdict.key}`);
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
      stats: {
        ...this.stats,
        lin,
        ops: c.ops,
        okOps: c.ok,
        unknownOps: c.unknown,
        reads: c.reads,
        maxCommitted: this.checker.maxCommitted,
        simMs: Math.round(this.q.now),
      },
    };
  }

  private runUntil(until: number, stop?: () => boolean): void {
    while (this.q.now < until) {
      if (stop?.()) return;
      this.q.runUntil(Math.min(until, this.q.now + 50), () => {
        if (++this.stats.events > 3_000_000) throw new Error("event budget exhausted");
      });
    }
  }

  private spawn(id: string, bootstrap: string[]): SimNode {
    const n = new SimNode(id, bootstrap, this.rng.fork(), this.params.driftMax, this);
    this.nodes.set(id, n);
    n.boot();
    return n;
  }

  // --- NodeHost ---

  diskDelay(): number {
    return this.net.float() * this.params.diskMaxMs;
  }

  applied(_n: SimNode, e: Entry, cmd: KvCommand | undefined): void {
    if (e.type === EntryType.Config) this.configApplied(e);
    if (cmd && cmd.client < 0 && cmd.seq === this.probe?.seq) this.probeApplied(e.index);
  }

  trace(line: string): void {
    this.traceRing.push(`${this.q.now.toFixed(1).padStart(8)} ${line}`);
    const max = this.opts.traceLines ?? 400;
    if (this.traceRing.length > max) this.traceRing.splice(0, this.traceRing.length - max);
  }

  // --- the network ---

  send(from: SimNode, m: Message): void {
    if (m.type === "snapshot") {
      // The shell attaches its newest snapshot, which may be newer than the one the core named.
      m = { ...m, meta: from.disk.snapshotMeta(), data: from.disk.snapData };
      this.stats.snapshotsSent++;
    }
    if (this.bugs.doubleVote && m.type === "voteResp" && m.reject) m = { ...m, reject: false };
    if (this.blocked.has(`${m.from}>${m.to}`) || this.net.float() < this.params.lossRate) {
      this.stats.dropped++;
      return;
    }
    const copies = this.net.float() < this.params.dupRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.q.after(this.netDelay(), () => {
        if (!this.blocked.has(`${m.from}>${m.to}`)) this.nodes.get(m.to)?.step(m);
      });
    }
  }

  private netDelay(): number {
    const p = this.params;
    if (this.net.float() < p.tailRate) return p.maxDelayMs + this.net.float() * 150;
    return 0.5 + this.net.float() * p.maxDelayMs;
  }

  private clientDelay(): number {
    return 1 + this.net.float() * 4;
  }

  // --- faults and operators (the nemesis) ---

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
    every(p.pauseEveryMs, () => this.pauseSome());
    every(p.partitionEveryMs, () => this.partition());
    every(p.snapshotEveryMs, () => this.snapshotSome());
    every(p.confEveryMs, () => this.changeMembership());
    every(p.transferEveryMs, () => this.transfer());
  }

  private live(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.running);
  }

  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.live()) {
      const s = n.state!;
      if (s.role === "leader" && (!best || s.term > best.state!.term)) best = n;
    }
    return best;
  }

  private crashSome(): void {
    const up = [...this.nodes.values()].filter((n) => n.up && !n.decommissioned);
    if (up.length === 0) return;
    const n = up[this.faults.int(0, up.length - 1)]!;
    this.stats.crashes++;
    n.crash("crash");
    this.q.after(30 + this.faults.float() * 700, () => this.restart(n));
  }

  /** A process stop (SIGSTOP, a long GC), often of the leader: the world goes on without it. */
  private pauseSome(): void {
    const up = this.live();
    if (up.length === 0) return;
    const l = this.leader();
    const n = l && this.faults.float() < 0.5 ? l : up[this.faults.int(0, up.length - 1)]!;
    this.stats.pauses++;
    n.pause();
    this.q.after(50 + this.faults.float() * 600, () => n.resume());
  }

  private restart(n: SimNode): void {
    if (n.up || n.decommissioned) return;
    this.trace(`restart ${n.id} (disk: last ${n.disk.lastIndex()}, snapshot ${n.disk.snapshotMeta().index}, term ${n.disk.hardState().term})`);
    n.boot();
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
      for (const a of ids) {
        for (const b of ids) {
          if (a === b || this.faults.float() >= 0.3) continue;
          this.cut(a, b, false);
          pairs.push(`${a}>${b}`);
        }
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

  private snapshotSome(): void {
    const up = this.live().filter((n) => n.appliedIndex > n.disk.snapshotMeta().index);
    if (up.length === 0) return;
    up[this.faults.int(0, up.length - 1)]!.snapshot(this.faults.int(0, 8));
    this.stats.snapshots++;
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
        this.proposeChange(l, { op: "addNonvoter", id: n.id });
      });
    }
    if (caughtUp.length > 0) choices.push(() => this.proposeChange(l, { op: "promote", id: caughtUp[0]!.id }));
    if (cfg.voters.length > 3 || cfg.nonvoters.length > 0) {
      choices.push(() => {
        const pool = cfg.voters.length > 3 ? members : cfg.nonvoters;
        // Now and then the leader removes itself.
        const id = cfg.voters.length > 3 && this.faults.float() < 0.3 ? l.id : pool[this.faults.int(0, pool.length - 1)]!;
        this.proposeChange(l, { op: "remove", id });
      });
    }
    if (choices.length > 0) choices[this.faults.int(0, choices.length - 1)]!();
  }

  private proposeChange(l: SimNode, cc: ConfChange): void {
    try {
      const index = l.core!.proposeConfChange(cc);
      this.stats.confChanges++;
      this.trace(`${l.id} proposes ${cc.op} ${cc.id} at ${index}`);
      l.touch();
    } catch (err) {
      if (!(err instanceof ProposalDroppedError || err instanceof NotLeaderError)) throw err;
    }
  }

  /** A configuration entry was applied: once committed, members it dropped are shut down. */
  private configApplied(e: Entry): void {
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
        this.q.after(20 + this.faults.float() * 200, () => n.crash("decommission"));
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
      l.touch();
    } catch (err) {
      if (!(err instanceof NotLeaderError)) throw err;
    }
  }

  // --- liveness ---

  /** Ends the safety phase: the network becomes perfect and every member comes back. */
  private heal(): void {
    this.phase = "liveness";
    this.healedAt = this.q.now;
    this.blocked.clear();
    this.partitioned = false;
    this.params.lossRate = 0;
    this.params.dupRate = 0;
    this.params.tailRate = 0;
    this.trace("heal: network perfect, all members restarted");
    for (const n of this.nodes.values()) {
      n.resume();
      if (!n.up && !n.decommissioned) this.restart(n);
    }
    const loop = (): void => {
      if (this.livenessAt !== undefined) return;
      this.tryProbe();
      this.q.after(50, loop);
    };
    loop();
  }

  /** Some leader proposes a probe entry; liveness holds once every live member applied it. */
  private tryProbe(): void {
    if (this.probe && this.nodes.get(this.probe.node)?.state?.role === "leader") return;
    const l = this.leader();
    if (!l) return;
    try {
      const seq = ++this.probeSeq;
      const index = l.core!.propose(encodeCommand({ client: -1, seq, key: "", input: { f: "get" } }));
      this.probe = { seq, index, node: l.id };
      l.touch();
    } catch (err) {
      if (!(err instanceof ProposalDroppedError || err instanceof NotLeaderError)) throw err;
    }
  }

  private probeApplied(index: number): void {
    const members = [...this.nodes.values()].filter((m) => m.up && !m.decommissioned && m.wasMember);
    if (members.every((m) => m.appliedIndex >= index)) {
      this.livenessAt = this.q.now;
      this.stats.livenessMs = Math.round(this.q.now - this.healedAt);
      this.trace(`liveness: probe at ${index} applied on every member`);
    }
  }

  private describe(): string {
    return [...this.nodes.values()]
      .filter((n) => !n.decommissioned)
      .map((n) => n.describe())
      .join(" ");
  }
}

export function runSim(opts: SimOptions): SimResult {
  return new RaftSim(opts).run();
}

export function replayCommand(r: { seed: number; nodes: number }): string {
  return `RAFT_SIM_SEED=${r.seed} RAFT_SIM_NODES=${r.nodes} bun test test/sim/raft.test.ts`;
}
