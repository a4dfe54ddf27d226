import { assert } from "./assert.ts";
import type { ConfChange, Configuration } from "./types.ts";

// Membership: one server added, promoted or removed at a time (Raft thesis §4.1), so any
// majority of the old configuration meets any majority of the new one. A configuration is in
// force on a node from the moment its entry is in that node's log, committed or not; an
// overwritten entry takes its configuration with it, hence the history.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfiguration(c: Configuration): Uint8Array {
  return encoder.encode(JSON.stringify({ voters: c.voters, nonvoters: c.nonvoters }));
}

export function decodeConfiguration(data: Uint8Array): Configuration {
  const v = JSON.parse(decoder.decode(data)) as Partial<Configuration>;
  assert(Array.isArray(v.voters) && Array.isArray(v.nonvoters), "malformed configuration entry");
  return { voters: v.voters, nonvoters: v.nonvoters };
}

export function isMember(c: Configuration, id: string): boolean {
  return c.voters.includes(id) || c.nonvoters.includes(id);
}

/** The configuration after `cc`, or a one-line reason it cannot be done. */
export function applyConfChange(c: Configuration, cc: ConfChange): Configuration | string {
  switch (cc.op) {
    case "addNonvoter":
      if (isMember(c, cc.id)) return `${cc.id} is already a member`;
      return { voters: [...c.voters], nonvoters: [...c.nonvoters, cc.id] };
    case "promote":
      if (!c.nonvoters.includes(cc.id)) return `${cc.id} is not a nonvoter`;
      return { voters: [...c.voters, cc.id], nonvoters: c.nonvoters.filter((n) => n !== cc.id) };
    case "remove":
      if (!isMember(c, cc.id)) return `${cc.id} is not a member`;
      if (c.voters.length === 1 && c.voters[0] === cc.id) return "cannot remove the last voter";
      return { voters: c.voters.filter((n) => n !== cc.id), nonvoters: c.nonvoters.filter((n) => n !== cc.id) };
  }
}

/** Configurations in the log, oldest first; the first is the base (snapshot or bootstrap) and is never dropped. */
export class ConfigHistory {
  private list: { index: number; config: Configuration }[];

  constructor(index: number, config: Configuration) {
    this.list = [{ index, config }];
  }

  current(): Configuration {
    return this.list[this.list.length - 1]!.config;
  }

  currentIndex(): number {
    return this.list[this.list.length - 1]!.index;
  }

  /** In force at `index` (the newest at or below it). */
  at(index: number): Configuration {
    for (let i = this.list.length - 1; i > 0; i--) if (this.list[i]!.index <= index) return this.list[i]!.config;
    return this.list[0]!.config;
  }

  add(index: number, config: Configuration): void {
    assert(index > this.currentIndex(), `configuration at ${index} not after ${this.currentIndex()}`);
    this.list.push({ index, config });
  }

  /** Entries from `index` on were overwritten. */
  truncateFrom(index: number): void {
    assert(index > this.list[0]!.index, "truncating the base configuration");
    while (this.list.length > 1 && this.list[this.list.length - 1]!.index >= index) this.list.pop();
  }

  reset(index: number, config: Configuration): void {
    this.list = [{ index, config }];
  }

  /** Keeps only what a snapshot at or after `applied` may still need. */
  compactTo(applied: number): void {
    let keep = 0;
    while (keep + 1 < this.list.length && this.list[keep + 1]!.index <= applied) keep++;
    if (keep > 0) this.list = this.list.slice(keep);
  }
}
