import { describe, expect, test } from "bun:test";
import { retryDelayMs, runPlan, type WatchAnswer } from "../../src/watch/plan.ts";

/**
 * Runs a plan over scripted answers (an Error is a failed query); stops after the last one.
 * Returns what the handler got, the indexes each query was asked with, and the back-offs.
 */
async function run(script: Array<WatchAnswer | Error>) {
  const controller = new AbortController();
  const handled: Array<[bigint, unknown]> = [];
  const asked: Array<bigint | undefined> = [];
  const retries: number[] = [];
  let i = 0;
  await runPlan({
    watcher: async (lastIndex) => {
      asked.push(lastIndex);
      const next = script[i++];
      if (i >= script.length) controller.abort();
      if (next instanceof Error) throw next;
      return next!;
    },
    handler: (index, result) => void handled.push([index, result]),
    signal: controller.signal,
    onError: (_err, retryMs) => retries.push(retryMs),
    retryIntervalMs: 1,
  });
  return { handled, asked, retries };
}

describe("runPlan", () => {
  test("hands out the first answer, then only changes", async () => {
    const r = await run([
      { index: 5n, result: null },
      { index: 5n, result: null }, // the wait ran out: same index, nothing to do
      { index: 7n, result: { v: 1 } },
      { index: 9n, result: { v: 1 } }, // the index moved but the result did not
      { index: 10n, result: { v: 2 } },
      { index: 11n, result: "last" },
    ]);
    expect(r.handled).toEqual([
      [5n, null],
      [7n, { v: 1 }],
      [10n, { v: 2 }],
    ]);
    // Each query blocks on the index of the answer before it.
    expect(r.asked).toEqual([undefined, 5n, 5n, 7n, 9n, 10n]);
  });

  test("a failure backs off and forgets the index, so the next answer is handed out again", async () => {
    const r = await run([{ index: 3n, result: [1] }, new Error("boom"), new Error("boom"), { index: 3n, result: [1] }, { index: 4n, result: "last" }]);
    expect(r.retries).toEqual([1, 4]);
    expect(r.asked).toEqual([undefined, 3n, undefined, undefined, 3n]);
    expect(r.handled).toEqual([
      [3n, [1]],
      [3n, [1]],
    ]);
  });

  test("the handler finishes before the next query", async () => {
    const controller = new AbortController();
    const events: string[] = [];
    let n = 0;
    await runPlan({
      watcher: async () => {
        events.push(`query ${n}`);
        if (++n === 2) controller.abort();
        return { index: BigInt(n), result: n };
      },
      handler: async (index) => {
        await Bun.sleep(5);
        events.push(`handled ${index}`);
      },
      signal: controller.signal,
      onError: () => {},
    });
    expect(events).toEqual(["query 0", "handled 1", "query 1"]);
  });

  test("an abort during the back-off ends the plan at once", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const done = runPlan({
      watcher: async () => {
        throw new Error("down");
      },
      handler: () => {},
      signal: controller.signal,
      onError: () => setTimeout(() => controller.abort(), 10),
    });
    await done;
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

test("retryDelayMs: 5s × failures², at most 3 minutes", () => {
  expect([1, 2, 3, 4, 5, 6, 7, 100].map((f) => retryDelayMs(f))).toEqual([5_000, 20_000, 45_000, 80_000, 125_000, 180_000, 180_000, 180_000]);
});
