import { describe, expect, test } from "bun:test";
import { NotLeaderError, ProposalDroppedError } from "../../src/raft/core/raft.ts";
import { type Entry, EntryType, type Message } from "../../src/raft/core/types.ts";
import { MemoryStorage } from "./memory-storage.ts";
import { electionTicks, Network } from "./network.ts";

// Scenarios for the multi-node core, each driven through the synchronous test network.

const three = ["n1", "n2", "n3"];
const bytes = (s: string) => new TextEncoder().encode(s);

/** Nodes restarted at term > 0 refuse votes for an election timeout; tick them past it. */
function pastBootLease(net: Network): void {
  for (const n of net.nodes.values()) for (let i = 0; i < electionTicks; i++) n.core.tick();
}

function elect(net: Network, id: string): void {
  net.core(id).campaign();
  net.stabilize();
  expect(net.core(id).state.role).toBe("leader");
}

function log(entries: [number, number][]): Entry[] {
  return entries.map(([index, term]) => ({ index, term, type: EntryType.Command, data: bytes(`${index}/${term}`) }));
}

function storageWith(term: number, entries: Entry[]): MemoryStorage {
  const s = new MemoryStorage();
  s.setHardState({ term, vote: "" });
  if (entries.length > 0) s.append(entries);
  return s;
}

const range = (lo: number, hi: number, term: number): [number, number][] =>
  Array.from({ length: hi - lo + 1 }, (_, i) => [lo + i, term] as [number, number]);

describe("elections", () => {
  test("an election timeout makes a node poll, then campaign, win, and commit a no-op of its term", () => {
    const net = new Network(three);
    net.tick("n1", electionTicks);
    net.stabilize();
    expect(net.leaders()).toEqual(["n1"]);
    const s = net.core("n1").state;
    expect(s.term).toBe(1); // the poll did not spend a term
    expect(s.commit).toBe(1);
    for (const id of three) {
      expect(net.get(id).applied.map((e) => [e.index, e.term, e.type])).toEqual([[1, 1, EntryType.Noop]]);
      expect(net.core(id).state.leader).toBe("n1");
    }
  });

  test("a vote leaves only in the Ready that persists it", () => {
    const net = new Network(three);
    net.core("n1").campaign();
    const polls = net.drain("n1");
    expect(polls.map((m) => m.type)).toEqual(["preVote", "preVote"]);
    net.core("n2").step(polls[0]!);
    const pollAnswer = net.core("n2").ready();
    expect(pollAnswer.hardState).toBeUndefined(); // a poll changes nothing durable
    expect(pollAnswer.messages[0]).toMatchObject({ type: "preVoteResp", reject: false, term: 1 });
    net.core("n2").advance(pollAnswer);
    net.core("n1").step(pollAnswer.messages[0]!);
    const votes = net.drain("n1").filter((m) => m.to === "n2");
    expect(votes[0]).toMatchObject({ type: "vote", term: 1 });
    net.core("n2").step(votes[0]!);
    const rd = net.core("n2").ready();
    expect(rd.hardState).toEqual({ term: 1, vote: "n1" });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([expect.objectContaining({ type: "voteResp", reject: false, to: "n1" })]);
  });

  test("a voter grants one vote per term", () => {
    const net = new Network(three);
    const ask = (from: string): Message => ({ type: "vote", from, to: "n3", term: 1, lastIndex: 0, lastTerm: 0, transfer: false });
    // Past its boot lease, n3 will listen to campaigns.
    net.tick("n3", electionTicks - 1);
    net.core("n3").step(ask("n1"));
    net.core("n3").step(ask("n2"));
    net.core("n3").step(ask("n1")); // a retry from the one it voted for is granted again
    const answers = net.drain("n3").map((m) => [m.to, m.type === "voteResp" && !m.reject]);
    expect(answers).toEqual([
      ["n1", true],
      ["n2", false],
      ["n1", true],
    ]);
  });

  test("a node back from a partition cannot disrupt the leader: its polls fail and its term stays", () => {
    const net = new Network(three);
    elect(net, "n1");
    net.isolate("n3");
    for (let i = 0; i < 5; i++) {
      net.tick("n3", 2 * electionTicks);
      net.tickAll(1);
    }
    expect(net.core("n3").state.term).toBe(1);
    expect(net.core("n3").state.role).toBe("precandidate");
    net.recover();
    net.tickAll(2);
    expect(net.leaders()).toEqual(["n1"]);
    expect(net.core("n1").state.term).toBe(1);
    expect(net.core("n3").state.leader).toBe("n1");
  });

  test("voters that hear from a live leader ignore polls from a node that lost contact with it", () => {
    const net = new Network(three);
    elect(net, "n1");
    net.cut("n1", "n3"); // n3 still reaches n2, whose log is no newer than its own
    for (let i = 0; i < 4 * electionTicks; i++) net.tickAll(1);
    expect(net.leaders()).toEqual(["n1"]);
    expect(net.core("n2").state.term).toBe(1);
    expect(net.core("n2").state.leader).toBe("n1");
  });

  test("a restarted node refuses votes for an election timeout (it may back a lease it forgot)", () => {
    const net = new Network(three);
    elect(net, "n1");
    const n3 = net.restart("n3", three);
    const ask: Message = { type: "preVote", from: "n2", to: "n3", term: 2, lastIndex: 1, lastTerm: 1, transfer: false };
    n3.core.step(ask);
    expect(net.drain("n3")).toEqual([]);
    net.tick("n3", electionTicks); // (and it polls itself, having heard from nobody)
    n3.core.step(ask);
    expect(net.drain("n3").filter((m) => m.to === "n2" && m.type === "preVoteResp")).toEqual([expect.objectContaining({ reject: false })]);
  });

  test("check-quorum: a leader cut off from a quorum steps down within two election timeouts", () => {
    const net = new Network(three);
    elect(net, "n1");
    net.isolate("n1");
    // Checked once per election timeout: the first check still counts the answers to our no-op.
    net.tick("n1", 2 * electionTicks - 1);
    expect(net.core("n1").state.role).toBe("leader");
    net.tick("n1", 1);
    expect(net.core("n1").state.role).toBe("follower");
    // The others elect among themselves once n1's lease on them runs out.
    for (let i = 0; i < 3 * electionTicks && net.leaders().length === 0; i++) net.tickAll(1);
    expect(net.leaders().length).toBe(1);
    expect(net.core(net.leaders()[0]!).state.term).toBe(2);
  });
});

