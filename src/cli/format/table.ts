// Aligned text tables: columns padded to their widest cell, numbers right-aligned, two spaces
// between columns, no trailing blanks. Cells may hold colour codes.
import { visibleWidth } from './color.js';

export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

function pad(cell: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - visibleWidth(cell)));
  return align === 'right' ? fill + cell : cell + fill;
}

/** Renders header + rows, one string with a newline after every line. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[], header: (s: string) => string = (s) => s): string {
  const widths = columns.map((c) => visibleWidth(c.header));
  for (const row of rows) {
    for (let i = 0; i < columns.length; i++) {
      const w = visibleWidth(row[i] ?? '');
      if (w > (widths[i] ?? 0)) widths[i] = w;
    }
  }
  const line = (cells: readonly string[], style: (s: string) => string): string =>
    columns
      .map((c, i) => {
        const last = i === columns.length - 1;
        const cell = cells[i] ?? '';
        return last && c.align !== 'right' ? style(cell) : style(pad(cell, widths[i] ?? 0, c.align ?? 'left'));
      })
      .join('  ')
      .trimEnd() + '\n';
  const out: string[] = [line(columns.map((c) => c.header), header)];
  for (const row of rows) out.push(line(row, (s) => s));
  return out.join('');
}
