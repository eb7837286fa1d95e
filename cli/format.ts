// Plain-text output for the CLI: aligned tables, times, CSV. No dependencies; terminal width is
// not guessed (long cells stay whole, so output can be grepped and copied).

/** Display width that counts a few common wide/zero-width cases well enough for question text. */
function width(text: string): number {
  let w = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 0x300 && code < 0x370) continue; // combining marks
    w +=
      code >= 0x1100 &&
      (code <= 0x115f ||
        (code >= 0x2e80 && code <= 0xa4cf) ||
        (code >= 0xac00 && code <= 0xd7a3) ||
        (code >= 0xf900 && code <= 0xfaff) ||
        (code >= 0x1f300 && code <= 0x1faff))
        ? 2
        : 1;
  }
  return w;
}

const pad = (text: string, to: number, right: boolean) => {
  const gap = ' '.repeat(Math.max(0, to - width(text)));
  return right ? gap + text : text + gap;
};

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  align?: 'left' | 'right';
  /** Cut longer values with '…' (question text); default: never cut. */
  max?: number;
}

function truncate(text: string, max: number | undefined): string {
  if (max === undefined || width(text) <= max) return text;
  let out = '';
  for (const ch of text) {
    if (width(out + ch) > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => truncate(c.value(row).replace(/\s+/g, ' '), c.max)));
  const widths = columns.map((c, i) => Math.max(width(c.header), ...cells.map((r) => width(r[i]!))));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => pad(v, widths[i]!, columns[i]!.align === 'right'))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** A time as the operations give it: epoch ms, or ISO 8601 (or a Date). */
export type Time = Date | number | string;

/** Local wall-clock time with milliseconds (what a producer compares with the stream's clock). */
export function clock(date: Time | undefined, withMs = false): string {
  if (date === undefined) return '–';
  const d = new Date(date);
  const two = (n: number) => String(n).padStart(2, '0');
  const base = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return withMs ? `${base}.${String(d.getMilliseconds()).padStart(3, '0')}` : base;
}

export function dateTime(date: Time | undefined): string {
  if (date === undefined) return '–';
  const d = new Date(date);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')} ${clock(d)}`;
}

/** Signed seconds with two decimals: "+0.12 s", "−1.50 s". */
export function seconds(ms: number | undefined): string {
  if (ms === undefined) return '–';
  const s = (Math.abs(ms) / 1000).toFixed(2);
  return `${ms < 0 ? '−' : '+'}${s} s`;
}

/** The time from `from` to `to` (now when the run has not ended), as `duration` writes it. */
export function took(from: Time | undefined, to: Time): string {
  return duration(new Date(to).getTime() - (from === undefined ? 0 : new Date(from).getTime()));
}

export function duration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m > 0
      ? `${m}m${String(s).padStart(2, '0')}s`
      : `${s}s`;
}

/** Why a question closed early, in words: "closed by the stop". */
export function closedByWords(reason: 'stop' | 'failure' | 'timeout'): string {
  return reason === 'stop'
    ? 'closed by the stop'
    : reason === 'timeout'
      ? 'closed when the run timed out'
      : 'closed when the run failed';
}
