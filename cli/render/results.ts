// results: votes per question as a table, JSON, or CSV (one row per answer, for spreadsheets).
import type { RunResults } from '../../ops/results.ts';
import { resultsCsv, resultsJson } from '../../contract/producer.ts';
import type { PollResult } from '../../contract/producer.ts';
import { closedByWords, table } from '../format.ts';

export type ResultsFormat = 'table' | 'json' | 'csv';

export function renderResults({ runId, polls }: RunResults, format: ResultsFormat): string {
  // The export formats are the contract's: the control room downloads the same bytes.
  if (format === 'json') return resultsJson({ runId, polls });
  if (format === 'csv') return resultsCsv({ runId, polls });
  return (
    `${runId}\n\n` +
    table(polls, [
      { header: 'QUESTION', value: (r) => `${r.poll}  ${r.question}`, max: 44 },
      { header: 'STATE', value: (r) => (r.closedBy ? `${r.state} (${closedByWords(r.closedBy)})` : r.state) },
      { header: 'VOTES', value: (r) => r.answers.map((a, i) => `${a} ${r.counts[i] ?? 0}`).join(' · ') },
      { header: 'TOTAL', value: (r) => String(r.total), align: 'right' },
      {
        header: 'CORRECT',
        value: (r) =>
          r.correct === undefined
            ? '–'
            : `${r.answers[r.correct]} (${r.total ? Math.round((100 * (r.counts[r.correct] ?? 0)) / r.total) : 0}%)`,
      },
      { header: 'WINNER', value: (r) => (r.winner.length ? r.winner.join(' = ') : '–') },
      { header: 'POINTS', value: (r: PollResult) => pointsCell(r.points, r.points_given) },
    ])
  );
}

/**
 * What a question scored: '–' for a poll; a quiz question's worth, and once it is closed the points
 * its answers gave in all ("1000 each, 4200 given").
 */
export function pointsCell(points: number | undefined, given: number | undefined): string {
  if (points === undefined) return '–';
  return given === undefined ? `${points} each` : `${points} each, ${given} given`;
}
