import { defineTscCommand } from "../command.ts";

export default defineTscCommand({
  meta: { name: "snapshot", description: "Saves, restores and inspects snapshots of the servers' state" },
  subCommands: {
    save: () => import("./save.ts").then((m) => m.default),
    restore: () => import("./restore.ts").then((m) => m.default),
    inspect: () => import("./inspect.ts").then((m) => m.default),
  },
});
