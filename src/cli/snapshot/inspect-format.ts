import type { SnapshotMeta } from "../../server/snapshot-archive.ts";
import type { StateStats, TypeStats } from "../../server/snapshot-stats.ts";
import { tabwrite } from "../tabwriter.ts";

// `snapshot inspect` output as Consul's formatter writes it: one tabwriter (min width 8,
// padding 6) over the meta rows, the type table and, with -kvdetails, the key table.

export function inspectPretty(meta: SnapshotMeta, s: StateStats): string {
  const rows = (stats: TypeStats[], total: number): string =>
    [" Type\tCount\tSize", " ----\t----\t----", ...stats.map((t) => ` ${t.Name}\t${t.Count}\t${byteSize(t.Sum)}`), " ----\t----\t----", ` Total\t\t${byteSize(total)}`].join("\n");
  let text = [` ID\t${meta.ID}`, ` Size\t${meta.Size}`, ` Index\t${meta.Index}`, ` Term\t${meta.Term}`, ` Version\t${meta.Version}`, "", rows(s.stats, s.totalSize)].join("\n");
  if (s.statsKv) text += `\n\n${rows(s.statsKv, s.totalSizeKv).replace(" Type\t", " Key Name\t")}`;
  return tabwrite(text, { minWidth: 8, padding: 6 });
}

/** Go's json.MarshalIndent(info, "", "   ") of Consul's OutputFormat. */
export function inspectJson(meta: SnapshotMeta, s: StateStats): string {
  const info = {
    Meta: { ID: meta.ID, Size: meta.Size, Index: meta.Index, Term: meta.Term, Version: meta.Version },
    Stats: s.stats,
    StatsKV: s.statsKv ?? null,
    TotalSize: s.totalSize,
    TotalSizeKV: s.totalSizeKv,
  };
  // <, > and & occur only inside strings here; Go escapes them there.
  return JSON.stringify(info, null, 3).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/** Consul's ByteSize: one decimal, ".0" dropped, binary units. */
export function byteSize(bytes: number): string {
  const units: Array<[number, string]> = [
    [2 ** 40, "TB"],
    [2 ** 30, "GB"],
    [2 ** 20, "MB"],
    [2 ** 10, "KB"],
    [1, "B"],
  ];
  if (bytes === 0) return "0";
  const [size, unit] = units.find(([n]) => bytes >= n)!;
  return `${(bytes / size).toFixed(1).replace(/\.0$/, "")}${unit}`;
}
