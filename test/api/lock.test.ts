import { describe, expect, test } from "bun:test";
import { ApiError, type KvPair } from "../../src/api/client.ts";
import { AttemptClock, LockError, type LockTiming, monitor } from "../../src/api/lock-session.ts";
import { decodeLock, encodeLock, pruneDeadHolders } from "../../src/api/semaphore.ts";
import { childArgv } from "../../src/cli/lock-child.ts";
import { flagPrefixLength, parseFlags } from "../../src/cli/flags.ts";

const timing = (over: Partial<LockTiming> = {}): LockTiming => ({ tryOnce: false, waitMs: 15_000, monitorRetries: 3, monitorRetryMs: 1, ...over });

describe("the lock monitor (Consul's monitorLock with MonitorRetries)", () => {
  /** Runs the monitor over scripted reads; returns how many reads it made before calling the lock lost. */
  async function reads(script: Array<"held" | "gone" | Error>, retries: number): Promise<number> {
    let n = 0;
    await monitor(timing({ monitorRetries: retries }), new AbortController().signal, async (index) => {
      const step = script[n++];
      if (step === undefined) throw new Error(`read ${n} past the script (index ${index})`);
      if (step instanceof Error) throw step;
      return { held: step === "held", index: n };
    });
    return n;
  }
  const noLeader = () => new ApiError(500, "No cluster leader");

  test("a 500 is ridden out up to the retries, which reset after each good read", async () => {
    expect(await reads(["held", noLeader(), noLeader(), "held", noLeader(), noLeader(), noLeader(), "gone"], 3)).toBe(8);
    expect(await reads(["held", noLeader(), noLeader(), noLeader(), noLeader()], 3)).toBe(5);
  });

  test("with no retries, or for errors that are not retryable (a 403), the first failure loses the lock", async () => {
    expect(await reads(["held", noLeader()], 0)).toBe(2);
    expect(await reads(["held", new ApiError(403, "Permission denied")], 3)).toBe(2);
  });

  test("an unreachable agent is retried like a 500", async () => {
    expect(await reads([new Error('Get "http://127.0.0.1:8500/v1/kv/a": dial tcp 127.0.0.1:8500: connect: connection refused'), "gone"], 1)).toBe(2);
  });

  test("the blocking index of one read is the next read's", async () => {
    const seen: number[] = [];
    let n = 0;
    await monitor(timing(), new AbortController().signal, async (index) => {
      seen.push(index);
      return { held: ++n < 3, index: 10 * n };
    });
    expect(seen).toEqual([0, 10, 20]);
  });
});

describe("try-once acquisition (LockTryOnce / -timeout)", () => {
  test("the first read does not count against the budget; later reads wait for what is left, then it gives up", async () => {
    const clock = new AttemptClock(timing({ tryOnce: true, waitMs: 40 }));
    expect(clock.next()).toBe(40);
    const second = clock.next()!;
    expect(second).toBeGreaterThan(0);
    expect(second).toBeLessThanOrEqual(40);
    await Bun.sleep(60);
    expect(clock.next()).toBeUndefined();
  });

  test("without it every read waits the full time", async () => {
    const clock = new AttemptClock(timing({ waitMs: 15_000 }));
    expect([clock.next(), clock.next()]).toEqual([15_000, 15_000]);
  });
});

describe("the semaphore's .lock value", () => {
  const pair = (key: string, session?: string): KvPair => ({ Key: key, Flags: 0n, Value: null, LockIndex: 0, Session: session, CreateIndex: 1, ModifyIndex: 1 });

  test("encodes as Go's json.Marshal: Limit then Holders, keys sorted", () => {
    const text = new TextDecoder().decode(encodeLock({ Limit: 2, Holders: { b: true, a: true } }));
    expect(text).toBe('{"Limit":2,"Holders":{"a":true,"b":true}}');
  });

  test("decodes field names in any case; junk is Consul's decoding error", () => {
    expect(decodeLock('{"limit":3,"holders":{"x":true}}')).toEqual({ Limit: 3, Holders: { x: true } });
    expect(() => decodeLock("{nope")).toThrow(LockError);
    expect(() => decodeLock("{nope")).toThrow(/^lock decoding failed: /);
    expect(() => decodeLock('{"Limit":"2"}')).toThrow("lock decoding failed: json: cannot unmarshal into Go struct field semaphoreLock.Limit of type int");
  });

  test("holders whose session holds no key under the prefix are dropped", () => {
    const lock: { Limit: number; Holders: Record<string, boolean> } = { Limit: 3, Holders: { live: true, dead: true } };
    pruneDeadHolders(lock, [pair("p/.lock"), pair("p/live", "live"), pair("p/other")]);
    expect(lock.Holders).toEqual({ live: true });
  });
});

describe("the child's command line", () => {
  test("through $SHELL -c with the arguments joined, /bin/sh without SHELL, or as given", () => {
    expect(childArgv(["echo", "a b"], true, { SHELL: "/bin/bash" })).toEqual(["/bin/bash", "-c", "echo a b"]);
    expect(childArgv(["echo hi"], true, {})).toEqual(["/bin/sh", "-c", "echo hi"]);
    expect(childArgv(["ls", "-la"], false, {})).toEqual(["ls", "-la"]);
  });

  test("flags end at the prefix, so the child's own flags stay its own", () => {
    const spec = { verbose: { type: "boolean" as const, description: "" }, n: { type: "string" as const, description: "" } };
    const f = parseFlags(["-n", "2", "-verbose", "app/x", "ls", "-la", "--", "-h"], spec, { stopAtFirstArg: true });
    expect(f).toMatchObject({ n: "2", verbose: true, _: ["app/x", "ls", "-la", "--", "-h"] });
    expect(flagPrefixLength(["-n", "2", "-verbose", "app/x", "ls", "-h"], spec)).toBe(3);
    expect(flagPrefixLength(["-n=2", "-h", "app/x"], spec)).toBe(2);
  });
});
