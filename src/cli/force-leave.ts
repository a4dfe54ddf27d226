import { CliError } from "../lib/errors.ts";
import { defineTscCommand } from "./command.ts";
import { bool } from "./flags.ts";
import { call, clientFrom, clientHttpFlags } from "./http-flags.ts";

// `tsc force-leave [-prune] NODE`: moves a failed (or alive) member to left.

export default defineTscCommand({
  meta: { name: "force-leave", description: "Forces a member of the cluster to enter the left state" },
  args: {
    ...clientHttpFlags,
    prune: { type: "boolean", description: "Remove the node from the member list at once" },
    wan: { type: "boolean", description: "The WAN pool (node names are <node>.<dc>)" },
    node: { type: "positional", description: "Name of the node", required: false },
  },
  async run(flags) {
    if (flags._.length !== 1) throw new CliError("A single node name must be specified to force leave.", 1, true);
    const node = flags._[0]!;
    const client = clientFrom(flags);
    await call("Error force leaving: ", () => client.put(`/v1/agent/force-leave/${encodeURIComponent(node)}`, { prune: bool(flags.prune) ? "" : undefined, wan: bool(flags.wan) ? "" : undefined }));
    return 0;
  },
});
