import { readFileSync } from "node:fs";
import { CliError } from "../../lib/errors.ts";

// -filter as Consul's helpers.LoadDataSource reads it: a literal, @file, or "-" for stdin.

export async function loadFilter(arg: string | undefined): Promise<string | undefined> {
  if (arg === undefined || arg === "") return undefined;
  try {
    if (arg === "-") return await Bun.stdin.text();
    if (arg.startsWith("@")) return readFile(arg.slice(1));
    return arg;
  } catch (err) {
    throw new CliError(`Could not process filter argument: ${(err as Error).message}`);
  }
}

function readFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "is a directory" : (err as Error).message;
    throw new Error(`Failed to read file: open ${path}: ${why}`);
  }
}
