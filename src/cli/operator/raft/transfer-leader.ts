import { CliError } from "../../../lib/errors.ts";
import { defineTscCommand } from "../../command.ts";
import { str } from "../../flags.ts";
import { call, clientFrom, httpFlags, out } from "../../http-flags.ts";

// `tsc operator raft transfer-leader [-id ID]`: hands leadership to the given server, or to
// the most caught-up voter. (Consul's messages, its "transfering" spelling included.)

export default defineTscCommand({
  meta: { name: "transfer-leader", description: "Transfer raft leadership to another node" },
  args: {
    ...httpFlags,
    id: { type: "string", description: "The ID of the node to transfer leadership to." },
  },
  async run(flags) {
    const id = str(flags.id) ?? "";
    const client = clientFrom(flags);
    const body = await call("Error transfering leadership: Failed to transfer leadership ", () =>
      client.send("POST", "/v1/operator/raft/transfer-leader", { id: id === "" ? undefined : id }),
    );
    if ((JSON.parse(body) as { Success?: boolean }).Success !== true) throw new CliError("Error transfering leadership: Failed to transfer leadership");
    out("Success");
    return 0;
  },
});
