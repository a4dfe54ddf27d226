import { describe, expect, test } from "bun:test";
import { agentFlags, flagsToFragment } from "../../src/config/flags.ts";
import { configErrorOf } from "./load-helpers.ts";

function flagError(parsed: Parameters<typeof flagsToFragment>[0]): string {
  return configErrorOf(() => flagsToFragment(parsed));
}

describe("agentFlags", () => {
  test("has every flag of the agent, spelled as Consul spells it", () => {
    expect(Object.keys(agentFlags).toSorted()).toEqual([
      "advertise", "advertise-wan", "alt-domain", "bind", "bootstrap", "bootstrap-expect", "client",
      "config-dir", "config-file", "data-dir", "datacenter", "default-query-time", "dev", "dns-port",
      "domain", "enable-local-script-checks", "enable-script-checks", "encrypt", "grpc-port",
      "http-port", "https-port", "join", "join-wan", "log-json", "log-level", "max-query-time", "node",
      "node-id", "node-meta", "pid-file", "protocol", "raft-protocol", "recursor", "rejoin",
      "retry-interval", "retry-join", "retry-join-wan", "retry-max", "serf-lan-port", "serf-wan-port",
      "server", "server-port", "ui",
    ]);
  });

  test("repeatable flags", () => {
    const repeatable = Object.entries(agentFlags).filter(([, f]) => "repeatable" in f && f.repeatable).map(([n]) => n);
    expect(repeatable.toSorted()).toEqual([
      "config-dir", "config-file", "join", "join-wan", "node-meta", "recursor", "retry-join", "retry-join-wan",
    ]);
  });

  test("-dev, -config-dir and -config-file are not config keys", () => {
    for (const name of ["dev", "config-dir", "config-file"] as const) expect("configKey" in agentFlags[name]).toBe(false);
  });
});

describe("flagsToFragment", () => {
  test("maps flags onto config keys", () => {
    expect(
      flagsToFragment({
        _: ["positional"],
        server: true,
        "bootstrap-expect": "3",
        node: "n1",
        "http-port": "8501",
        "dns-port": "-1",
        client: "0.0.0.0",
        join: ["a", "b"],
        "retry-join": ["c"],
        recursor: ["8.8.8.8"],
        "node-meta": ["rack:r1", "role:db:primary", "flag"],
        ui: true,
        "log-level": "DEBUG",
        "retry-interval": "5s",
        "data-dir": "/var/lib/tsc",
        dev: true,
        "config-dir": ["/etc/tsc.d"],
        "config-file": ["/etc/tsc.json"],
        datacenter: undefined,
      }),
    ).toEqual({
      server: true,
      bootstrap_expect: 3,
      node_name: "n1",
      ports: { http: 8501, dns: -1 },
      client_addr: "0.0.0.0",
      start_join: ["a", "b"],
      retry_join: ["c"],
      recursors: ["8.8.8.8"],
      node_meta: { rack: "r1", role: "db:primary", flag: "" },
      ui_config: { enabled: true },
      log_level: "DEBUG",
      retry_interval: "5s",
      data_dir: "/var/lib/tsc",
    });
  });

  test("a single value for a repeatable flag is a one-element list", () => {
    expect(flagsToFragment({ "retry-join": "a" })).toEqual({ retry_join: ["a"] });
  });

  test("a repeated single-valued flag keeps the last value, as Go does", () => {
    expect(flagsToFragment({ node: ["a", "b"] })).toEqual({ node_name: "b" });
  });

  test("booleans given as Go spells them", () => {
    expect(flagsToFragment({ server: "false", rejoin: "1" })).toEqual({ server: false, rejoin_after_leave: true });
  });

  test("ignored protocol flags still parse", () => {
    expect(flagsToFragment({ protocol: "2", "raft-protocol": "3" })).toEqual({ protocol: 2, raft_protocol: 3 });
  });

  const errors: Array<[string, Parameters<typeof flagsToFragment>[0], string]> = [
    ["non-integer port", { "http-port": "x" }, 'invalid value "x" for flag -http-port: must be an integer'],
    ["port out of range", { "http-port": "70000" }, 'invalid value "70000" for flag -http-port: must be an integer between -1 and 65535'],
    ["bad log level", { "log-level": "loud" }, 'invalid value "loud" for flag -log-level: must be one of trace, debug, info, warn, error'],
    ["bad duration", { "retry-interval": "soon" }, 'invalid value "soon" for flag -retry-interval: invalid duration "soon"'],
    ["bad boolean", { server: "maybe" }, 'invalid value "maybe" for flag -server: must be a boolean'],
    ["missing value", { node: true }, "flag needs an argument: -node"],
    ["bad node-meta key", { "node-meta": ["ok:1", "consul-x:2"] }, `invalid value "consul-x:2" for flag -node-meta: Key prefix 'consul-' is reserved for internal use`],
    ["bad datacenter", { datacenter: "dc 1" }, 'invalid value "dc 1" for flag -datacenter: can only contain lowercase alphanumeric, - or _ characters, received "dc 1"'],
  ];
  for (const [name, parsed, want] of errors) test(name, () => expect(flagError(parsed)).toBe(want));
});
