import { CliError } from "../lib/errors.ts";
import { defineTscCommand } from "./command.ts";
import { bool } from "./flags.ts";
import { clientFrom, clientHttpFlags, out } from "./http-flags.ts";

// `tsc join ADDR...`: asks the agent to join the cluster through each address.

export default defineTscCommand({
  meta: { name: "join", description: "Tell the agent to join a cluster through one of its members" },
  args: {
    ...clientHttpFlags,
    wan: { type: "boolean", description: "Join the WAN pool (servers only)" },
    address: { type: "positional", description: "Addresses of members, host or host:port", required: false },
  },
  async run(flags) {
    const addrs = flags._;
    if (addrs.length === 0) throw new CliError("At least one address to join must be specified.", 1, true);
    const client = clientFrom(flags);
    let joined = 0;
    for (const addr of addrs) {
      try {
        await client.put(`/v1/agent/join/${encodeURIComponent(addr)}`, { wan: bool(flags.wan) ? "" : undefined });
        joined++;
      } catch (err) {
        process.stderr.write(`Error joining address '${addr}': ${(err as Error).message}\n`);
      }
    }
    if (joined === 0) throw new CliError("Failed to join any nodes.");
    out(`Successfully joined cluster by contacting ${joined} nodes.`);
    return 0;
  },
});
