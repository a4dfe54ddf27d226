import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { load, loadError } from "./load-helpers.ts";
import { TempDir } from "./temp-dir.ts";

let tmp: TempDir;
beforeEach(() => {
  tmp = new TempDir();
});
afterEach(() => tmp.remove());

describe("config dir", () => {
  test("files load in byte order, so a later name wins", () => {
    const dir = tmp.dir("conf.d");
    tmp.write("conf.d/b.json", { datacenter: "b" });
    tmp.write("conf.d/a.json", { datacenter: "a", node_name: "from-a" });
    tmp.write("conf.d/B.json", { datacenter: "upper", log_level: "debug" });
    const { config, sources } = load({ configDirs: [dir] });
    expect(sources).toEqual([join(dir, "B.json"), join(dir, "a.json"), join(dir, "b.json")]);
    expect(config.datacenter).toBe("b");
    expect(config.nodeName).toBe("from-a");
    expect(config.logLevel).toBe("debug");
  });

  test("lists append across files; maps merge", () => {
    const dir = tmp.dir("d");
    tmp.write("d/1.json", { retry_join: ["a"], service: { name: "web" }, node_meta: { rack: "1", os: "linux" } });
    tmp.write("d/2.json", { retry_join: ["b"], services: [{ name: "db" }], node_meta: { rack: "2" } });
    const { config } = load({ configDirs: [dir] });
    expect(config.retryJoin).toEqual(["a", "b"]);
    expect(config.services.map((s) => s.name)).toEqual(["web", "db"]);
    expect(config.nodeMeta).toEqual({ rack: "2", os: "linux" });
  });

  test("other files and sub-directories are skipped; .hcl with a warning of its own", () => {
    const dir = tmp.dir("d");
    tmp.write("d/a.json", { datacenter: "x" });
    tmp.write("d/old.hcl", 'datacenter = "y"');
    tmp.write("d/README.md", "not config");
    tmp.write("d/sub/c.json", { datacenter: "z" });
    const { config, warnings, sources } = load({ configDirs: [dir] });
    expect(config.datacenter).toBe("x");
    expect(sources).toEqual([join(dir, "a.json")]);
    expect(warnings).toContain(`skipping ${join(dir, "old.hcl")}: HCL config is not supported yet, use JSON`);
    expect(warnings).toContain(`skipping file ${join(dir, "README.md")}, extension must be .json`);
  });

  test("symlinked files load", () => {
    const target = tmp.write("elsewhere.json", { datacenter: "linked" });
    const dir = tmp.dir("d");
    symlinkSync(target, join(dir, "link.json"));
    expect(load({ configDirs: [dir] }).config.datacenter).toBe("linked");
  });

  test("empty files are skipped, as Consul does", () => {
    const dir = tmp.dir("d");
    tmp.write("d/empty.json", "  \n");
    expect(load({ configDirs: [dir] }).sources).toEqual([]);
  });

  test("several dirs load in the order given, then config files", () => {
    const one = tmp.dir("one");
    const two = tmp.dir("two");
    tmp.write("one/z.json", { datacenter: "one", retry_join: ["1"] });
    tmp.write("two/a.json", { datacenter: "two", retry_join: ["2"] });
    const file = tmp.write("last.json", { retry_join: ["3"] });
    const { config } = load({ configDirs: [one, two], configFiles: [file] });
    expect(config.datacenter).toBe("two");
    expect(config.retryJoin).toEqual(["1", "2", "3"]);
  });
});

describe("config files", () => {
  test("a file without .json extension is read as JSON", () => {
    const file = tmp.write("agent.conf", { node_name: "n1" });
    expect(load({ configFiles: [file] }).config.nodeName).toBe("n1");
  });

  test("a named .hcl file is an error rather than silently ignored", () => {
    const file = tmp.write("agent.hcl", 'node_name = "n1"');
    expect(loadError({ configFiles: [file] })).toBe(`${file}: HCL config is not supported yet, use JSON`);
  });

  test("flags override files; flag lists come first", () => {
    const file = tmp.write("a.json", { datacenter: "file", retry_join: ["file"], recursors: ["1.1.1.1"], ports: { http: 1 } });
    const { config } = load({
      configFiles: [file],
      flags: { data_dir: "/d", datacenter: "flag", retry_join: ["flag"], recursors: ["9.9.9.9"], ports: { dns: 2 } },
    });
    expect(config.datacenter).toBe("flag");
    expect(config.retryJoin).toEqual(["flag", "file"]);
    expect(config.recursors).toEqual(["9.9.9.9", "1.1.1.1"]);
    expect(config.ports.http).toBe(1);
    expect(config.ports.dns).toBe(2);
  });
});

