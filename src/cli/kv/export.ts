import { CliError } from "../../lib/errors.ts";
import { defineTscCommand } from "../command.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";

// `tsc kv export [PREFIX]`: Consul's export format, tab-indented, lower-case fields.

export default defineTscCommand({
  meta: { name: "export", description: "Export a tree of the KV store as JSON" },
  args: { ...httpFlags, prefix: { type: "positional", description: "Prefix to export (default: everything)", required: false } },
  async run(f) {
    if (f._.length > 1) throw new CliError(`Too many arguments (expected 1, got ${f._.length})`);
    const prefix = (f._[0] ?? "").replace(/^\/+/, "");
    const client = clientFrom(f);
    const { entries } = await call("Error querying Consul agent: ", () => client.kvGet(prefix, { recurse: true }));
    const rows = (entries ?? []).map((p) => `\t{\n\t\t"key": ${JSON.stringify(p.Key)},\n\t\t"flags": ${p.Flags.toString()},\n\t\t"value": ${JSON.stringify(p.Value ?? "")}\n\t}`);
    out(rows.length === 0 ? "[]" : `[\n${rows.join(",\n")}\n]`);
    return 0;
  },
});
