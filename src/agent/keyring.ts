import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { GossipPool, KeyringOp, KeyringResult } from "../gossip/pool.ts";
import { decodeStdBase64, STD_BASE64 } from "../lib/base64.ts";
import { ConsulError } from "../lib/errors.ts";

// Gossip keyrings on disk and the keyring operation behind `tsc keyring` and
// /v1/operator/keyring. Like Consul, each pool keeps its keys in the data dir (serf/local.keyring
// for the LAN, serf/remote.keyring for the WAN), so a key rotated in at run time survives a
// restart; `encrypt` only seeds a keyring that does not exist yet.

export const LAN_KEYRING = "serf/local.keyring";
export const WAN_KEYRING = "serf/remote.keyring";
/** The gossip pools' member snapshots live beside their keyrings (gossip/snapshot.ts). */
export const LAN_SNAPSHOT = "serf/local.members.json";
export const WAN_SNAPSHOT = "serf/remote.members.json";

/**
 * The keys a pool starts with: the keyring file if there is one (with a warning when `encrypt`
 * is also given and not in it), else `encrypt`, written to the file so later changes persist.
 */
export function loadKeyring(file: string | undefined, encrypt: string | undefined, warn: (m: string) => void, pool: "LAN" | "WAN"): Uint8Array[] {
  if (file && existsSync(file)) {
    const keys = readKeyringFile(file);
    if (encrypt && !keys.some((k) => Buffer.from(k).toString("base64") === encrypt)) {
      warn(`${pool} keyring exists but -encrypt given, using keyring`);
    }
    return keys;
  }
  const keys = encrypt ? [decodeStdBase64(encrypt)] : [];
  if (file && keys.length > 0) saveKeyring(file, keys);
  return keys;
}

function readKeyringFile(file: string): Uint8Array[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`Failed to read keyring file ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((k) => typeof k === "string" && STD_BASE64.test(k))) {
    throw new Error(`Failed to read keyring file ${file}: want a non-empty JSON array of base64 keys`);
  }
  return parsed.map((k: string) => decodeStdBase64(k));
}

/** Primary first, as serf writes it; atomically, so a crash leaves the old file or the new. */
export function saveKeyring(file: string, keys: Uint8Array[]): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(keys.map((k) => Buffer.from(k).toString("base64")), null, "  ")}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** structs.KeyringResponse as /v1/operator/keyring shows it. */
export interface KeyringResponse {
  WAN: boolean;
  Datacenter: string;
  Segment: string;
  Messages: Record<string, string>;
  Keys: Record<string, number>;
  PrimaryKeys: Record<string, number>;
  NumNodes: number;
  Error: string;
}

/** The server RPC a client agent calls for keyring operations (Consul's Internal endpoint). */
export interface InternalApi {
  keyringOperation(op: KeyringOp, key: string, localOnly: boolean): Promise<KeyringResponse[]>;
}

/**
 * Consul's Internal.KeyringOperation on a server: the WAN pool first (unless local-only), then
 * the LAN. A key that is not base64 fails before any query, as serf's KeyManager fails.
 */
export async function keyringOperation(
  pools: { lan: GossipPool | undefined; wan: GossipPool | undefined },
  datacenter: string,
  op: KeyringOp,
  key: string,
  localOnly: boolean,
): Promise<KeyringResponse[]> {
  if (localOnly && op !== "list") throw new ConsulError(500, "argument error: LocalOnly can only be used for List operations");
  const out: KeyringResponse[] = [];
  const run = async (pool: GossipPool, wan: boolean): Promise<void> => {
    let r: KeyringResult;
    try {
      r = await pool.keyOperation(op, op === "list" ? undefined : decodeStdBase64(key));
    } catch (err) {
      r = { numNodes: 0, numResp: 0, numErr: 0, messages: {}, keys: {}, primaryKeys: {}, error: (err as Error).message };
    }
    out.push({ WAN: wan, Datacenter: datacenter, Segment: "", Messages: r.messages, Keys: r.keys, PrimaryKeys: r.primaryKeys, NumNodes: r.numNodes, Error: r.error });
  };
  if (pools.wan && !localOnly) await run(pools.wan, true);
  if (pools.lan) await run(pools.lan, false);
  return out;
}

/** Consul's keyringErrorsOrNil, worded as go-multierror lists errors; "" when none failed. */
export function keyringErrors(responses: KeyringResponse[]): string {
  const errs: string[] = [];
  for (const r of responses) {
    if (r.Error === "") continue;
    errs.push(`${r.WAN ? "WAN" : `${r.Datacenter} (LAN)`} error: ${r.Error}`);
    for (const [node, message] of Object.entries(r.Messages)) errs.push(`${node}: ${message}`);
  }
  if (errs.length === 0) return "";
  const head = errs.length === 1 ? "1 error occurred:" : `${errs.length} errors occurred:`;
  return `${head}\n\t* ${errs.join("\n\t* ")}\n\n`;
}