describe("errors: one line, file then key then reason", () => {
  test("schema violation", () => {
    const file = tmp.write("bad.json", { ports: { http: 99999 } });
    expect(loadError({ configFiles: [file] })).toBe(`${file}: ports.http: must be an integer between -1 and 65535`);
  });

  test("unknown key", () => {
    const dir = tmp.dir("d");
    const file = tmp.write("d/x.json", { bogus: true });
    expect(loadError({ configDirs: [dir] })).toBe(`${file}: invalid config key bogus`);
  });

  test("bad JSON with line and column", () => {
    const file = tmp.write("y.json", '{\n  "datacenter": "dc1",\n    oops\n}');
    expect(loadError({ configFiles: [file] })).toBe(`${file}: line 3, column 5: invalid JSON (unexpected character "o")`);
  });

  test("missing dir and missing file", () => {
    const missing = join(tmp.path, "nope");
    expect(loadError({ configDirs: [missing] })).toBe(`${missing}: no such file or directory`);
    expect(loadError({ configFiles: [`${missing}.json`] })).toBe(`${missing}.json: no such file or directory`);
  });

  test("unreadable file", () => {
    if (process.getuid?.() === 0) return; // root reads everything
    const file = tmp.write("secret.json", { datacenter: "x" });
    chmodSync(file, 0o000);
    expect(loadError({ configFiles: [file] })).toBe(`${file}: permission denied`);
  });

  test("the first bad file stops loading", () => {
    const dir = tmp.dir("d");
    tmp.write("d/1.json", { server: "yes" });
    tmp.write("d/2.json", { bogus: 1 });
    expect(loadError({ configDirs: [dir] })).toBe(`${join(dir, "1.json")}: server: must be a boolean`);
  });

  test("errors never span lines", () => {
    const file = tmp.write("multi.json", "{\n\n\n  \"a\": ");
    expect(loadError({ configFiles: [file] })).not.toContain("\n");
  });
});

