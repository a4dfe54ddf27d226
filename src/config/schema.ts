// The JSON config-file format, key for key as Consul spells it (agent/config/config.go).
// Validation also normalizes (durations to ms, datacenter lower-cased, log level canonical),
// so the fragments that merge.ts and build.ts handle are already trusted values.

import { z } from "zod";
import { STD_BASE64 } from "../lib/base64.ts";
import { parseDurationMs } from "../lib/duration.ts";
import { assert } from "../lib/errors.ts";
import type { DefinitionSource } from "./definition-types.ts";
import { DefinitionError, parseCheckDefinition, parseServiceDefinition } from "./definitions.ts";
import type { AgentConfig } from "./types.ts";
import { nodeMetaCountProblem, nodeMetaPairProblem } from "./node-meta.ts";
import { notImplementedWarning, stripNotImplemented } from "./not-implemented.ts";
import { parseWatchDefinition, type WatchDefinition } from "../watch/definition.ts";
import { WatchParamError } from "../watch/params.ts";

const objectError = { error: "must be an object" };
const str = z.string({ error: "must be a string" });
const bool = z.boolean({ error: "must be a boolean" });
const strList = z.array(str, { error: "must be an array of strings" });

function intBetween(min: number, max: number, error: string) {
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}
const port = intBetween(-1, 65535, "must be an integer between -1 and 65535");
const countMin0 = intBetween(0, Number.MAX_SAFE_INTEGER, "must be an integer >= 0");
const countMin1 = intBetween(1, Number.MAX_SAFE_INTEGER, "must be an integer >= 1");

/** Reports `message` at the value being transformed; the result is discarded by zod. */
function fail(ctx: z.core.$RefinementCtx, message: string): never {
  ctx.addIssue({ code: "custom", message });
  return z.NEVER;
}

// Consul decodes durations into strings and parses them with Go's time.ParseDuration; it
// rejects JSON numbers there, and so do we rather than guess a unit.
const duration = z
  .string({ error: 'must be a duration string such as "10s"' })
  .transform((text, ctx) => {
    const ms = parseDurationMs(text);
    if (ms === undefined) return fail(ctx, `invalid duration ${JSON.stringify(text)}`);
    if (ms < 0) return fail(ctx, "cannot be negative");
    return ms;
  });

// Consul lower-cases datacenter names before checking them (validateBasicName).
const datacenterName = str.transform((text, ctx) => {
  const name = text.toLowerCase();
  if (name === "") return fail(ctx, "cannot be empty");
  if (!/^[a-z0-9_-]+$/.test(name)) {
    return fail(ctx, `can only contain lowercase alphanumeric, - or _ characters, received ${JSON.stringify(text)}`);
  }
  return name;
});

const uuidFormat = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const nodeId = str.transform((text, ctx) =>
  uuidFormat.test(text) ? text.toLowerCase() : fail(ctx, `must be a UUID, received ${JSON.stringify(text)}`),
);

type LogLevel = AgentConfig["logLevel"];
// Consul's accepted spellings, any case; a Map so that "constructor" is not a level.
const logLevels = new Map<string, LogLevel>([
  ["trace", "trace"], ["debug", "debug"], ["info", "info"], ["warn", "warn"],
  ["warning", "warn"], ["err", "error"], ["error", "error"],
]);
const logLevel = str.transform(
  (text, ctx) => logLevels.get(text.trim().toLowerCase()) ?? fail(ctx, "must be one of trace, debug, info, warn, error"),
);

// Strict padded base64, as Go's base64.StdEncoding; "" means no encryption, as in Consul.
const gossipKey = str.refine(
  (key) => key === "" || (STD_BASE64.test(key) && [16, 24, 32].includes(Buffer.from(key, "base64").length)),
  { error: "must be a base64-encoded key of 16, 24 or 32 bytes" },
);

const nodeMeta = z.record(z.string(), str, objectError).superRefine((meta, ctx) => {
  const tooMany = nodeMetaCountProblem(meta);
  if (tooMany) ctx.addIssue({ code: "custom", message: tooMany });
  for (const [key, value] of Object.entries(meta)) {
    const problem = nodeMetaPairProblem(key, value);
    if (problem) ctx.addIssue({ code: "custom", message: problem, path: key === "" ? [] : [key] });
  }
});

// Services, checks and watches are parsed (and validated with Consul's texts) by their own
// parsers, so a bad one is reported with its file and key path.
const watch = z.record(z.string(), z.unknown(), objectError).transform((raw, ctx): WatchDefinition => {
  try {
    return parseWatchDefinition(raw);
  } catch (err) {
    if (!(err instanceof WatchParamError)) throw err;
    return fail(ctx, err.message);
  }
});
const parsedWith = <T>(parse: (raw: unknown, source: DefinitionSource) => T) =>
  z.unknown().transform((raw, ctx): T => {
    try {
      return parse(raw, "config");
    } catch (err) {
      if (!(err instanceof DefinitionError)) throw err;
      // The error's path is relative to the definition, so zod prefixes the file's key path.
      ctx.addIssue({ code: "custom", message: err.reason, path: err.path, params: { unknownKey: err.unknownKey } });
      return z.NEVER;
    }
  });
