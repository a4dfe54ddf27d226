import { assert } from "./assert.ts";
import type { Raft } from "./machine.ts";
import { type Progress, quorum } from "./progress.ts";
import type { AppendResponse, HeartbeatResponse, Message } from "./types.ts";

// The leader's side: replication to each peer by its Progress, heartbeats, quorum checks,
// and the answers that move match indexes, the commit index, reads and transfers.

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case "appendResp":
      handleAppendResp(r, m);
      return;
    case "heartbeatResp":
      handleHeartbeatResp(r, m);
      return;
    case "append":
    case "heartbeat":
    case "snapshot":
      assert(false, `two leaders in term ${r.term}: ${r.id} and ${m.from}`);
      return;
    default:
      // Stale vote answers and TimeoutNow (we lead already) need nothing.
      return;
  }
}

export function tickHeartbeat(r: Raft): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.limits.electionTicks) {
    r.electionElapsed = 0;
    if (!checkQuorum(r)) {
      r.becomeFollower(r.term, "");
      return;
    }
    // A transfer gets one election timeout; then we lead on.
    r.transferee = "";
  }
  if (r.heartbeatElapsed >= r.limits.heartbeatTicks) {
    r.heartbeatElapsed = 0;
    const ctx = r.readOnly.lastCtx();
    for (const id of r.prs.keys()) r.sendHeartbeat(id, ctx);
  }
}

/** A leader that has not heard from a quorum for an election timeout may be cut off: it steps down. */
function checkQuorum(r: Raft): boolean {
  const voters = r.config().voters;
  let active = 0;
  for (const v of voters) if (v === r.id || r.prs.get(v)?.recentActive) active++;
  for (const pr of r.prs.values()) pr.recentActive = false;
  return active >= quorum(voters.length);
}

/** Sends every peer what it lacks, filling each replicating peer's inflight window. */
export function bcastAppend(r: Raft): void {
  for (const id of r.prs.keys()) fillAppends(r, id);
}

/**
 * Sends `to` what it lacks from its next index (or a snapshot); false if nothing went out.
 * A replicating peer with nothing new gets an empty append only to learn a commit index it
 * has not been sent, anchored at its match index so reordering cannot turn it into a reject;
 * or, with `findLoss`, one at next - 1 whose rejection reveals an append that was lost.
 */
export function sendAppend(r: Raft, to: string, findLoss = false): boolean {
  const pr = r.prs.get(to);
  if (!pr || pr.isPaused()) return false;
  const last = r.log.lastIndex();
  if (pr.state === "replicate" && pr.next > last) {
    const commit = Math.min(r.log.committed, pr.match);
    const anchor = findLoss && pr.match < last ? pr.next - 1 : pr.match;
    const anchorTerm = r.log.term(anchor);
    if (anchorTerm === undefined || (anchor === pr.match && pr.sentCommit >= commit)) return false;
    r.send({ type: "append", to, term: r.term, index: anchor, logTerm: anchorTerm, entries: [], commit });
    pr.sentCommit = Math.max(pr.sentCommit, commit);
    return true;
  }
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  const entries = pr.next <= last ? r.log.slice(pr.next, last, r.limits.maxMsgEntries, r.limits.maxMsgBytes) : [];
  if (prevTerm === undefined || entries === undefined) return sendSnapshot(r, to, pr);
  r.send({ type: "append", to, term: r.term, index: prevIndex, logTerm: prevTerm, entries, commit: r.log.committed });
  const lastSent = entries[entries.length - 1]?.index ?? prevIndex;
  pr.sentCommit = Math.max(pr.sentCommit, Math.min(r.log.committed, lastSent));
  if (pr.state === "replicate") {
    // Optimistic: stream on without waiting, bounded by the inflight window.
    pr.next = lastSent + 1;
    pr.inflights.add(lastSent);
  } else {
    pr.probeSent = true;
  }
  return true;
}

/** Sends `to` everything the inflight window allows. */
export function fillAppends(r: Raft, to: string): void {
  for (let sent = 0; sendAppend(r, to); sent++) {
    // Bounded: each round adds to the inflight window, raises sentCommit, or pauses a probe.
    if (sent > r.limits.maxInflight + 2) break;
  }
}

function sendSnapshot(r: Raft, to: string, pr: Progress): boolean {
  const meta = r.log.storageSnapshot();
  assert(meta.index > 0 && meta.index >= r.log.firstIndex() - 1, `${to} needs compacted entries but no snapshot covers them`);
  r.send({ type: "snapshot", to, term: r.term, meta });
  pr.becomeSnapshot(meta.index, r.ticks);
  return true;
}

export function sendTimeoutNow(r: Raft, to: string): void {
  r.send({ type: "timeoutNow", to, term: r.term });
  // `to` campaigns past every voter's lease from now on; ours cannot be trusted again this term.
  r.leaseForfeited = true;
}

function handleAppendResp(r: Raft, m: AppendResponse): void {
  const pr = r.prs.get(m.from);
  if (!pr) return;
  pr.recentActive = true;
  pr.lastContactTick = r.ticks;
  if (m.reject) {
    // Skip every entry of terms the follower cannot match, in one round trip.
    const hint = m.logTerm > 0 ? r.log.findConflictByTerm(m.rejectHint, m.logTerm).index : m.rejectHint;
    if (pr.maybeDecrTo(m.index, hint)) {
      if (pr.state === "replicate") pr.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }
  if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === "probe")) return;
  if (pr.state === "probe") {
    pr.becomeReplicate();
  } else if (pr.state === "snapshot") {
    if (pr.match + 1 >= r.log.firstIndex()) {
      pr.becomeProbe();
      pr.becomeReplicate();
    }
  } else {
    pr.inflights.freeLE(m.index);
  }
  if (r.maybeCommit()) {
    if (r.role !== "leader") return; // our own removal committed
    bcastAppend(r);
  } else {
    fillAppends(r, m.from);
  }
  if (m.from === r.transferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
}

function handleHeartbeatResp(r: Raft, m: HeartbeatResponse): void {
  const pr = r.prs.get(m.from);
  if (!pr) return;
  pr.recentActive = true;
  pr.lastContactTick = r.ticks;
  pr.probeSent = false;
  pr.ackedTick = Math.max(pr.ackedTick, m.sentTick);
  // An append or its answer may have been lost: free a slot so replication cannot stall.
  if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirst();
  // The snapshot may have been lost; the peer is alive, so try again.
  if (pr.state === "snapshot" && r.ticks - pr.snapshotSentTick >= r.limits.electionTicks) pr.becomeProbe();
  // Still behind after a heartbeat round: resend, or find out what was lost.
  if (pr.match < r.log.lastIndex()) sendAppend(r, m.from, true);
  if (m.ctx !== "") {
    const acks = r.readOnly.recvAck(m.from, m.ctx);
    if (acks && r.readQuorum(acks)) r.releaseReads(m.ctx);
  }
}
