import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseFlags } from "../../src/cli/flags.ts";
import { readServiceFiles } from "../../src/cli/services/files.ts";
import { intFlag, mapFlag, parseServiceAddr } from "../../src/cli/flag-values.ts";
import register, { combine, registrationFromFlags } from "../../src/cli/services/register.ts";
import { CliError } from "../../src/lib/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "tsc-cli-services-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, body: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof body === "string" ? body : JSON.stringify(body));
  return path;
}

describe("flag values, with Go's and Consul's error texts", () => {
  test("key=value maps split at the first '=', a later key wins", () => {
    expect(mapFlag("meta", ["env=prod", "url=a=b", "env=dev", "empty="])).toEqual({ env: "dev", url: "a=b", empty: "" });
    expect(() => mapFlag("node-meta", ["rack"])).toThrow(new CliError('invalid value "rack" for flag -node-meta: Missing "=" value in argument: rack'));
  });

  test("integers as strconv.ParseInt(s, 0, 64) reads them", () => {
    expect([intFlag("port", "8080"), intFlag("port", "0x1F90"), intFlag("port", "017"), intFlag("port", "-1"), intFlag("port", "0")]).toEqual([8080, 8080, 15, -1, 0]);
    expect(() => intFlag("port", "80a")).toThrow('invalid value "80a" for flag -port: parse error');
    expect(() => intFlag("port", "99999999999999999999")).toThrow('invalid value "99999999999999999999" for flag -port: value out of range');
  });

  test("tagged addresses are host:port, IPv6 in brackets", () => {
    expect(parseServiceAddr("127.0.0.1:1234")).toEqual({ Address: "127.0.0.1", Port: 1234 });
    expect(parseServiceAddr("[2001:db8::12]:1234")).toEqual({ Address: "2001:db8::12", Port: 1234 });
    expect(() => parseServiceAddr("127.0.0.1")).toThrow("address 127.0.0.1: missing port in address");
    expect(() => parseServiceAddr("2001:db8::12:80")).toThrow("address 2001:db8::12:80: too many colons in address");
    expect(() => parseServiceAddr("h:x")).toThrow('strconv.Atoi: parsing "x": invalid syntax');
  });
});

describe("registration from flags", () => {
  const parse = (argv: string[]) => registrationFromFlags(parseFlags(argv, register.args!));

  test("only what was given goes in the body; -tag repeats, -tags splits on commas", () => {
    expect(parse(["-name", "cache", "-port", "6379", "-tag", "a", "-tags", "b, c", "-meta", "env=prod", "-tagged-address", "lan=10.0.0.5:6379"])).toEqual({
      Name: "cache",
      Tags: ["a", "b", "c"],
      Port: 6379,
      TaggedAddresses: { lan: { Address: "10.0.0.5", Port: 6379 } },
      Meta: { env: "prod" },
    });
    expect(parse(["-name", "web", "-id", "web-1", "-address", "10.0.0.9"])).toEqual({ ID: "web-1", Name: "web", Address: "10.0.0.9" });
  });

  test("bad values fail as the flag parser would, with usage", () => {
    expect(() => parse(["-name", "x", "-port", "http"])).toThrow(new CliError('invalid value "http" for flag -port: parse error', 1, true));
    expect(() => parse(["-name", "x", "-tagged-address", "lan=10.0.0.1"])).toThrow("Invalid Tagged Address: address 10.0.0.1: missing port in address");
    expect(() => parseFlags(["-kind", "connect-proxy"], register.args!)).toThrow("flag provided but not defined: -kind");
  });

  test("with files, flags fill what a file left unset; tags append, meta merges over", () => {
    const [s] = readServiceFiles([file("web.json", { service: { name: "web", port: 80, tags: ["v1"], meta: { a: "1" } } })]);
    const flags = parse(["-id", "web-2", "-port", "8080", "-address", "10.0.0.2", "-tag", "canary", "-meta", "b=2"]);
    expect(combine(s!.registration, s!.given, flags)).toEqual({ ID: "web-2", Name: "web", Port: 80, Address: "10.0.0.2", Tags: ["v1", "canary"], Meta: { a: "1", b: "2" } });
    const [withId] = readServiceFiles([file("web-id.json", { service: { name: "web", id: "web-1" } })]);
    expect(combine(withId!.registration, withId!.given, flags).ID).toBe("web-1");
  });
});

describe("service definition files", () => {
  test("`services` then `service`, any key casing, sent as PascalCase with Go durations", () => {
    const path = file("many.json", {
      Service: { Name: "web", Port: 80, Check: { HTTP: "http://localhost/health", Interval: "10s", Timeout: "1s" } },
      services: [
        { name: "db", id: "db-1", tags: ["primary"], enable_tag_override: true, weights: { passing: 3, warning: 1 } },
        { name: "cache", checks: [{ ttl: "30s", deregister_critical_service_after: "90m" }, { tcp: "localhost:6379", interval: "5s" }] },
      ],
      datacenter: "dc1",
    });
    expect(readServiceFiles([path]).map((s) => s.registration)).toEqual([
      { ID: "db-1", Name: "db", Tags: ["primary"], EnableTagOverride: true, Weights: { Passing: 3, Warning: 1 } },
      {
        ID: "cache",
        Name: "cache",
        Checks: [
          { CheckID: "service:cache:1", Name: "Service 'cache' check", TTL: "30s", DeregisterCriticalServiceAfter: "1h30m0s" },
          { CheckID: "service:cache:2", Name: "Service 'cache' check", TCP: "localhost:6379", Interval: "5s" },
        ],
      },
      { ID: "web", Name: "web", Port: 80, Checks: [{ CheckID: "service:web", Name: "Service 'web' check", HTTP: "http://localhost/health", Interval: "10s", Timeout: "1s" }] },
    ]);
  });

  test("a broken file is `Error: <file>: <reason>`, before anything is sent", () => {
    const noName = file("noname.json", { service: { port: 1 } });
    expect(() => readServiceFiles([noName])).toThrow(new CliError(`Error: ${noName}: Missing service name`));
    const badJson = file("bad.json", '{"service": {"name": "x",}}');
    expect(() => readServiceFiles([badJson])).toThrow(`Error: ${badJson}: line 1, column 26: invalid JSON (unexpected character "}")`);
    expect(() => readServiceFiles([join(dir, "missing.json")])).toThrow(`Error: ${join(dir, "missing.json")}: no such file or directory`);
    const badCheck = file("badcheck.json", { service: { name: "x", check: { http: "http://x" } } });
    expect(() => readServiceFiles([badCheck])).toThrow(`Error: ${badCheck}: Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks`);
  });

  test("an empty file or one without services defines nothing", () => {
    expect(readServiceFiles([file("empty.json", ""), file("other.json", { datacenter: "dc1" })])).toEqual([]);
  });
});
