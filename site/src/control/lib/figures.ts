// The figures the control room shows, worded as `showrunner` prints them (cli/format.ts,
// cli/render/*.ts; the site may not import the CLI, so the few lines are here), and the results
// export: the CSV `showrunner results --csv` writes and the JSON `showrunner results --json` writes.
import { winners } from '../../../../core/poll.ts';
import type { RunResults } from '../../../../contract/producer.ts';

const two = (n: number) => String(n).padStart(2, '0');

/** Local wall-clock time, with milliseconds when asked: what a producer compares with the stream's clock. */
export function clock(time: number | string | undefined, withMs = false): string {
  if (time === undefined) return '–';
  const d = new Date(time);
  if (Number.isNaN(d.getTime())) return '–';
  const base = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return withMs ? `${base}.${String(d.getMilliseconds()).padStart(3, '0')}` : base;
}

export function dateTime(time: number | string | undefined): string {
  if (time === undefined) return '–';
  const d = new Date(time);
  if (Number.isNaN(d.getTime())) return '–';
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${clock(d.getTime())}`;
}

/** Signed seconds with two decimals: "+0.12 s", "−1.50 s". */
export function seconds(ms: number | undefined): string {
  if (ms === undefined) return '–';
  return `${ms < 0 ? '−' : '+'}${(Math.abs(ms) / 1000).toFixed(2)} s`;
}

export function duration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}h${two(m)}m` : m > 0 ? `${m}m${two(s)}s` : `${s}s`;
}

/** Whole-number share of the total, as `showrunner` rounds it. */
export const share = (count: number, total: number) => (total ? Math.round((100 * count) / total) : 0);

/** The RESULT column of `showrunner history`: the quiz answer's share, else the leading answers. */
export function resultText(p: {
  answers: readonly string[];
  counts?: readonly number[];
  total?: number;
  correct?: number;
}): string {
  if (!p.counts) return '–';
  const total = p.total ?? 0;
  const pct = (i: number) => `${share(p.counts![i] ?? 0, total)}%`;
  if (p.correct !== undefined) return `✓ ${p.answers[p.correct]} ${pct(p.correct)}`;
  const top = winners(p.counts);
  if (top.length === 0) return 'no votes';
  return top.map((i) => `${p.answers[i]} ${pct(i)}`).join(' = ');
}

// The results export formats (`showrunner results --csv` / `--json`) are the contract's.
export { RESULTS_CSV_COLUMNS, resultsCsv, resultsJson } from '../../../../contract/producer.ts';
import {
  leaderboardCsv,
  leaderboardJson,
  resultsCsv,
  resultsJson,
  type RunLeaderboard,
} from '../../../../contract/producer.ts';

export interface Download {
  href: string;
  filename: string;
}

/** Download links built in the page (data: URLs: nothing to revoke, and small for a show's results). */
export function resultsDownloads(results: RunResults): { csv: Download; json: Download } {
  const name = results.runId.replace(/[^A-Za-z0-9_-]/g, '_');
  return {
    csv: {
      href: `data:text/csv;charset=utf-8,${encodeURIComponent(resultsCsv(results))}`,
      filename: `${name}-results.csv`,
    },
    json: {
      href: `data:application/json;charset=utf-8,${encodeURIComponent(resultsJson(results))}`,
      filename: `${name}-results.json`,
    },
  };
}

/** The leaderboard's CSV and JSON (`showrunner leaderboard --csv` / `--json`), built in the page. */
export function leaderboardDownloads(board: RunLeaderboard): { csv: Download; json: Download } {
  const name = board.runId.replace(/[^A-Za-z0-9_-]/g, '_');
  return {
    csv: {
      href: `data:text/csv;charset=utf-8,${encodeURIComponent(leaderboardCsv(board))}`,
      filename: `${name}-leaderboard.csv`,
    },
    json: {
      href: `data:application/json;charset=utf-8,${encodeURIComponent(leaderboardJson(board))}`,
      filename: `${name}-leaderboard.json`,
    },
  };
}
