import { accessSync, constants } from "node:fs";
import type { CheckDefinition } from "../../config/definition-types.ts";
import { formatDurationMs } from "../../lib/duration.ts";
import { TailBuffer } from "./output.ts";
import type { CheckHost, Probe, ProbeResult } from "./runner.ts";

// Script checks as Consul's CheckMonitor: exit 0 passing, 1 warning, anything else
// critical; Output is stdout and stderr as one stream, its last bytes kept. The script gets
// its own process group, and a timeout SIGKILLs the whole group, so whatever it started
// goes too. As in Consul, a timeout or a failure to start is reported past flap damping.

// A pipe held open by something that escaped the group must not stall the check for ever.
const KILL_GRACE_MS = 1000;
// `exec 2>&1` first, so stderr shares stdout's pipe and the two interleave as written (Go
// hands both to one buffer); then the real command replaces the shell, keeping its pid.
const MERGE_STDERR = ["/bin/sh", "-c", 'exec 2>&1; exec "$@"', "sh"];

export function scriptProbe(def: CheckDefinition, outputMax: number, timeoutMs: number, logger: CheckHost["logger"]): Probe {
  const command = def.args.length > 0 ? def.args : ["/bin/sh", "-c", def.script];
  const argv = [...MERGE_STDERR, ...command];
  const timeoutText = formatDurationMs(timeoutMs);

  return async (signal) => {
    const missing = def.args.length > 0 ? lookPathError(command[0]!) : undefined;
    if (missing) return startFailure(def.id, missing, logger);
    let proc: Bun.Subprocess<"ignore", "pipe", "ignore">;
    try {
      // env given explicitly: Bun's default is the environment at startup, Go's is the current one.
      proc = Bun.spawn(argv, { env: process.env, stdin: "ignore", stdout: "pipe", stderr: "ignore", detached: true });
    } catch (err) {
      return startFailure(def.id, (err as Error).message, logger);
    }
    const killGroup = () => {
      try {
        process.kill(-proc.pid, "SIGKILL");
      } catch {
        // the group is already gone
      }
    };
    const out = new TailBuffer(outputMax);
    const reader = proc.stdout.getReader();
    // Done when the script has exited AND its output is closed, as Go's cmd.Wait is.
    const finished = Promise.all([proc.exited, drain(reader, out)]);

    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const outcome = await Promise.race([
      finished.then(() => "done" as const),
      new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs))),
      new Promise<"stop">((resolve) => {
        onAbort = () => {
          killGroup(); // at once: stop() may be followed by the agent exiting
          resolve("stop");
        };
        signal.addEventListener("abort", onAbort);
        if (signal.aborted) onAbort();
      }),
    ]);
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort!);

    if (outcome !== "done") {
      killGroup();
      // Like Consul, wait for the killed script so the next run never overlaps it.
      let grace: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([finished, new Promise((resolve) => (grace = setTimeout(resolve, KILL_GRACE_MS)))]);
      clearTimeout(grace);
      void reader.cancel().catch(() => {});
      if (outcome === "stop") return { status: "critical", output: "" }; // nobody listens
      logger.warn(`Timed out running check: check=${def.id} timeout=${timeoutText}`);
      const captured = out.captured();
      const output = `Timed out (${timeoutText}) running check${captured === "" ? "" : `\n\n${captured}`}`;
      return { status: "critical", output, undamped: true };
    }
    const code = proc.exitCode;
    return { status: code === 0 ? "passing" : code === 1 ? "warning" : "critical", output: out.captured() };
  };
}

export async function drain(reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> }, into: TailBuffer): Promise<void> {
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || !value) return;
      into.write(value);
    }
  } catch {
    // cancelled after a kill
  }
}

function startFailure(id: string, message: string, logger: CheckHost["logger"]): ProbeResult {
  logger.warn(`Check failed to invoke: check=${id} error="${message}"`);
  return { status: "critical", output: message, undamped: true };
}

/** What Go's exec.Command/Start would refuse, in its words, since our shell hides it. */
export function lookPathError(name: string): string | undefined {
  if (!name.includes("/")) return Bun.which(name) ? undefined : `exec: ${JSON.stringify(name)}: executable file not found in $PATH`;
  try {
    accessSync(name, constants.X_OK);
    return undefined;
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : (err as Error).message;
    return `fork/exec ${name}: ${why}`;
  }
}
