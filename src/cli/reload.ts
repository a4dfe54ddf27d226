import { defineTscCommand } from "./command.ts";
import { call, clientFrom, httpFlags, out } from "./http-flags.ts";

// `tsc reload`: the agent re-reads its configuration; a broken file is reported with its
// file, key and reason, and the agent keeps running on the old configuration.

export default defineTscCommand({
  meta: { name: "reload", description: "Triggers the agent to reload configuration files" },
  args: { ...httpFlags },
  async run(flags) {
    const client = clientFrom(flags);
    await call("Error reloading: ", () => client.put("/v1/agent/reload"));
    out("Configuration reload triggered");
    return 0;
  },
});
