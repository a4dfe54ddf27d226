import { defineTscCommand } from "../command.ts";

export default defineTscCommand({
  meta: { name: "kv", description: "Interact with the key-value store" },
  subCommands: {
    get: () => import("./get.ts").then((m) => m.default),
    put: () => import("./put.ts").then((m) => m.default),
    delete: () => import("./delete.ts").then((m) => m.default),
    export: () => import("./export.ts").then((m) => m.default),
    import: () => import("./import.ts").then((m) => m.default),
  },
});
