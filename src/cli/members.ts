import { CliError } from "../lib/errors.ts";
import { columnize } from "./columnize.ts";
import { defineTscCommand } from "./command.ts";
import { bool, str } from "./flags.ts";
import { call, clientFrom, clientHttpFlags, out } from "./http-flags.ts";

// `tsc members [-detailed] [-status REGEX] [-wan]`: the gossip pool as this agent sees it.

export interface MemberJson {
  Name: string;
  Addr: string;
  Port: number;
  Tags: Record<string, string> | null;
  Status: number;
}

const STATUS = ["none", "alive", "leaving", "left", "failed"];

export function membersTable(members: MemberJson[], detailed: boolean): string {
  const sorted = [...members].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  if (detailed) {
    const rows = sorted.map((m) => {
      const tags = Object.keys(m.Tags ?? {})
        .sort()
        .map((k) => `${k}=${m.Tags![k]}`)
        .join(",");
      return [m.Name, `${m.Addr}:${m.Port}`, STATUS[m.Status] ?? "unknown", tags];
    });
    return columnize([["Node", "Address", "Status", "Tags"], ...rows]);
  }
  const rows = sorted.map((m) => {
    const t = m.Tags ?? {};
    const server = t.role === "consul";
    return [m.Name, `${m.Addr}:${m.Port}`, STATUS[m.Status] ?? "unknown", server ? "server" : "client", (t.build ?? "").split(":")[0]!, t.vsn ?? "", t.dc ?? "", "default", server ? "<all>" : "<default>"];
  });
  return columnize([["Node", "Address", "Status", "Type", "Build", "Protocol", "DC", "Partition", "Segment"], ...rows]);
}

export default defineTscCommand({
  meta: { name: "members", description: "Lists the members of the gossip pool" },
  args: {
    ...clientHttpFlags,
    detailed: { type: "boolean", description: "Show every tag of each member" },
    status: { type: "string", description: "Only members whose status matches this regular expression" },
    wan: { type: "boolean", description: "The WAN pool (servers only)" },
  },
  async run(flags) {
    let filter: RegExp | undefined;
    const status = str(flags.status);
    if (status) {
      try {
        filter = new RegExp(status);
      } catch (err) {
        throw new CliError(`Failed to compile status regexp: ${(err as Error).message}`);
      }
    }
    const client = clientFrom(flags);
    const members = await call("Error retrieving members: ", () => client.getJson<MemberJson[]>("/v1/agent/members", { wan: bool(flags.wan) ? "" : undefined }));
    const shown = filter ? members.filter((m) => filter!.test(STATUS[m.Status] ?? "")) : members;
    if (shown.length === 0) return 2; // Consul exits 2 when no member matches
    out(membersTable(shown, bool(flags.detailed)));
    return 0;
  },
});
