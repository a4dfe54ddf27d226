import { type ArgsDef, type CommandDef, renderUsage } from "citty";
import { CliError } from "../lib/errors.ts";
import { flagPrefixLength, type FlagSpec, isHelpFlag, type ParsedFlags, parseFlags } from "./flags.ts";

// A command is data (citty's CommandDef: meta, args, lazy subCommands) plus a run that gets
// our Go-style parsed flags. run returns the exit code.

export interface TscCommand {
  meta: { name: string; description: string; version?: string };
  args?: FlagSpec;
  subCommands?: Record<string, () => Promise<TscCommand>>;
  /** Flags end at the first argument (Go's flag package): what follows is a child command line. */
  stopAtFirstArg?: boolean;
  run?: (flags: ParsedFlags) => Promise<number | void> | number | void;
}

export function defineTscCommand(cmd: TscCommand): TscCommand {
  return cmd;
}

/** citty renders usage from its own shape; ours is a superset of it. */
function asCitty(cmd: TscCommand): CommandDef<ArgsDef> {
  const args: ArgsDef = {};
  for (const [name, def] of Object.entries(cmd.args ?? {})) {
    const { repeatable, optionalValue, alias, ...rest } = def;
    const suffix = repeatable ? " (repeatable)" : optionalValue ? " (optionally with a value)" : "";
    args[name] = { ...rest, alias: alias?.filter((a) => a.length === 1), description: rest.description + suffix } as ArgsDef[string];
  }
  return {
    meta: cmd.meta,
    args,
    subCommands: cmd.subCommands as CommandDef<ArgsDef>["subCommands"],
  };
}

export async function usage(cmd: TscCommand, parent?: TscCommand): Promise<string> {
  return renderUsage(asCitty(cmd), parent ? asCitty(parent) : undefined);
}

/** Walks argv down the command tree, parses the leaf's flags and runs it. Returns the exit code. */
export async function runCommandLine(root: TscCommand, argv: string[], err: (s: string) => void, out: (s: string) => void): Promise<number> {
  let cmd = root;
  let parent: TscCommand | undefined;
  let rest = argv;
  while (cmd.subCommands && rest.length > 0 && !rest[0]!.startsWith("-")) {
    const load = cmd.subCommands[rest[0]!];
    if (!load) break;
    parent = cmd;
    cmd = await load();
    rest = rest.slice(1);
  }
  const before = cmd.stopAtFirstArg ? flagPrefixLength(rest, cmd.args ?? {}) : rest.indexOf("--");
  if ((before < 0 ? rest : rest.slice(0, before)).some(isHelpFlag)) {
    out(`${await usage(cmd, parent)}\n`);
    return 0;
  }
  if (!cmd.run) {
    if (rest.length > 0) err(`Unknown command: ${[cmd.meta.name, rest[0]].join(" ")}\n`);
    err(`${await usage(cmd, parent)}\n`);
    return 1;
  }
  try {
    const flags = parseFlags(rest, cmd.args ?? {}, { stopAtFirstArg: cmd.stopAtFirstArg });
    return (await cmd.run(flags)) ?? 0;
  } catch (e) {
    if (e instanceof CliError) {
      err(`${e.message}\n`);
      if (e.showUsage) err(`\n${await usage(cmd, parent)}\n`);
      return e.code;
    }
    throw e;
  }
}
