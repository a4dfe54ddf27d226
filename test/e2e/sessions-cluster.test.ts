import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupTempDirs, type RunningAgent, leaderOf, startAgent, tempDir, waitFor } from "./harness.ts";

// Sessions on three real servers (127.0.0.161-163, session_ttl_min 1s): created through a
// follower with the default serfHealth check, and timed again by the next leader after the
// leader is killed: the TTL neither dies with the old leader nor expires early.

const IPS = ["127.0.0.161", "127.0.0.162", "127.0.0.163"];
const agents: RunningAgent[] = [];

afterAll(async () => {
  for (const a of agents) await a.stop().catch(() => undefined);
  cleanupTempDirs();
});


test("a follower creates a TTL session; after the leader is killed the new leader expires it at TTL x 2", async () => {
  const conf = join(tempDir(), "sessions.json");
  writeFileSync(conf, JSON.stringify({ session_ttl_min: "1s" }));
  const args = ["-server", "-bootstrap-expect", "3", "-retry-join", IPS[0]!, "-retry-interval", "1s", "-config-file", conf];
  agents.push(...(await Promise.all(IPS.map((ip, i) => startAgent(ip, { node: `s${i}`, args })))));
  const leader = await leaderOf(IPS[0]!);
  const follower = IPS.find((ip) => `${ip}:8300` !== leader)!;
  const u = `http://${follower}:8500`;

  // The leader registers every server's serfHealth, which sessions link to by default.
  await waitFor(
    async () => ((await (await fetch(`${u}/v1/health/state/passing`)).json()) as Array<{ CheckID: string }>).filter((c) => c.CheckID === "serfHealth").length === 3,
    10_000,
    () => "serfHealth never registered for every server",
  );
  const created = await fetch(`${u}/v1/session/create`, { method: "PUT", body: JSON.stringify({ TTL: "2s", LockDelay: "0s" }) });
  expect(created.status).toBe(200);
  const { ID } = (await created.json()) as { ID: string };
  expect(await (await fetch(`${u}/v1/kv/cluster/lead?acquire=${ID}`, { method: "PUT", body: "x" })).json()).toBe(true);

  agents.find((a) => `${a.ip}:8300` === leader)!.proc.kill("SIGKILL");
  await waitFor(async () => !["", leader].includes(await leaderOf(follower)), 15_000, () => "no new leader");
  const elected = Date.now();
  const info = async () => (await (await fetch(`${u}/v1/session/info/${ID}`)).json()) as unknown[];
  expect(await info()).toHaveLength(1);
  await waitFor(async () => (await info()).length === 0, 15_000, () => "the new leader never expired the session");
  const expiredAfter = Date.now() - elected;
  expect(expiredAfter).toBeGreaterThanOrEqual(3000);
  expect(expiredAfter).toBeLessThan(12_000);
  const [e] = (await (await fetch(`${u}/v1/kv/cluster/lead`)).json()) as Array<{ Session?: string; LockIndex: number }>;
  expect(e!.Session).toBeUndefined();
  expect(e!.LockIndex).toBe(1);
});
