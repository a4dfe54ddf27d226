import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCheckRunner, type CheckHost, isTtlRunner, StatusHandler } from "../../../src/agent/checks/runner.ts";
import { parseCheckDefinition } from "../../../src/config/definitions.ts";
import type { HealthStatus } from "../../../src/state/catalog-types.ts";

// Real scripts, a real HTTP server and real sockets on 127.0.0.1; short intervals so the
// whole file runs in a few seconds.

type Result = { status: HealthStatus; output: string };
const dir = mkdtempSync(join(tmpdir(), "tsc-checks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function host(): CheckHost & { results: Result[]; next: () => Promise<Result> } {
  const results: Result[] = [];
  const waiters: Array<(r: Result) => void> = [];
  return {
    results,
    update(status, output) {
      const r = { status, output };
      results.push(r);
      waiters.shift()?.(r);
    },
    logger: { warn() {}, debug() {} },
    next: () => new Promise<Result>((resolve) => waiters.push(resolve)),
  };
}

async function runOnce(body: Record<string, unknown>, outputMaxSize = 4096): Promise<Result> {
  const h = host();
  const r = createCheckRunner(parseCheckDefinition({ name: "c", interval: "10s", ...body }), h, { outputMaxSize, random: () => 0 })!;
  const first = h.next();
  r.start();
  try {
    return await first;
  } finally {
    r.stop();
  }
}

describe("script checks", () => {
  test("exit 0 passing, 1 warning, 2 critical, with stdout and stderr as output", async () => {
    expect(await runOnce({ script: "echo fine" })).toEqual({ status: "passing", output: "fine\n" });
    expect(await runOnce({ script: "echo slow >&2; exit 1" })).toEqual({ status: "warning", output: "slow\n" });
    expect(await runOnce({ args: ["sh", "-c", "exit 2"] })).toEqual({ status: "critical", output: "" });
    expect((await runOnce({ args: ["/nonexistent/check"] })).status).toBe("critical");
  });

  test("output keeps the last bytes with Consul's note when over the cap", async () => {
    const r = await runOnce({ script: "printf 'abcdefghij0123456789'" }, 10);
    expect(r.output).toBe("Captured 10 of 20 bytes\n...\n0123456789");
  });

  test("a timed-out script is critical and its whole process group is killed", async () => {
    const pidFile = join(dir, "child.pid");
    const r = await runOnce({ script: `sleep 30 & echo $! > ${pidFile}; wait`, timeout: "300ms" });
    expect(r).toEqual({ status: "critical", output: "Timed out (300ms) running check" });
    const child = readFileSync(pidFile, "utf8").trim();
    await Bun.sleep(100);
    // `kill -0` fails once the background child is gone (a zombie awaiting reaping counts as gone).
    const alive = spawnSync(["sh", "-c", `ps -o stat= -p ${child} | grep -qv Z`]).exitCode === 0;
    expect(alive).toBe(false);
  });

  test("runs at a fixed rate and never overlap", async () => {
    const h = host();
    const log = join(dir, "overlap.log");
    // Each run takes ~150ms at a 100ms interval: slots are skipped, runs never overlap.
    const def = parseCheckDefinition({ name: "slow", script: `echo start >> ${log}; sleep 0.15; echo end >> ${log}`, interval: "1s" });
    const r = createCheckRunner({ ...def, intervalMs: 100 }, h, { outputMaxSize: 4096, random: () => 0 })!;
    r.start();
    await Bun.sleep(700);
    r.stop();
    const lines = readFileSync(log, "utf8").trim().split("\n");
    for (let i = 0; i + 1 < lines.length; i += 2) expect([lines[i], lines[i + 1]]).toEqual(["start", "end"]);
    expect(h.results.length).toBeGreaterThanOrEqual(2);
    expect(h.results.length).toBeLessThanOrEqual(4);
  });
});

describe("HTTP and TCP checks", () => {
  let status = 200;
  let seen: { method: string; header: string | null; body: string; ua: string | null } | undefined;
  const server: ReturnType<typeof Bun.serve> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req): Promise<Response> {
      const url = new URL(req.url);
      if (url.pathname === "/redirect") return Response.redirect(`http://127.0.0.1:${url.port}/ok`, 302);
      if (url.pathname === "/slow") await Bun.sleep(500);
      seen = { method: req.method, header: req.headers.get("X-Token"), body: await req.text(), ua: req.headers.get("User-Agent") };
      return new Response("body text", { status });
    },
  });
  afterAll(() => server.stop(true));
  const base = () => `http://127.0.0.1:${server.port}`;

  test("2xx passing with Consul's output; method, headers and body are sent", async () => {
    const r = await runOnce({ http: `${base()}/ok`, method: "POST", header: { "X-Token": ["t1"] }, body: "ping" });
    expect(r).toEqual({ status: "passing", output: `HTTP POST ${base()}/ok: 200 OK Output: body text` });
    expect(seen).toEqual({ method: "POST", header: "t1", body: "ping", ua: "Consul Health Check" });
  });

  test("429 warning, 503 critical, redirects followed, timeouts and refusals critical", async () => {
    status = 429;
    expect((await runOnce({ http: `${base()}/ok` })).status).toBe("warning");
    status = 503;
    expect(await runOnce({ http: `${base()}/ok` })).toEqual({ status: "critical", output: `HTTP GET ${base()}/ok: 503 Service Unavailable Output: body text` });
    status = 200;
    expect((await runOnce({ http: `${base()}/redirect` })).status).toBe("passing");
    expect((await runOnce({ http: `${base()}/redirect`, disable_redirects: true })).status).toBe("critical");
    const slow = await runOnce({ http: `${base()}/slow`, timeout: "100ms" });
    expect(slow).toEqual({ status: "critical", output: `Get "${base()}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    const refused = await runOnce({ http: "http://127.0.0.1:1/" });
    expect(refused).toEqual({ status: "critical", output: 'Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused' });
  });

  test("TCP: a listener is passing, a closed port critical in Go's words", async () => {
    expect(await runOnce({ tcp: `127.0.0.1:${server.port}` })).toEqual({ status: "passing", output: `TCP connect 127.0.0.1:${server.port}: Success` });
    expect(await runOnce({ tcp: "127.0.0.1:1" })).toEqual({ status: "critical", output: "dial tcp 127.0.0.1:1: connect: connection refused" });
  });
});

describe("TTL checks and flap damping", () => {
  test("TTL: set resets the timer; expiry keeps the last output in the message", async () => {
    const h = host();
    const def = { ...parseCheckDefinition({ name: "t", ttl: "1s" }), ttlMs: 150 };
    const fast = createCheckRunner(def, h, { outputMaxSize: 4096, random: () => 0 });
    if (!fast || !isTtlRunner(fast)) throw new Error("not a TTL runner");
    fast.start();
    fast.set("passing", "all good");
    await Bun.sleep(100);
    fast.set("passing", "still good"); // resets the timer
    await Bun.sleep(100);
    expect(h.results.at(-1)).toEqual({ status: "passing", output: "still good" });
    await Bun.sleep(150);
    expect(h.results.at(-1)).toEqual({ status: "critical", output: "TTL expired (last output before timeout follows): still good" });
    fast.stop();
  });

  test("StatusHandler: thresholds of consecutive results, as Consul counts them", () => {
    const h = host();
    const s = new StatusHandler({ id: "c", successBeforePassing: 2, failuresBeforeWarning: 1, failuresBeforeCritical: 3 }, h);
    s.update("passing", "1");
    expect(h.results).toEqual([]);
    s.update("passing", "2");
    expect(h.results.at(-1)?.status).toBe("passing");
    s.update("critical", "x");
    expect(h.results.at(-1)?.status).toBe("warning");
    s.update("critical", "x");
    s.update("critical", "x");
    expect(h.results.at(-1)?.status).toBe("critical");
    s.update("passing", "3"); // one success is not enough to pass again
    expect(h.results.at(-1)?.status).toBe("critical");
  });
});
