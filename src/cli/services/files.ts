import { readFileSync } from "node:fs";
import { DefinitionError, parseServiceDefinition } from "../../config/definitions.ts";
import { isObject } from "../../lib/fields.ts";
import { CliError } from "../../lib/errors.ts";

// Service definition files, shaped like config files (`service` or `services`), read and
// checked here so a mistake is reported before anything is sent. Each comes back raw (the
// agent parses the same way) beside its parsed id and name for the messages.

export interface ServiceFileEntry {
  raw: Record<string, unknown>;
  id: string;
  name: string;
}

export function readServiceFiles(files: string[]): ServiceFileEntry[] {
  const out: ServiceFileEntry[] = [];
  for (const file of files) {
    let body: unknown;
    try {
      body = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      throw new CliError(`Error: ${file}: ${(err as Error).message}`);
    }
    if (!isObject(body)) throw new CliError(`Error: ${file}: must be a JSON object`);
    const raws: unknown[] = [];
    if (body.service !== undefined) raws.push(body.service);
    if (Array.isArray(body.services)) raws.push(...body.services);
    if (raws.length === 0) throw new CliError(`Error: ${file}: no "service" or "services" in the file`);
    for (const raw of raws) {
      try {
        const def = parseServiceDefinition(raw);
        out.push({ raw: raw as Record<string, unknown>, id: def.id, name: def.name });
      } catch (err) {
        if (err instanceof DefinitionError) throw new CliError(`Error: ${file}: ${err.message}`);
        throw err;
      }
    }
  }
  return out;
}
