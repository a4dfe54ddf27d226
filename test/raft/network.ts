import { RaftCore } from "../../src/raft/core/raft.ts";
import type { Entry, Message, MessageType, RaftConfig, ReadState } from "../../src/raft/core/types.ts";
import { MemoryStorage } from "./memory-storage.ts";

// A tiny synchronous cluster for scripted scenarios, after the `network` at the bottom of
// etcd's raft_test.go: stabilize() handles every Ready (persist, collect messages, apply,
// advance) and delivers messages until nothing moves; cut/isolate/ignore shape delivery.

export interface TestNode {
  core: RaftCore;
  storage: MemoryStorage;
  applied: Entry[];
  readStates: ReadState[];
  installed: number[];
}

export const electionTicks = 10;

export class Network {
  readonly nodes = new Map<string, TestNode>();
  private readonly blocked = new Set<string>();
  private readonly ignored = new Set<MessageType>();
  /** Every message delivered or dropped, for assertions on traffic. */
  readonly trace: { msg: Message; delivered: boolean }[] = [];
  /** Sees each message before delivery; returning false drops it. */
  hook: ((m: Message) => boolean) | undefined;

  constructor(
    ids: string[],
    private readonly overrides: Partial<RaftConfig> = {},
  ) {
    for (const id of ids) this.add(id, ids);
  }

  /** Starts a node on its own storage; `voters` is its bootstrap configuration. */
  add(id: string, voters: string[], storage = new MemoryStorage()): TestNode {
    // Timeouts are fixed per node (the first added waits the minimum) so ties never livelock.
    const ordinal = this.nodes.has(id) ? [...this.nodes.keys()].indexOf(id) : this.nodes.size;
    const randomInt = (lo: number, hi: number) => Math.min(hi, lo + 2 * ordinal);
    const core = new RaftCore({ id, voters, electionTicks, heartbeatTicks: 1, maxApplyBatch: 1000, randomInt, ...this.overrides }, storage);
    const node: TestNode = { core, storage, applied: [], readStates: [], installed: [] };
    this.nodes.set(id, node);
    return node;
  }

  /** A crash and restart from what is on disk. */
  restart(id: string, voters: string[]): TestNode {
    const old = this.get(id);
    return this.add(id, voters, old.storage);
  }

  get(id: string): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  core(id: string): RaftCore {
    return this.get(id).core;
  }

  /** Handles every pending Ready of one node in the shell's order; returns the messages it sent. */
  drain(id: string): Message[] {
    const n = this.get(id);
    const out: Message[] = [];
    for (let guard = 0; n.core.hasReady(); guard++) {
      if (guard > 10_000) throw new Error(`${id}: Ready loop does not settle`);
      const rd = n.core.ready();
      n.storage.persist(rd);
      for (const m of rd.messages) out.push(m.type === "snapshot" ? { ...m, data: this.get(id).storage.snapData } : m);
      if (rd.snapshot) {
        n.installed.push(rd.snapshot.meta.index);
        n.applied = [];
      }
      n.applied.push(...rd.committed);
      n.readStates.push(...rd.readStates);
      n.core.advance(rd);
    }
    return out;
  }

  /** Delivers messages (and everything they cause) until the cluster is quiet. */
  stabilize(...extra: Message[]): void {
    let queue = [...extra];
    for (let round = 0; round < 10_000; round++) {
      for (const id of this.nodes.keys()) queue.push(...this.drain(id));
      if (queue.length === 0) return;
      const next: Message[] = [];
      for (const m of queue) if (this.deliver(m)) next.push(...this.drain(m.to));
      queue = next;
    }
    throw new Error("network does not settle");
  }

  tick(id: string, n = 1): void {
    for (let i = 0; i < n; i++) this.core(id).tick();
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const node of this.nodes.values()) node.core.tick();
      this.stabilize();
    }
  }

  cut(a: string, b: string): void {
    this.blocked.add(`${a}>${b}`);
    this.blocked.add(`${b}>${a}`);
  }

  cutOneWay(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  isolate(id: string): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other);
  }

  ignore(t: MessageType): void {
    this.ignored.add(t);
  }

  recover(): void {
    this.blocked.clear();
    this.ignored.clear();
    this.hook = undefined;
  }

  leaders(): string[] {
    return [...this.nodes].filter(([, n]) => n.core.state.role === "leader").map(([id]) => id);
  }

  private deliver(m: Message): boolean {
    const ok =
      this.nodes.has(m.to) && !this.blocked.has(`${m.from}>${m.to}`) && !this.ignored.has(m.type) && (this.hook === undefined || this.hook(m));
    this.trace.push({ msg: m, delivered: ok });
    if (ok) this.core(m.to).step(m);
    return ok;
  }
}
