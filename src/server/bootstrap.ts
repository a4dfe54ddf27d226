import type { SerfMember } from "../gossip/serf-node.ts";

// Which LAN members are Consul servers, and Consul's -bootstrap-expect rule (maybeBootstrap):
// once this many servers of our datacenter see each other, and none of them already belongs
// to a Raft cluster, each bootstraps the same configuration of all of them. Pure: the caller
// asks the servers for their peers and performs the bootstrap.

export interface ServerInfo {
  name: string;
  /** Node ID: the server's Raft ID. */
  id: string;
  ip: string;
  /** The server port: RPC and Raft. */
  port: number;
  /** ip:port, as /v1/status/peers shows it. */
  addr: string;
  datacenter: string;
  expect: number;
  bootstrap: boolean;
  status: SerfMember["status"];
  /** The Raft protocol it speaks (tag raft_vsn), "" when not tagged. */
  raftVsn: string;
  /** The Consul version of its build tag ("1.17.0" of "1.17.0:abc"). */
  version: string;
}

/** A member tagged role=consul with a node ID and a server port, or undefined. */
export function serverInfo(m: SerfMember): ServerInfo | undefined {
  const t = m.tags;
  if (t.role !== "consul" || !t.id || !/^\d+$/.test(t.port ?? "")) return undefined;
  return {
    name: m.name,
    id: t.id,
    ip: m.addr,
    port: Number(t.port),
    addr: `${m.addr}:${t.port}`,
    datacenter: t.dc ?? "",
    expect: /^\d+$/.test(t.expect ?? "") ? Number(t.expect) : 0,
    bootstrap: t.bootstrap === "1",
    status: m.status,
    raftVsn: t.raft_vsn ?? "",
    version: (t.build ?? "").split(":")[0]!,
  };
}

export type BootstrapStep =
  | { kind: "wait" }
  /** Someone is configured differently: Consul logs it and does not bootstrap (yet). */
  | { kind: "conflict"; message: string }
  /** Enough servers: confirm none has Raft peers, then bootstrap all of them as voters. */
  | { kind: "ready"; servers: ServerInfo[] };

export function bootstrapStep(self: { datacenter: string; expect: number }, members: SerfMember[]): BootstrapStep {
  const servers: ServerInfo[] = [];
  for (const m of members) {
    if (m.status !== "alive") continue;
    const s = serverInfo(m);
    if (!s || s.datacenter !== self.datacenter) continue;
    if (s.expect !== 0 && s.expect !== self.expect) {
      return { kind: "conflict", message: `Member ${s.name} has a conflicting expect value. All nodes should expect the same number.` };
    }
    if (s.bootstrap) return { kind: "conflict", message: `Member ${s.name} has bootstrap mode. Expect disabled.` };
    servers.push(s);
  }
  if (servers.length < self.expect) return { kind: "wait" };
  // Every server computes the same list from the same members: sort so the entries match.
  servers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { kind: "ready", servers };
}
