import { randomBytes } from "node:crypto";
import { defineTscCommand } from "./command.ts";
import { out } from "./http-flags.ts";

// `tsc keygen`: a new gossip encryption key, 32 random bytes in base64 (AES-256), as Consul's.

export default defineTscCommand({
  meta: { name: "keygen", description: "Generates a new encryption key for -encrypt" },
  args: {},
  run() {
    out(randomBytes(32).toString("base64"));
    return 0;
  },
});
