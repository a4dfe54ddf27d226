import { runCommandLine } from "./cli/command.ts";
import { root } from "./cli/root.ts";

// One binary, also run through a symlink named `consul`: the invoked name does not matter,
// only the arguments do.

const argv = process.argv.slice(2);
const write = (stream: NodeJS.WriteStream) => (s: string) => void stream.write(s);
let code: number;
if (argv.length === 1 && (argv[0] === "-v" || argv[0] === "--version" || argv[0] === "-version")) {
  code = await runCommandLine(root, ["version"], write(process.stderr), write(process.stdout));
} else {
  try {
    code = await runCommandLine(root, argv, write(process.stderr), write(process.stdout));
  } catch (err) {
    process.stderr.write(`Error: ${(err as Error).message}\n`);
    code = 1;
  }
}
process.exitCode = code;
