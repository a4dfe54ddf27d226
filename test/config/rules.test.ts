import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { load, loadError } from "./load-helpers.ts";
import { TempDir } from "./temp-dir.ts";

let tmp: TempDir;
beforeEach(() => {
  tmp = new TempDir();
});
afterEach(() => tmp.remove());

describe("cross-field rules", () => {
  test("data_dir is required outside dev mode", () => {
    expect(loadError({ flags: {} })).toBe("data_dir cannot be empty");
  });

  const errors: Array<[string, Record<string, unknown>, string]> = [
    ["bootstrap without server", { bootstrap: true }, "'bootstrap = true' requires 'server = true'"],
    ["bootstrap_expect without server", { bootstrap_expect: 3 }, "'bootstrap_expect > 0' requires 'server = true'"],
    ["bootstrap with bootstrap_expect", { server: true, bootstrap: true, bootstrap_expect: 3 }, "'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive"],
    ["bind_addr not an ip", { bind_addr: "eth0" }, "bind_addr must be an ip address"],
    ["bind_addr several", { bind_addr: "10.0.0.1 10.0.0.2" }, "bind_addr cannot contain multiple addresses. Use 'addresses.{dns,http,https}' instead."],
    ["advertise any", { advertise_addr: "0.0.0.0" }, "Advertise address cannot be 0.0.0.0, :: or [::]"],
    ["server port disabled", { ports: { server: -1 } }, "server-port must be greater than zero"],
  ];
  for (const [name, flags, want] of errors) {
    test(name, () => expect(loadError({ flags: { data_dir: "/d", ...flags } })).toBe(want));
  }

  test("bootstrap_expect is refused in dev mode", () => {
    expect(loadError({ flags: { bootstrap_expect: 3 }, dev: true })).toBe("'bootstrap_expect > 0' not allowed in dev mode");
  });

  test("node_meta pairs are limited across files too", () => {
    const dir = tmp.dir("d");
    const half = (p: string) => Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${p}${i}`, "v"]));
    tmp.write("d/1.json", { node_meta: half("a") });
    tmp.write("d/2.json", { node_meta: half("b") });
    expect(loadError({ configDirs: [dir] })).toBe("node_meta: Node metadata cannot contain more than 64 key/value pairs");
  });
});

describe("bootstrap_expect warnings", () => {
  const warningsFor = (expect: number) =>
    load({ flags: { data_dir: "/d", server: true, bootstrap_expect: expect } }).warnings;

  test("1 becomes bootstrap mode", () => {
    const { config, warnings } = load({ flags: { data_dir: "/d", server: true, bootstrap_expect: 1 } });
    expect([config.bootstrap, config.bootstrapExpect]).toEqual([true, 0]);
    expect(warnings).toContain("BootstrapExpect is set to 1; this is the same as Bootstrap mode.");
  });

  test("2 has no failure tolerance", () => {
    expect(warningsFor(2)).toContain(
      "bootstrap_expect = 2: A cluster with 2 servers will provide no failure tolerance. See https://www.consul.io/docs/internals/consensus.html#deployment-table",
    );
  });

  test("an even number is not optimal", () => {
    expect(warningsFor(4)).toContain(
      "bootstrap_expect is even number: A cluster with an even number of servers does not achieve optimum fault tolerance. See https://www.consul.io/docs/internals/consensus.html#deployment-table",
    );
    expect(warningsFor(4)).toContain("bootstrap_expect > 0: expecting 4 servers");
  });

  test("an odd number only says what it expects", () => {
    expect(warningsFor(3).filter((w) => w.startsWith("bootstrap"))).toEqual(["bootstrap_expect > 0: expecting 3 servers"]);
  });
});