describe("replication", () => {
  test("entries of an earlier term commit only through an entry of the leader's term (§5.4.2)", () => {
    const s1 = storageWith(2, log([[1, 1], [2, 2]]));
    const net = new Network([], { maxMsgEntries: 1, randomInt: (_lo, hi) => hi });
    net.add("n1", three, s1);
    net.add("n2", three, storageWith(2, log([[1, 1]])));
    net.add("n3", three, storageWith(2, log([[1, 1]])));
    // Entry 2 (term 2) reaches a quorum; the leader never learns that its no-op (entry 3) did.
    net.hook = (m) => !(m.type === "appendResp" && !m.reject && m.index >= 3);
    pastBootLease(net);
    elect(net, "n1");
    expect(net.core("n1").state.term).toBe(3);
    expect(net.core("n1").progress().map((p) => p.match)).toEqual([2, 2]);
    expect(net.core("n1").state.commit).toBe(0);
    net.hook = undefined;
    net.tickAll(1);
    expect(net.core("n1").state.commit).toBe(3);
    expect(net.get("n2").applied.map((e) => e.index)).toEqual([1, 2, 3]);
  });

  test("a follower with a long divergent suffix is repaired in one rejection per term, not per entry", () => {
    const common = range(1, 5, 1);
    const net = new Network([], { randomInt: (_lo, hi) => hi });
    net.add("n1", three, storageWith(3, log([...common, ...range(6, 30, 3)])));
    net.add("n2", three, storageWith(3, log([...common, ...range(6, 60, 2)])));
    net.add("n3", three, storageWith(3, log([...common, ...range(6, 30, 3)])));
    pastBootLease(net);
    elect(net, "n1");
    const rejections = net.trace.filter((t) => t.msg.type === "appendResp" && t.msg.from === "n2" && t.msg.reject);
    expect(rejections.length).toBe(1);
    const n1 = net.get("n1").storage.all().map((e) => [e.index, e.term]);
    expect(net.get("n2").storage.all().map((e) => [e.index, e.term])).toEqual(n1);
    expect(net.core("n2").state.commit).toBe(31);
  });

  test("a follower far behind is found in one rejection", () => {
    const net = new Network([], { randomInt: (_lo, hi) => hi });
    net.add("n1", three, storageWith(2, log([...range(1, 5, 1), ...range(6, 40, 2)])));
    net.add("n2", three, storageWith(2, log(range(1, 5, 1))));
    net.add("n3", three, storageWith(2, log([...range(1, 5, 1), ...range(6, 40, 2)])));
    pastBootLease(net);
    elect(net, "n1");
    expect(net.trace.filter((t) => t.msg.type === "appendResp" && t.msg.from === "n2" && t.msg.reject).length).toBe(1);
    expect(net.get("n2").storage.lastIndex()).toBe(41);
  });

  test("pipelining is bounded by maxInflight and batching by maxMsgEntries", () => {
    const net = new Network(three, { maxInflight: 2, maxMsgEntries: 3 });
    elect(net, "n1");
    net.ignore("appendResp"); // nothing is acknowledged
    for (let i = 0; i < 20; i++) net.core("n1").propose(bytes(`p${i}`));
    net.stabilize();
    const appends = net.trace.filter((t) => t.msg.type === "append" && t.msg.to === "n2" && t.msg.entries.length > 0).slice(1);
    expect(appends.length).toBe(2);
    for (const a of appends) expect(a.msg.type === "append" && a.msg.entries.length).toBe(3);
    net.recover();
    net.tickAll(1);
    expect(net.core("n2").state.commit).toBe(21);
  });

  test("a follower behind the leader's compacted log gets a snapshot, installs it, then catches up", () => {
    const net = new Network(three);
    elect(net, "n1");
    net.isolate("n3");
    for (let i = 0; i < 20; i++) net.core("n1").propose(bytes(`p${i}`));
    net.stabilize();
    const n1 = net.get("n1");
    const applied = n1.core.state.applied;
    expect(applied).toBe(21);
    n1.storage.saveSnapshot({ index: applied, term: 1, config: n1.core.appliedConfig() }, bytes("state@21"));
    n1.storage.compact(applied);
    for (let i = 0; i < 3; i++) net.core("n1").propose(bytes(`q${i}`));
    net.recover();
    net.tickAll(2);
    const n3 = net.get("n3");
    expect(n3.installed).toEqual([21]);
    expect(n3.storage.snapshotMeta()).toMatchObject({ index: 21, term: 1, config: { voters: three, nonvoters: [] } });
    expect(n3.storage.snapData).toEqual(bytes("state@21"));
    expect(n3.applied.map((e) => e.index)).toEqual([22, 23, 24]);
    expect(n3.core.state.commit).toBe(24);
  });
});

