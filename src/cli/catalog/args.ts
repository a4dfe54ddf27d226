import { CliError } from "../../lib/errors.ts";

/** Consul's catalog commands take no positional arguments. */
export function noArguments(args: string[]): void {
  if (args.length > 0) throw new CliError(`Too many arguments (expected 0, got ${args.length})`);
}
