import type { Raft } from "./machine.ts";
import type { AppendRequest, Heartbeat, InstallSnapshot, Message } from "./types.ts";

// Followers and candidates: what a leader's messages do to the log, and how a campaign is
// won or lost. Every answer here is sent only after the Ready that carries it is persisted,
// so an acknowledgement never speaks for entries that could still vanish in a crash.

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case "append":
    case "heartbeat":
    case "snapshot":
      r.electionElapsed = 0;
      r.leader = m.from;
      fromLeader(r, m);
      return;
    case "timeoutNow":
      // The leader hands over: campaign at once, past every voter's lease and without a poll.
      r.hup(true);
      return;
    default:
      return;
  }
}

export function stepCandidate(r: Raft, m: Message): void {
  const answer = r.role === "precandidate" ? "preVoteResp" : "voteResp";
  switch (m.type) {
    case "append":
    case "heartbeat":
    case "snapshot":
      // A leader of our term exists: it won.
      r.becomeFollower(m.term, m.from);
      fromLeader(r, m);
      return;
    case "voteResp":
    case "preVoteResp": {
      if (m.type !== answer) return;
      const result = r.poll(m.from, !m.reject);
      if (result === "won") {
        if (r.role === "precandidate") r.campaign("vote", false);
        else r.becomeLeader();
      } else if (result === "lost") {
        r.becomeFollower(r.term, "");
      }
      return;
    }
    default:
      return;
  }
}

function fromLeader(r: Raft, m: AppendRequest | Heartbeat | InstallSnapshot): void {
  if (m.type === "append") handleAppend(r, m);
  else if (m.type === "heartbeat") handleHeartbeat(r, m);
  else handleSnapshot(r, m);
}

function handleAppend(r: Raft, m: AppendRequest): void {
  const accept = (index: number): void =>
    r.send({ type: "appendResp", to: m.from, term: r.term, index, reject: false, rejectHint: 0, logTerm: 0 });
  if (m.index < r.log.committed) {
    accept(r.log.committed);
    return;
  }
  const res = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (res) {
    r.noteAppended(res.appended);
    accept(res.lastNew);
    return;
  }
  // Tell the leader where our logs may last agree: the newest entry at or below its
  // prevLogIndex whose term is not above its prevLogTerm (everything committed agrees).
  const hint = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm, r.log.committed);
  r.send({ type: "appendResp", to: m.from, term: r.term, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
}

function handleHeartbeat(r: Raft, m: Heartbeat): void {
  // The leader sends min(our match, its commit), so this never runs past what we hold.
  r.log.commitTo(m.commit);
  r.send({ type: "heartbeatResp", to: m.from, term: r.term, ctx: m.ctx, sentTick: m.sentTick });
}

function handleSnapshot(r: Raft, m: InstallSnapshot): void {
  const restored = r.restore(m.meta, m.data);
  const index = restored ? r.log.lastIndex() : r.log.committed;
  r.send({ type: "appendResp", to: m.from, term: r.term, index, reject: false, rejectHint: 0, logTerm: 0 });
}
