import { decodePacket } from "../../src/gossip/messages.ts";
import { type Address, lanConfig, Memberlist, type MemberState } from "../../src/gossip/memberlist.ts";
import { ipToBytes, peerIp } from "../../src/lib/ip.ts";
import { Prng } from "../../src/lib/prng.ts";

// A whole memberlist cluster in one process: the pure cores, a virtual clock, and a seeded
// network that delays (and so reorders), drops, duplicates and partitions datagrams. Push/pull exchanges happen at once
// when both ends can reach each other. The same seed replays the same run exactly.

export interface SimOptions {
  nodes: number;
  seed: number;
  lossRate: number;
  /** Chance a datagram is delivered twice (each copy with its own delay, so also reordered). */
  dupRate?: number;
  minDelayMs: number;
  maxDelayMs: number;
  stepMs: number;
}

interface InFlight {
  at: number;
  to: string;
  from: Address;
  bytes: Uint8Array;
}

export class GossipSim {
  readonly cores = new Map<string, Memberlist>();
  private readonly byIp = new Map<string, string>();
  private readonly crashed = new Set<string>();
  /** Pairs (a|b) that cannot reach each other, in either direction. */
  private readonly cut = new Set<string>();
  private queue: InFlight[] = [];
  private readonly net: Prng;
  now = 0;
  delivered = 0;
  dropped = 0;
  /** Every state change, for replay checks. */
  readonly trace: string[] = [];

  constructor(private readonly opts: SimOptions) {
    const root = Prng.fromSeed(opts.seed);
    this.net = root.fork();
    for (let i = 0; i < opts.nodes; i++) {
      const name = `n${i}`;
      const ip = `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`;
      const rng = root.fork();
      const cfg = lanConfig({ name, addr: ipToBytes(ip), port: 8301, meta: null, vsn: Uint8Array.of(1, 5, 2, 2, 5, 4) });
      this.cores.set(name, new Memberlist(cfg, () => rng.float(), 0));
      this.byIp.set(ip, name);
    }
  }

  /** Node `name` joins through `seed` (a push/pull, as memberlist's Join). */
  join(name: string, seed: string): boolean {
    return this.exchange(name, seed, true);
  }

  crash(name: string): void {
    this.crashed.add(name);
  }

  partition(a: string[], b: string[]): void {
    for (const x of a) for (const y of b) this.cut.add(pairKey(x, y));
  }

  heal(): void {
    this.cut.clear();
  }

  /** Runs the cluster for `ms` of virtual time. */
  run(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += this.opts.stepMs;
      const due = this.queue.filter((m) => m.at <= this.now);
      this.queue = this.queue.filter((m) => m.at > this.now);
      for (const m of due) {
        const core = this.cores.get(m.to)!;
        if (this.crashed.has(m.to)) continue;
        const users = core.handlePacket(decodePacket(m.bytes), m.from, this.now);
        void users;
        this.drain(m.to);
      }
      for (const [name, core] of this.cores) {
        if (this.crashed.has(name)) continue;
        core.tick(this.now);
        this.drain(name);
      }
    }
  }

  /** What `observer` thinks of `subject`. */
  view(observer: string, subject: string): MemberState | undefined {
    return this.cores.get(observer)!.get(subject)?.state;
  }

  live(): string[] {
    return [...this.cores.keys()].filter((n) => !this.crashed.has(n));
  }

  private reachable(a: string, b: string): boolean {
    return !this.crashed.has(a) && !this.crashed.has(b) && !this.cut.has(pairKey(a, b));
  }

  private exchange(from: string, to: string, join: boolean): boolean {
    if (!this.reachable(from, to)) return false;
    const a = this.cores.get(from)!;
    const b = this.cores.get(to)!;
    const mine = a.localState(join, new Uint8Array(0));
    const theirs = b.localState(join, new Uint8Array(0));
    b.mergeRemoteState(mine, this.now);
    a.mergeRemoteState(theirs, this.now);
    this.drain(from);
    this.drain(to);
    return true;
  }

  private drain(name: string): void {
    const core = this.cores.get(name)!;
    for (const e of core.takeEffects()) {
      const to = this.byIp.get(e.to.ip);
      if (!to) continue;
      if (e.kind === "pushPull") {
        this.exchange(name, to, false);
        continue;
      }
      if (e.kind === "tcpPing") {
        // TCP is reliable when the path exists: the ack comes back or the connect fails.
        if (this.reachable(name, to) && this.cores.get(to)!.answerStreamPing(e.node, e.seqNo)) core.streamAck(e.seqNo);
        continue;
      }
      if (!this.reachable(name, to) || this.net.float() < this.opts.lossRate) {
        this.dropped++;
        continue;
      }
      const copies = this.net.float() < (this.opts.dupRate ?? 0) ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        const delay = this.opts.minDelayMs + this.net.float() * (this.opts.maxDelayMs - this.opts.minDelayMs);
        this.queue.push({ at: this.now + delay, to, from: { ip: peerIp(core.cfg.addr), port: core.cfg.port }, bytes: e.bytes });
        this.delivered++;
      }
    }
    for (const ev of core.takeEvents()) this.trace.push(`${this.now} ${name} ${ev.kind} ${ev.member.name}`);
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
