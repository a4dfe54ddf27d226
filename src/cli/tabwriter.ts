// Go's text/tabwriter (left-aligned, no flags), for output Consul lays out with it. A cell
// ends at a tab; the text after a line's last tab is not part of any column. A column's
// width is set per block: the run of consecutive lines that have a cell in that column, so
// a blank line starts the alignment over. Widths count runes, as Go's do.

export interface TabwriterOptions {
  minWidth: number;
  padding: number;
  padChar?: string;
}

export function tabwrite(text: string, opts: TabwriterOptions): string {
  const lines = text.split("\n").map((l) => l.split("\t"));
  const out: string[] = [];
  const widths: number[] = [];
  const pad = opts.padChar ?? " ";

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i]!;
      out.push(cells.map((c, j) => (j < widths.length ? c + pad.repeat(Math.max(0, widths[j]! - runes(c))) : c)).join(""));
    }
  };

  // Go's Writer.format: find each block of lines with a cell in this column, size the column
  // over the block, then lay out the columns to its right within the same block.
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let i = line0; i < line1; i++) {
      if (column >= lines[i]!.length - 1) continue;
      writeLines(start, i);
      let width = opts.minWidth;
      let end = i;
      for (; end < line1 && column < lines[end]!.length - 1; end++) width = Math.max(width, runes(lines[end]![column]!) + opts.padding);
      widths.push(width);
      format(i, end);
      widths.pop();
      start = end;
      i = end - 1;
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  return out.join("\n");
}

function runes(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
