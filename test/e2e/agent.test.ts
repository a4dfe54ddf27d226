import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupTempDirs, cli, startAgent, tempDir } from "./harness.ts";

// The agent as operators run it: banner, pid file, config dirs, logs, signals, broken config.

afterAll(cleanupTempDirs);

describe("tsc agent", () => {
  test("banner, pid file in a missing dir, config dir, SIGTERM shuts down cleanly", async () => {
    const root = tempDir();
    const pidFile = join(root, "run/deep/tsc.pid");
    const confDir = join(root, "consul.d");
    mkdirSync(confDir);
    writeFileSync(join(confDir, "10-base.json"), JSON.stringify({ datacenter: "east", node_meta: { rack: "r1" } }));
    writeFileSync(join(confDir, "20-override.json"), JSON.stringify({ datacenter: "west" }));
    const a = await startAgent("127.0.0.26", {
      args: ["-server", "-bootstrap-expect=1", "-config-dir", confDir, "-pid-file", pidFile, "-data-dir", join(root, "new/data")],
    });
    const out = a.output();
    expect(out).toContain("==> Starting Consul agent...");
    expect(out).toMatch(/ {10}Node name: 'n-127\.0\.0\.26'/);
    expect(out).toContain("Datacenter: 'west'");
    expect(out).toContain("Server: true (Bootstrap: true)");
    expect(out).toContain("Client Addr: [127.0.0.26] (HTTP: 8500");
    expect(out).toContain("Cluster Addr: 127.0.0.26 (LAN: 8301, WAN: 8302)");
    expect(out).toMatch(/\[INFO\] {2}agent: Consul agent running!/);
    expect(Number((await Bun.file(pidFile).text()).trim())).toBe(a.proc.pid);
    const self = (await (await fetch(`${a.url}/v1/agent/self`)).json()) as { Config: { Datacenter: string }; Meta: Record<string, string> };
    expect(self.Config.Datacenter).toBe("west");
    expect(self.Meta).toEqual({ rack: "r1" });
    expect(await a.stop("SIGTERM")).toBe(1); // a server does not leave on SIGTERM (leave_on_terminate=false), as Consul
    expect(a.output()).toContain("Graceful shutdown disabled. Exiting");
    expect(existsSync(pidFile)).toBe(false);
  });

  test("-log-json writes one JSON object per line", async () => {
    const a = await startAgent("127.0.0.27", { args: ["-dev", "-log-json"] });
    const line = a.output().split("\n").find((l) => l.includes("Consul agent running!"))!;
    expect(JSON.parse(line)).toMatchObject({ "@level": "info", "@module": "agent", "@message": "Consul agent running!" });
    await a.stop("SIGINT");
  });

  test("a broken config file stops start-up with file, key and reason in one line", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ ports: { http: 99999 } }));
    const r = cli(["agent", "-server", "-bootstrap-expect", "1", "-data-dir", tempDir(), "-config-dir", dir, "-bind", "127.0.0.28", "-client", "127.0.0.28"]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(join(dir, "bad.json"));
    expect(lines[0]).toContain("ports.http");
  });

  test("tsc validate accepts good config and names the bad key", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "ok.json"), JSON.stringify({ datacenter: "dc1", data_dir: "/tmp/x" }));
    expect(cli(["validate", dir])).toEqual({ code: 0, stdout: "Configuration is valid!\n", stderr: "" });
    writeFileSync(join(dir, "zz.json"), JSON.stringify({ bogus_key: 1 }));
    const r = cli(["validate", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith("Config validation failed:");
    expect(r.stderr).toContain("bogus_key");
  });

  test("a client agent with no servers answers KV with Consul's error", async () => {
    const a = await startAgent("127.0.0.29", { args: [], waitLeader: false });
    try {
      for (const path of ["/v1/kv/x", "/v1/status/leader", "/v1/catalog/nodes"]) {
        const r = await fetch(`${a.url}${path}`);
        expect([r.status, await r.text()]).toEqual([500, "No known Consul servers"]);
      }
    } finally {
      await a.stop("SIGINT"); // a failed assertion must not leave the agent running
    }
  });
});
