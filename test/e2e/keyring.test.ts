import { afterAll, expect, test } from "bun:test";
import { type Subprocess, spawn, spawnSync } from "bun";
import { cleanupTempDirs, cli, type RunningAgent, startAgent, tempDir, waitFor } from "./harness.ts";

// `tsc keyring` and /v1/operator/keyring: gossip key rotation across a tsc server (.65), a tsc
// client (.66) and Debian's real serf (.67), driven from the client, which asks the server over
// RPC as Consul's clients do. Then the rotated keyring survives a server restart.

const SERVER = "127.0.0.65";
const CLIENT = "127.0.0.66";
const SERF = "127.0.0.67";
const PLAIN = "127.0.0.68";
const agents: RunningAgent[] = [];
const serfs: Subprocess[] = [];
const hasSerf = spawnSync(["sh", "-c", "command -v serf"]).exitCode === 0;
const at = (ip: string) => ["-http-addr", `${ip}:8500`];
const keyring = (...args: string[]) => cli(["keyring", ...args, ...at(CLIENT)]);

afterAll(async () => {
  for (const s of serfs) s.kill(9);
  for (const a of agents) await a.stop().catch(() => undefined);
  cleanupTempDirs();
});

test.skipIf(!hasSerf)("keyring: list, install, use, remove across tsc and serf; errors; a restart keeps the rotated key", async () => {
  const key1 = cli(["keygen"]).stdout.trim();
  const key2 = cli(["keygen"]).stdout.trim();
  const serverDir = tempDir();
  const server = await startAgent(SERVER, { node: "k1", dataDir: serverDir, args: ["-server", "-bootstrap-expect", "1", "-encrypt", key1] });
  agents.push(server);
  agents.push(await startAgent(CLIENT, { node: "k2", args: ["-encrypt", key1, "-join", SERVER] }));
  serfs.push(spawn(["serf", "agent", "-node=k3", `-bind=${SERF}:7946`, `-rpc-addr=${SERF}:7373`, `-encrypt=${key1}`, `-join=${SERVER}:8301`, "-log-level=warn"], { stdout: "ignore", stderr: "ignore" }));
  const alive = async () => ((await (await fetch(`http://${CLIENT}:8500/v1/agent/members`)).json()) as Array<{ Status: number }>).filter((m) => m.Status === 1).length;
  await waitFor(async () => (await alive()) === 3, 15_000, () => "the three members never saw each other");

  let r = keyring("-list");
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`==> Gathering installed encryption keys...\n\nWAN:\n  ${key1} [1/1]\n\ndc1 (LAN):\n  ${key1} [3/3]\n`);

  expect(keyring("-install", key2)).toEqual({ code: 0, stdout: "==> Installing new gossip encryption key...\n", stderr: "" });
  r = keyring("-list");
  expect(r.stdout).toContain(`dc1 (LAN):\n  ${key1} [3/3]\n  ${key2} [3/3]\n`);
  // Serf sees the key we installed on it.
  expect(spawnSync(["serf", "keys", "-list", `-rpc-addr=${SERF}:7373`]).stdout.toString()).toContain(`${key2}  [3/3]`);

  expect(keyring("-use", key2).code).toBe(0);
  r = keyring("-list-primary");
  expect(r.stdout).toBe(`==> Gathering installed primary encryption keys...\n\nWAN:\n  ${key2} [1/1]\n\ndc1 (LAN):\n  ${key2} [3/3]\n`);
  expect(keyring("-remove", key1).code).toBe(0);
  r = keyring("-list", "-local-only");
  expect(r.stdout).toBe(`==> Gathering installed encryption keys...\n\ndc1 (LAN):\n  ${key2} [3/3]\n`);

  // Every member refuses what it cannot do, and the command says who and why.
  const key3 = cli(["keygen"]).stdout.trim();
  r = keyring("-use", key3);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("error: Unexpected response code: 500 (");
  expect(r.stderr).toContain("dc1 (LAN) error: 3/3 nodes reported failure");
  expect(r.stderr).toContain("k3: Requested key is not in the keyring");
  r = keyring("-remove", key2);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("k1: Removing the primary key is not allowed");
  const bad = await fetch(`http://${CLIENT}:8500/v1/operator/keyring`, { method: "POST", body: JSON.stringify({ Key: "not base64!" }) });
  expect(bad.status).toBe(500);
  expect(await bad.text()).toContain("error: illegal base64 data at input byte 3");
  const badJson = await fetch(`http://${CLIENT}:8500/v1/operator/keyring`, { method: "PUT", body: "{" });
  expect(badJson.status).toBe(400);
  expect((await badJson.text()).startsWith("Request decode failed:")).toBe(true);
  expect((await fetch(`http://${CLIENT}:8500/v1/operator/keyring?local-only=true`, { method: "POST", body: JSON.stringify({ Key: key3 }) })).status).toBe(400);
  expect((await fetch(`http://${CLIENT}:8500/v1/operator/keyring?relay-factor=9`)).status).toBe(400);
  expect((await fetch(`http://${CLIENT}:8500/v1/operator/keyring`, { method: "PATCH" })).status).toBe(405);
  expect(keyring("-install", key3, "-local-only").stderr).toBe("Error validating local-only: local-only can only be set for list requests\n");
  expect(keyring("-list", "-use", key2).stderr).toBe("Only a single action is allowed\n");
  expect(keyring().code).toBe(1);
  // Nothing changed, and gossip goes on under the new key.
  expect(keyring("-list").stdout).toContain(`dc1 (LAN):\n  ${key2} [3/3]\n`);
  await Bun.sleep(1000);
  expect(await alive()).toBe(3);

  // The server restarts with the old -encrypt: its keyring file wins (it could not rejoin
  // the pool with key1), and it says so.
  await server.stop("SIGKILL");
  const again = await startAgent(SERVER, { node: "k1", dataDir: serverDir, args: ["-server", "-bootstrap-expect", "1", "-encrypt", key1, "-join", CLIENT] });
  agents.push(again);
  expect(again.output()).toContain("LAN keyring exists but -encrypt given, using keyring");
  await waitFor(async () => (await alive()) === 3, 15_000, () => "the restarted server did not rejoin with its kept key");
  expect(keyring("-list").stdout).toContain(`dc1 (LAN):\n  ${key2} [3/3]\n`);
}, 90_000);

test("keyring on a cluster without encryption: every member says so", async () => {
  agents.push(await startAgent(PLAIN, { node: "p1" }));
  const r = cli(["keyring", "-list", ...at(PLAIN)]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("WAN error: 1/1 nodes reported failure");
  expect(r.stderr).toContain("dc1 (LAN) error: 1/1 nodes reported failure");
  expect(r.stderr).toContain("p1: Keyring is empty (encryption not enabled)");
});
