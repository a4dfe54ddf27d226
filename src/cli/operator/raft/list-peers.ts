import { columnize } from "../../columnize.ts";
import { defineTscCommand } from "../../command.ts";
import { call, clientFrom, httpFlags, out } from "../../http-flags.ts";

// `tsc operator raft list-peers [-stale]`: the Raft configuration with each server's state,
// and (Consul 1.16+) its commit index and how far it trails the leader, from autopilot health.

export interface RaftConfigurationJson {
  Servers: Array<{ ID: string; Node: string; Address: string; Leader: boolean; ProtocolVersion: string; Voter: boolean }> | null;
  Index: number;
}

export interface AutopilotHealthJson {
  Servers: Array<{ ID: string; LastIndex: number }> | null;
}

/** Consul's table: servers in configuration order; "_" where autopilot has no data for one. */
export function peersTable(config: RaftConfigurationJson, health: AutopilotHealthJson): string {
  const lastIndex = new Map((health.Servers ?? []).map((s) => [s.ID, s.LastIndex]));
  const servers = config.Servers ?? [];
  const leader = servers.find((s) => s.Leader);
  const leaderIndex = (leader && lastIndex.get(leader.ID)) ?? 0;
  const rows = [["Node", "ID", "Address", "State", "Voter", "RaftProtocol", "Commit Index", "Trails Leader By"]];
  for (const s of servers) {
    const row = [s.Node, s.ID, s.Address, s.Leader ? "leader" : "follower", String(s.Voter), s.ProtocolVersion === "" ? "<=1" : s.ProtocolVersion];
    const index = lastIndex.get(s.ID);
    if (index === undefined) {
      rows.push([...row, "_"]);
      continue;
    }
    const trails = leaderIndex - index;
    rows.push([...row, String(index), s.Leader ? "_" : `${trails} ${trails <= 1 ? "Commit" : "Commits"}`]);
  }
  return columnize(rows);
}

export default defineTscCommand({
  meta: { name: "list-peers", description: "Display the current Raft peer configuration" },
  args: { ...httpFlags },
  async run(flags) {
    const client = clientFrom(flags);
    const config = await call("Error getting peers: Failed to retrieve raft configuration: ", () =>
      client.getJson<RaftConfigurationJson>("/v1/operator/raft/configuration"),
    );
    // 429 is autopilot's "unhealthy", still a full answer.
    const health = await call("Error getting peers: Failed to retrieve autopilot health: ", () =>
      client.getJson<AutopilotHealthJson>("/v1/operator/autopilot/health", {}, [200, 429]),
    );
    out(peersTable(config, health));
    return 0;
  },
});
