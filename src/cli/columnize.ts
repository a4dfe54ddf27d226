// Consul's CLI tables (ryanuber/columnize, SimpleFormat): columns padded to their widest
// cell and joined by two spaces; the last column is not padded, and the whole table (not
// each line) is trimmed, so a row with an empty last cell keeps its padding.

export function columnize(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n").trim();
}
