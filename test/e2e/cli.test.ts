import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, cleanupTempDirs, cli, type RunningAgent, startAgent, tempDir } from "./harness.ts";

// The CLI as users type it, against a real agent on 127.0.0.24: outputs, errors, exit codes.

let a: RunningAgent;
let addr: string[];
beforeAll(async () => {
  a = await startAgent("127.0.0.24");
  addr = ["-http-addr", `${a.ip}:8500`];
});
afterAll(async () => {
  await a?.stop();
  cleanupTempDirs();
});

const kv = (...args: string[]) => cli(["kv", ...args, ...addr]);

describe("tsc kv", () => {
  test("put and get, with Consul's texts", () => {
    expect(kv("put", "web/key1", "great")).toEqual({ code: 0, stdout: "Success! Data written to: web/key1\n", stderr: "" });
    expect(kv("get", "web/key1")).toEqual({ code: 0, stdout: "great\n", stderr: "" });
    expect(kv("get", "web/nope")).toEqual({ code: 1, stdout: "", stderr: "Error! No key exists at: web/nope\n" });
  });

  test("the user's own example: kv put web/key1 great --cas <index>", async () => {
    const [e] = (await (await fetch(`${a.url}/v1/kv/web/key1`)).json()) as Array<{ ModifyIndex: number }>;
    const idx = e!.ModifyIndex;
    expect(kv("put", "web/key1", "better", "--cas", String(idx))).toMatchObject({ code: 0, stdout: "Success! Data written to: web/key1\n" });
    const stale = kv("put", "web/key1", "worse", "--cas", String(idx));
    expect(stale).toEqual({ code: 1, stdout: "", stderr: "Error! Did not write to web/key1: CAS failed\n" });
    expect(kv("get", "web/key1").stdout).toBe("better\n");
    expect(kv("put", "-cas", "-modify-index=0", "web/key1", "x").stderr).toBe(
      "Error! Did not write to web/key1: CAS performed with index=0 and key already exists.\n",
    );
  });

  test("-flags, -detailed, -recurse, -keys, -base64", () => {
    kv("put", "-flags=42", "web/key2", "two");
    kv("put", "web/sub/key3", "three");
    const d = kv("get", "-detailed", "web/key2").stdout.split("\n");
    expect(d[0]).toMatch(/^CreateIndex {6}\d+$/);
    expect(d.slice(1, 4)).toEqual(["Flags            42", "Key              web/key2", "LockIndex        0"]);
    expect(d[5]).toBe("Session          -");
    expect(d[6]).toBe("Value            two");
    expect(kv("get", "-recurse", "web/").stdout).toBe("web/key1:better\nweb/key2:two\nweb/sub/key3:three\n");
    expect(kv("get", "-keys", "web/").stdout).toBe("web/key1\nweb/key2\nweb/sub/\n");
    expect(kv("get", "-base64", "web/key2").stdout).toBe(`${Buffer.from("two").toString("base64")}\n`);
  });

  test("put from stdin and @file; -base64 input", () => {
    expect(cli(["kv", "put", ...addr, "in/stdin", "-"], { stdin: "from stdin" }).code).toBe(0);
    expect(kv("get", "in/stdin").stdout).toBe("from stdin\n");
    const f = join(tempDir(), "v.txt");
    writeFileSync(f, "from file");
    kv("put", "in/file", `@${f}`);
    expect(kv("get", "in/file").stdout).toBe("from file\n");
    kv("put", "-base64", "in/b64", Buffer.from("decoded").toString("base64"));
    expect(kv("get", "in/b64").stdout).toBe("decoded\n");
  });

  test("delete, -cas, -recurse, and their errors", () => {
    expect(kv("delete", "in/stdin").stdout).toBe("Success! Deleted key: in/stdin\n");
    expect(kv("delete", "-cas", "in/file").stderr).toBe("Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.\n");
    expect(kv("delete", "-cas", "-modify-index=1", "in/file")).toMatchObject({ code: 1, stderr: "Error! Did not delete key in/file: CAS failed\n" });
    expect(kv("delete", "-cas", "-modify-index=1", "-recurse", "in/").stderr).toBe("Cannot specify both -cas and -recurse!\n");
    expect(kv("delete", "-recurse", "in/").stdout).toBe("Success! Deleted keys with prefix: in/\n");
    expect(kv("get", "-recurse", "in/")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(kv("delete")).toMatchObject({ code: 1, stderr: "Error! Missing KEY argument\n" });
  });

  test("export and import round-trip in Consul's format", () => {
    kv("put", "-flags=7", "exp/a", "1");
    kv("put", "exp/b", "2");
    const exported = kv("export", "exp/");
    expect(exported.stdout).toBe(
      `[\n\t{\n\t\t"key": "exp/a",\n\t\t"flags": 7,\n\t\t"value": "MQ=="\n\t},\n\t{\n\t\t"key": "exp/b",\n\t\t"flags": 0,\n\t\t"value": "Mg=="\n\t}\n]\n`,
    );
    kv("delete", "-recurse", "exp/");
    const imported = cli(["kv", "import", ...addr, "-"], { stdin: exported.stdout });
    expect(imported).toEqual({ code: 0, stdout: "Imported: exp/a\nImported: exp/b\n", stderr: "" });
    expect(kv("get", "-detailed", "exp/a").stdout).toContain("Flags            7");
    expect(cli(["kv", "import", ...addr, "not json"]).stderr).toStartWith("Cannot unmarshal data:");
    const badFlags = cli(["kv", "import", ...addr, '[{"key":"exp/c","flags":"x","value":""}]']);
    expect(badFlags).toEqual({ code: 1, stdout: "", stderr: "Cannot unmarshal data: flags of key exp/c is not an unsigned integer: x\n" });
  });

  test("finds the agent through CONSUL_HTTP_ADDR and TSC_HTTP_ADDR", () => {
    kv("put", "env/k", "v");
    expect(cli(["kv", "get", "env/k"], { env: { CONSUL_HTTP_ADDR: `http://${a.ip}:8500` } }).stdout).toBe("v\n");
    expect(cli(["kv", "get", "env/k"], { env: { TSC_HTTP_ADDR: `${a.ip}:8500` } }).stdout).toBe("v\n");
  });
});

describe("CLI errors", () => {
  test("connection refused is one line, exit 1", () => {
    const r = cli(["kv", "get", "k", "-http-addr", "127.0.0.25:8500"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error querying Consul agent: Get "http://127.0.0.25:8500/v1/kv/k": dial tcp 127.0.0.25:8500: connect: connection refused\n');
  });

  test("an unknown flag is one line, then usage, exit 1", () => {
    const r = cli(["kv", "get", "-bogus", "k"]);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")[0]).toBe("flag provided but not defined: -bogus");
    expect(r.stderr).toContain("USAGE");
    expect(cli(["agent", "-no-such-flag"]).stderr.split("\n")[0]).toBe("flag provided but not defined: -no-such-flag");
  });

  test("an unknown scheme is Consul's error", () => {
    expect(cli(["kv", "get", "k", "-http-addr", "ftp://x"]).stderr).toBe("Error connecting to Consul agent: Unknown protocol scheme: ftp\n");
  });

  test("version, help, and the binary invoked as `consul`", () => {
    const v = cli(["version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^tsc v\d+\.\d+\.\d+ \(Consul v1\.\d+\.\d+ compatible\)\n/);
    expect(cli(["kv", "--help"]).stdout).toContain("put");
    const link = join(tempDir(), "consul");
    symlinkSync(BIN, link);
    expect(cli(["kv", "get", "web/key1", ...addr], { bin: link }).stdout).toBe("better\n");
  });
});
