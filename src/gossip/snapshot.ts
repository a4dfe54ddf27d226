import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { SerfMember } from "./serf-node.ts";

// Serf's snapshot, our format: the members a pool last knew alive, and whether this agent left
// gracefully. A restarted agent rejoins them on its own (servers after a full restart find
// each other without -retry-join), unless it had left and rejoin_after_leave is off, as in
// Consul. Written at most once a second, atomically.

export interface SnapshotMember {
  name: string;
  addr: string;
  port: number;
}

interface SnapshotFile {
  members: SnapshotMember[];
  left: boolean;
}

const WRITE_EVERY_MS = 1000;

export class MemberSnapshot {
  private pending: ReturnType<typeof setTimeout> | undefined;
  private latest: SnapshotFile | undefined;

  constructor(
    private readonly file: string,
    private readonly warn: (m: string) => void,
  ) {}

  /** What the previous run left behind; nothing if there is no file or it is unreadable. */
  load(): SnapshotFile | undefined {
    if (!existsSync(this.file)) return undefined;
    try {
      const raw = JSON.parse(readFileSync(this.file, "utf8")) as Partial<SnapshotFile>;
      const members = Array.isArray(raw.members)
        ? raw.members.filter((m): m is SnapshotMember => typeof m?.name === "string" && typeof m.addr === "string" && Number.isInteger(m.port))
        : [];
      return { members, left: raw.left === true };
    } catch (err) {
      this.warn(`serf: ignoring unreadable snapshot ${this.file}: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** Membership changed: remember who is alive (except `self`), soon. */
  record(members: SerfMember[], self: string): void {
    this.latest = {
      members: members.filter((m) => m.status === "alive" && m.name !== self).map((m) => ({ name: m.name, addr: m.addr, port: m.port })),
      left: false,
    };
    this.pending ??= setTimeout(() => this.flush(), WRITE_EVERY_MS);
  }

  /** A graceful leave: written at once, so the next start does not rejoin on its own. */
  markLeft(): void {
    this.latest = { members: this.latest?.members ?? this.load()?.members ?? [], left: true };
    this.flush();
  }

  /** Writes what is pending now (at shutdown). */
  flush(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    if (!this.latest) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      writeFileSync(`${this.file}.tmp`, JSON.stringify(this.latest));
      renameSync(`${this.file}.tmp`, this.file);
    } catch (err) {
      this.warn(`serf: failed to write snapshot ${this.file}: ${(err as Error).message}`);
    }
  }
}
