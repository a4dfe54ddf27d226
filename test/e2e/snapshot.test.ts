import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { cleanupTempDirs, cli, type RunningAgent, startAgent, tempDir, waitFor, withTimeout } from "./harness.ts";

// `tsc snapshot save|inspect|restore` and /v1/snapshot against real agents on 127.0.0.87-89:
// a restore brings saved data back and wakes blocking queries; it works through a client
// agent and into a fresh server; a damaged file is refused and changes nothing; on three
// servers it reaches every one of them through the log.

const [S1, S2, S3] = ["127.0.0.87", "127.0.0.88", "127.0.0.89"] as const;
const running: RunningAgent[] = [];
/** Starts still under way: a test that fails meanwhile must not leave their agents behind. */
const starting = new Set<Promise<RunningAgent>>();
const files = tempDir("tsc-snap-");
const backup = join(files, "backup.snap");

afterAll(async () => {
  await Promise.allSettled([...starting]);
  for (const a of running) await a.kill9().catch(() => undefined);
  cleanupTempDirs();
});

async function start(ip: string, opts: Parameters<typeof startAgent>[1] = {}): Promise<RunningAgent> {
  const p = startAgent(ip, opts);
  starting.add(p);
  try {
    const a = await p;
    running.push(a);
    return a;
  } finally {
    starting.delete(p);
  }
}

async function stop(a: RunningAgent): Promise<void> {
  await a.kill9();
  running.splice(running.indexOf(a), 1);
}

const tsc = (ip: string, ...args: string[]) => cli([...args.slice(0, 2), "-http-addr", `${ip}:8500`, ...args.slice(2)]);

async function kv(ip: string, key: string, query = ""): Promise<string | undefined> {
  const r = await fetch(`http://${ip}:8500/v1/kv/${key}?raw${query}`);
  return r.status === 404 ? undefined : await r.text();
}

async function put(ip: string, key: string, value: string): Promise<void> {
  expect(await (await fetch(`http://${ip}:8500/v1/kv/${key}`, { method: "PUT", body: value })).text()).toBe("true");
}

async function webNodes(ip: string, query = ""): Promise<string[]> {
  const rows = (await (await fetch(`http://${ip}:8500/v1/catalog/service/web?${query}`)).json()) as Array<{ Node: string }>;
  return rows.map((r) => r.Node);
}

/** The same archive with one byte of state.bin changed and the gzip redone: only the sums can tell. */
function tamperedState(archive: Uint8Array): Uint8Array {
  const tar = new Uint8Array(gunzipSync(archive));
  const stateData = 512 * 3; // meta.json's header and its one block, then state.bin's header
  tar[stateData + 10]! ^= 0xff;
  return gzipSync(tar);
}

