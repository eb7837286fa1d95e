// history: the run as it happened, one row per question; or --json.
import { winners } from '../../core/poll.ts';
import type { PollTimeline, RunHistory } from '../../contract/producer.ts';
import { closedByWords, clock, dateTime, seconds, table } from '../format.ts';
import { pointsCell } from './results.ts';

const iso = (ms: number | undefined) => (ms !== undefined ? new Date(ms).toISOString() : null);

export function renderHistory(h: RunHistory, json: boolean): string {
  const { run } = h;
  if (json)
    return (
      JSON.stringify({
        runId: run.runId,
        status: run.status,
        startDate: run.startDate,
        stopDate: run.stopDate,
        ...(run.error ? { error: run.error, cause: run.cause } : {}),
        polls: h.polls.map((p) => ({
          poll: p.id,
          pollId: p.pollId,
          question: p.question,
          scheduledAt: iso(p.scheduledAt),
          cuedAt: iso(p.cuedAt),
          askedAt: iso(p.askedAt),
          lateMs: p.lateMs ?? null,
          closedAt: iso(p.closedAt),
          ...(p.closedBy ? { closedBy: p.closedBy } : {}),
          resultsAt: iso(p.resultsAt),
          votes: p.total ?? null,
          counts: p.counts ?? null,
          ...(p.correct !== undefined ? { correct: p.correct } : {}),
          ...(p.points !== undefined ? { points: p.points } : {}),
          ...(p.pointsGiven !== undefined ? { pointsGiven: p.pointsGiven } : {}),
          throttled: p.throttled,
        })),
      }) + '\n'
    );
  return (
    `${run.runId}  ${run.status}  started ${dateTime(run.startDate)}${run.stopDate ? `, ended ${dateTime(run.stopDate)}` : ''}\n\n` +
    table(h.polls, [
      { header: 'QUESTION', value: (p) => `${p.id}  ${p.question}`, max: 48 },
      {
        header: 'SCHEDULED',
        value: (p) =>
          p.manual
            ? p.cuedAt !== undefined
              ? `cued ${clock(p.cuedAt)}`
              : p.waitingForCue
                ? 'awaits cue'
                : 'manual'
            : clock(p.scheduledAt),
      },
      { header: 'ASKED', value: (p) => (p.askedAt !== undefined ? clock(p.askedAt, true) : '–') },
      {
        header: 'LATE BY',
        value: (p) => (p.lateMs !== undefined ? seconds(p.lateMs) : '–'),
        align: 'right',
      },
      {
        header: 'CLOSED',
        value: (p) =>
          p.closedAt !== undefined
            ? `${clock(p.closedAt, true)}${p.closedBy ? ` (${p.closedBy})` : ''}`
            : '–',
      },
      { header: 'VOTES', value: (p) => (p.total !== undefined ? String(p.total) : '–'), align: 'right' },
      { header: 'RESULT', value: resultText },
      {
        header: 'POINTS',
        value: (p) => pointsCell(p.points, p.pointsGiven),
      },
    ]) +
    `\n${h.cuesSent} cue${h.cuesSent === 1 ? '' : 's'} sent${h.throttled ? `, ${h.throttled} throttled by IVS and retried` : ''}\n` +
    h.polls
      .filter((p) => p.closedBy)
      .map(
        (p) =>
          `${p.id}: ${closedByWords(p.closedBy!)} with ${p.total ?? 0} vote${p.total === 1 ? '' : 's'}${p.resultsAt !== undefined ? `, results cue sent ${clock(p.resultsAt, true)}` : ', no results cue sent'}\n`,
      )
      .join('') +
    (run.error ? `${run.status}: ${run.error}${run.cause ? ` — ${run.cause}` : ''}\n` : '')
  );
}

function resultText(p: PollTimeline): string {
  if (!p.counts) return '–';
  const top = winners(p.counts);
  const share = (i: number) => (p.total ? `${Math.round((100 * p.counts![i]!) / p.total)}%` : '0%');
  if (p.correct !== undefined) return `✓ ${p.answers[p.correct]} ${share(p.correct)}`;
  if (top.length === 0) return 'no votes';
  return top.map((i) => `${p.answers[i]} ${share(i)}`).join(' = ');
}
