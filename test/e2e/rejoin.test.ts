import { afterAll, expect, test } from "bun:test";
import { cleanupTempDirs, type RunningAgent, startAgent, tempDir, waitFor } from "./harness.ts";

// Serf's snapshot rejoin: an agent restarted with its data dir finds the members it knew
// without -join; after a graceful leave it stays alone unless -rejoin. Agents on 127.0.0.47-48.

const SERVER = "127.0.0.47";
const CLIENT = "127.0.0.48";
const agents: RunningAgent[] = [];

afterAll(async () => {
  for (const a of agents) await a.stop().catch(() => undefined);
  cleanupTempDirs();
});

const statusOf = async (ip: string, name: string) =>
  ((await (await fetch(`http://${ip}:8500/v1/agent/members`)).json()) as Array<{ Name: string; Status: number }>).find((m) => m.Name === name)?.Status;

test("a restarted agent rejoins the members it knew; after a leave only with -rejoin", async () => {
  const server = await startAgent(SERVER, { node: "r1" });
  agents.push(server);
  const dir = tempDir();
  const first = await startAgent(CLIENT, { node: "r2", dataDir: dir, args: ["-join", SERVER], waitLeader: false });
  agents.push(first);
  await waitFor(async () => (await statusOf(SERVER, "r2")) === 1, 10_000, () => "r2 never joined");
  await Bun.sleep(1200); // the snapshot is written at most once a second

  // Crash, then start with no -join: it comes back through the snapshot.
  await first.kill9();
  const second = await startAgent(CLIENT, { node: "r2", dataDir: dir, args: [], waitLeader: false });
  agents.push(second);
  await waitFor(async () => (await statusOf(CLIENT, "r1")) === 1, 10_000, () => `r2 did not rejoin r1:\n${second.output()}`);
  expect(second.output()).toContain("Re-joined to previously known node: r1: 127.0.0.47:8301");
  await waitFor(async () => (await statusOf(SERVER, "r2")) === 1, 10_000, () => "r1 does not see r2 alive again");

  // A graceful leave is remembered: the next start stays alone...
  await second.stop("SIGINT");
  await waitFor(async () => (await statusOf(SERVER, "r2")) === 3, 10_000, () => `r2 not left:\n${server.output().slice(-2000)}\n${second.output().slice(-2000)}`);
  const third = await startAgent(CLIENT, { node: "r2", dataDir: dir, args: [], waitLeader: false });
  agents.push(third);
  await Bun.sleep(1000);
  expect(third.output()).toContain("Previous leave in snapshot; not rejoining");
  expect(await statusOf(CLIENT, "r1")).toBeUndefined();
  await third.stop("SIGKILL");

  // ...unless -rejoin says otherwise.
  const fourth = await startAgent(CLIENT, { node: "r2", dataDir: dir, args: ["-rejoin"], waitLeader: false });
  agents.push(fourth);
  await waitFor(async () => (await statusOf(CLIENT, "r1")) === 1, 10_000, () => `r2 -rejoin did not rejoin:\n${fourth.output()}`);
}, 60_000);
