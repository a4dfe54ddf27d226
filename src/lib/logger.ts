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

export function createLogger(opts: LoggerOptions): ConsolaInstance {
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  return createConsola({
    level: consolaLevels[opts.level],
    reporters: [
      {
        log(obj: LogObject) {
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
}

export function setLevel(logger: ConsolaInstance, level: LogLevel): void {
  logger.level = consolaLevels[level];
}
