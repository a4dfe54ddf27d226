import { ApiClient, defaultAddress } from "../api/client.ts";
import { formatDurationMs } from "../lib/duration.ts";
import { CliError } from "../lib/errors.ts";
import { parseGoBool } from "../lib/go-bool.ts";
import { goJson } from "../lib/json.ts";
import { createLogger, logFields } from "../lib/logger.ts";
import { handlerArgv, spawnHandler } from "../watch/child.ts";
import { parseWatchParams, type Params, WatchParamError, type WatchPlanSpec } from "../watch/params.ts";
import { runPlan, type WatchHandlerFn } from "../watch/plan.ts";
import { watcherFor } from "../watch/watchers.ts";
import { defineTscCommand } from "./command.ts";
import { bool, type ParsedFlags, str } from "./flags.ts";
import { call, clientFrom, httpFlags } from "./http-flags.ts";

// `tsc watch -type TYPE [params] [child...]`, as Consul's command/watch: without a child the
// first result is printed as indented JSON and the command exits; with one, the child runs
// with the result on stdin on the first result and on every change, until a signal (exit 0)
// or a failing child (exit 1). Flags end at the child's first word, as with Go's flag package.

export default defineTscCommand({
  meta: { name: "watch", description: "Watch for changes in Consul" },
  stopAtFirstArg: true,
  args: {
    ...httpFlags,
    type: { type: "string", description: "Specifies the watch type. One of key, keyprefix, services, nodes, service, checks, or event.", valueHint: "type" },
    key: { type: "string", description: "Specifies the key to watch. Only for 'key' type.", valueHint: "key" },
    prefix: { type: "string", description: "Specifies the key prefix to watch. Only for 'keyprefix' type.", valueHint: "prefix" },
    service: { type: "string", description: "Specifies the service to watch. Required for 'service' type, optional for 'checks' type.", valueHint: "service" },
    tag: { type: "string", description: "Specifies the service tag to filter on. Optional for 'service' type.", valueHint: "tag" },
    passingonly: {
      type: "string",
      description: "Specifies if only hosts passing all checks are displayed. Optional for 'service' type, must be one of `[true|false]`. Defaults false.",
      valueHint: "bool",
    },
    state: { type: "string", description: "Specifies the states to watch. Optional for 'checks' type.", valueHint: "state" },
    name: { type: "string", description: "Specifies an event name to watch. Only for 'event' type.", valueHint: "name" },
    // No citty default: it would advertise a --no-shell we do not take; unset means true.
    shell: { type: "boolean", description: "Use a shell to run the command (can set a custom shell via the SHELL environment variable). Default true." },
    child: { type: "positional", description: "A command to run with each result on stdin", required: false },
  },
  async run(flags) {
    const plan = planFrom(flags);
    const client = clientFrom(flags);
    await call("Error querying Consul agent: ", () => client.agentSelf());

    const controller = new AbortController();
    let exitCode = 0;
    const fail = (message: string) => {
      process.stderr.write(`${message}\n`);
      exitCode = 1;
      controller.abort();
    };
    const running: { child?: Bun.Subprocess } = {};
    // As Consul: a signal ends the watch at once with 0, after reaching the running child.
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      process.on(sig, () => {
        running.child?.kill(sig);
        process.exit(0);
      });
    }
    const child = flags._;
    const handler: WatchHandlerFn =
      child.length === 0
        ? (_index, result) => {
            process.stdout.write(goJson(result, true));
            controller.abort();
          }
        : childHandler(flags.shell !== false ? handlerArgv([], child.join(" ")) : child, running, fail);

    const log = createLogger({ level: "info", json: false, write: (line) => void process.stderr.write(line) }).withTag("watch");
    const planClient = new ApiClient({ address: defaultAddress(str(flags["http-addr"])), token: plan.token || undefined, datacenter: plan.datacenter || undefined });
    await runPlan({
      watcher: watcherFor(plan.query, planClient),
      handler,
      signal: controller.signal,
      onError: (err, retryMs) => log.error(`Watch errored: ${logFields({ type: plan.query.type, error: err.message, retry: formatDurationMs(retryMs) })}`),
    });
    return exitCode;
  },
});

/** The watch parameters from the flags, in the order Consul's command sets them. */
function planFrom(flags: ParsedFlags): WatchPlanSpec {
  const type = str(flags.type) ?? "";
  if (type === "") throw new CliError("Watch type must be specified", 1, true);
  const params: Params = new Map<string, unknown>([["type", type]]);
  const set = (name: string, value: string | undefined) => {
    if (value) params.set(name, value);
  };
  set("datacenter", str(flags.datacenter));
  set("token", str(flags.token) ?? process.env.CONSUL_HTTP_TOKEN);
  for (const name of ["key", "prefix", "service", "tag"]) set(name, str(flags[name]));
  if (bool(flags.stale)) params.set("stale", true);
  set("state", str(flags.state));
  set("name", str(flags.name));
  const passing = str(flags.passingonly) ?? "";
  if (passing !== "") {
    const b = parseGoBool(passing);
    if (b === undefined) throw new CliError(`Failed to parse passingonly flag: strconv.ParseBool: parsing ${JSON.stringify(passing)}: invalid syntax`);
    params.set("passingonly", b);
  }
  try {
    return parseWatchParams(params);
  } catch (err) {
    if (err instanceof WatchParamError) throw new CliError(err.message);
    throw err;
  }
}

/** Runs the child on each result with the terminal's stdout and stderr; a child that fails ends the watch. */
function childHandler(argv: string[], running: { child?: Bun.Subprocess }, fail: (message: string) => void): WatchHandlerFn {
  return async (index, result) => {
    let child: ReturnType<typeof spawnHandler<"inherit">>;
    try {
      child = spawnHandler(argv, index, result, "inherit");
    } catch (err) {
      fail(`Error starting handler: ${(err as Error).message}`);
      return;
    }
    running.child = child.proc;
    const error = await child.exited;
    running.child = undefined;
    if (error !== undefined) fail(`Error executing handler: ${error}`);
  };
}
