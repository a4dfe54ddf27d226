import { defineTscCommand } from "../../command.ts";

export default defineTscCommand({
  meta: {
    name: "raft",
    description: "Interact with Consul's Raft subsystem: verify the peers, or in rare cases recover quorum by removing invalid ones",
  },
  subCommands: {
    "list-peers": () => import("./list-peers.ts").then((m) => m.default),
    "remove-peer": () => import("./remove-peer.ts").then((m) => m.default),
    "transfer-leader": () => import("./transfer-leader.ts").then((m) => m.default),
  },
});
