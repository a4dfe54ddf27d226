import { type ConsolaInstance, createConsola, type LogObject } from "consola";

// Logs through consola, formatted the way Consul's (hclog) are, because operators grep them:
//   2026-11-25T06:21:00.123Z [INFO]  agent: Synced node info
// and with -log-json one JSON object per line with hclog's @-prefixed keys.

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

const consolaLevels: Record<LogLevel, number> = { error: 0, warn: 1, info: 3, debug: 4, trace: 5 };
const labels: Record<string, string> = {
  fatal: "ERROR",
  error: "ERROR",
  warn: "WARN",
  log: "INFO",
  info: "INFO",
  success: "INFO",
  ready: "INFO",
  start: "INFO",
  box: "INFO",
  debug: "DEBUG",
  trace: "TRACE",
  verbose: "TRACE",
};

export interface LoggerOptions {
  level: LogLevel;
  json: boolean;
  write?: (line: string) => void;
}

/** One threshold shared by a logger and every child (withTag), so a reload changes them all. */
const thresholds = new WeakMap<object, { level: number }>();

export function createLogger(opts: LoggerOptions): ConsolaInstance {
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const threshold = { level: consolaLevels[opts.level] };
  const logger = createConsola({
    // consola copies its level into each child, so it passes everything and the reporter,
    // which every child shares, filters against the shared threshold.
    level: consolaLevels.trace,
    reporters: [
      {
        log(obj: LogObject) {
          if (obj.level > threshold.level) return;
          const label = labels[obj.type] ?? "INFO";
          const message = obj.args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
          const module = obj.tag || "agent";
          if (opts.json) {
            write(`${JSON.stringify({ "@level": label.toLowerCase(), "@message": message, "@module": module, "@timestamp": obj.date.toISOString() })}\n`);
          } else {
            write(`${obj.date.toISOString()} ${`[${label}]`.padEnd(7)} ${module}: ${message}\n`);
          }
        },
      },
    ],
  });
  thresholds.set(logger.options.reporters[0]!, threshold);
  return logger;
}

/** Changes the level of `logger` and of every logger derived from the same createLogger. */
export function setLevel(logger: ConsolaInstance, level: LogLevel): void {
  const threshold = thresholds.get(logger.options.reporters[0]!);
  if (threshold) threshold.level = consolaLevels[level];
  else logger.level = consolaLevels[level];
}

/** hclog's `key=value` pairs: a value with spaces, quotes, `=` or control characters, or none at all, is quoted. */
export function logFields(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${v === "" || /[\s"=\\]|[^\x20-\x7e]/.test(v) ? JSON.stringify(v) : v}`)
    .join(" ");
}
