import { defineTscCommand } from "./command.ts";
import { call, clientFrom, clientHttpFlags, out } from "./http-flags.ts";

// `tsc leave`: the agent leaves the cluster gracefully and shuts down.

export default defineTscCommand({
  meta: { name: "leave", description: "Gracefully leave the cluster and shut the agent down" },
  args: { ...clientHttpFlags },
  async run(flags) {
    const client = clientFrom(flags);
    await call("Error leaving: ", () => client.put("/v1/agent/leave"));
    out("Graceful leave complete");
    return 0;
  },
});
