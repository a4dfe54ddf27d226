import { defineTscCommand } from "../command.ts";

// `tsc catalog` alone prints this help (on stderr, exit 1), as Consul's does.

export default defineTscCommand({
  meta: { name: "catalog", description: "Interact with the catalog" },
  subCommands: {
    datacenters: () => import("./datacenters.ts").then((m) => m.default),
    nodes: () => import("./nodes.ts").then((m) => m.default),
    services: () => import("./services.ts").then((m) => m.default),
  },
});
