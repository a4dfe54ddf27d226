import { validatePaths } from "../config/validate.ts";
import { CliError } from "../lib/errors.ts";
import { defineTscCommand } from "./command.ts";
import { bool } from "./flags.ts";

// `tsc validate DIR|FILE...`: the same load, merge and checks as start-up, without starting.

export default defineTscCommand({
  meta: { name: "validate", description: "Validate config files or directories" },
  args: {
    quiet: { type: "boolean", description: "Print nothing on success" },
    paths: { type: "positional", description: "Config files and directories" },
  },
  run(f) {
    if (f._.length === 0) throw new CliError("Must specify at least one config file or directory");
    const r = validatePaths(f._);
    if (!r.ok) throw new CliError(`Config validation failed: ${r.error}`);
    if (!bool(f.quiet)) {
      for (const w of r.warnings) process.stderr.write(`${w}\n`);
      process.stdout.write("Configuration is valid!\n");
    }
    return 0;
  },
});