describe("the Ready contract", () => {
  test("entries that overwrite a conflicting suffix start at the overwrite point", () => {
    const net = new Network([], { randomInt: (_lo, hi) => hi });
    net.add("n1", three, storageWith(2, log([[1, 1], [2, 2], [3, 2]])));
    net.add("n2", three, storageWith(2, log([[1, 1], [2, 2], [3, 2]])));
    net.add("n3", three, storageWith(2, log([[1, 1], [2, 1], [3, 1], [4, 1]])));
    pastBootLease(net);
    net.core("n1").campaign();
    net.hook = (m) => {
      if (m.type === "append" && m.to === "n3" && m.index === 1) {
        net.core("n3").step(m);
        const rd = net.core("n3").ready();
        expect(rd.entries.map((e) => [e.index, e.term])).toEqual([[2, 2], [3, 2], [4, 3]]);
        expect(rd.mustSync).toBe(true);
        net.get("n3").storage.persist(rd);
        net.core("n3").advance(rd);
        return false;
      }
      return true;
    };
    net.stabilize();
    net.hook = undefined;
    net.tickAll(1);
    expect(net.get("n3").storage.all().map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 2], [3, 2], [4, 3]]);
  });

  test("a snapshot the transport failed to send is sent again", () => {
    const net = new Network(three);
    elect(net, "n1");
    net.isolate("n3");
    for (let i = 0; i < 5; i++) net.core("n1").propose(bytes(`p${i}`));
    net.stabilize();
    const n1 = net.get("n1");
    n1.storage.saveSnapshot({ index: 6, term: 1, config: n1.core.appliedConfig() }, bytes("state@6"));
    n1.storage.compact(6);
    net.recover();
    net.ignore("snapshot");
    net.tickAll(2);
    expect(n1.core.progress().find((p) => p.id === "n3")?.state).toBe("snapshot");
    n1.core.reportSnapshot("n3", false);
    expect(n1.core.progress().find((p) => p.id === "n3")?.state).toBe("probe");
    net.recover();
    net.tickAll(2);
    expect(net.get("n3").installed).toEqual([6]);
    expect(n1.core.progress().find((p) => p.id === "n3")).toMatchObject({ state: "replicate", match: 6 });
  });
});

