import { CliError } from "../../lib/errors.ts";
import { type SnapshotMeta, readArchive } from "../../server/snapshot-archive.ts";
import { type StateStats, stateStats } from "../../server/snapshot-stats.ts";
import { defineTscCommand } from "../command.ts";
import { bool, str } from "../flags.ts";
import { out } from "../http-flags.ts";
import { fileArg, readSnapshotFile } from "./args.ts";
import { inspectJson, inspectPretty } from "./inspect-format.ts";

// `tsc snapshot inspect [-kvdetails [-kvdepth N] [-kvfilter PREFIX]] [-format pretty|json] FILE`:
// reads and verifies a snapshot file on disk; no agent needed.

export default defineTscCommand({
  meta: { name: "inspect", description: "Displays information about a snapshot file" },
  args: {
    kvdetails: { type: "boolean", description: "Break down KV space usage by key prefix" },
    kvdepth: { type: "string", description: "With -kvdetails: the key prefix depth to group by", default: "2", valueHint: "int" },
    kvfilter: { type: "string", description: "With -kvdetails: only keys with this prefix", valueHint: "prefix" },
    format: { type: "string", description: "Output format {pretty|json}", default: "pretty" },
    file: { type: "positional", description: "The snapshot file", required: true },
  },
  async run(flags) {
    const depthText = str(flags.kvdepth) ?? "2";
    if (!/^[-+]?\d+$/.test(depthText)) throw new CliError(`invalid value "${depthText}" for flag -kvdepth: parse error`);
    const file = fileArg(flags);
    const bytes = readSnapshotFile(file);
    let meta: SnapshotMeta;
    let state: Uint8Array;
    try {
      ({ meta, state } = readArchive(bytes));
    } catch (err) {
      throw new CliError(`Error reading snapshot: ${(err as Error).message}`);
    }
    let stats: StateStats;
    try {
      stats = stateStats(state, bool(flags.kvdetails) ? { depth: Number(depthText), filter: str(flags.kvfilter) ?? "" } : undefined);
    } catch (err) {
      throw new CliError(`Error extracting snapshot data: ${(err as Error).message}`);
    }
    const format = str(flags.format) ?? "pretty";
    if (format !== "pretty" && format !== "json") throw new CliError(`Error outputting enhanced snapshot data: Unknown format: ${format}`);
    out(format === "json" ? inspectJson(meta, stats) : inspectPretty(meta, stats));
    return 0;
  },
});
