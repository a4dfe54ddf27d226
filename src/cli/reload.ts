import { AgentApi } from "../api/agent.ts";
import { defineTscCommand } from "./command.ts";
import { call, clientFrom, clientHttpFlags, out } from "./http-flags.ts";

// `tsc reload`: PUT /v1/agent/reload. A broken config source fails with the agent's answer,
// which names its file, key and reason; the agent keeps running on the old configuration.

export default defineTscCommand({
  meta: { name: "reload", description: "Triggers the agent to reload configuration files" },
  args: { ...clientHttpFlags },
  async run(flags) {
    const agent = new AgentApi(clientFrom(flags));
    await call("Error reloading: ", () => agent.reload());
    out("Configuration reload triggered");
    return 0;
  },
});
