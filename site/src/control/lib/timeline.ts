// What the control room shows of a run it read (run-read.ts), as pure functions of the reads: each
// question's row (its timing, phase, votes and bars), what changed from one read to the next, and
// whether an ended run still has a question to close.
import type { PollResult, PollTimeline } from '../../../../contract/producer.ts';
import { resultText } from './figures.ts';
import type { RunRead } from './run-read.ts';

export type QuestionPhase = 'waiting' | 'manual' | 'scheduled' | 'open' | 'closed' | 'not asked';

/** A question's counts as the preview's stream carried them (tally cues while open, then the results cue). */
export interface StreamCount {
  readonly counts: readonly number[];
  readonly total: number;
  readonly correct?: number;
  readonly final: boolean;
}

export interface QuestionRow {
  readonly id: string;
  readonly pollId: string;
  readonly question: string;
  readonly answers: readonly string[];
  readonly manual: boolean;
  readonly correct?: number;
  readonly scheduledAt?: number;
  readonly cuedAt?: number;
  readonly askedAt?: number;
  readonly lateMs?: number;
  readonly closesAt?: number;
  readonly closedAt?: number;
  /** The run's end closed it while it was open (the producer's stop, a failure, a timeout). */
  readonly closedBy?: 'stop' | 'failure' | 'timeout';
  readonly phase: QuestionPhase;
  /** Votes the API counts now (the exact recount once closed); null before the question is asked. */
  readonly votes: number | null;
  /** The bars: from the preview's stream (what viewers see) when it carried them, else the API's count. */
  readonly bars: {
    readonly counts: readonly number[];
    readonly total: number;
    readonly source: 'stream' | 'count';
  } | null;
  /** The RESULT column of `showrunner history`. */
  readonly result: string;
}

/** How long after its closing time an ended run's question is read again, waiting for it to close. */
const OPEN_AFTER_END_MS = 60_000;

/** The run's execution status, as the API read it, says it runs. */
export const isRunning = (read: RunRead) => read.status.run.status === 'RUNNING';

/** What the API says of a question: its results' state once asked, else the run's status. */
function phaseOf(
  p: PollTimeline,
  counted: PollResult | undefined,
  read: RunRead,
  waiting: ReadonlySet<string>,
): QuestionPhase {
  if (p.closedAt !== undefined || counted?.state === 'closed') return 'closed';
  if (p.askedAt !== undefined || counted?.state === 'open') return 'open';
  if (!isRunning(read)) return 'not asked';
  if (waiting.has(p.pollId)) return 'waiting';
  return p.manual ? 'manual' : 'scheduled';
}

/** Every question of the run, with its timing, phase, votes and bars (`streamed`: the preview's counts). */
export function questionRows(read: RunRead, streamed: (pollId: string) => StreamCount | null): QuestionRow[] {
  const results = new Map(read.results.polls.map((p) => [p.pollId, p]));
  const waiting = new Set(read.status.progress.waiting.map((p) => p.pollId));
  return read.history.polls.map((p): QuestionRow => {
    const counted = results.get(p.pollId);
    const phase = phaseOf(p, counted, read, waiting);
    const asked = phase === 'open' || phase === 'closed';
    const stream = streamed(p.pollId);
    const counts = counted && counted.state !== 'not asked' ? counted.counts : p.counts;
    const total = counted && counted.state !== 'not asked' ? counted.total : p.total;
    const bars = stream
      ? { counts: stream.counts, total: stream.total, source: 'stream' as const }
      : asked && counts
        ? { counts, total: total ?? 0, source: 'count' as const }
        : null;
    const correct = p.correct ?? counted?.correct;
    const closedBy = p.closedBy ?? counted?.closedBy;
    return {
      id: p.id,
      pollId: p.pollId,
      question: p.question,
      answers: p.answers,
      manual: p.manual,
      ...(correct !== undefined ? { correct } : {}),
      ...(p.scheduledAt !== undefined ? { scheduledAt: p.scheduledAt } : {}),
      ...(p.cuedAt !== undefined ? { cuedAt: p.cuedAt } : {}),
      ...(p.askedAt !== undefined ? { askedAt: p.askedAt } : {}),
      ...(p.lateMs !== undefined ? { lateMs: p.lateMs } : {}),
      ...(p.closesAt !== undefined ? { closesAt: p.closesAt } : {}),
      ...(p.closedAt !== undefined ? { closedAt: p.closedAt } : {}),
      ...(closedBy ? { closedBy } : {}),
      phase,
      votes: asked ? (total ?? 0) : null,
      bars,
      result: resultText({
        answers: p.answers,
        ...(counts ? { counts } : {}),
        ...(total !== undefined ? { total } : {}),
        ...(correct !== undefined ? { correct } : {}),
      }),
    };
  });
}

/** What changed from one read of a run to the next, in words: questions asked and closed, the run ending. */
export function changes(runId: string, before: RunRead, after: RunRead): { said: string[]; ended: boolean } {
  const was = new Map(before.history.polls.map((p) => [p.pollId, p]));
  const wasCounted = new Map(before.results.polls.map((p) => [p.pollId, p.state]));
  const counted = new Map(after.results.polls.map((p) => [p.pollId, p]));
  const said: string[] = [];
  for (const p of after.history.polls) {
    const old = was.get(p.pollId);
    if (p.askedAt !== undefined && old?.askedAt === undefined) said.push(`Asked ${p.id}: ${p.question}`);
    const closed = p.closedAt !== undefined || counted.get(p.pollId)?.state === 'closed';
    const wasClosed = old?.closedAt !== undefined || wasCounted.get(p.pollId) === 'closed';
    if (closed && !wasClosed) {
      const votes = counted.get(p.pollId)?.total ?? p.total ?? 0;
      said.push(`${p.id} closed with ${votes} ${votes === 1 ? 'vote' : 'votes'}.`);
    }
  }
  const ended = isRunning(before) && !isRunning(after);
  if (ended) said.push(`The run ${runId} ended: ${after.status.run.status ?? 'unknown'}.`);
  return { said, ended };
}

/**
 * An ended run with a question not yet closed (a stopped run's open question closes once its votes
 * settle, and sends its results): it still changes by itself.
 */
export function closingAfterEnd(read: RunRead, now = Date.now()): boolean {
  const { stopDate } = read.status.run;
  const ended = stopDate ? Date.parse(stopDate) : now;
  return read.history.polls.some(
    (p) =>
      p.askedAt !== undefined &&
      p.closedAt === undefined &&
      now < Math.max(ended, p.closesAt ?? 0) + OPEN_AFTER_END_MS,
  );
}
