// Plain aligned text tables for terminal output.

/** Formats rows under headers, columns separated by two spaces; '-' stands for an empty cell. */
export function formatTable(headers: string[], rows: string[][]): string[] {
  const cells = rows.map((r) => headers.map((_, i) => (r[i] === undefined || r[i] === '' ? '-' : r[i]!)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(headers), ...cells.map(line)];
}

/** A timestamp in UTC without milliseconds: 2026-05-01T12:00:00Z. */
export const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
