import { networkInterfaces } from "node:os";
import type { AgentConfig } from "../config/types.ts";
import { ConfigError } from "../lib/errors.ts";

// The address other agents reach this one at. As Consul: -advertise wins; a specific -bind
// is used as is; 0.0.0.0 means "the one private IPv4 address", an error if there are several.

const privateV4 = /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.)/;

export function advertiseAddress(config: AgentConfig): string {
  if (config.advertiseAddr) return config.advertiseAddr;
  if (config.bindAddr !== "0.0.0.0" && config.bindAddr !== "::") return config.bindAddr;
  const found: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal && privateV4.test(a.address)) found.push(a.address);
  }
  if (found.length === 1) return found[0]!;
  if (found.length === 0) return "127.0.0.1";
  throw new ConfigError(`Multiple private IPv4 addresses found. Please configure one with 'bind' and/or 'advertise'. (${found.join(", ")})`);
}
