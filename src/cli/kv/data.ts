import { readFileSync } from "node:fs";
import { CliError } from "../../lib/errors.ts";

/** DATA as Consul's kv commands take it: literal, `@file`, or `-` for stdin. */
export async function readData(arg: string | undefined): Promise<Uint8Array> {
  if (arg === undefined || arg === "") return new Uint8Array(0);
  if (arg === "-") {
    try {
      return new Uint8Array(await Bun.stdin.arrayBuffer());
    } catch (err) {
      throw new CliError(`Error! Failed to read stdin: ${(err as Error).message}`);
    }
  }
  if (arg.startsWith("@")) {
    try {
      return new Uint8Array(readFileSync(arg.slice(1)));
    } catch (err) {
      throw new CliError(`Error! Failed to read file: ${(err as Error).message}`);
    }
  }
  return new TextEncoder().encode(arg);
}
