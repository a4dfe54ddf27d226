import { ApiClient, defaultAddress } from "../api/client.ts";
import { CliError } from "../lib/errors.ts";
import { bool, type FlagSpec, type ParsedFlags, str } from "./flags.ts";

// Flags every API-backed command takes, as Consul's command/flags/http.go.

export const httpFlags: FlagSpec = {
  "http-addr": {
    type: "string",
    description: "Address of the agent (host:port, http(s)://host:port or unix:///path); also CONSUL_HTTP_ADDR or TSC_HTTP_ADDR",
    valueHint: "addr",
  },
  token: { type: "string", description: "ACL token (also CONSUL_HTTP_TOKEN)" },
  datacenter: { type: "string", description: "Datacenter to query (default: the agent's)" },
  stale: { type: "boolean", description: "Allow any server to answer reads, without a leader" },
};

/** Consul's ClientFlags alone: agent-local commands (maint, reload, info) take no -datacenter or -stale. */
export const clientHttpFlags: FlagSpec = Object.fromEntries(Object.entries(httpFlags).filter(([name]) => name !== "datacenter" && name !== "stale"));

export function clientFrom(flags: ParsedFlags): ApiClient {
  try {
    return new ApiClient({
      address: defaultAddress(str(flags["http-addr"])),
      token: str(flags.token) ?? process.env.CONSUL_HTTP_TOKEN,
      datacenter: str(flags.datacenter),
      stale: bool(flags.stale),
    });
  } catch (err) {
    throw new CliError(`Error connecting to Consul agent: ${(err as Error).message}`);
  }
}

/** Runs an API call; a failure becomes `prefix + reason` on stderr and exit 1. */
export async function call<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${prefix}${(err as Error).message}`);
  }
}

export function out(line: string): void {
  process.stdout.write(`${line}\n`);
}
