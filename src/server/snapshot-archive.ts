import { createHash } from "node:crypto";
import { constants, gunzipSync, gzipSync } from "node:zlib";
import { TarError, TarReader, UNEXPECTED_EOF, writeTar } from "../lib/tar.ts";

// The snapshot archive of /v1/snapshot and `tsc snapshot`, laid out as Consul's: a gzipped
// tar of meta.json (Raft's snapshot metadata as JSON), state.bin (the state; ours is the
// FSM's own encoding) and SHA256SUMS over both. Reading checks every sum and fails with the
// text Consul's snapshot.Read would, so scripts see the same errors.

/** hashicorp/raft's SnapshotMeta as JSON, field for field. */
export interface SnapshotMeta {
  Version: number;
  /** "term-index-unixms" */
  ID: string;
  Index: number;
  Term: number;
  /** Raft's legacy peer list (base64 in JSON). */
  Peers: string | null;
  Configuration: { Servers: Array<{ Suffrage: number; ID: string; Address: string }> };
  ConfigurationIndex: number;
  Size: number;
}

/** Suffrage values as hashicorp/raft numbers them. */
export const VOTER = 0;
export const NONVOTER = 1;

const META = "meta.json";
const STATE = "state.bin";
const SUMS = "SHA256SUMS";

export function snapshotId(term: number, index: number, nowMs: number): string {
  return `${term}-${index}-${nowMs}`;
}

export function writeArchive(meta: SnapshotMeta, state: Uint8Array, nowMs = Date.now()): Uint8Array {
  // Go's json.Encoder ends the document with a newline; the sums cover these exact bytes.
  const metaBytes = new TextEncoder().encode(`${JSON.stringify(meta)}\n`);
  const sums = `${sha256(metaBytes)}  ${META}\n${sha256(state)}  ${STATE}\n`;
  const mtimeSec = Math.floor(nowMs / 1000);
  const tar = writeTar([
    { name: META, data: metaBytes, mtimeSec },
    { name: STATE, data: state, mtimeSec },
    { name: SUMS, data: new TextEncoder().encode(sums), mtimeSec },
  ]);
  return gzipSync(tar);
}

/** Unpacks and verifies an archive; throws an Error whose message is Consul's for the damage. */
export function readArchive(bytes: Uint8Array): { meta: SnapshotMeta; state: Uint8Array } {
  const { tar, tailError } = gunzip(bytes);
  let parsed: { meta: SnapshotMeta; state: Uint8Array; end: number };
  try {
    parsed = readTar(new TarReader(tar, tailError !== undefined));
  } catch (err) {
    if (err instanceof TarError) throw new Error(`failed to read snapshot file: failed reading snapshot: ${err.message}`);
    throw new Error(`failed to read snapshot file: ${(err as Error).message}`);
  }
  // The archive read whole, and then: the gzip stream's own end must be sound and empty.
  if (tailError) throw new Error(tailError);
  if (parsed.end < tar.length) throw new Error(`${tar.length - parsed.end} unread uncompressed bytes remain`);
  return { meta: parsed.meta, state: parsed.state };
}

/**
 * Decompresses. Where Go would meet damage while streaming, we report it at the same point:
 * a bad header up front, corrupt data as a read error, and a cut-off stream after whatever
 * part of the archive it still holds (tailError), which is how Go's gzip reader behaves.
 */
function gunzip(bytes: Uint8Array): { tar: Uint8Array; tailError: string | undefined } {
  if (bytes.length === 0) throw new Error("failed to decompress snapshot: EOF");
  if (bytes.length < 10) throw new Error(`failed to decompress snapshot: ${UNEXPECTED_EOF}`);
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b || bytes[2] !== 8) throw new Error("failed to decompress snapshot: gzip: invalid header");
  try {
    return { tar: gunzipSync(bytes), tailError: undefined };
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === "Z_BUF_ERROR") return { tar: gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH }), tailError: UNEXPECTED_EOF };
    if (/incorrect (data|length) check/.test(e.message)) throw new Error("gzip: invalid checksum");
    if (/incorrect header check/.test(e.message)) throw new Error("gzip: invalid header"); // trailing bytes that are not another member
    throw new Error("failed to read snapshot file: failed reading snapshot: flate: corrupt input");
  }
}

