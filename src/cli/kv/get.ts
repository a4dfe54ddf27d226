import type { KvPair } from "../../api/client.ts";
import { CliError } from "../../lib/errors.ts";
import { defineTscCommand } from "../command.ts";
import { bool, str } from "../flags.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";

// `tsc kv get [-recurse] [-keys] [-separator=/] [-detailed] [-base64] KEY`, with Consul's output.

export default defineTscCommand({
  meta: { name: "get", description: "Retrieve or list data in the KV store" },
  args: {
    ...httpFlags,
    recurse: { type: "boolean", description: "Print every key under the prefix as key:value" },
    keys: { type: "boolean", description: "List key names under the prefix (up to the separator)" },
    separator: { type: "string", description: "Separator for -keys; empty lists everything", default: "/" },
    detailed: { type: "boolean", description: "Print every field of the entry" },
    base64: { type: "boolean", description: "Print values base64-encoded" },
    key: { type: "positional", description: "Key or prefix", required: false },
  },
  async run(flags) {
    if (flags._.length > 1) throw new CliError(`Too many arguments (expected 1, got ${flags._.length})`);
    const key = (flags._[0] ?? "").replace(/^\/+/, "");
    const recurse = bool(flags.recurse);
    const keysOnly = bool(flags.keys);
    if (key === "" && !recurse && !keysOnly) throw new CliError("Error! Missing KEY argument");
    const client = clientFrom(flags);
    const b64 = bool(flags.base64);
    const detailed = bool(flags.detailed);
    if (keysOnly) {
      const sep = recurse ? "" : (str(flags.separator) ?? "/");
      const keys = await call("Error querying Consul agent: ", () => client.kvKeys(key, sep));
      for (const k of keys) out(k);
      return 0;
    }
    const { entries } = await call("Error querying Consul agent: ", () => client.kvGet(key, { recurse }));
    if (recurse) {
      const blocks = (entries ?? []).map((p) => (detailed ? detail(p, b64) : `${p.Key}:${valueOf(p, b64)}`));
      if (blocks.length > 0) out(blocks.join(detailed ? "\n\n" : "\n"));
      return 0;
    }
    const pair = entries?.[0];
    if (!pair) throw new CliError(`Error! No key exists at: ${key}`);
    out(detailed ? detail(pair, b64) : valueOf(pair, b64));
    return 0;
  },
});

function valueOf(p: KvPair, b64: boolean): string {
  if (p.Value === null) return "";
  return b64 ? p.Value : Buffer.from(p.Value, "base64").toString();
}

/** Consul's tabwriter layout: labels padded to 17 columns. */
function detail(p: KvPair, b64: boolean): string {
  const rows: Array<[string, string]> = [
    ["CreateIndex", String(p.CreateIndex)],
    ["Flags", p.Flags.toString()],
    ["Key", p.Key],
    ["LockIndex", String(p.LockIndex)],
    ["ModifyIndex", String(p.ModifyIndex)],
    ["Session", p.Session || "-"],
    ["Value", valueOf(p, b64)],
  ];
  return rows.map(([k, v]) => `${k.padEnd(17)}${v}`).join("\n");
}
