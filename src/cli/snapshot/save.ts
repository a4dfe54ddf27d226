import { readFileSync, renameSync, rmSync } from "node:fs";
import { extname } from "node:path";
import { writeFileAtomic } from "../../lib/atomic-file.ts";
import { CliError } from "../../lib/errors.ts";
import { fsReason } from "../../lib/fs-reason.ts";
import { readArchive } from "../../server/snapshot-archive.ts";
import { defineTscCommand } from "../command.ts";
import { str } from "../flags.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";
import { fileArg } from "./args.ts";

// `tsc snapshot save [-stale] [-append-filename=version,dc,node,status] FILE`: fetch the
// archive, write it as FILE.unverified, read it back and verify it, then rename it to FILE.

export default defineTscCommand({
  meta: { name: "save", description: "Saves a snapshot of the servers' state to FILE" },
  args: {
    ...httpFlags,
    "append-filename": {
      type: "string",
      description: "Append to the file name, comma-separated: version, dc, node, status (leader or follower)",
    },
    file: { type: "positional", description: "Where to write the snapshot", required: true },
  },
  async run(flags) {
    let file = fileArg(flags);
    const client = clientFrom(flags);
    const append = (str(flags["append-filename"]) ?? "").split(",");
    if (append.some((a) => a !== "")) {
      const self = await call("Error connecting to Consul agent and fetching datacenter/version: ", () => client.agentSelf());
      file = withSuffixes(file, append, self);
    }
    const { archive, index } = await call("Error saving snapshot: ", () => client.snapshotSave());
    const unverified = `${file}.unverified`;
    try {
      writeFileAtomic(unverified, archive);
    } catch (err) {
      throw new CliError(`Error writing unverified snapshot file: open ${unverified}: ${fsReason(err)}`);
    }
    try {
      try {
        readArchive(readFileSync(unverified));
      } catch (err) {
        throw new CliError(`Error verifying snapshot file: ${(err as Error).message}`);
      }
      try {
        renameSync(unverified, file);
      } catch (err) {
        throw new CliError(`Error renaming ${JSON.stringify(unverified)} to ${JSON.stringify(file)}: rename ${unverified} ${file}: ${fsReason(err)}`);
      }
    } finally {
      rmSync(unverified, { force: true });
    }
    out(`Saved and verified snapshot to index ${index}`);
    return 0;
  },
});

/** Consul's -append-filename: `backup.snap` becomes `backup-1.22.0-dc1.snap`, in its fixed order. */
function withSuffixes(file: string, wanted: string[], self: Record<string, unknown>): string {
  const ext = extname(file);
  let base = file.slice(0, file.length - ext.length);
  const config = (self.Config ?? {}) as Record<string, unknown>;
  const consul = ((self.Stats as Record<string, unknown> | undefined)?.consul ?? {}) as Record<string, unknown>;
  if (wanted.includes("version") && typeof config.Version === "string") base += `-${config.Version}`;
  if (wanted.includes("dc") && typeof config.Datacenter === "string") base += `-${config.Datacenter}`;
  if (wanted.includes("node") && typeof config.NodeName === "string") base += `-${config.NodeName}`;
  if (wanted.includes("status") && consul.leader !== undefined) base += consul.leader === "true" ? "-leader" : "-follower";
  return base + ext;
}
