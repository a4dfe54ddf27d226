import { afterAll, describe, expect, test } from "bun:test";
import { type Subprocess, spawn, spawnSync } from "bun";
import { cleanupTempDirs, cli, type RunningAgent, startAgent, waitFor } from "./harness.ts";

// Gossip with real processes: three tsc agents (a server and two clients) on 127.0.0.51-53,
// and Debian's real `serf` agents on 127.0.0.55-57, in both directions, plain and encrypted.

const SERVER = "127.0.0.51";
const agents: RunningAgent[] = [];
const serfs: Subprocess[] = [];
const hasSerf = spawnSync(["sh", "-c", "command -v serf"]).exitCode === 0;

type Member = { Name: string; Addr: string; Port: number; Status: number; Tags: Record<string, string> };
const members = async (ip: string): Promise<Member[]> => (await (await fetch(`http://${ip}:8500/v1/agent/members`)).json()) as Member[];
const statusOf = async (ip: string, name: string) => (await members(ip)).find((m) => m.Name === name)?.Status;
const addr = (ip: string) => ["-http-addr", `${ip}:8500`];

async function serfAgent(name: string, ip: string, extra: string[] = []): Promise<Subprocess> {
  const p = spawn(["serf", "agent", `-node=${name}`, `-bind=${ip}:7946`, `-rpc-addr=${ip}:7373`, "-log-level=warn", ...extra], { stdout: "ignore", stderr: "ignore" });
  serfs.push(p);
  await waitFor(() => spawnSync(["serf", "members", `-rpc-addr=${ip}:7373`]).exitCode === 0, 5000, () => `serf ${name} did not start`);
  return p;
}
const serfMembers = (ip: string) => spawnSync(["serf", "members", `-rpc-addr=${ip}:7373`]).stdout.toString();

afterAll(async () => {
  for (const s of serfs) s.kill(9);
  for (const a of agents) await a.stop().catch(() => undefined);
  cleanupTempDirs();
});

