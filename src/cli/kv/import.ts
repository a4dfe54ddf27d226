import { CliError } from "../../lib/errors.ts";
import { parseJsonKeepingBigInts } from "../../lib/fields.ts";
import { defineTscCommand } from "../command.ts";
import { str } from "../flags.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";
import { readData } from "./data.ts";

// `tsc kv import [-prefix=P] DATA|@file|-`: loads what `kv export` wrote, stopping at the
// first failure (entries already written stay written, as in Consul).

interface ExportEntry {
  key: string;
  flags?: number | string;
  value?: string;
}

export default defineTscCommand({
  meta: { name: "import", description: "Import a tree exported with `kv export`" },
  args: {
    ...httpFlags,
    prefix: { type: "string", description: "Prepend this prefix to every key" },
    data: { type: "positional", description: "JSON, @file, or - for stdin" },
  },
  async run(f) {
    if (f._.length === 0) throw new CliError("Error! Missing DATA argument");
    if (f._.length > 1) throw new CliError(`Error! Too many arguments (expected 1, got ${f._.length})`);
    const raw = Buffer.from(await readData(f._[0])).toString();
    if (raw.trim() === "") throw new CliError("Error! Empty DATA argument");
    let entries: ExportEntry[];
    try {
      entries = parseJsonKeepingBigInts(raw, ["flags"]) as ExportEntry[];
      if (!Array.isArray(entries)) throw new Error("expected a JSON array");
    } catch (err) {
      throw new CliError(`Cannot unmarshal data: ${(err as Error).message}`);
    }
    const prefix = str(f.prefix);
    const client = clientFrom(f);
    for (const e of entries) {
      const key = prefix ? joinKey(prefix, e.key) : e.key;
      const b64 = e.value ?? "";
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new CliError(`Error base 64 decoding value for key ${e.key}: illegal base64 data`);
      const value = new Uint8Array(Buffer.from(b64, "base64"));
      const flags = String(e.flags ?? 0);
      if (!/^\d{1,20}$/.test(flags)) throw new CliError(`Cannot unmarshal data: flags of key ${e.key} is not an unsigned integer: ${flags}`);
      await call(`Error! Failed writing data for key ${key}: `, () => client.kvPut(key, value, { flags: BigInt(flags) }));
      out(`Imported: ${key}`);
    }
    return 0;
  },
});

function joinKey(prefix: string, key: string): string {
  const joined = `${prefix}/${key}`.replace(/\/{2,}/g, "/").replace(/\/$/, "");
  return key.endsWith("/") ? `${joined}/` : joined;
}
