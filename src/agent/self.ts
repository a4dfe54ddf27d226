import type { RaftNode } from "../raft/node.ts";
import type { Agent } from "./agent.ts";

// GET /v1/agent/self, shaped as Consul's: Config, DebugConfig, Coord, Member, Stats, Meta.
// Stats values are strings, as Consul's are.

/** The Serf tags Consul gives a LAN member (gossip-protocol.md §11), so peers know servers. */
export function lanTags(agent: Pick<Agent, "config" | "nodeId" | "versionInfo">): Record<string, string> {
  const c = agent.config;
  const v = agent.versionInfo;
  const tags: Record<string, string> = {
    build: `${v.version}:${v.revision}`,
    dc: c.datacenter,
    id: agent.nodeId,
    role: c.server ? "consul" : "node",
    segment: "",
    vsn: String(v.protocol.default),
    vsn_max: "3",
    vsn_min: "2",
  };
  if (c.server) {
    tags.port = String(c.ports.server);
    tags.raft_vsn = "3";
    if (c.bootstrap) tags.bootstrap = "1";
    if (c.bootstrapExpect > 0) tags.expect = String(c.bootstrapExpect);
    tags.wan_join_port = String(c.ports.serfWan);
  }
  return tags;
}

export function selfInfo(agent: Agent, raft: RaftNode["stats"] | undefined): Record<string, unknown> {
  const c = agent.config;
  const v = agent.versionInfo;
  const tags = lanTags(agent);
  const me = agent.memberSelf();
  return {
    Config: {
      Datacenter: c.datacenter,
      PrimaryDatacenter: c.primaryDatacenter,
      NodeName: c.nodeName,
      NodeID: agent.nodeId,
      Revision: v.revision,
      Server: c.server,
      Version: v.version,
      BuildDate: "",
    },
    DebugConfig: {
      Bootstrap: c.bootstrap,
      BootstrapExpect: c.bootstrapExpect,
      ClientAddrs: c.clientAddrs,
      DataDir: c.dataDir ?? "",
      DevMode: c.dev,
      DNSDomain: c.domain,
      HTTPPort: c.ports.http,
      DNSPort: c.ports.dns,
      SerfPortLAN: c.ports.serfLan,
      SerfPortWAN: c.ports.serfWan,
      ServerPort: c.ports.server,
      AdvertiseAddrLAN: agent.advertiseAddr,
      BindAddr: c.bindAddr,
      UIConfig: { Enabled: c.ui },
      TsVersion: v.ours,
    },
    Coord: null,
    Member: me ?? {
      Name: c.nodeName,
      Addr: agent.advertiseAddr,
      Port: c.ports.serfLan,
      Tags: tags,
      Status: 1,
      ProtocolMin: 1,
      ProtocolMax: 5,
      ProtocolCur: 2,
      DelegateMin: 2,
      DelegateMax: 5,
      DelegateCur: 4,
    },
    Stats: {
      agent: { check_monitors: "0", check_ttls: "0", checks: "0", services: "0" },
      build: { prerelease: "", revision: v.revision, version: v.version, version_metadata: "" },
      consul: c.server
        ? { bootstrap: String(c.bootstrap), known_datacenters: "1", leader: String(raft?.state === "leader"), leader_addr: agent.leaderAddr(), server: "true" }
        : { known_servers: "0", server: "false" },
      raft: raft
        ? {
            applied_index: String(raft.appliedIndex),
            commit_index: String(raft.commitIndex),
            last_log_index: String(raft.lastLogIndex),
            last_snapshot_index: String(raft.snapshotIndex),
            num_peers: "0",
            state: raft.state === "leader" ? "Leader" : raft.state === "candidate" ? "Candidate" : "Follower",
            term: String(raft.term),
          }
        : undefined,
      runtime: {
        arch: process.arch,
        os: process.platform,
        version: `bun ${Bun.version}`,
        uptime_ms: String(Date.now() - agent.startedAt),
        rss_bytes: String(process.memoryUsage.rss()),
      },
    },
    Meta: c.nodeMeta,
  };
}
