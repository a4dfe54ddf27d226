import type { Subprocess } from "bun";

// The child of `tsc lock`, run as Consul's command/lock runs it: through $SHELL -c (or
// /bin/sh) with the arguments joined by spaces, or directly; CONSUL_LOCK_HELD=true in its
// environment; our stdout and stderr; stdin only with -pass-stdin. Failures read as Go's
// exec package words them ("exit status 3", "signal: terminated").

export interface Child {
  /** undefined when it never started. */
  proc: Subprocess | undefined;
  /** Settles when the child is gone: undefined for a clean exit, else the error. */
  done: Promise<string | undefined>;
}

/** Go's names of the signals a child usually dies of (syscall.Signal.String on Linux). */
const SIGNAL_TEXT: Record<string, string> = {
  SIGHUP: "hangup",
  SIGINT: "interrupt",
  SIGQUIT: "quit",
  SIGILL: "illegal instruction",
  SIGTRAP: "trace/breakpoint trap",
  SIGABRT: "aborted",
  SIGBUS: "bus error",
  SIGFPE: "floating point exception",
  SIGKILL: "killed",
  SIGUSR1: "user defined signal 1",
  SIGSEGV: "segmentation fault",
  SIGUSR2: "user defined signal 2",
  SIGPIPE: "broken pipe",
  SIGALRM: "alarm clock",
  SIGTERM: "terminated",
};

export function childArgv(args: string[], shell: boolean, env = process.env): string[] {
  if (!shell) return args;
  return [env.SHELL || "/bin/sh", "-c", args.join(" ")];
}

/** exec.Cmd.Start's error for a program that is not there. */
function startError(argv0: string, err: Error): string {
  if ((err as Error & { code?: string }).code === "ENOENT") {
    return argv0.includes("/") ? `fork/exec ${argv0}: no such file or directory` : `exec: ${JSON.stringify(argv0)}: executable file not found in $PATH`;
  }
  return err.message;
}

/**
 * Starts the child. `onError` gets Consul's lines for a child that did not start or did
 * not exit cleanly, as they happen.
 */
export function startChild(argv: string[], passStdin: boolean, onError: (line: string) => void): Child {
  let proc: Subprocess;
  try {
    proc = Bun.spawn(argv, {
      stdin: passStdin ? "inherit" : "ignore",
      stdout: "inherit",
      stderr: "inherit",
      env: { ...process.env, CONSUL_LOCK_HELD: "true" },
    });
  } catch (err) {
    const why = startError(argv[0]!, err as Error);
    onError(`Error starting handler: ${why}`);
    return { proc: undefined, done: Promise.resolve(why) };
  }
  const done = proc.exited.then((code) => {
    const why = proc.signalCode ? `signal: ${SIGNAL_TEXT[proc.signalCode] ?? proc.signalCode}` : code === 0 ? undefined : `exit status ${code}`;
    if (why !== undefined) onError(`Error running handler: ${why}`);
    return why;
  });
  return { proc, done };
}
