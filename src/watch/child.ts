import { lookPathError } from "../agent/checks/script.ts";
import { goJson } from "../lib/json.ts";

// Starting a watch handler process as Consul does (agent/exec): `args` run directly, a
// script through $SHELL (or /bin/sh) -c; the result as compact JSON plus a newline on stdin
// (Go's json.Encoder), CONSUL_INDEX in the environment.

export type StdioTarget = "inherit" | "pipe";

export interface HandlerChild<S extends StdioTarget> {
  proc: Bun.Subprocess<Uint8Array, S, S>;
  /** Go's error for the finished process ("exit status 2", "signal: killed"), undefined on success. */
  exited: Promise<string | undefined>;
}

/** The argv for a handler: the args themselves, or the shell with the script. */
export function handlerArgv(args: string[], script: string): string[] {
  return args.length > 0 ? args : [process.env.SHELL || "/bin/sh", "-c", script];
}

/** Spawns the handler; throws an Error in Go's words when it cannot start. */
export function spawnHandler<S extends StdioTarget>(argv: string[], index: bigint, result: unknown, stdio: S): HandlerChild<S> {
  const missing = lookPathError(argv[0]!);
  if (missing) throw new Error(missing);
  const proc = Bun.spawn(argv, {
    // Given explicitly: Bun's default is the environment at startup, Go's the current one.
    env: { ...process.env, CONSUL_INDEX: index.toString() },
    stdin: new TextEncoder().encode(`${goJson(result)}\n`),
    stdout: stdio,
    stderr: stdio,
  });
  return { proc, exited: proc.exited.then(() => exitError(proc.exitCode, proc.signalCode)) };
}

// Go's syscall signal names, as an ExitError prints them.
const SIGNAL_NAMES: Record<string, string> = {
  SIGHUP: "hangup",
  SIGINT: "interrupt",
  SIGQUIT: "quit",
  SIGABRT: "aborted",
  SIGKILL: "killed",
  SIGSEGV: "segmentation fault",
  SIGPIPE: "broken pipe",
  SIGTERM: "terminated",
  SIGUSR1: "user defined signal 1",
  SIGUSR2: "user defined signal 2",
};

export function exitError(code: number | null, signal: string | number | null): string | undefined {
  if (signal !== null) return `signal: ${SIGNAL_NAMES[String(signal)] ?? signal}`;
  return code === 0 ? undefined : `exit status ${code ?? -1}`;
}