function readTar(reader: TarReader): { meta: SnapshotMeta; state: Uint8Array; end: number } {
  const hashes = new Map<string, string>([
    [META, sha256(new Uint8Array())],
    [STATE, sha256(new Uint8Array())],
  ]);
  let meta: SnapshotMeta | undefined;
  let state: Uint8Array = new Uint8Array();
  let sums = "";
  for (let e = reader.next(); e; e = reader.next()) {
    switch (e.name) {
      case META:
        hashes.set(META, sha256(e.data));
        meta = decodeMeta(e.data);
        break;
      case STATE:
        hashes.set(STATE, sha256(e.data));
        state = e.data;
        break;
      case SUMS:
        sums = new TextDecoder().decode(e.data);
        break;
      default:
        throw new Error(`unexpected file ${JSON.stringify(e.name)} in snapshot`);
    }
  }
  verifySums(sums, hashes);
  return { meta: meta ?? decodeMeta(new TextEncoder().encode("{}")), state, end: reader.offset };
}

function verifySums(sums: string, hashes: Map<string, string>): void {
  const fail = (why: string): never => {
    throw new Error(`failed checking integrity of snapshot: ${why}`);
  };
  const seen = new Set<string>();
  const lines = sums.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) {
    const m = /^([0-9a-fA-F]+) +(\S+)/.exec(line);
    if (!m) fail("input does not match format");
    const [, sum, file] = m!;
    const want = hashes.get(file!);
    if (want === undefined) fail(`list missing hash for ${JSON.stringify(file)}`);
    if (sum!.toLowerCase() !== want) fail(`hash check failed for ${JSON.stringify(file)}`);
    seen.add(file!);
  }
  for (const file of hashes.keys()) if (!seen.has(file)) fail(`file missing for ${JSON.stringify(file)}`);
}

const META_FIELDS: Array<[keyof SnapshotMeta, "number" | "string"]> = [
  ["Version", "number"],
  ["ID", "string"],
  ["Index", "number"],
  ["Term", "number"],
  ["ConfigurationIndex", "number"],
  ["Size", "number"],
];

/** meta.json as Go's decoder takes it: missing fields are zero, wrong types are errors. */
function decodeMeta(bytes: Uint8Array): SnapshotMeta {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new Error(`failed to decode snapshot metadata: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error(`failed to decode snapshot metadata: json: cannot unmarshal ${jsonType(raw)} into Go value of type raft.SnapshotMeta`);
  }
  const o = raw as Record<string, unknown>;
  for (const [field, type] of META_FIELDS) {
    const v = o[field];
    if (v === undefined || v === null) continue;
    const ok = type === "string" ? typeof v === "string" : typeof v === "number" && Number.isInteger(v) && v >= 0;
    if (!ok) throw new Error(`failed to decode snapshot metadata: json: cannot unmarshal ${jsonType(v)} into Go struct field SnapshotMeta.${field} of type ${type === "string" ? "string" : "uint64"}`);
  }
  const servers = (o.Configuration as { Servers?: unknown } | undefined)?.Servers;
  return {
    Version: (o.Version as number) ?? 0,
    ID: (o.ID as string) ?? "",
    Index: (o.Index as number) ?? 0,
    Term: (o.Term as number) ?? 0,
    Peers: typeof o.Peers === "string" ? o.Peers : null,
    Configuration: { Servers: Array.isArray(servers) ? (servers as SnapshotMeta["Configuration"]["Servers"]) : [] },
    ConfigurationIndex: (o.ConfigurationIndex as number) ?? 0,
    Size: (o.Size as number) ?? 0,
  };
}

/** How Go's decoder names a JSON value it cannot take (numbers with their literal). */
function jsonType(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  if (typeof v === "number") return `number ${v}`;
  if (typeof v === "boolean") return "bool";
  return typeof v === "object" ? "object" : typeof v;
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}
