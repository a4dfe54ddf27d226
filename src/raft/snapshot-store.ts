import { createHash } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import type { Configuration } from "./core/types.ts";

// Point-in-time copies of the state machine that bound the log. A snapshot file is
//   "TSCSNAP1" | u32 meta length (BE) | meta JSON | body
// with the body's SHA-256 in the meta. It is written under a temp name, fsynced, renamed,
// and the directory fsynced, so a crash leaves either the old snapshot or the new one whole.

const MAGIC = Buffer.from("TSCSNAP1");
const KEEP = 2;

export interface SnapshotMeta {
  version: 1;
  index: number;
  term: number;
  voters: string[];
  /** Absent in snapshots written before multi-server Raft. */
  nonvoters?: string[];
  size: number;
  sha256: string;
  createdAt: string;
}

export interface Snapshot {
  meta: SnapshotMeta;
  body: Uint8Array;
}

export interface SnapshotStore {
  save(index: number, term: number, config: Configuration, body: Uint8Array): SnapshotMeta;
  /** save, with the write and fsync off the event loop. */
  saveAsync(index: number, term: number, config: Configuration, body: Uint8Array): Promise<SnapshotMeta>;
  latest(): Snapshot | undefined;
}

export function encodeSnapshot(meta: SnapshotMeta, body: Uint8Array): Uint8Array {
  const metaBytes = Buffer.from(JSON.stringify(meta));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(metaBytes.length);
  return Buffer.concat([MAGIC, len, metaBytes, body]);
}

/** Parses and verifies a snapshot file's bytes; throws a one-line reason when it is damaged. */
export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) throw new Error("not a tsc snapshot (bad magic)");
  const metaLen = buf.readUInt32BE(8);
  if (12 + metaLen > buf.length) throw new Error("snapshot truncated in its header");
  const meta = JSON.parse(buf.subarray(12, 12 + metaLen).toString()) as SnapshotMeta;
  const body = buf.subarray(12 + metaLen);
  if (body.length !== meta.size) throw new Error(`snapshot body is ${body.length} bytes, expected ${meta.size}`);
  if (sha256(body) !== meta.sha256) throw new Error("snapshot checksum mismatch");
  return { meta, body };
}

/** The configuration a snapshot carries (files from before nonvoters have none). */
export function snapshotConfig(meta: SnapshotMeta): Configuration {
  return { voters: meta.voters, nonvoters: meta.nonvoters ?? [] };
}

export function makeMeta(index: number, term: number, config: Configuration, body: Uint8Array): SnapshotMeta {
  return { version: 1, index, term, voters: config.voters, nonvoters: config.nonvoters, size: body.length, sha256: sha256(body), createdAt: new Date().toISOString() };
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

export class FileSnapshotStore implements SnapshotStore {
  constructor(
    private readonly dir: string,
    private readonly warn: (msg: string) => void,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  save(index: number, term: number, config: Configuration, body: Uint8Array): SnapshotMeta {
    const { meta, name, tmp, bytes } = this.prepare(index, term, config, body);
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.commit(tmp, name);
    return meta;
  }

  async saveAsync(index: number, term: number, config: Configuration, body: Uint8Array): Promise<SnapshotMeta> {
    const { meta, name, tmp, bytes } = this.prepare(index, term, config, body);
    const file = await open(tmp, "w", 0o600);
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    this.commit(tmp, name);
    return meta;
  }

  private prepare(index: number, term: number, config: Configuration, body: Uint8Array): { meta: SnapshotMeta; name: string; tmp: string; bytes: Uint8Array } {
    const meta = makeMeta(index, term, config, body);
    const name = `${String(term).padStart(12, "0")}-${String(index).padStart(20, "0")}.snap`;
    return { meta, name, tmp: join(this.dir, `${name}.tmp`), bytes: encodeSnapshot(meta, body) };
  }

  /** The durable rename that makes a fully written, fsynced file the newest snapshot. */
  private commit(tmp: string, name: string): void {
    renameSync(tmp, join(this.dir, name));
    syncDir(this.dir);
    this.prune();
  }

  latest(): Snapshot | undefined {
    for (const name of this.names().reverse()) {
      try {
        return decodeSnapshot(readFileSync(join(this.dir, name)));
      } catch (err) {
        this.warn(`skipping damaged snapshot ${name}: ${(err as Error).message}`);
      }
    }
    return undefined;
  }

  private names(): string[] {
    // Zero-padded names sort by (term, index).
    return readdirSync(this.dir)
      .filter((n) => n.endsWith(".snap"))
      .sort();
  }

  private prune(): void {
    for (const n of readdirSync(this.dir)) if (n.endsWith(".tmp")) rmSync(join(this.dir, n), { force: true });
    const names = this.names();
    for (const n of names.slice(0, Math.max(0, names.length - KEEP))) rmSync(join(this.dir, n), { force: true });
  }
}

/** -dev keeps its snapshot in memory: same code path, nothing on disk. */
export class MemorySnapshotStore implements SnapshotStore {
  private last: Snapshot | undefined;

  save(index: number, term: number, config: Configuration, body: Uint8Array): SnapshotMeta {
    const meta = makeMeta(index, term, config, body);
    this.last = { meta, body };
    return meta;
  }

  saveAsync(index: number, term: number, config: Configuration, body: Uint8Array): Promise<SnapshotMeta> {
    return Promise.resolve(this.save(index, term, config, body));
  }

  latest(): Snapshot | undefined {
    return this.last;
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