const service = parsedWith(parseServiceDefinition);
const check = parsedWith(parseCheckDefinition);
const listOf = <T extends z.ZodType>(item: T) => z.array(item, { error: "must be an array of objects" });

const dnsConfig = z
  .strictObject(
    {
      allow_stale: bool,
      max_stale: duration,
      node_ttl: duration,
      service_ttl: z.record(z.string(), duration, objectError),
      enable_truncate: bool,
      only_passing: bool,
      recursor_strategy: z.enum(["sequential", "random"], { error: 'must be "sequential" or "random"' }),
      recursor_timeout: duration,
      disable_compression: bool,
      udp_answer_limit: countMin0,
      a_record_limit: countMin0,
      enable_additional_node_meta_txt: bool,
    },
    objectError,
  )
  .partial();

export const configFileSchema = z
  .strictObject(
    {
      datacenter: datacenterName,
      primary_datacenter: datacenterName,
      node_name: str,
      node_id: nodeId,
      node_meta: nodeMeta,
      data_dir: str,
      server: bool,
      bootstrap: bool,
      bootstrap_expect: countMin0,
      bind_addr: str,
      advertise_addr: str,
      advertise_addr_wan: str,
      client_addr: str,
      addresses: z.strictObject({ dns: str, http: str, https: str, grpc: str }, objectError).partial(),
      ports: z
        .strictObject(
          { dns: port, http: port, https: port, grpc: port, serf_lan: port, serf_wan: port, server: port },
          objectError,
        )
        .partial(),
      domain: str,
      alt_domain: str,
      recursors: z.union([str.transform((r) => [r]), strList], { error: "must be a string or an array of strings" }),
      dns_config: dnsConfig,
      start_join: strList,
      retry_join: strList,
      retry_interval: duration,
      retry_max: countMin0,
      start_join_wan: strList,
      retry_join_wan: strList,
      rejoin_after_leave: bool,
      encrypt: gossipKey,
      ui: bool,
      ui_config: z.strictObject({ enabled: bool }, objectError).partial(),
      log_level: logLevel,
      log_json: bool,
      pid_file: str,
      enable_script_checks: bool,
      enable_local_script_checks: bool,
      leave_on_terminate: bool,
      skip_leave_on_interrupt: bool,
      reconnect_timeout: duration,
      session_ttl_min: duration,
      check_output_max_size: countMin1,
      default_query_time: duration,
      max_query_time: duration,
      raft_snapshot_threshold: countMin0,
      raft_snapshot_interval: duration,
      raft_trailing_logs: countMin0,
      limits: z
        .strictObject(
          { kv_max_value_size: countMin1, txn_max_req_len: countMin1, http_max_conns_per_client: countMin0, rpc_client_timeout: duration },
          objectError,
        )
        .partial(),
      performance: z
        .strictObject({ raft_multiplier: intBetween(1, 10, "must be an integer between 1 and 10"), rpc_hold_timeout: duration }, objectError)
        .partial(),
      // We never phone home, so these are honoured by construction.
      disable_update_check: bool,
      disable_anonymous_signature: bool,
      service,
      services: listOf(service),
      check,
      checks: listOf(check),
      watches: listOf(watch),
    },
    { error: "must be a JSON object" },
  )
  .partial();

/** One validated config source, snake_case as in the file, with normalized values. */
export type ConfigFragment = z.output<typeof configFileSchema>;

/** The first thing wrong with a fragment: where (key path) and why. */
export interface FragmentProblem {
  path: (string | number)[];
  reason: string;
  unknownKey: boolean;
}

export type FragmentResult =
  | { ok: true; fragment: ConfigFragment; warnings: string[] }
  | { ok: false; problem: FragmentProblem };

/** Validates one parsed JSON source (a file's contents or the flags' fragment). */
export function parseFragment(raw: unknown): FragmentResult {
  const { rest, found } = stripNotImplemented(raw);
  const parsed = configFileSchema.safeParse(rest);
  if (parsed.success) return { ok: true, fragment: parsed.data, warnings: found.map(notImplementedWarning) };
  // One line per error is the contract, so only the first issue is reported.
  const issue = parsed.error.issues[0];
  assert(issue, "a failed parse has at least one issue");
  const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
  if (issue.code === "unrecognized_keys") {
    return { ok: false, problem: { path: [...path, issue.keys[0] ?? ""], reason: "invalid config key", unknownKey: true } };
  }
  // An unknown field inside a service or check definition (see parsedWith).
  if (issue.code === "custom" && issue.params?.unknownKey === true) {
    return { ok: false, problem: { path, reason: "invalid config key", unknownKey: true } };
  }
  return { ok: false, problem: { path, reason: issue.message, unknownKey: false } };
}

/** "ports.http", "services[0].name": the key path as a user would write it. */
export function keyPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** `ports.http: must be …`, or Consul's `invalid config key foo` for an unknown key. */
export function describeProblem(problem: FragmentProblem): string {
  const key = keyPath(problem.path);
  if (problem.unknownKey) return `invalid config key ${key}`;
  return key === "" ? problem.reason : `${key}: ${problem.reason}`;
}
