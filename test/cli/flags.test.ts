import { describe, expect, test } from "bun:test";
import { flagPrefixLength, type FlagSpec, parseFlags } from "../../src/cli/flags.ts";
import { CliError } from "../../src/lib/errors.ts";

const spec: FlagSpec = {
  server: { type: "boolean", description: "" },
  "config-dir": { type: "string", description: "", repeatable: true },
  "bootstrap-expect": { type: "string", description: "" },
  node: { type: "string", description: "" },
  cas: { type: "boolean", description: "", optionalValue: /^\d+$/ },
  n: { type: "string", description: "", alias: ["limit"] },
};

describe("Go-style flags", () => {
  test("single and double dash, = or space, repeatables accumulate", () => {
    const f = parseFlags(["-server", "-config-dir", "/a", "--config-dir=/b", "-node=a1", "--bootstrap-expect", "1"], spec);
    expect(f.server).toBe(true);
    expect(f["config-dir"]).toEqual(["/a", "/b"]);
    expect(f.node).toBe("a1");
    expect(f["bootstrap-expect"]).toBe("1");
  });

  test("flags may follow positionals; -cas takes an optional index", () => {
    const f = parseFlags(["web/key1", "great", "--cas", "1061"], spec);
    expect(f._).toEqual(["web/key1", "great"]);
    expect(f.cas).toBe("1061");
    expect(parseFlags(["-cas", "k", "v"], spec).cas).toBe(true);
  });

  test("booleans take Go's true/false spellings; '-' and negative numbers are positionals", () => {
    expect(parseFlags(["-server=false"], spec).server).toBe(false);
    expect(parseFlags(["-server=T"], spec).server).toBe(true);
    expect(parseFlags(["k", "-"], spec)._).toEqual(["k", "-"]);
    expect(parseFlags(["-5"], spec)._).toEqual(["-5"]);
    expect(parseFlags(["--", "-server"], spec)._).toEqual(["-server"]);
  });

  test("unknown flags and missing values are one-line errors", () => {
    expect(() => parseFlags(["-bogus"], spec)).toThrow(new CliError("flag provided but not defined: -bogus"));
    expect(() => parseFlags(["-node"], spec)).toThrow("flag needs an argument: -node");
    expect(() => parseFlags(["-server=maybe"], spec)).toThrow('invalid boolean value "maybe" for -server');
  });

  test("aliases map to the flag's name", () => {
    expect(parseFlags(["-limit", "3"], spec).n).toBe("3");
  });
});

describe("flags that end at the first argument (a child command line follows)", () => {
  test("everything from the first argument on is the child's, flags included", () => {
    const f = parseFlags(["-node", "a1", "-server", "sh", "-c", "echo -server"], spec, { stopAtFirstArg: true });
    expect(f.node).toBe("a1");
    expect(f.server).toBe(true);
    expect(f._).toEqual(["sh", "-c", "echo -server"]);
  });

  test("flagPrefixLength skips string flags' values, so -h in the child is not help", () => {
    expect(flagPrefixLength(["-node", "a1", "-server", "cat", "-h"], spec)).toBe(3);
    expect(flagPrefixLength(["-node=a1", "-h"], spec)).toBe(2);
    expect(flagPrefixLength(["--", "-x"], spec)).toBe(0);
  });
});
