import { defineTscCommand } from "../command.ts";

export default defineTscCommand({
  meta: { name: "services", description: "Interact with services" },
  subCommands: {
    register: () => import("./register.ts").then((m) => m.default),
    deregister: () => import("./deregister.ts").then((m) => m.default),
  },
});