describe("derived values", () => {
  test("client_addr splits on spaces and is the default for addresses", () => {
    const file = tmp.write("a.json", { client_addr: "127.0.0.1  10.0.0.5", addresses: { dns: "127.0.0.2" } });
    const { config } = load({ configFiles: [file] });
    expect(config.clientAddrs).toEqual(["127.0.0.1", "10.0.0.5"]);
    expect(config.addresses.http).toEqual(["127.0.0.1", "10.0.0.5"]);
    expect(config.addresses.dns).toEqual(["127.0.0.2"]);
  });

  test("leave behaviour follows the role unless set", () => {
    const server = load({ flags: { data_dir: "/d", server: true } }).config;
    expect([server.leaveOnTerminate, server.skipLeaveOnInterrupt]).toEqual([false, true]);
    const client = load({}).config;
    expect([client.leaveOnTerminate, client.skipLeaveOnInterrupt]).toEqual([true, false]);
    const explicit = load({ flags: { data_dir: "/d", server: true, leave_on_terminate: true } }).config;
    expect([explicit.leaveOnTerminate, explicit.skipLeaveOnInterrupt]).toEqual([true, true]);
  });

  test("domain becomes a lower-case FQDN; ports <= 0 mean disabled", () => {
    const file = tmp.write("a.json", { domain: "Example", alt_domain: "alt.", ports: { dns: 0, https: 8501 } });
    const { config } = load({ configFiles: [file] });
    expect(config.domain).toBe("example.");
    expect(config.altDomain).toBe("alt.");
    expect(config.ports.dns).toBe(-1);
    expect(config.ports.https).toBe(8501);
  });

  test("RPC deadlines: limits.rpc_client_timeout and performance.rpc_hold_timeout, 0 for no deadline", () => {
    const file = tmp.write("a.json", { limits: { rpc_client_timeout: "3s" }, performance: { rpc_hold_timeout: "1500ms" } });
    const { config, warnings } = load({ configFiles: [file] });
    expect([config.limits.rpcClientTimeoutMs, config.rpcHoldTimeoutMs]).toEqual([3000, 1500]);
    expect(warnings.filter((w) => w.includes("rpc_"))).toEqual([]);
    expect(load({ configFiles: [tmp.write("b.json", { limits: { rpc_client_timeout: "0s" } })] }).config.limits.rpcClientTimeoutMs).toBe(0);
    expect(loadError({ configFiles: [tmp.write("c.json", { performance: { rpc_hold_timeout: "soon" } })] })).toContain('performance.rpc_hold_timeout: invalid duration "soon"');
  });

  test("recursors split on spaces and drop repeats", () => {
    const file = tmp.write("a.json", { recursors: ["8.8.8.8 1.1.1.1", "8.8.8.8"] });
    expect(load({ configFiles: [file] }).config.recursors).toEqual(["8.8.8.8", "1.1.1.1"]);
  });

  test("primary_datacenter defaults to datacenter; durations arrive in ms", () => {
    const file = tmp.write("a.json", { datacenter: "East", dns_config: { node_ttl: "30s" }, max_query_time: "1m" });
    const { config } = load({ configFiles: [file] });
    expect(config.primaryDatacenter).toBe("east");
    expect(config.dnsConfig.nodeTtlMs).toBe(30_000);
    expect(config.maxQueryTimeMs).toBe(60_000);
  });

  test("ui_config.enabled wins over the deprecated ui, which warns", () => {
    const file = tmp.write("a.json", { ui: true, ui_config: { enabled: false } });
    const { config, warnings } = load({ configFiles: [file] });
    expect(config.ui).toBe(false);
    expect(warnings).toContain("The 'ui' field is deprecated. Use the 'ui_config.enabled' field instead.");
  });

  test("not-implemented keys warn, naming the file", () => {
    const file = tmp.write("a.json", { telemetry: { statsd_address: "x" } });
    expect(load({ configFiles: [file] }).warnings).toContain(`${file}: config key telemetry is accepted but not implemented`);
  });
});

describe("flags fragment", () => {
  test("is validated like a file", () => {
    expect(loadError({ flags: { data_dir: "/d", ports: { http: "x" } } })).toBe(
      "command-line flags: ports.http: must be an integer between -1 and 65535",
    );
  });
});

describe("dev mode", () => {
  test("a bootstrapped server with UI on loopback, no data_dir needed", () => {
    const { config, warnings } = loadConfig({ configDirs: [], configFiles: [], flags: {}, dev: true });
    expect(config.dev).toBe(true);
    expect(config.server).toBe(true);
    expect(config.bootstrap).toBe(true);
    expect(config.ui).toBe(true);
    expect(config.bindAddr).toBe("127.0.0.1");
    expect(config.clientAddrs).toEqual(["127.0.0.1"]);
    expect(config.dataDir).toBeUndefined();
    expect(config.raftMultiplier).toBe(1);
    expect(warnings.filter((w) => w.startsWith("bootstrap"))).toEqual([]);
  });

  test("files and flags still override it (-dev -client 0.0.0.0)", () => {
    const file = tmp.write("a.json", { ui_config: { enabled: false } });
    const { config } = loadConfig({ configDirs: [], configFiles: [file], flags: { client_addr: "0.0.0.0" }, dev: true });
    expect(config.clientAddrs).toEqual(["0.0.0.0"]);
    expect(config.ui).toBe(false);
  });

  test("-dev with server=false is a dev client", () => {
    const { config } = loadConfig({ configDirs: [], configFiles: [], flags: { server: false }, dev: true });
    expect([config.server, config.bootstrap]).toEqual([false, false]);
  });
});
