// Rules that span several keys, checked on the final config in the order and with the words of
// Consul's builder (agent/config/builder.go validate), so operators recognise the messages.

import { isIP } from "node:net";
import { ConfigError } from "../lib/errors.ts";
import { nodeMetaCountProblem } from "./node-meta.ts";
import type { AgentConfig } from "./types.ts";

const DEPLOYMENT_TABLE = "See https://www.consul.io/docs/internals/consensus.html#deployment-table";
const DNS_LABEL_LENGTH_MAX = 63;

/**
 * Throws ConfigError for the first broken rule; returns warnings otherwise. `requireDataDir`
 * is off for `tsc validate`, which checks files that may get their data_dir from flags.
 */
export function checkConfig(c: AgentConfig, requireDataDir: boolean): string[] {
  if (requireDataDir && !c.dev && c.dataDir === undefined) fail("data_dir cannot be empty");
  if (c.nodeName === "") fail("node_name cannot be empty");
  checkBindAddr(c.bindAddr);
  if (isAnyAddr(c.advertiseAddr)) fail("Advertise address cannot be 0.0.0.0, :: or [::]");
  if (isAnyAddr(c.advertiseAddrWan)) fail("Advertise WAN address cannot be 0.0.0.0, :: or [::]");
  if (c.ports.server <= 0) fail("server-port must be greater than zero");
  if (c.ports.serfLan <= 0) fail("serf-lan-port must be greater than zero");
  // Each file passes this on its own; together they can still exceed the limit.
  const metaProblem = nodeMetaCountProblem(c.nodeMeta);
  if (metaProblem) fail(`node_meta: ${metaProblem}`);
  if (c.bootstrap && !c.server) fail("'bootstrap = true' requires 'server = true'");
  if (c.bootstrapExpect > 0 && !c.server) fail("'bootstrap_expect > 0' requires 'server = true'");
  if (c.bootstrapExpect > 0 && c.dev) fail("'bootstrap_expect > 0' not allowed in dev mode");
  if (c.bootstrapExpect > 0 && c.bootstrap) fail("'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive");
  return [...nodeNameWarnings(c.nodeName), ...bootstrapWarnings(c), ...exposureWarnings(c)];
}

function fail(message: string): never {
  throw new ConfigError(message);
}

function checkBindAddr(addr: string): void {
  if (addr.trim() === "") fail("bind_addr cannot be empty");
  if (/\s/.test(addr.trim())) fail("bind_addr cannot contain multiple addresses. Use 'addresses.{dns,http,https}' instead.");
  if (addr.startsWith("unix://")) fail("bind_addr cannot be a unix socket");
  if (addr.includes("{{")) fail("bind_addr: go-sockaddr templates are not supported yet, use an ip address");
  if (isIP(addr) === 0) fail("bind_addr must be an ip address");
}

function isAnyAddr(addr: string | undefined): boolean {
  return addr === "0.0.0.0" || addr === "::" || addr === "[::]";
}

function nodeNameWarnings(name: string): string[] {
  if (/[^A-Za-z0-9-]/.test(name)) {
    return [`Node name "${name}" will not be discoverable via DNS due to invalid characters. Valid characters include all alpha-numerics and dashes.`];
  }
  if (name.length > DNS_LABEL_LENGTH_MAX) {
    return [`Node name "${name}" will not be discoverable via DNS due to it being too long. Valid lengths are between 1 and 63 bytes.`];
  }
  return [];
}

function bootstrapWarnings(c: AgentConfig): string[] {
  if (!c.server) return [];
  const out: string[] = [];
  const expect = c.bootstrapExpect;
  if (!c.dev && !c.bootstrap && expect === 2) {
    out.push(`bootstrap_expect = 2: A cluster with 2 servers will provide no failure tolerance. ${DEPLOYMENT_TABLE}`);
  }
  if (!c.bootstrap && expect > 2 && expect % 2 === 0) {
    out.push(`bootstrap_expect is even number: A cluster with an even number of servers does not achieve optimum fault tolerance. ${DEPLOYMENT_TABLE}`);
  }
  // A dev server bootstraps by design; warning about it there would be noise.
  if (!c.dev && c.bootstrap && expect === 0) out.push("bootstrap = true: do not enable unless necessary");
  if (!c.dev && !c.bootstrap && expect > 1) out.push(`bootstrap_expect > 0: expecting ${expect} servers`);
  return out;
}

function exposureWarnings(c: AgentConfig): string[] {
  const out: string[] = [];
  if (c.clientAddrs.length === 0) {
    out.push("client_addr is empty, client services (DNS, HTTP, HTTPS, GRPC) will not be listening for connections");
  }
  // Consul warns unless ACLs or allow_write_http_from guard the API; we have neither yet.
  if (c.enableScriptChecks) {
    out.push("using enable-script-checks without ACLs and without allow_write_http_from is DANGEROUS, use enable-local-script-checks instead, see https://www.hashicorp.com/blog/protecting-consul-from-rce-risk-in-specific-configurations/");
  }
  return out;
}
