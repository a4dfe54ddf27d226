import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { validatePaths } from "../../src/config/validate.ts";
import { TempDir } from "./temp-dir.ts";

let tmp: TempDir;
beforeEach(() => {
  tmp = new TempDir();
});
afterEach(() => tmp.remove());

describe("validatePaths", () => {
  test("valid dir and file, without data_dir", () => {
    const dir = tmp.dir("d");
    // An explicit node name keeps the host's name (and its DNS warnings) out of the result.
    tmp.write("d/a.json", { server: true, bootstrap_expect: 3, node_name: "n1" });
    const file = tmp.write("extra.json", { acl: { enabled: true } });
    const r = validatePaths([dir, file]);
    expect(r).toEqual({
      ok: true,
      warnings: [`${file}: config key acl is accepted but not implemented`, "bootstrap_expect > 0: expecting 3 servers"],
    });
  });

  test("reports the same one-line errors as the agent", () => {
    const file = tmp.write("bad.json", { ports: { http: -2 } });
    expect(validatePaths([file])).toEqual({ ok: false, error: `${file}: ports.http: must be an integer between -1 and 65535` });
  });

  test("cross-file rules apply", () => {
    const dir = tmp.dir("d");
    tmp.write("d/a.json", { bootstrap_expect: 3 });
    expect(validatePaths([dir])).toEqual({ ok: false, error: "'bootstrap_expect > 0' requires 'server = true'" });
  });

  test("missing path", () => {
    const missing = join(tmp.path, "missing");
    expect(validatePaths([missing])).toEqual({ ok: false, error: `${missing}: no such file or directory` });
  });

  test("needs at least one path", () => {
    expect(validatePaths([])).toEqual({ ok: false, error: "Must specify at least one config file or directory" });
  });
});