describe("membership", () => {
  test("add a nonvoter, promote it, then remove the leader, which steps down once that commits", () => {
    const net = new Network(three);
    elect(net, "n1");
    net.add("n4", []);
    net.core("n1").proposeConfChange({ op: "addNonvoter", id: "n4" });
    expect(() => net.core("n1").proposeConfChange({ op: "promote", id: "n4" })).toThrow(ProposalDroppedError);
    net.stabilize();
    net.tickAll(1);
    const last = net.core("n1").state.last;
    expect(net.core("n1").progress().find((p) => p.id === "n4")).toMatchObject({ voter: false, match: last, state: "replicate" });
    expect(net.core("n4").config()).toEqual({ voters: three, nonvoters: ["n4"] });
    expect(net.core("n4").state.role).toBe("follower");

    // A nonvoter does not count: n1 and n4 alone cannot commit.
    net.isolate("n2");
    net.isolate("n3");
    const idx = net.core("n1").propose(bytes("x"));
    net.stabilize();
    expect(net.get("n4").storage.lastIndex()).toBe(idx);
    expect(net.core("n1").state.commit).toBeLessThan(idx);
    net.recover();
    net.tickAll(1);
    expect(net.core("n1").state.commit).toBe(idx);

    net.core("n1").proposeConfChange({ op: "promote", id: "n4" });
    net.stabilize();
    expect(net.core("n2").config().voters).toEqual([...three, "n4"]);

    net.core("n1").proposeConfChange({ op: "remove", id: "n1" });
    net.stabilize();
    expect(net.core("n1").state.role).toBe("follower");
    for (let i = 0; i < 3 * electionTicks && net.leaders().length === 0; i++) net.tickAll(1);
    const [leader] = net.leaders();
    expect(["n2", "n3", "n4"]).toContain(leader!);
    expect(net.core(leader!).config()).toEqual({ voters: ["n2", "n3", "n4"], nonvoters: [] });
    const idx2 = net.core(leader!).propose(bytes("after"));
    net.stabilize();
    for (const id of ["n2", "n3", "n4"]) expect(net.core(id).state.commit).toBe(idx2);
  });

  test("a configuration is in force when appended, and an overwritten one is undone", () => {
    const net = new Network(three);
    elect(net, "n1");
    net.cut("n1", "n3");
    net.hook = (m) => !(m.type === "appendResp" && m.from === "n2"); // n2 gets the entry, n1 never hears
    net.core("n1").proposeConfChange({ op: "addNonvoter", id: "n9" });
    net.stabilize();
    expect(net.core("n2").config().nonvoters).toEqual(["n9"]);
    expect(net.core("n2").state.commit).toBeLessThan(net.core("n2").state.last);
    // n2's log is the longer, so it wins once n1 is gone, and n3 takes the change from it.
    net.isolate("n1");
    net.hook = undefined;
    for (let i = 0; i < 4 * electionTicks && !net.leaders().some((l) => l !== "n1"); i++) net.tickAll(1);
    const leader = net.leaders().find((l) => l !== "n1")!;
    expect(leader).toBe("n2");
    expect(net.core("n3").config().nonvoters).toEqual(["n9"]);
  });

  test("an uncommitted change from a deposed leader is overwritten, and so is its configuration", () => {
    const net = new Network(three);
    elect(net, "n1");
    net.isolate("n1");
    net.core("n1").proposeConfChange({ op: "addNonvoter", id: "n9" });
    net.stabilize();
    expect(net.core("n1").config().nonvoters).toEqual(["n9"]);
    net.tick("n1", electionTicks); // steps down: check-quorum
    for (let i = 0; i < 4 * electionTicks && !net.leaders().some((l) => l !== "n1"); i++) net.tickAll(1);
    const leader = net.leaders().find((l) => l !== "n1")!;
    net.core(leader).propose(bytes("overwrite"));
    net.recover();
    net.tickAll(2);
    expect(net.core("n1").config()).toEqual({ voters: three, nonvoters: [] });
    expect(net.core("n1").state.leader).toBe(leader);
  });
});

