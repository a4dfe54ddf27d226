import { defineTscCommand } from "../command.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";
import { fileArg, readSnapshotFile } from "./args.ts";

// `tsc snapshot restore FILE`: send the archive to the servers, which verify it and replace
// their whole state with it.

export default defineTscCommand({
  meta: { name: "restore", description: "Restores the servers' state from a snapshot FILE" },
  args: { ...httpFlags, file: { type: "positional", description: "The snapshot to restore", required: true } },
  async run(flags) {
    const file = fileArg(flags);
    const client = clientFrom(flags);
    const archive = readSnapshotFile(file);
    await call("Error restoring snapshot: ", () => client.snapshotRestore(archive));
    out("Restored snapshot");
    return 0;
  },
});
