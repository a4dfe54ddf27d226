// Health checks at scale on one agent: 2,000 TTL checks (each refreshed every 10s by this
// script, as real TTL clients do) and 500 HTTP checks at a 10s interval against a local HTTP
// server, then CPU per second and RSS sampled from /proc over a steady window. Run by hand:
//   node_modules/.bin/bun scripts/bench/checks.ts            env: TTL=2000 HTTP=500 WINDOW=60
// Needs a built dist/tsc. Loopback only: agent on 127.0.0.61, HTTP target on 127.0.0.62.
import { spawn } from "bun";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const TTL = Number(process.env.TTL ?? 2000);
const HTTP = Number(process.env.HTTP ?? 500);
const WINDOW_S = Number(process.env.WINDOW ?? 60);
const IP = "127.0.0.61";
const TARGET = "127.0.0.62";
const BIN = resolve(import.meta.dir, "../../dist/tsc");
const TICKS = 100; // USER_HZ on Linux

const dataDir = mkdtempSync(join(tmpdir(), "tsc-bench-checks-"));
let hits = 0;
const target = Bun.serve({ hostname: TARGET, port: 0, fetch: () => (hits++, new Response("ok")) });
const agent = spawn([BIN, "agent", "-server", "-bootstrap-expect", "1", "-data-dir", dataDir, "-node", "bench", "-bind", IP, "-client", IP, "-log-level", "error"], {
  stdout: "ignore",
  stderr: "inherit",
});
const url = `http://${IP}:8500`;

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime
}
const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);

async function put(path: string, body?: unknown): Promise<void> {
  const r = await fetch(url + path, { method: "PUT", body: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
}

try {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await (await fetch(`${url}/v1/status/leader`)).json()) !== "") break;
    } catch {}
    await Bun.sleep(50);
  }
  const idleRss = rssKb(agent.pid);
  const t0 = performance.now();
  for (let i = 0; i < TTL; i++) await put("/v1/agent/check/register", { ID: `ttl-${i}`, Name: `ttl ${i}`, TTL: "30s" });
  for (let i = 0; i < HTTP; i++) await put("/v1/agent/check/register", { ID: `http-${i}`, Name: `http ${i}`, HTTP: `http://${TARGET}:${target.port}/h/${i}`, Interval: "10s" });
  const registerMs = performance.now() - t0;
  // Refresh every TTL check each 10s, spread over the period.
  let stop = false;
  const refresher = (async () => {
    while (!stop) {
      const start = performance.now();
      for (let i = 0; i < TTL && !stop; i++) {
        await put(`/v1/agent/check/pass/ttl-${i}`);
        if (i % 200 === 199) await Bun.sleep(Math.max(0, 1000 - (performance.now() - start) / (i / 200 + 1)));
      }
      const rest = 10_000 - (performance.now() - start);
      for (let t = 0; t < rest && !stop; t += 100) await Bun.sleep(100);
    }
  })();
  await Bun.sleep(15_000); // settle: first runs are spread over one interval
  const c0 = cpuTicks(agent.pid);
  const h0 = hits;
  const w0 = performance.now();
  let maxRss = 0;
  for (let s = 0; s < WINDOW_S; s++) {
    await Bun.sleep(1000);
    maxRss = Math.max(maxRss, rssKb(agent.pid));
  }
  const elapsed = (performance.now() - w0) / 1000;
  const cpu = (cpuTicks(agent.pid) - c0) / TICKS / elapsed;
  const runs = hits - h0;
  const checks = (await (await fetch(`${url}/v1/agent/checks`)).json()) as Record<string, { Status: string }>;
  const passing = Object.values(checks).filter((c) => c.Status === "passing").length;
  stop = true;
  await refresher;
  console.log(`checks: ${TTL} ttl + ${HTTP} http (10s interval), registered in ${(registerMs / 1000).toFixed(1)} s`);
  console.log(`cpu: ${(cpu * 100).toFixed(1)}% of one core over ${elapsed.toFixed(0)} s (TTL refreshes included)`);
  console.log(`http check runs/s: ${(runs / elapsed).toFixed(1)} (expected ${(HTTP / 10).toFixed(1)})`);
  console.log(`rss: idle ${(idleRss / 1024).toFixed(1)} MiB, with checks max ${(maxRss / 1024).toFixed(1)} MiB`);
  console.log(`passing: ${passing} of ${Object.keys(checks).length}`);
} finally {
  agent.kill();
  await agent.exited;
  target.stop(true);
  rmSync(dataDir, { recursive: true, force: true });
}
