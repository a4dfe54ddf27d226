import { expect, test } from "bun:test";
import { StatusHandler } from "../../../src/agent/checks/status-handler.ts";
import type { HealthStatus } from "../../../src/state/catalog-types.ts";
import { recordingHost } from "./helpers.ts";

// Consul's own StatusHandler tests (agent/checks/check_test.go), sequence for sequence.

function handler(successBeforePassing: number, failuresBeforeWarning: number, failuresBeforeCritical: number) {
  const h = recordingHost();
  const s = new StatusHandler({ id: "c", successBeforePassing, failuresBeforeWarning, failuresBeforeCritical }, h);
  const feed = (...statuses: HealthStatus[]) => {
    for (const st of statuses) s.update(st, `out-${h.results.length}-${st}`);
  };
  const state = () => ({ updates: h.results.length, status: h.results.at(-1)?.status });
  return { h, feed, state };
}

test("status changes only once a threshold of consecutive results is reached", () => {
  const { feed, state } = handler(2, 2, 3);
  feed("passing"); // the first result always counts
  feed("critical");
  expect(state()).toEqual({ updates: 1, status: "passing" });
  feed("critical");
  expect(state()).toEqual({ updates: 2, status: "warning" });
  feed("critical");
  expect(state()).toEqual({ updates: 3, status: "critical" });
  feed("passing");
  expect(state()).toEqual({ updates: 3, status: "critical" });
  feed("passing");
  expect(state()).toEqual({ updates: 4, status: "passing" });
});

test("counters reset on a different result", () => {
  const { feed, state } = handler(2, 2, 3);
  feed("passing", "critical", "passing", "critical", "passing", "critical");
  expect(state()).toEqual({ updates: 1, status: "passing" });
  feed("critical");
  expect(state()).toEqual({ updates: 2, status: "warning" });
  feed("critical");
  expect(state()).toEqual({ updates: 3, status: "critical" });
  feed("passing", "critical", "passing");
  expect(state()).toEqual({ updates: 3, status: "critical" });
  feed("passing");
  expect(state()).toEqual({ updates: 4, status: "passing" });
});

test("equal warning and critical thresholds go straight to critical", () => {
  const { feed, state } = handler(2, 3, 3);
  feed("passing", "critical", "critical");
  expect(state()).toEqual({ updates: 1, status: "passing" });
  feed("critical");
  expect(state()).toEqual({ updates: 2, status: "critical" });
  feed("passing", "passing");
  expect(state()).toEqual({ updates: 3, status: "passing" });
});

test("a flapping check stays warning until failures_before_critical in a row", () => {
  const { feed, state } = handler(3, 3, 5);
  feed("passing", "critical", "critical");
  expect(state()).toEqual({ updates: 1, status: "passing" });
  feed("critical");
  expect(state()).toEqual({ updates: 2, status: "warning" });
  feed("passing", "critical", "critical", "critical");
  expect(state()).toEqual({ updates: 3, status: "warning" });
  feed("passing", "critical", "critical", "critical");
  expect(state()).toEqual({ updates: 4, status: "warning" });
  feed("passing", "critical", "critical", "critical");
  expect(state()).toEqual({ updates: 5, status: "warning" });
  feed("critical");
  expect(state()).toEqual({ updates: 6, status: "warning" });
  feed("critical");
  expect(state()).toEqual({ updates: 7, status: "critical" });
});

test("a result below its threshold is dropped whole: the previous output stays", () => {
  const { h, feed } = handler(1, 0, 3); // failures_before_warning defaults to failures_before_critical
  feed("passing", "critical", "critical");
  expect(h.results).toEqual([{ status: "passing", output: "out-0-passing" }]);
  expect(h.warnings.at(-1)).toContain("Check failed but has not reached warning/failure threshold: check=c");
  feed("critical");
  expect(h.results.at(-1)).toEqual({ status: "critical", output: "out-1-critical" });
});

test("warning results count as successes; no thresholds means every result counts", () => {
  const { h, feed } = handler(0, 0, 0);
  feed("warning", "critical", "passing");
  expect(h.results.map((r) => r.status)).toEqual(["warning", "critical", "passing"]);
});
