import { afterAll, describe, expect, test } from "bun:test";
import { replayCommand, runSim, type SimResult } from "./raft-sim.ts";

// Seeded simulations of the Raft core (raft-sim.ts): 3- and 5-node clusters under loss,
// delay, duplication, reordering, partitions, crashes, compaction, membership changes and
// transfers, with Raft's safety properties checked after every event, liveness after healing,
// and the client history checked for linearizability.
//   RAFT_SIM_SEEDS=N            run N seeds per cluster size (default 200)
//   RAFT_SIM_SEED=S [RAFT_SIM_NODES=3|5]   replay one seed and print its trace
// `npm run sim -- --seeds 100000` runs long.

const one = process.env.RAFT_SIM_SEED;
const perSize = Number(process.env.RAFT_SIM_SEEDS ?? 200);
const CHUNK = 50;

function report(r: SimResult): string {
  return `seed ${r.seed} (${r.nodes} nodes) failed: ${r.failure}\nreplay: ${replayCommand(r)}\n${r.trace.slice(-40).join("\n")}`;
}

if (one !== undefined) {
  test(`replay seed ${one}`, () => {
    const r = runSim({ seed: Number(one), nodes: process.env.RAFT_SIM_NODES === "5" ? 5 : 3, traceLines: 100_000 });
    console.log(r.trace.join("\n"));
    console.log(JSON.stringify(r.stats));
    expect(r.failure).toBeUndefined();
  });
} else {
  const totals = { crashes: 0, pauses: 0, partitions: 0, snapshotsSent: 0, confChanges: 0, transfers: 0, leaseReads: 0, unknownOps: 0, okOps: 0 };
  let seedsRun = 0;
  const began = performance.now();

  for (const nodes of [3, 5] as const) {
    describe(`${nodes}-node clusters`, () => {
      for (let from = 1; from <= perSize; from += CHUNK) {
        const to = Math.min(perSize, from + CHUNK - 1);
        test(`seeds ${from}..${to}`, () => {
          const failures: string[] = [];
          for (let seed = from; seed <= to; seed++) {
            const r = runSim({ seed, nodes });
            seedsRun++;
            for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += Number(r.stats[k] ?? 0);
            if (!r.ok) failures.push(report(r));
          }
          expect(failures).toEqual([]);
        });
      }
    });
  }

  test("the runs exercised every fault and feature (a simulation that injects nothing proves nothing)", () => {
    for (const [k, v] of Object.entries(totals)) expect({ [k]: v > 0 }).toEqual({ [k]: true });
  });

  test("a seed replays exactly", () => {
    const a = runSim({ seed: 77, nodes: 5 });
    const b = runSim({ seed: 77, nodes: 5 });
    expect(a.trace).toEqual(b.trace);
    expect(a.history).toEqual(b.history);
    expect(a.stats).toEqual(b.stats);
  });

  afterAll(() => {
    console.log(`raft sim: ${seedsRun} seeds in ${((performance.now() - began) / 1000).toFixed(1)} s ${JSON.stringify(totals)}`);
  });
}

describe("the checks can fail", () => {
  // Broken variants must be caught on some seed; if they never are, the checks are decoration.
  test("voters that grant more than one vote per term break election safety", () => {
    const caught = firstFailure((seed) => runSim({ seed, nodes: 3, bugs: { doubleVote: true } }), 60);
    expect(caught?.failure).toMatch(/election safety|leader completeness|log matching|commit stability|state machine safety|two leaders/);
  });

  test("a leader serving reads without ReadIndex or a lease serves stale reads", () => {
    const caught = firstFailure((seed) => runSim({ seed, nodes: seed % 2 === 0 ? 5 : 3, bugs: { unsafeReads: true } }), 150);
    expect(caught?.failure).toMatch(/stale read|linearizability/);
  });

  test("a shell that does not catch up ticks missed in a pause trusts an expired lease", () => {
    const caught = firstFailure((seed) => runSim({ seed, nodes: seed % 2 === 0 ? 5 : 3, bugs: { noTickCatchUp: true } }), 150);
    expect(caught?.failure).toMatch(/stale read|linearizability/);
  });
});

function firstFailure(run: (seed: number) => SimResult, maxSeeds: number): SimResult | undefined {
  for (let seed = 1; seed <= maxSeeds; seed++) {
    const r = run(seed);
    if (!r.ok) return r;
  }
  return undefined;
}
