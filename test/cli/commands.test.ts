import { describe, expect, test } from "bun:test";
import { runCommandLine } from "../../src/cli/command.ts";
import { root } from "../../src/cli/root.ts";

// Argument checks that fail before any request is made: Consul's texts and exit codes.

async function run(...argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  let stderr = "";
  let stdout = "";
  const code = await runCommandLine(root, argv, (s) => (stderr += s), (s) => (stdout += s));
  return { code, stderr, stdout };
}

describe("catalog", () => {
  test("alone it prints its help on stderr and exits 1", async () => {
    const r = await run("catalog");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("datacenters");
    expect(r.stderr).toContain("services");
  });

  test("positional arguments are refused", async () => {
    expect(await run("catalog", "nodes", "foo")).toEqual({ code: 1, stderr: "Too many arguments (expected 0, got 1)\n", stdout: "" });
    expect((await run("catalog", "services", "a", "b")).stderr).toBe("Too many arguments (expected 0, got 2)\n");
    expect((await run("catalog", "datacenters", "x")).code).toBe(1);
  });

  test("unknown flags and bad -node-meta are the flag parser's errors, then usage", async () => {
    const r = await run("catalog", "nodes", "-bogus");
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")[0]).toBe("flag provided but not defined: -bogus");
    expect((await run("catalog", "services", "-node-meta", "rack")).stderr.split("\n")[0]).toBe('invalid value "rack" for flag -node-meta: Missing "=" value in argument: rack');
    expect((await run("catalog", "services", "-service", "web")).stderr.split("\n")[0]).toBe("flag provided but not defined: -service");
  });
});

describe("services", () => {
  test("register needs files or -name, not both", async () => {
    expect(await run("services", "register")).toEqual({ code: 1, stderr: "Service registration requires at least one argument or flags.\n", stdout: "" });
    expect((await run("services", "register", "-name", "web", "web.json")).stderr).toBe("Service registration requires arguments or -id, not both.\n");
    expect((await run("services", "register", "-name", "web", "-port", "x")).stderr.split("\n")[0]).toBe('invalid value "x" for flag -port: parse error');
  });

  test("deregister needs files or -id, not both", async () => {
    expect(await run("services", "deregister")).toEqual({ code: 1, stderr: "Service deregistration requires at least one argument or -id.\n", stdout: "" });
    expect((await run("services", "deregister", "-id", "web", "web.json")).stderr).toBe("Service deregistration requires arguments or -id, not both.\n");
  });
});

describe("maint, reload, info", () => {
  test("maint's conflicting flags", async () => {
    expect(await run("maint", "-enable", "-disable")).toEqual({ code: 1, stderr: "Only one of -enable or -disable may be provided\n", stdout: "" });
    expect((await run("maint", "-reason", "x")).stderr).toBe("Reason may only be provided with -enable\n");
    expect((await run("maint", "-disable", "-reason", "x")).stderr).toBe("Reason may only be provided with -enable\n");
    expect((await run("maint", "-service", "web")).stderr).toBe("Service requires either -enable or -disable\n");
  });

  test("agent-local commands take the client HTTP flags only, as Consul's", async () => {
    for (const cmd of ["maint", "reload", "info"]) {
      const r = await run(cmd, "-datacenter", "dc2");
      expect(r.code).toBe(1);
      expect(r.stderr.split("\n")[0]).toBe("flag provided but not defined: -datacenter");
      expect((await run(cmd, "-stale")).stderr.split("\n")[0]).toBe("flag provided but not defined: -stale");
    }
  });

  test("a bad address fails before any request", async () => {
    expect((await run("reload", "-http-addr", "ftp://x")).stderr).toBe("Error connecting to Consul agent: Unknown protocol scheme: ftp\n");
  });
});
