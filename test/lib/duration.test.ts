import { describe, expect, test } from "bun:test";
import { formatDurationNs, parseDurationMs, parseDurationNs } from "../../src/lib/duration.ts";

describe("Go durations", () => {
  test.each([
    ["10s", 10_000],
    ["9.98172569s", 9981.72569],
    ["15.0s", 15_000],
    ["120000ms", 120_000],
    ["1ms", 1],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["300us", 0.3],
    ["300µs", 0.3],
    ["0", 0],
    ["-2s", -2000],
    [".5s", 500],
  ])("%s parses to %d ms", (text, ms) => {
    expect(parseDurationMs(text)).toBeCloseTo(ms, 6);
  });

  test.each(["", "10", "s", "1x", "1s2", "1.s.", "--1s", "1 s", "."])("rejects %p", (text) => {
    expect(parseDurationNs(text)).toBeUndefined();
  });

  test.each([
    [0, "0s"],
    [1.5e9, "1.5s"],
    [90e9, "1m30s"],
    [3600e9, "1h0m0s"],
    [15e6, "15ms"],
    [250, "250ns"],
    [-2e9, "-2s"],
  ])("formats %d ns as %s", (ns, text) => {
    expect(formatDurationNs(ns)).toBe(text);
  });
});
