import { replayCommand, runSim, type SimResult } from "../test/sim/raft-sim.ts";

// Long runs of the Raft simulation: `npm run sim -- --seeds 100000`.
// Seeds alternate between 3- and 5-node clusters unless --nodes says which; every failing
// seed is counted, and the first is printed with its trace tail and the command that replays it.
//   --seeds N    how many (default 1000)     --start S   first seed (default 1)
//   --nodes 3|5  one cluster size            --seed S    run exactly one seed, print its trace

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const one = flag("seed");
const seeds = one !== undefined ? 1 : Number(flag("seeds") ?? 1000);
const start = one !== undefined ? Number(one) : Number(flag("start") ?? 1);
const fixedNodes = flag("nodes");
const sizeOf = (seed: number): 3 | 5 => (fixedNodes !== undefined ? (Number(fixedNodes) === 5 ? 5 : 3) : seed % 2 === 0 ? 5 : 3);

const began = performance.now();
let failures = 0;
let first: SimResult | undefined;
const lin = new Map<string, number>();
let livenessMax = 0;
let livenessSum = 0;
const undecided: number[] = [];
for (let i = 0; i < seeds; i++) {
  const seed = start + i;
  const r = runSim({ seed, nodes: sizeOf(seed) });
  lin.set(String(r.stats.lin), (lin.get(String(r.stats.lin)) ?? 0) + 1);
  livenessMax = Math.max(livenessMax, Number(r.stats.livenessMs));
  livenessSum += Number(r.stats.livenessMs);
  if (one !== undefined) {
    console.log(r.trace.join("\n"));
    console.log(JSON.stringify(r.stats));
  }
  // A checker that ran out of time decided nothing: name the seed so it can be looked at.
  if (r.stats.lin === "timeout") undecided.push(seed);
  if (!r.ok) {
    failures++;
    console.log(`seed ${seed} (${r.nodes} nodes) FAILED: ${r.failure}`);
    if (!first) first = r;
  }
  if ((i + 1) % 1000 === 0) console.log(`… ${i + 1} seeds, ${failures} anomalies, ${((performance.now() - began) / 1000).toFixed(1)} s`);
}
const secs = ((performance.now() - began) / 1000).toFixed(1);
console.log(`seeds run: ${seeds} (from ${start}) in ${secs} s; anomalies found: ${failures}`);
console.log(`linearizability verdicts: ${JSON.stringify(Object.fromEntries(lin))}; after healing, a commit everywhere took ${Math.round(livenessSum / seeds)} ms on average, ${livenessMax} ms at most`);
if (undecided.length > 0) console.log(`seeds whose history the checker did not decide: ${undecided.join(" ")} (replay one with --seed S)`);
if (first) {
  console.log(`first failing seed: ${first.seed} (${first.nodes} nodes): ${first.failure}`);
  console.log(first.trace.slice(-60).join("\n"));
  console.log(`replay: ${replayCommand(first)}   or: bun scripts/sim.ts --seed ${first.seed} --nodes ${first.nodes}`);
  process.exit(1);
}
