import { packValue } from "./commands.ts";
import { decodeState } from "./fsm.ts";

// What `snapshot inspect` counts in a state.bin: records by the names Consul's snapshot
// gives the same data (KVS, Tombstone, Register for every node, service and check, Index
// for every table index), each sized by its encoding in our state.bin.

export interface TypeStats {
  Name: string;
  Sum: number;
  Count: number;
}

export interface StateStats {
  stats: TypeStats[];
  totalSize: number;
  /** Only when asked for: KV space by key prefix. */
  statsKv: TypeStats[] | undefined;
  totalSizeKv: number;
}

export interface KvDetails {
  depth: number;
  filter: string;
}

export function stateStats(state: Uint8Array, kvDetails?: KvDetails): StateStats {
  // Throws the one-line reason when it is not ours; older encodings come back as the current one.
  const snap = decodeState(state).snapshot();
  const byType = new Map<string, TypeStats>();
  const byPrefix = new Map<string, TypeStats>();
  let totalSize = 0;
  let totalSizeKv = 0;
  const add = (map: Map<string, TypeStats>, name: string, size: number): void => {
    const s = map.get(name) ?? { Name: name, Sum: 0, Count: 0 };
    s.Sum += size;
    s.Count++;
    map.set(name, s);
  };
  const count = (name: string, record: unknown): number => {
    const size = packValue(record).length;
    add(byType, name, size);
    totalSize += size;
    return size;
  };

  for (const row of snap.kvs.rows) {
    const size = count("KVS", row);
    if (kvDetails && (kvDetails.filter === "" || row.key.startsWith(kvDetails.filter))) {
      add(byPrefix, row.key.split("/").slice(0, Math.max(kvDetails.depth, 0)).join("/"), size);
      totalSizeKv += size;
    }
  }
  for (const t of snap.kvs.tombstones) count("Tombstone", t);
  const indexes: Array<[string, number]> = [["kvs", snap.kvs.index]];
  const c = snap.catalog;
  for (const n of c.nodes) count("Register", n);
  for (const s of c.services) count("Register", s);
  for (const ch of c.checks) count("Register", ch);
  indexes.push(["nodes", c.indexes.nodes], ["services", c.indexes.services], ["checks", c.indexes.checks]);
  for (const [name, index] of c.indexes.byService) indexes.push([`service.${name}`, index]);
  for (const entry of indexes) if (entry[1] > 0) count("Index", entry);

  const statsKv = kvDetails && byPrefix.size > 0 ? sortStats([...byPrefix.values()]) : undefined;
  return { stats: sortStats([...byType.values()]), totalSize, statsKv, totalSizeKv };
}

/** Largest first; equal sizes by name, as Consul sorts them. */
function sortStats(stats: TypeStats[]): TypeStats[] {
  return stats.sort((a, b) => (a.Sum === b.Sum ? (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0) : b.Sum - a.Sum));
}