describe("leadership transfer", () => {
  test("the target is caught up, told to campaign, and wins the next term", () => {
    const net = new Network(three);
    elect(net, "n1");
    net.cut("n1", "n2");
    net.core("n1").propose(bytes("a"));
    net.stabilize();
    net.recover();
    net.core("n1").transferLeadership("n2");
    expect(() => net.core("n1").propose(bytes("b"))).toThrow(ProposalDroppedError);
    net.stabilize();
    expect(net.leaders()).toEqual(["n2"]);
    expect(net.core("n2").state.term).toBe(2);
  });

  test("a transfer that cannot finish is abandoned after an election timeout", () => {
    const net = new Network(three);
    elect(net, "n1");
    net.isolate("n3");
    net.core("n1").transferLeadership("n3");
    expect(net.core("n1").leaseValid()).toBe(false);
    net.tickAll(electionTicks);
    expect(net.core("n1").state.role).toBe("leader");
    expect(net.core("n1").state.transferee).toBe("");
    expect(() => net.core("n1").propose(bytes("ok"))).not.toThrow();
  });
});

describe("reads", () => {
  test("ReadIndex waits for the leader's first commit of its term and a quorum round", () => {
    const net = new Network(three);
    net.ignore("appendResp");
    elect(net, "n1");
    net.core("n1").readIndex("r1");
    net.stabilize();
    expect(net.get("n1").readStates).toEqual([]); // the no-op is not committed yet
    net.recover();
    net.tickAll(1);
    expect(net.get("n1").readStates).toEqual([{ ctx: "r1", index: 1 }]);
    expect(() => net.core("n2").readIndex("r2")).toThrow(NotLeaderError);
  });

  test("a leader learns once per term that it has committed in it, not from storage on every read", () => {
    const net = new Network(three);
    net.ignore("appendResp");
    elect(net, "n1");
    const n1 = net.get("n1");
    expect(n1.core.committedInTerm()).toBe(false); // its no-op is not committed yet
    net.recover();
    net.tickAll(1);
    expect(n1.core.committedInTerm()).toBe(true);
    let lookups = 0;
    const term = n1.storage.term.bind(n1.storage);
    n1.storage.term = (index) => {
      lookups++;
      return term(index);
    };
    for (let i = 0; i < 100; i++) expect(n1.core.committedInTerm()).toBe(true);
    expect(lookups).toBe(0);
    // Another leader, another term: not until its own no-op commits.
    net.isolate("n1");
    pastBootLease(net);
    net.ignore("appendResp");
    elect(net, "n2");
    expect(net.core("n2").committedInTerm()).toBe(false);
    net.recover();
    net.tickAll(1);
    expect(net.core("n2").committedInTerm()).toBe(true);
  });

  test("a leader cut off from a quorum confirms no read", () => {
    const net = new Network(three);
    elect(net, "n1");
    net.isolate("n1");
    net.core("n1").readIndex("r1");
    net.tickAll(3);
    expect(net.get("n1").readStates).toEqual([]);
    net.recover();
    net.tickAll(1);
    expect(net.get("n1").readStates).toEqual([{ ctx: "r1", index: 1 }]);
  });

  test("the lease holds while a quorum answers recent heartbeats and lapses before the election timeout", () => {
    const net = new Network(three);
    elect(net, "n1");
    expect(net.core("n1").leaseValid()).toBe(false); // no heartbeat acknowledged yet
    net.tickAll(1);
    expect(net.core("n1").leaseValid()).toBe(true);
    net.isolate("n1");
    const leaseTicks = electionTicks - 2; // the default margin: electionTicks / 5
    net.tick("n1", leaseTicks - 1);
    expect(net.core("n1").leaseValid()).toBe(true);
    net.tick("n1", 1);
    expect(net.core("n1").leaseValid()).toBe(false);
    expect(net.core("n1").state.role).toBe("leader");
  });

  test("a single voter confirms reads by itself", () => {
    const net = new Network(["n1"]);
    elect(net, "n1");
    net.core("n1").readIndex("solo");
    net.stabilize();
    expect(net.get("n1").readStates).toEqual([{ ctx: "solo", index: 1 }]);
    expect(net.core("n1").leaseValid()).toBe(true);
  });
});
