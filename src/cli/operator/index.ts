import { defineTscCommand } from "../command.ts";

// `tsc operator`: cluster-level tools. With no subcommand it prints help and exits 1, as Consul's does.
export default defineTscCommand({
  meta: { name: "operator", description: "Provides cluster-level tools for Consul operators" },
  subCommands: {
    raft: () => import("./raft/index.ts").then((m) => m.default),
  },
});