test("save, inspect, restore on one server; through a client agent; damage refused", async () => {
  const server = await start(S1);
  await put(S1, "app/one", "1");
  await put(S1, "app/two", "2");
  await put(S1, "config/x", "x");
  const reg = await fetch(`http://${S1}:8500/v1/catalog/register`, {
    method: "PUT",
    body: JSON.stringify({ Node: "ext1", Address: "10.0.0.1", Service: { Service: "web", Port: 80 } }),
  });
  expect(reg.status).toBe(200);

  const saved = tsc(S1, "snapshot", "save", backup);
  expect(saved).toMatchObject({ code: 0, stderr: "" });
  const index = Number(/^Saved and verified snapshot to index (\d+)\n$/.exec(saved.stdout)?.[1]);
  expect(index).toBeGreaterThan(4);

  // inspect reads the file alone: no agent, no HTTP flags.
  const inspected = cli(["snapshot", "inspect", backup]);
  expect(inspected.code).toBe(0);
  const lines = inspected.stdout.split("\n");
  expect(lines[0]).toMatch(/^ ID {11}\d+-\d+-\d{13}$/);
  expect(lines[2]).toBe(` Index        ${index}`);
  expect(lines[3]).toMatch(/^ Term {9}\d+$/);
  expect(lines[4]).toBe(" Version      1");
  expect(lines[1]).toMatch(/^ Size {9}\d+$/);
  expect(inspected.stdout).toMatch(/\n KVS +3 +\d+B\n/);
  expect(inspected.stdout).toMatch(/\n Register +\d+ +[\d.]+K?B\n/);
  expect(cli(["snapshot", "inspect", "-kvdetails", "-kvdepth", "1", backup]).stdout).toMatch(/\n Key Name +Count +Size\n -+ +-+ +-+\n app +2 +\d+B\n config +1 +\d+B\n/);

  // Change everything, and leave a query blocked on a key the restore will change back.
  await put(S1, "app/one", "changed");
  expect((await fetch(`http://${S1}:8500/v1/kv/app/two`, { method: "DELETE" })).status).toBe(200);
  await put(S1, "app/new", "n");
  await fetch(`http://${S1}:8500/v1/catalog/deregister`, { method: "PUT", body: JSON.stringify({ Node: "ext1" }) });
  expect(await webNodes(S1)).toEqual([]);
  const head = await fetch(`http://${S1}:8500/v1/kv/app/one`);
  const blocked = fetch(`http://${S1}:8500/v1/kv/app/one?index=${head.headers.get("X-Consul-Index")}&wait=60s`);
  blocked.catch(() => undefined); // awaited below; a failure before then must not go unhandled

  // A damaged file is refused, in one line, and changes nothing.
  const cut = join(files, "cut.snap");
  writeFileSync(cut, readFileSync(backup).subarray(0, 100));
  expect(tsc(S1, "snapshot", "restore", cut)).toEqual({
    code: 1,
    stdout: "",
    stderr: "Error restoring snapshot: Unexpected response code: 500 (failed to read snapshot file: failed reading snapshot: unexpected EOF)\n",
  });
  const tampered = join(files, "tampered.snap");
  writeFileSync(tampered, tamperedState(readFileSync(backup)));
  expect(tsc(S1, "snapshot", "restore", tampered).stderr).toBe(
    'Error restoring snapshot: Unexpected response code: 500 (failed to read snapshot file: failed checking integrity of snapshot: hash check failed for "state.bin")\n',
  );
  expect(cli(["snapshot", "inspect", tampered])).toEqual({
    code: 1,
    stdout: "",
    stderr: 'Error reading snapshot: failed to read snapshot file: failed checking integrity of snapshot: hash check failed for "state.bin"\n',
  });
  expect(await kv(S1, "app/one")).toBe("changed");
  expect(await kv(S1, "app/new")).toBe("n");
  expect(tsc(S1, "snapshot", "restore")).toEqual({ code: 1, stdout: "", stderr: "Missing FILE argument\n" });

  // Restore through a client agent: forwarded to the server, as every write is.
  const client = await start(S2, { args: ["-retry-join", S1, "-retry-interval", "1s"], waitLeader: true });
  expect(tsc(S2, "snapshot", "restore", backup)).toEqual({ code: 0, stdout: "Restored snapshot\n", stderr: "" });
  const woke = await withTimeout(blocked, 5000, "the blocked query did not wake on restore");
  expect(await woke.text()).toContain('"Key":"app/one"');
  expect(await kv(S1, "app/one")).toBe("1");
  expect(await kv(S1, "app/two")).toBe("2");
  expect(await kv(S1, "app/new")).toBeUndefined();
  expect(await webNodes(S1)).toEqual(["ext1"]);
  // The index keeps going up: the next write lands past everything the snapshot held.
  await put(S1, "after", "a");
  const after = await fetch(`http://${S1}:8500/v1/kv/after`);
  expect(Number(after.headers.get("X-Consul-Index"))).toBeGreaterThan(index);
  // A stale save through the client is answered by a server without the leader's check.
  const stale = tsc(S2, "snapshot", "save", "-stale", join(files, "stale.snap"));
  expect(stale.stdout).toMatch(/^Saved and verified snapshot to index \d+\n$/);
  expect(server.output()).toContain("restored a snapshot");
  await stop(client);
}, 60_000);

test("restore into a fresh server with its own data dir; it survives a restart", async () => {
  const dataDir = tempDir();
  let fresh = await start(S2, { dataDir, node: "fresh" });
  expect(await kv(S2, "app/one")).toBeUndefined();
  expect(tsc(S2, "snapshot", "restore", backup).stdout).toBe("Restored snapshot\n");
  expect(await kv(S2, "app/one")).toBe("1");
  expect(await kv(S2, "config/x")).toBe("x");
  expect(await webNodes(S2)).toEqual(["ext1"]);
  // The snapshot's own server is no member here: the leader's reconcile drops it.
  await waitFor(async () => !(await (await fetch(`http://${S2}:8500/v1/catalog/nodes`)).text()).includes(`"n-${S1}"`), 10_000, () => "the old server stayed in the catalog");
  await stop(fresh);
  fresh = await start(S2, { dataDir, node: "fresh" });
  expect(await kv(S2, "app/two")).toBe("2");
  await stop(fresh);
}, 60_000);

test("three servers: a restore through a follower reaches every server", async () => {
  for (const a of [...running]) await stop(a);
  const ips = [S1, S2, S3];
  const servers = await Promise.all(
    ips.map((ip, i) => start(ip, { node: `s${i}`, args: ["-server", "-bootstrap-expect", "3", "-retry-join", S1, "-retry-interval", "1s"] })),
  );
  expect(servers).toHaveLength(3);
  const leader = (await (await fetch(`http://${S1}:8500/v1/status/leader`)).json()) as string;
  const follower = ips.find((ip) => `${ip}:8300` !== leader)!;
  await put(follower, "app/one", "cluster");
  expect(tsc(follower, "snapshot", "restore", backup)).toEqual({ code: 0, stdout: "Restored snapshot\n", stderr: "" });
  for (const ip of ips) {
    await waitFor(async () => (await kv(ip, "app/one", "&stale")) === "1", 10_000, () => `${ip} did not get the restored state`);
    expect(await kv(ip, "app/two", "&stale")).toBe("2");
    expect(await webNodes(ip, "stale")).toEqual(["ext1"]);
  }
  // A save on a follower comes from the leader, at the leader's index.
  const saved = tsc(follower, "snapshot", "save", join(files, "cluster.snap"));
  expect(saved.stdout).toMatch(/^Saved and verified snapshot to index \d+\n$/);
}, 90_000);
