import { readFileSync } from "node:fs";
import { CliError } from "../../lib/errors.ts";
import { fsReason } from "../../lib/fs-reason.ts";
import type { ParsedFlags } from "../flags.ts";

/** The one FILE argument every snapshot command takes, with Consul's complaints. */
export function fileArg(flags: ParsedFlags): string {
  if (flags._.length === 0) throw new CliError("Missing FILE argument");
  if (flags._.length > 1) throw new CliError(`Too many arguments (expected 1, got ${flags._.length})`);
  return flags._[0]!;
}

export function readSnapshotFile(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CliError(`Error opening snapshot file: open ${file}: ${fsReason(err)}`);
  }
}
