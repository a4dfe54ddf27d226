import { expect, test } from "bun:test";
import { createCheckRunner, isTtlRunner, type TtlCheckRunner } from "../../../src/agent/checks/runner.ts";
import { checkDef, OPTS, recordingHost } from "./helpers.ts";

function ttlRunner(ttlMs: number, extra: Record<string, unknown> = {}) {
  const h = recordingHost();
  const r = createCheckRunner(checkDef({ ttl: "1s", ...extra }, { ttlMs }), h, OPTS);
  if (!r || !isTtlRunner(r)) throw new Error("not a TTL runner");
  return { h, r: r as TtlCheckRunner };
}

test("nothing happens until the TTL runs out; then critical, with nothing to quote", async () => {
  const { h, r } = ttlRunner(100);
  r.start();
  await Bun.sleep(60);
  expect(h.results).toEqual([]);
  expect(await h.next()).toEqual({ status: "critical", output: "TTL expired" });
  r.stop();
});

test("set() reports at once, undamped, and restarts the TTL; expiry quotes the last output", async () => {
  const { h, r } = ttlRunner(150, { success_before_passing: 5 });
  r.start();
  r.set("passing", "all good");
  expect(h.results).toEqual([{ status: "passing", output: "all good" }]);
  await Bun.sleep(100);
  r.set("warning", "so-so");
  await Bun.sleep(100); // 200ms after start, but only 100ms after the last set()
  expect(h.results.at(-1)).toEqual({ status: "warning", output: "so-so" });
  expect(await h.next()).toEqual({ status: "critical", output: "TTL expired (last output before timeout follows): so-so" });
  // After expiry a new result re-arms the timer.
  r.set("passing", "back");
  expect(await h.next()).toEqual({ status: "critical", output: "TTL expired (last output before timeout follows): back" });
  r.stop();
});

test("after stop() the timer is gone and set() is ignored", async () => {
  const { h, r } = ttlRunner(50);
  r.start();
  r.set("passing", "x");
  r.stop();
  r.set("passing", "y");
  await Bun.sleep(120);
  expect(h.results).toEqual([{ status: "passing", output: "x" }]);
});

test("2,000 TTL checks are cheap to run and to feed", () => {
  const started = performance.now();
  const runners = Array.from({ length: 2000 }, () => ttlRunner(60_000).r);
  for (const r of runners) r.start();
  for (let i = 0; i < 5; i++) for (const r of runners) r.set("passing", "ok");
  for (const r of runners) r.stop();
  expect(performance.now() - started).toBeLessThan(1000);
});
