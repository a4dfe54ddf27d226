import type { KeyringResponse } from "../agent/keyring.ts";
import { CliError } from "../lib/errors.ts";
import { defineTscCommand } from "./command.ts";
import { intFlag } from "./flag-values.ts";
import { bool, str } from "./flags.ts";
import { call, clientFrom, clientHttpFlags, out } from "./http-flags.ts";

// `tsc keyring -list|-list-primary|-install KEY|-use KEY|-remove KEY`: gossip key rotation across
// the whole cluster without restarts, as Consul's command/keyring. Exits 1 if any member
// failed or did not answer.

function poolName(r: KeyringResponse): string {
  return `${r.WAN ? "WAN" : `${r.Datacenter} (LAN)`}${r.Segment ? ` [${r.Segment}]` : ""}:`;
}

export function formatKeyringResponse(r: KeyringResponse, keys: Record<string, number>): string {
  const lines = [poolName(r)];
  for (const [from, msg] of Object.entries(r.Messages ?? {})) lines.push(`  ===> ${from}: ${msg}`);
  for (const [key, n] of Object.entries(keys ?? {})) lines.push(`  ${key} [${n}/${r.NumNodes}]`);
  return `\n${lines.join("\n")}`;
}

export default defineTscCommand({
  meta: { name: "keyring", description: "Manages gossip layer encryption keys" },
  args: {
    ...clientHttpFlags,
    install: { type: "string", description: "Install a new encryption key on every member", valueHint: "key" },
    use: { type: "string", description: "Make an installed key the primary one, used to encrypt", valueHint: "key" },
    remove: { type: "string", description: "Remove a key that is not the primary one from every member", valueHint: "key" },
    list: { type: "boolean", description: "List the keys installed in the cluster, with how many members have each" },
    "list-primary": { type: "boolean", description: "List the primary keys in use in the cluster" },
    "relay-factor": { type: "string", description: "Members that relay each response (0-5); tsc members answer directly", valueHint: "n" },
    "local-only": { type: "boolean", description: "Only the local datacenter's pool, no WAN (list only)" },
  },
  async run(flags) {
    const list = bool(flags.list);
    const listPrimary = bool(flags["list-primary"]);
    const install = str(flags.install) ?? "";
    const use = str(flags.use) ?? "";
    const remove = str(flags.remove) ?? "";
    const actions = [list, listPrimary, install !== "", use !== "", remove !== ""].filter(Boolean).length;
    if (actions === 0) throw new CliError("Exactly one of -list, -list-primary, -install, -use or -remove is required", 1, true);
    if (actions > 1) throw new CliError("Only a single action is allowed");
    const relayText = str(flags["relay-factor"]);
    const relay = relayText === undefined ? 0 : intFlag("relay-factor", relayText);
    if (relay < 0 || relay > 5) throw new CliError("Error parsing relay factor: Relay factor must be in range: [0, 5]");
    const localOnly = bool(flags["local-only"]);
    if (localOnly && !list) throw new CliError("Error validating local-only: local-only can only be set for list requests");
    const client = clientFrom(flags);
    const query = { "relay-factor": relay > 0 ? String(relay) : undefined, "local-only": localOnly ? "true" : undefined };
    if (list || listPrimary) {
      out(`==> Gathering installed ${listPrimary ? "primary " : ""}encryption keys...`);
      const text = await call("error: ", () => client.send("GET", "/v1/operator/keyring", query));
      for (const r of JSON.parse(text) as KeyringResponse[]) out(formatKeyringResponse(r, listPrimary ? r.PrimaryKeys : r.Keys));
      return 0;
    }
    const [method, key, what] =
      install !== ""
        ? (["POST", install, "Installing new gossip encryption key..."] as const)
        : use !== ""
          ? (["PUT", use, "Changing primary gossip encryption key..."] as const)
          : (["DELETE", remove, "Removing gossip encryption key..."] as const);
    out(`==> ${what}`);
    await call("error: ", () => client.send(method, "/v1/operator/keyring", query, { Key: key }));
    return 0;
  },
});
