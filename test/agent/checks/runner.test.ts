import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCheckRunner, type CheckRunner } from "../../../src/agent/checks/runner.ts";
import { checkDef, OPTS, recordingHost } from "./helpers.ts";

// The schedule of interval checks: stagger, fixed rate, no overlap, a clean stop.

const dir = mkdtempSync(join(tmpdir(), "tsc-runner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function timedHost() {
  const h = recordingHost();
  const at: number[] = [];
  const update = h.update;
  h.update = (s, o) => {
    at.push(performance.now());
    update(s, o);
  };
  return { h, at };
}

test("alias checks have no runner", () => {
  expect(createCheckRunner(checkDef({ alias_service: "web" }), recordingHost(), OPTS)).toBeUndefined();
});

test("the first run waits a random part of one interval", async () => {
  const { h, at } = timedHost();
  const r = createCheckRunner(checkDef({ args: ["true"], interval: "1s" }, { intervalMs: 300 }), h, { ...OPTS, random: () => 0.5 }) as CheckRunner;
  const started = performance.now();
  r.start();
  await h.next();
  r.stop();
  expect(at[0]! - started).toBeGreaterThanOrEqual(145);
  expect(at[0]! - started).toBeLessThan(300);
});

test("fixed rate: runs are due one interval apart, whatever they take", async () => {
  // Each run takes ~40ms plus process start-up of a 150ms interval: with a fixed delay after
  // each run they would come every ~200ms.
  const { h, at } = timedHost();
  const r = createCheckRunner(checkDef({ args: ["sleep", "0.04"], interval: "1s" }, { intervalMs: 150 }), h, OPTS) as CheckRunner;
  r.start();
  await Bun.sleep(930);
  r.stop();
  expect(at.length).toBeGreaterThanOrEqual(5);
  const spacing = (at.at(-1)! - at[0]!) / (at.length - 1);
  expect(spacing).toBeGreaterThan(135);
  expect(spacing).toBeLessThan(190);
});

test("a run longer than the interval skips slots and never overlaps the next", async () => {
  const log = join(dir, "overlap.log");
  const { h } = timedHost();
  // ~250ms runs every 150ms: the slots at 150, 450, 750 are skipped; runs start at 0, 300, 600, 900.
  const script = `echo start $(date +%s%N) >> ${log}; sleep 0.2; echo end >> ${log}`;
  const r = createCheckRunner(checkDef({ script, interval: "1s" }, { intervalMs: 150 }), h, OPTS) as CheckRunner;
  r.start();
  await Bun.sleep(960);
  r.stop();
  await Bun.sleep(50);
  const lines = readFileSync(log, "utf8").trim().split("\n");
  for (let i = 0; i < lines.length; i++) expect(lines[i]!.split(" ")[0]).toBe(i % 2 === 0 ? "start" : "end");
  const starts = lines.filter((l) => l.startsWith("start")).map((l) => Number(l.split(" ")[1]) / 1e6);
  expect(starts.length).toBeGreaterThanOrEqual(3);
  expect(h.results.length).toBeGreaterThanOrEqual(3);
  // On the grid: 300ms apart, where a fixed delay after each run would give ~400ms.
  for (let i = 1; i < starts.length; i++) {
    expect(starts[i]! - starts[i - 1]!).toBeGreaterThan(270);
    // Room for a loaded CI box while still telling the 300 ms grid from a 400 ms drift.
    expect(starts[i]! - starts[i - 1]!).toBeLessThan(380);
  }
});

test("stop() ends the schedule: no more runs, no more updates", async () => {
  const log = join(dir, "stop.log");
  const { h } = timedHost();
  const r = createCheckRunner(checkDef({ script: `echo run >> ${log}`, interval: "1s" }, { intervalMs: 30 }), h, OPTS) as CheckRunner;
  r.start();
  await h.next();
  await h.next();
  r.stop();
  const runs = readFileSync(log, "utf8").split("\n").length;
  const updates = h.results.length;
  await Bun.sleep(150);
  expect(readFileSync(log, "utf8").split("\n").length).toBeLessThanOrEqual(runs + 1); // at most the run already started
  expect(h.results.length).toBe(updates);
});

test("a stopped runner can be started again", async () => {
  const { h } = timedHost();
  const r = createCheckRunner(checkDef({ tcp: "127.0.0.1:1", interval: "1s" }, { intervalMs: 20 }), h, OPTS) as CheckRunner;
  r.start();
  await h.next();
  r.stop();
  r.start();
  expect((await h.next()).status).toBe("critical");
  r.stop();
});

test("flap damping applies to interval checks", async () => {
  const { h } = timedHost();
  const marker = join(dir, "count");
  // Passes once, then fails: with failures_before_critical 3 the third failure turns it critical.
  const script = `n=$(cat ${marker} 2>/dev/null || echo 0); echo $((n+1)) > ${marker}; echo run $n; [ "$n" = 0 ] || exit 2`;
  const r = createCheckRunner(checkDef({ script, interval: "1s", failures_before_critical: 3 }, { intervalMs: 20 }), h, OPTS) as CheckRunner;
  r.start();
  expect(await h.next()).toEqual({ status: "passing", output: "run 0\n" });
  expect(await h.next()).toEqual({ status: "critical", output: "run 3\n" });
  r.stop();
});
