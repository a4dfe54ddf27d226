import { CliError } from "../../lib/errors.ts";
import { defineTscCommand } from "../command.ts";
import { bool, str } from "../flags.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";
import { readData } from "./data.ts";

// `tsc kv put [-cas -modify-index=N] [-flags=N] [-base64] KEY [DATA|-|@file]`.
// `--cas N` is accepted as shorthand for `-cas -modify-index=N` (our users type it so).

export default defineTscCommand({
  meta: { name: "put", description: "Set or update data in the KV store" },
  args: {
    ...httpFlags,
    cas: { type: "boolean", description: "Check-and-set: write only if the key's ModifyIndex matches", optionalValue: /^\d+$/ },
    "modify-index": { type: "string", description: "ModifyIndex for -cas (0: only if the key does not exist)", valueHint: "N" },
    flags: { type: "string", description: "Unsigned 64-bit flags stored with the value", valueHint: "N" },
    base64: { type: "boolean", description: "DATA is base64-encoded" },
    acquire: { type: "boolean", description: "Acquire the lock on the key with -session" },
    release: { type: "boolean", description: "Release the lock on the key held by -session" },
    session: { type: "string", description: "Session for -acquire/-release" },
    key: { type: "positional", description: "Key to write" },
    data: { type: "positional", description: "Value, @file, or - for stdin", required: false },
  },
  async run(f) {
    const [key, dataArg, ...extra] = f._;
    if (!key) throw new CliError("Error! Missing KEY argument");
    if (extra.length > 0) throw new CliError(`Error! Too many arguments (expected 1 or 2, got ${f._.length})`);
    let value = await readData(dataArg);
    if (bool(f.base64)) value = new Uint8Array(Buffer.from(Buffer.from(value).toString(), "base64"));
    const flagsRaw = str(f.flags);
    if (flagsRaw !== undefined && !/^\d+$/.test(flagsRaw)) throw new CliError(`invalid value "${flagsRaw}" for flag -flags: parse error`, 1, true);
    const flags = flagsRaw === undefined ? 0n : BigInt(flagsRaw);
    const client = clientFrom(f);
    const session = str(f.session);
    if ((bool(f.acquire) || bool(f.release)) && !session) throw new CliError("Error! Missing -session (required with -acquire and -release)");
    if (f.cas !== undefined && f.cas !== false) {
      const idxRaw = typeof f.cas === "string" ? f.cas : (str(f["modify-index"]) ?? "0");
      if (!/^\d+$/.test(idxRaw)) throw new CliError(`invalid value "${idxRaw}" for flag -modify-index: parse error`, 1, true);
      const cas = Number(idxRaw);
      const ok = await call(`Error! Did not write to ${key}: `, () => client.kvPut(key, value, { flags, cas }));
      if (!ok) {
        throw new CliError(
          cas === 0 ? `Error! Did not write to ${key}: CAS performed with index=0 and key already exists.` : `Error! Did not write to ${key}: CAS failed`,
        );
      }
      out(`Success! Data written to: ${key}`);
      return 0;
    }
    if (bool(f.acquire)) {
      const ok = await call("Error! Failed writing data: ", () => client.kvPut(key, value, { flags, acquire: session }));
      if (!ok) throw new CliError("Error! Did not acquire lock");
      out(`Success! Lock acquired on: ${key}`);
      return 0;
    }
    if (bool(f.release)) {
      const ok = await call("Error! Failed writing data: ", () => client.kvPut(key, value, { flags, release: session }));
      if (!ok) throw new CliError("Error! Did not release lock");
      out(`Success! Lock released on: ${key}`);
      return 0;
    }
    await call("Error! Failed writing data: ", () => client.kvPut(key, value, { flags }));
    out(`Success! Data written to: ${key}`);
    return 0;
  },
});
