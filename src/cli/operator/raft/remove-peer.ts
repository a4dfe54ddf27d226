import { CliError } from "../../../lib/errors.ts";
import { defineTscCommand } from "../../command.ts";
import { str } from "../../flags.ts";
import { call, clientFrom, httpFlags, out } from "../../http-flags.ts";

// `tsc operator raft remove-peer -id ID | -address IP:port`: removes a failed server from the
// Raft configuration. A server gossip still sees alive is added back by autopilot, as in Consul.

export default defineTscCommand({
  meta: { name: "remove-peer", description: "Remove a Consul server from the Raft configuration" },
  args: {
    ...httpFlags,
    address: { type: "string", description: "The address to remove from the Raft configuration.", valueHint: "ip:port" },
    id: { type: "string", description: "The ID to remove from the Raft configuration." },
  },
  async run(flags) {
    const address = str(flags.address) ?? "";
    const id = str(flags.id) ?? "";
    if (address === "" && id === "") throw new CliError("Error removing peer: an address or id is required for the peer to remove");
    if (address !== "" && id !== "") throw new CliError("Error removing peer: cannot give both an address and id");
    const client = clientFrom(flags);
    await call("Error removing peer: ", () => client.send("DELETE", "/v1/operator/raft/peer", address !== "" ? { address } : { id }));
    out(address !== "" ? `Removed peer with address ${JSON.stringify(address)}` : `Removed peer with id ${JSON.stringify(id)}`);
    return 0;
  },
});
