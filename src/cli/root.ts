import { VERSION } from "../version.ts";
import { defineTscCommand } from "./command.ts";

// Subcommands load lazily: `tsc kv get` never pays for the agent's imports.
export const root = defineTscCommand({
  meta: { name: "tsc", version: VERSION, description: "Consul-compatible agent, server and CLI" },
  subCommands: {
    agent: () => import("./agent.ts").then((m) => m.default),
    catalog: () => import("./catalog/index.ts").then((m) => m.default),
    dig: () => import("./dig.ts").then((m) => m.default),
    event: () => import("./event.ts").then((m) => m.default),
    "force-leave": () => import("./force-leave.ts").then((m) => m.default),
    info: () => import("./info.ts").then((m) => m.default),
    join: () => import("./join.ts").then((m) => m.default),
    keygen: () => import("./keygen.ts").then((m) => m.default),
    keyring: () => import("./keyring.ts").then((m) => m.default),
    kv: () => import("./kv/index.ts").then((m) => m.default),
    leave: () => import("./leave.ts").then((m) => m.default),
    lock: () => import("./lock.ts").then((m) => m.default),
    maint: () => import("./maint.ts").then((m) => m.default),
    members: () => import("./members.ts").then((m) => m.default),
    operator: () => import("./operator/index.ts").then((m) => m.default),
    reload: () => import("./reload.ts").then((m) => m.default),
    services: () => import("./services/index.ts").then((m) => m.default),
    snapshot: () => import("./snapshot/index.ts").then((m) => m.default),
    validate: () => import("./validate.ts").then((m) => m.default),
    version: () => import("./version.ts").then((m) => m.default),
    watch: () => import("./watch.ts").then((m) => m.default),
  },
});
