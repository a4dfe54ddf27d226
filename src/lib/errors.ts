/** A user-facing API error: becomes `status` with `message` as a plain-text body, as Consul does. */
export class ConsulError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ConsulError";
  }
}

/** A user mistake on the command line: one line on stderr, then exit `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = 1,
    readonly showUsage = false,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** A broken config file or flag: stops start-up with file, key and reason in one line. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Broken invariants crash loudly; they are bugs, never user errors. */
export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}
