// start: the run started (its questions' times), then with --follow one line per cue as it is sent.
import { formatOffset } from '../../core/timeline.ts';
import type { FollowEvent } from '../../ops/follow.ts';
import type { Started } from '../../contract/producer.ts';
import { closedByWords, clock, dateTime, duration, seconds } from '../format.ts';

export function renderStarted(started: Started, json: boolean, where: string, now: Date): string {
  if (json) {
    const { runId, executionArn, startAt, replaced } = started;
    return JSON.stringify({ runId, executionArn, startAt, ...(replaced ? { replaced } : {}) }) + '\n';
  }
  const { plan, runId } = started;
  const startAt = new Date(started.startAt);
  const lines = [
    ...(started.replaced
      ? [
          `Replaced ${started.replaced.runId} ("${started.replaced.title}"): stopped, its last results sent, the channel given back`,
        ]
      : []),
    `Started ${runId} on the ${where}`,
    `  show      "${plan.title}" (${plan.showId})`,
    `  starts    ${dateTime(startAt)}${startAt.getTime() > now.getTime() + 1000 ? ` (in ${duration(startAt.getTime() - now.getTime())})` : ''}`,
    ...(started.channelArn ? [`  channel   ${started.channelArn}`] : []),
    `  execution ${started.executionArn}`,
    ...plan.polls.map((p) => {
      const time =
        p.offsetSeconds !== null && p.askAt !== null
          ? `${formatOffset(p.offsetSeconds)}  ${clock(Date.parse(p.askAt))}`
          : `manual (showrunner cue ${runId})`;
      return `    ${p.id.padEnd(12)} ${time}`;
    }),
  ];
  return lines.join('\n') + '\n';
}

/** One line per event ('' for none). */
export function renderFollowEvent(e: FollowEvent, json: boolean): string {
  switch (e.event) {
    case 'following':
      return json ? '' : `Following ${e.runId} (Ctrl-C stops following, not the show)\n`;
    case 'cue': {
      const { sent, poll } = e;
      if (json)
        return (
          JSON.stringify({
            event: 'cue',
            at: new Date(sent.at).toISOString(),
            poll: sent.localId,
            type: sent.cue?.type,
            ...(sent.cue?.type === 'poll' && poll?.lateMs !== undefined ? { lateMs: poll.lateMs } : {}),
            ...(e.closedBy ? { closedBy: e.closedBy } : {}),
            cue: sent.cue ?? sent.metadata,
          }) + '\n'
        );
      const cue = sent.cue;
      const id = (sent.localId ?? cue?.poll_id ?? '?').padEnd(10);
      if (!cue) return `${clock(sent.at, true)}  cue      ${sent.metadata}\n`;
      if (cue.type === 'poll') {
        const late =
          poll?.lateMs !== undefined ? `  (${seconds(poll.lateMs)})` : poll?.manual ? '  (cued)' : '';
        const worth =
          cue.points !== undefined ? `  ${cue.points} points${cue.speed ? ' (speed bonus)' : ''}` : '';
        return `${clock(sent.at, true)}  ask      ${id} ${JSON.stringify(cue.question)}  [${cue.answers.join(' | ')}]  ${cue.duration} s${worth}${late}\n`;
      }
      if (cue.type === 'leaderboard') {
        const top = cue.top
          .slice(0, 3)
          .map((entry) => `${entry.rank}. ${entry.name} ${entry.score}`)
          .join(' · ');
        return `${clock(sent.at, true)}  leaders  ${id} ${top || 'no player yet'}  (${cue.players} player${cue.players === 1 ? '' : 's'}${cue.final ? ', final' : ''})\n`;
      }
      const answers = poll?.answers ?? cue.counts.map((_, i) => `#${i}`);
      const counts = cue.counts.map((c, i) => `${answers[i]} ${c}`).join(' · ');
      if (cue.type === 'tally') return `${clock(sent.at, true)}  tally    ${id} ${counts}\n`;
      const correct = cue.correct !== undefined ? `  correct: ${answers[cue.correct]}` : '';
      const closedBy = e.closedBy ? `  — ${closedByWords(e.closedBy)}` : '';
      return `${clock(sent.at, true)}  results  ${id} ${counts}  (${cue.total} vote${cue.total === 1 ? '' : 's'})${correct}${closedBy}\n`;
    }
    case 'waiting':
      return json
        ? JSON.stringify({ event: 'waiting', poll: e.poll.id }) + '\n'
        : `${' '.repeat(12)}  waiting  ${e.poll.id.padEnd(10)} ${JSON.stringify(e.poll.question)}: showrunner cue ${e.runId}\n`;
    case 'end':
      return json
        ? JSON.stringify({
            event: 'end',
            status: e.status,
            ...(e.error ? { error: e.error, cause: e.cause } : {}),
          }) + '\n'
        : `${clock(e.at, true)}  end      ${e.status}${e.error ? `: ${e.error}${e.cause ? ` — ${e.cause}` : ''}` : ''}\n`;
  }
}