describe("tsc agents", () => {
  test("join one, all see all: members, the catalog and DNS", async () => {
    agents.push(await startAgent(SERVER, { node: "a1" }));
    agents.push(await startAgent("127.0.0.52", { node: "c2", args: [], waitLeader: false }));
    agents.push(await startAgent("127.0.0.53", { node: "c3", args: ["-join", "127.0.0.52"], waitLeader: false }));
    expect(cli(["join", "127.0.0.51", ...addr("127.0.0.52")]).stdout).toBe("Successfully joined cluster by contacting 1 nodes.\n");
    for (const ip of [SERVER, "127.0.0.52", "127.0.0.53"]) {
      await waitFor(async () => (await members(ip)).filter((m) => m.Status === 1).length === 3, 10_000, () => `${ip} does not see 3 alive members`);
    }
    const table = cli(["members", ...addr("127.0.0.53")]).stdout.trimEnd().split("\n");
    expect(table[0]).toMatch(/^Node\s+Address\s+Status\s+Type\s+Build\s+Protocol\s+DC/);
    expect(table.slice(1).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([
      ["a1", `${SERVER}:8301`, "alive", "server"],
      ["c2", "127.0.0.52:8301", "alive", "client"],
      ["c3", "127.0.0.53:8301", "alive", "client"],
    ]);
    expect((await members("127.0.0.52")).find((m) => m.Name === "a1")?.Tags).toMatchObject({ role: "consul", dc: "dc1", port: "8300", vsn: "2" });
    // The leader puts every member in the catalog with serfHealth passing.
    await waitFor(
      async () => ((await (await fetch(`http://${SERVER}:8500/v1/catalog/nodes`)).json()) as unknown[]).length === 3,
      5000,
      () => "catalog never listed 3 nodes",
    );
    const c2 = (await (await fetch(`http://${SERVER}:8500/v1/health/node/c2`)).json()) as Array<{ CheckID: string; Status: string }>;
    expect(c2).toEqual([expect.objectContaining({ CheckID: "serfHealth", Status: "passing" })]);
    expect(cli(["dig", `@${SERVER}`, "c3.node.consul", "+short"]).stdout).toBe("127.0.0.53\n");
  });

  test("client agents forward to a server over RPC: KV, catalog, status, blocking, anti-entropy", async () => {
    const client = "127.0.0.52";
    expect(cli(["kv", "put", "web/key1", "from-client", ...addr(client)]).code).toBe(0);
    expect(cli(["kv", "get", "web/key1", ...addr(SERVER)]).stdout).toBe("from-client\n");
    expect(await (await fetch(`http://${client}:8500/v1/status/leader`)).json()).toBe(`${SERVER}:8300`);
    // A blocking read through the client wakes on a write made at the server.
    const first = await fetch(`http://${client}:8500/v1/kv/web/key1`);
    const index = first.headers.get("X-Consul-Index");
    const blocked = fetch(`http://${client}:8500/v1/kv/web/key1?index=${index}&wait=5s`);
    await Bun.sleep(200);
    expect(cli(["kv", "put", "web/key1", "v2", ...addr(SERVER)]).code).toBe(0);
    const woke = (await (await blocked).json()) as Array<{ Value: string }>;
    expect(Buffer.from(woke[0]!.Value, "base64").toString()).toBe("v2");
    // The client's own service reaches the catalog through anti-entropy over RPC.
    expect((await fetch(`http://${client}:8500/v1/agent/service/register`, { method: "PUT", body: JSON.stringify({ Name: "api", Port: 9000 }) })).status).toBe(200);
    await waitFor(
      async () => ((await (await fetch(`http://${SERVER}:8500/v1/catalog/service/api`)).json()) as Array<{ Node: string }>).some((n) => n.Node === "c2"),
      5000,
      () => "the client's service never reached the catalog",
    );
    const viaClient = (await (await fetch(`http://${client}:8500/v1/health/service/api`)).json()) as Array<{ Node: { Node: string } }>;
    expect(viaClient.map((e) => e.Node.Node)).toEqual(["c2"]);
    // DNS on the client asks the server: every member, every service.
    expect(cli(["dig", `@${client}`, "c3.node.consul", "+short"]).stdout).toBe("127.0.0.53\n");
    expect(cli(["dig", `@${client}`, "consul.service.consul", "+short"]).stdout).toBe(`${SERVER}\n`);
    expect(cli(["dig", `@${client}`, "api.service.consul", "SRV", "+short"]).stdout).toBe("1 1 9000 c2.node.dc1.consul.\n");
    expect(cli(["dig", `@${client}`, "nope.node.consul"]).stdout).toContain("status: NXDOMAIN");
    const bad = await fetch(`http://${client}:8500/v1/catalog/register`, { method: "PUT", body: JSON.stringify({ Node: "x" }) });
    // The server's error crossed one RPC hop, which Consul's connection pool names.
    expect([bad.status, await bad.text()]).toEqual([500, "rpc error making call: Must provide address if SkipNodeUpdate is not set"]);
  });

  test("Ctrl-C on a client is a leave: others see left, the catalog drops it", async () => {
    const c3 = agents[2]!;
    expect(await c3.stop("SIGINT")).toBe(0);
    await waitFor(async () => (await statusOf(SERVER, "c3")) === 3, 5000, () => "c3 never left");
    await waitFor(
      async () => ((await (await fetch(`http://${SERVER}:8500/v1/catalog/nodes`)).json()) as Array<{ Node: string }>).every((n) => n.Node !== "c3"),
      5000,
      () => "c3 still in the catalog",
    );
  });

  test("kill -9 of a client: failed, serfHealth critical; force-leave makes it left", async () => {
    await agents[1]!.kill9();
    await waitFor(async () => (await statusOf(SERVER, "c2")) === 4, 15_000, () => "c2 never failed");
    await waitFor(
      async () => ((await (await fetch(`http://${SERVER}:8500/v1/health/state/critical`)).json()) as Array<{ Node: string; CheckID: string; Output: string }>).some((c) => c.Node === "c2" && c.CheckID === "serfHealth"),
      5000,
      () => "serfHealth of c2 never critical",
    );
    expect(cli(["force-leave", "c2", ...addr(SERVER)]).code).toBe(0);
    await waitFor(async () => (await statusOf(SERVER, "c2")) === 3, 5000, () => "c2 not left after force-leave");
  });

  test("servers gossip on the WAN pool too: members -wan, join -wan, datacenters", async () => {
    agents.push(await startAgent("127.0.0.58", { node: "b1", args: ["-server", "-bootstrap-expect", "1", "-datacenter", "dc2"] }));
    expect(cli(["join", "-wan", "127.0.0.51", ...addr("127.0.0.58")]).code).toBe(0);
    await waitFor(
      async () => ((await (await fetch(`http://${SERVER}:8500/v1/agent/members?wan`)).json()) as Member[]).filter((m) => m.Status === 1).length === 2,
      10_000,
      () => "WAN pool never saw both servers",
    );
    const wan = cli(["members", "-wan", ...addr(SERVER)]).stdout;
    expect(wan).toMatch(/a1\.dc1\s+127\.0\.0\.51:8302\s+alive\s+server/);
    expect(wan).toMatch(/b1\.dc2\s+127\.0\.0\.58:8302\s+alive\s+server/);
    expect(await (await fetch(`http://${SERVER}:8500/v1/catalog/datacenters`)).json()).toEqual(["dc1", "dc2"]);
  });

  test("a join nobody answers fails with the dial error", () => {
    const r = cli(["join", "127.0.0.59", ...addr(SERVER)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("dial tcp 127.0.0.59:8301: connect: connection refused");
    expect(r.stderr).toContain("Failed to join any nodes.");
  });
});

describe.skipIf(!hasSerf)("interop with the real serf", () => {
  test("serf joins us, we join serf; both list everyone alive; events reach us; leave and kill are seen", async () => {
    await serfAgent("s1", "127.0.0.55", [`-join=${SERVER}:8301`]);
    await serfAgent("s2", "127.0.0.56");
    expect(cli(["join", "127.0.0.56:7946", ...addr(SERVER)]).code).toBe(0);
    await waitFor(async () => (await statusOf(SERVER, "s1")) === 1 && (await statusOf(SERVER, "s2")) === 1, 10_000, () => "serf agents not alive here");
    await waitFor(() => /a1\s+127\.0\.0\.51:8301\s+alive/.test(serfMembers("127.0.0.55")) && /s2\s+.*alive/.test(serfMembers("127.0.0.55")), 10_000, () => serfMembers("127.0.0.55"));
    expect(serfMembers("127.0.0.56")).toMatch(/a1\s+127\.0\.0\.51:8301\s+alive\s+.*role=consul/);

    spawnSync(["serf", "event", "-rpc-addr=127.0.0.55:7373", "deploy", "v1"]);
    await waitFor(() => agents[0]!.output().includes("Received user event: name=deploy"), 5000, () => "the user event never arrived");

    spawnSync(["serf", "leave", "-rpc-addr=127.0.0.55:7373"]);
    await waitFor(async () => (await statusOf(SERVER, "s1")) === 3, 5000, () => "serf leave not seen as left");
    serfs[1]!.kill(9);
    await waitFor(async () => (await statusOf(SERVER, "s2")) === 4, 15_000, () => "killed serf not seen as failed");
  });

  test("encrypted: a key from tsc keygen, both directions", async () => {
    const key = cli(["keygen"]).stdout.trim();
    expect(Buffer.from(key, "base64")).toHaveLength(32);
    const ours = await startAgent("127.0.0.54", { node: "e1", args: ["-encrypt", key], waitLeader: false });
    agents.push(ours);
    await serfAgent("se", "127.0.0.57", [`-encrypt=${key}`, "-join=127.0.0.54:8301"]);
    await waitFor(async () => (await statusOf("127.0.0.54", "se")) === 1, 10_000, () => "encrypted serf not alive here");
    expect(serfMembers("127.0.0.57")).toMatch(/e1\s+127\.0\.0\.54:8301\s+alive/);
    // Serf queries reach us: we ack them, and answer the keyring query with our key.
    const query = spawnSync(["serf", "query", "-rpc-addr=127.0.0.57:7373", "-timeout=2s", "hello", "world"]).stdout.toString();
    expect(query).toContain("Ack from 'e1'");
    const keys = spawnSync(["serf", "keys", "-list", "-rpc-addr=127.0.0.57:7373"]).stdout.toString();
    expect(keys).toContain(`${key}  [2/2]`);
    // Key rotation driven from serf reaches us: install, use, remove; gossip goes on.
    const next = cli(["keygen"]).stdout.trim();
    for (const args of [["-install", next], ["-use", next], ["-remove", key]]) {
      expect(spawnSync(["serf", "keys", ...args, "-rpc-addr=127.0.0.57:7373"]).exitCode).toBe(0);
    }
    expect(spawnSync(["serf", "keys", "-list", "-rpc-addr=127.0.0.57:7373"]).stdout.toString()).toContain(`${next}  [2/2]`);
    await Bun.sleep(1500);
    expect(await statusOf("127.0.0.54", "se")).toBe(1);
    // A plaintext agent cannot join the encrypted pool.
    const r = cli(["join", "127.0.0.57:7946", ...addr(SERVER)]);
    expect(r.code).toBe(1);
  });
});
