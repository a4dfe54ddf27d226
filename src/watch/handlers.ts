import { dialError, goMethod } from "../api/client.ts";
import { drain } from "../agent/checks/script.ts";
import { TailBuffer } from "../agent/checks/output.ts";
import { goJson } from "../lib/json.ts";
import { logFields } from "../lib/logger.ts";
import { handlerArgv, spawnHandler } from "./child.ts";
import type { WatchHandler } from "./definition.ts";
import type { HttpHandlerConfig } from "./http-config.ts";
import type { WatchHandlerFn } from "./plan.ts";

// The agent's watch handlers (agent/watch_handler.go). A script's stdout and stderr are
// kept together, their last 4KB logged at debug; a failure is logged, never fatal: the watch
// goes on. An HTTP handler gets the JSON as its body with X-Consul-Index, within its timeout;
// a non-2xx answer is logged as an error with the answer's last 4KB.

export interface WatchLogger {
  error(msg: string): void;
  debug(msg: string): void;
  trace(msg: string): void;
}

/** Consul's WatchBufSize. */
const OUTPUT_MAX_BYTES = 4 * 1024;

export function makeWatchHandler(h: WatchHandler, logger: WatchLogger): WatchHandlerFn {
  if (h.kind === "http") return httpWatchHandler(h.config, logger);
  // Consul's agent runs an empty `args` list as an empty script.
  const argv = h.kind === "args" ? handlerArgv(h.args, "") : handlerArgv([], h.script);
  // As hclog prints the handler: a script as it is, args as Go prints a []string.
  const shown = h.kind === "args" ? `[${h.args.join(" ")}]` : h.script;
  return async (index, result) => {
    const out = new TailBuffer(OUTPUT_MAX_BYTES);
    let error: string | undefined;
    try {
      const { proc, exited } = spawnHandler(argv, index, result, "pipe");
      const [exit] = await Promise.all([exited, drain(proc.stdout.getReader(), out), drain(proc.stderr.getReader(), out)]);
      error = exit;
    } catch (err) {
      error = (err as Error).message;
    }
    if (error !== undefined) logger.error(`Failed to run watch handler: ${logFields({ watch_handler: shown, error })}`);
    logger.debug(`watch handler output: ${logFields({ watch_handler: shown, output: out.captured() })}`);
  };
}

function httpWatchHandler(config: HttpHandlerConfig, logger: WatchLogger): WatchHandlerFn {
  const watch = config.path;
  // fetch refuses a body on these; Go would send it, and such handlers rarely read one.
  const bodyless = config.method === "GET" || config.method === "HEAD";
  return async (index, result) => {
    if (!URL.canParse(config.path)) {
      logger.error(`Failed to setup http watch: ${logFields({ error: `parse ${JSON.stringify(config.path)}: invalid URI for request` })}`);
      return;
    }
    const headers = new Headers({ "Content-Type": "application/json", "X-Consul-Index": index.toString() });
    for (const [name, values] of config.header) for (const v of values) headers.append(name, v);
    const out = new TailBuffer(OUTPUT_MAX_BYTES);
    let status: string;
    try {
      const res = await fetch(config.path, {
        method: config.method,
        headers,
        body: bodyless ? undefined : `${goJson(result)}\n`,
        signal: AbortSignal.timeout(Math.max(0, config.timeoutMs)),
        tls: { rejectUnauthorized: !config.tlsSkipVerify },
      } as RequestInit);
      status = `${res.status} ${res.statusText}`;
      if (res.body) await drain(res.body.getReader(), out);
      if (res.status < 200 || res.status > 299) {
        logger.error(`http watch handler failed with output: ${logFields({ watch, status, output: out.captured() })}`);
      } else {
        logger.trace(`http watch handler output: ${logFields({ watch, output: out.captured() })}`);
      }
    } catch (err) {
      const reason = `${goMethod(config.method)} "${config.path}": ${dialError(config.path, err as Error)}`;
      logger.error(`Failed to invoke http watch handler: ${logFields({ watch, error: reason })}`);
    }
  };
}
