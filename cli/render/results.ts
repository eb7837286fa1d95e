// results: votes per question as a table, JSON, or CSV (one row per answer, for spreadsheets).
import type { RunResults } from '../../ops/results.ts';
import { csv, table } from '../format.ts';

export type ResultsFormat = 'table' | 'json' | 'csv';

export function renderResults({ runId, polls }: RunResults, format: ResultsFormat): string {
  if (format === 'json') return JSON.stringify({ runId, polls }, null, 2) + '\n';
  if (format === 'csv') {
    const lines: (string | number | undefined)[][] = [
      [
        'run_id',
        'poll',
        'question',
        'state',
        'answer_index',
        'answer',
        'votes',
        'total',
        'share',
        'correct',
        'winner',
      ],
    ];
    for (const r of polls) {
      r.answers.forEach((answer, i) => {
        lines.push([
          runId,
          r.poll,
          r.question,
          r.state,
          i,
          answer,
          r.counts[i] ?? 0,
          r.total,
          r.total ? ((r.counts[i] ?? 0) / r.total).toFixed(4) : '0',
          r.correct === undefined ? '' : r.correct === i ? 'yes' : 'no',
          r.winner.includes(answer) ? 'yes' : 'no',
        ]);
      });
    }
    return csv(lines);
  }
  return (
    `${runId}\n\n` +
    table(polls, [
      { header: 'QUESTION', value: (r) => `${r.poll}  ${r.question}`, max: 44 },
      { header: 'STATE', value: (r) => r.state },
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
    ])
  );
}
