// status and list: the running shows (a table), one run (labelled lines), past runs (a table).
import type { RunInfo, RunStatus } from '../../contract/producer.ts';
import type { RunningShow } from '../../ops/status.ts';
import { closedByWords, clock, dateTime, table, took } from '../format.ts';

export function renderRunning(rows: readonly RunningShow[], json: boolean, where: string): string {
  if (json)
    return (
      JSON.stringify(
        rows.map(({ run, progress }) => ({
          runId: run.runId,
          status: run.status,
          startDate: run.startDate,
          asked: progress.asked,
          questions: progress.total,
          waitingForCue: progress.waiting.map((p) => p.id),
          next: progress.next
            ? { poll: progress.next.id, at: new Date(progress.next.scheduledAt!).toISOString() }
            : null,
        })),
      ) + '\n'
    );
  if (rows.length === 0) return `No show is running on the ${where}. Past runs: showrunner list\n`;
  return table(rows, [
    { header: 'RUN', value: (r) => r.run.runId },
    { header: 'STARTED', value: (r) => dateTime(r.run.startDate) },
    { header: 'ASKED', value: (r) => `${r.progress.asked}/${r.progress.total}`, align: 'right' },
    {
      header: 'NOW',
      value: ({ progress: { open } }) => (open ? `${open.id} open until ${clock(open.closesAt)}` : '–'),
    },
    {
      header: 'NEXT',
      value: ({ progress: { next, waiting } }) =>
        [
          next ? `${next.id} at ${clock(next.scheduledAt)}` : '',
          ...waiting.map((p) => `${p.id} waits for cue`),
        ]
          .filter(Boolean)
          .join(', ') || '–',
    },
  ]);
}

export function renderRunStatus(s: RunStatus, json: boolean, where: string): string {
  const { run, plan, progress: p } = s;
  if (json)
    return (
      JSON.stringify({
        runId: run.runId,
        executionArn: run.executionArn,
        status: run.status,
        startDate: run.startDate,
        stopDate: run.stopDate,
        showId: plan?.showId,
        title: plan?.title,
        startAt: plan?.startAt,
        asked: p.asked,
        questions: p.total,
        open: p.open?.id ?? null,
        next: p.next ? { poll: p.next.id, at: new Date(p.next.scheduledAt!).toISOString() } : null,
        waitingForCue: p.waiting.map((w) => w.id),
        ...(p.closedByEnd
          ? {
              closedByEnd: p.closedByEnd.map((q) => ({
                poll: q.id,
                closedBy: q.closedBy,
                closedAt: q.closedAt !== undefined ? new Date(q.closedAt).toISOString() : null,
                counts: q.counts ?? null,
                votes: q.total ?? null,
              })),
            }
          : {}),
        ...(run.error ? { error: run.error } : {}),
        ...(run.cause ? { cause: run.cause } : {}),
      }) + '\n'
    );
  const lines = [
    `Run       ${run.runId}  (${where})`,
    `Show      ${plan ? `"${plan.title}" (${plan.showId})` : '–'}`,
    `Status    ${run.status}`,
    `Started   ${dateTime(run.startDate)}${plan ? `, show time from ${dateTime(Date.parse(plan.startAt))}` : ''}`,
    ...(run.stopDate ? [`Ended     ${dateTime(run.stopDate)} (${took(run.startDate, run.stopDate)})`] : []),
    `Asked     ${p.asked} of ${p.total} questions`,
    ...(p.open
      ? [`Open now  ${p.open.id} ${JSON.stringify(p.open.question)} until ${clock(p.open.closesAt)}`]
      : []),
    ...(p.next
      ? [`Next      ${p.next.id} at ${clock(p.next.scheduledAt)} ${JSON.stringify(p.next.question)}`]
      : []),
    ...p.waiting.map((w) => `Waiting   ${w.id} ${JSON.stringify(w.question)}: showrunner cue ${run.runId}`),
    ...(p.closedByEnd ?? []).map(
      (q) =>
        `Closed    ${q.id} ${JSON.stringify(q.question)} ${closedByWords(q.closedBy!)}${q.closedAt !== undefined ? ` at ${clock(q.closedAt)}` : ''}: ${q.total ?? 0} vote${q.total === 1 ? '' : 's'}${q.counts ? ` (${q.answers.map((a, i) => `${a} ${q.counts![i] ?? 0}`).join(' · ')})` : ''}`,
    ),
    ...(run.error ? [`Error     ${run.error}${run.cause ? `: ${run.cause}` : ''}`] : []),
  ];
  return lines.join('\n') + '\n';
}

export function renderList(runs: readonly RunInfo[], json: boolean, where: string, now: Date): string {
  if (json)
    return (
      JSON.stringify(
        runs.map((r) => ({
          runId: r.runId,
          executionArn: r.executionArn,
          status: r.status,
          startDate: r.startDate,
          stopDate: r.stopDate,
        })),
      ) + '\n'
    );
  if (runs.length === 0) return `No runs on the ${where} yet: showrunner start FILE\n`;
  return table(runs, [
    { header: 'RUN', value: (r) => r.runId },
    { header: 'STATUS', value: (r) => r.status ?? '' },
    { header: 'STARTED', value: (r) => dateTime(r.startDate) },
    {
      header: 'DURATION',
      value: (r) => took(r.startDate, r.stopDate ?? now),
      align: 'right',
    },
  ]);
}
