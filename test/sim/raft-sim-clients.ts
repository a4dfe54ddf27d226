import type { Prng } from "../../src/lib/prng.ts";
import type { EventQueue } from "./event-queue.ts";
import { type KvInput, type KvOutput, type Op, UNKNOWN } from "./linearizability.ts";

// Simulated clients of the KV store. Each runs one operation at a time against whoever it
// believes leads, follows redirects, retries reads anywhere, and gives up at a deadline.
// A write is retried only after a definite "not applied" (redirect, refused, overwritten);
// once an attempt may have been proposed and we hear nothing, the write ends UNKNOWN with
// ret = Infinity, because retrying it would write its unique value twice.

export type Reply = { kind: "ok"; out: KvOutput; index: number } | { kind: "redirect"; leader: string } | { kind: "fail"; why: string };

export interface Request {
  client: number;
  seq: number;
  key: string;
  input: KvInput;
  call: number;
  /** Read through the lease when the leader holds one. */
  lease: boolean;
}

export interface ClientHost {
  readonly q: EventQueue;
  /** Delivers `req` to node `to` (if it is up); `reply` travels back over the client network. */
  request(to: string, req: Request, reply: (r: Reply) => void): void;
  /** Nodes a client may try when it knows no leader. */
  candidates(): string[];
  writeAcked(index: number): void;
  trace(line: string): void;
}

export interface ClientOptions {
  clients: number;
  keys: number;
  leaseReadRate: number;
  attemptTimeoutMs: number;
  opTimeoutMs: number;
}

interface Active {
  op: Op;
  seq: number;
  attempt: number;
  deadline: number;
  to: string;
}

interface Client {
  id: number;
  seq: number;
  guess: string | undefined;
  /** ModifyIndex last read per key, for cas and delete-cas. */
  lastIdx: Map<string, number>;
  active: Active | undefined;
}

export class Clients {
  readonly history: Op[] = [];
  stopped = false;
  readonly stats = { ops: 0, ok: 0, unknown: 0, dropped: 0, reads: 0 };
  private readonly clients: Client[] = [];

  constructor(
    private readonly host: ClientHost,
    private readonly rng: Prng,
    private readonly opts: ClientOptions,
  ) {
    for (let i = 0; i < opts.clients; i++) this.clients.push({ id: i, seq: 0, guess: undefined, lastIdx: new Map(), active: undefined });
  }

  start(): void {
    for (const c of this.clients) this.host.q.after(this.rng.int(0, 20), () => this.next(c));
  }

  busy(): boolean {
    return this.clients.some((c) => c.active !== undefined);
  }

  private next(c: Client): void {
    if (this.stopped) return;
    const key = `k${this.rng.int(0, this.opts.keys - 1)}`;
    const seq = ++c.seq;
    const v = `c${c.id}-${seq}`;
    const idx = c.lastIdx.get(key) ?? this.rng.int(1, 50);
    const r = this.rng.float();
    const input: KvInput =
      r < 0.4
        ? { f: "get" }
        : r < 0.62
          ? { f: "put", v }
          : r < 0.77
            ? { f: "cas", idx, v }
            : r < 0.84
              ? { f: "cas0", v }
              : r < 0.92
                ? { f: "del" }
                : { f: "delcas", idx };
    const op: Op = { client: c.id, key, input, output: UNKNOWN, call: this.host.q.now, ret: Number.POSITIVE_INFINITY };
    c.active = { op, seq, attempt: 0, deadline: this.host.q.now + this.opts.opTimeoutMs, to: "" };
    this.stats.ops++;
    if (input.f === "get") this.stats.reads++;
    this.send(c);
  }

  private send(c: Client): void {
    const a = c.active!;
    const attempt = ++a.attempt;
    const all = this.host.candidates();
    // Now and then a client's routing is stale (a load balancer, an old address): any server.
    const trustGuess = c.guess !== undefined && all.includes(c.guess) && this.rng.float() >= 0.2;
    const to = trustGuess ? c.guess! : all[this.rng.int(0, all.length - 1)]!;
    const lease = a.op.input.f === "get" && this.rng.float() < this.opts.leaseReadRate;
    const req: Request = { client: c.id, seq: a.seq, key: a.op.key, input: a.op.input, call: a.op.call, lease };
    a.to = to;
    this.host.request(to, req, (r) => this.onReply(c, a, attempt, r));
    this.host.q.after(this.opts.attemptTimeoutMs, () => this.onTimeout(c, a, attempt));
  }

  private onReply(c: Client, a: Active, attempt: number, r: Reply): void {
    if (c.active !== a || a.attempt !== attempt) return;
    if (r.kind === "ok") {
      if (a.op.input.f === "get") {
        const out = r.out;
        if (out !== UNKNOWN && out.idx !== undefined) c.lastIdx.set(a.op.key, out.idx);
      } else {
        this.host.writeAcked(r.index);
      }
      this.finish(c, r.out);
      return;
    }
    c.guess = r.kind === "redirect" && r.leader !== "" ? r.leader : undefined;
    // Definitely not applied: try again, a little later, unless out of time.
    const backoff = this.rng.int(5, 30);
    if (this.host.q.now + backoff >= a.deadline) {
      this.drop(c);
      return;
    }
    this.host.q.after(backoff, () => {
      if (c.active === a && a.attempt === attempt) this.send(c);
    });
  }

  private onTimeout(c: Client, a: Active, attempt: number): void {
    if (c.active !== a || a.attempt !== attempt) return;
    c.guess = undefined;
    if (a.op.input.f !== "get") {
      // It may have been proposed, and may yet commit: its effect is unknown forever.
      this.host.trace(`client ${c.id}: ${a.op.input.f} ${a.op.key} (c${c.id}-${a.seq}) to ${a.to} timed out: UNKNOWN`);
      this.finish(c, UNKNOWN);
      return;
    }
    if (this.host.q.now >= a.deadline) this.drop(c);
    else this.send(c);
  }

  private finish(c: Client, out: KvOutput): void {
    const a = c.active!;
    a.op.output = out;
    a.op.ret = out === UNKNOWN ? Number.POSITIVE_INFINITY : this.host.q.now;
    this.history.push(a.op);
    if (out === UNKNOWN) this.stats.unknown++;
    else this.stats.ok++;
    this.done(c);
  }

  /** Definitely without effect (or a read): it leaves no trace in the history. */
  private drop(c: Client): void {
    this.stats.dropped++;
    this.done(c);
  }

  private done(c: Client): void {
    c.active = undefined;
    this.host.q.after(this.rng.int(0, 30), () => this.next(c));
  }
}
