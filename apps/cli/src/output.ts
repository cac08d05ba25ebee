/** How read commands print: an aligned table for people, or the API's JSON with `--json` for scripts. */
import type { CliContext } from './context.js';

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string | number | boolean | null | undefined;
}

export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => cellText(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n')}\n`;
}

function cellText(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value).replace(/\s+/g, ' ');
}

/** `key: value` lines for one resource. */
export function details(entries: ReadonlyArray<readonly [string, unknown]>): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  return `${entries
    .map(([key, value]) => {
      const text =
        value === null || value === undefined
          ? '-'
          : typeof value === 'object'
            ? JSON.stringify(value)
            : String(value as string | number | boolean);
      return `${`${key}:`.padEnd(width + 1)} ${text}`;
    })
    .join('\n')}\n`;
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** Milliseconds as people read them: 850 ms, 12.3 s, 4 min 5 s. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
}

/** An ISO time without milliseconds, in UTC. */
export function time(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '-';
  return iso.replace(/\.\d{3}Z$/, 'Z');
}
