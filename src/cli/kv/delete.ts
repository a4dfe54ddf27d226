import { CliError } from "../../lib/errors.ts";
import { defineTscCommand } from "../command.ts";
import { bool, str } from "../flags.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";

// `tsc kv delete [-recurse] [-cas -modify-index=N] KEY`.

export default defineTscCommand({
  meta: { name: "delete", description: "Remove data from the KV store" },
  args: {
    ...httpFlags,
    recurse: { type: "boolean", description: "Delete every key with this prefix" },
    cas: { type: "boolean", description: "Delete only if the key's ModifyIndex matches", optionalValue: /^\d+$/ },
    "modify-index": { type: "string", description: "ModifyIndex for -cas", valueHint: "N" },
    key: { type: "positional", description: "Key or prefix", required: false },
  },
  async run(f) {
    if (f._.length > 1) throw new CliError(`Too many arguments (expected 1, got ${f._.length})`);
    const key = (f._[0] ?? "").replace(/^\/+/, "");
    const recurse = bool(f.recurse);
    if (key === "" && !recurse) throw new CliError("Error! Missing KEY argument");
    const casOn = f.cas !== undefined && f.cas !== false;
    const idxRaw = typeof f.cas === "string" ? f.cas : str(f["modify-index"]);
    if (idxRaw !== undefined && !/^\d+$/.test(idxRaw)) throw new CliError(`invalid value "${idxRaw}" for flag -modify-index: parse error`, 1, true);
    const idx = idxRaw === undefined ? 0 : Number(idxRaw);
    if (casOn && idx === 0) throw new CliError("Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.");
    if (!casOn && idx !== 0) throw new CliError("Cannot specify -modify-index without -cas!");
    if (casOn && recurse) throw new CliError("Cannot specify both -cas and -recurse!");
    const client = clientFrom(f);
    if (recurse) {
      await call(`Error! Did not delete prefix ${key}: `, () => client.kvDelete(key, { recurse: true }));
      out(`Success! Deleted keys with prefix: ${key}`);
      return 0;
    }
    if (casOn) {
      const ok = await call(`Error! Did not delete key ${key}: `, () => client.kvDelete(key, { cas: idx }));
      if (!ok) throw new CliError(`Error! Did not delete key ${key}: CAS failed`);
      out(`Success! Deleted key: ${key}`);
      return 0;
    }
    await call(`Error deleting key ${key}: `, () => client.kvDelete(key));
    out(`Success! Deleted key: ${key}`);
    return 0;
  },
});
