// Poll rules: when a poll is open, whether a vote counts, and how results are tallied.
// Pure functions over plain records; the store and the API apply them.
import { ConflictError, BadRequestError } from './errors.ts';

export type PollState = 'open' | 'closed';

/** What the poll item holds (see table.ts for the attribute names). */
export interface PollRecord {
  pollId: string;
  runId: string;
  question: string;
  answers: string[];
  correct?: number;
  state: PollState;
  openedAt: string;
  closesAt: string;
  /** Exact counts recounted from the answer items when the poll closed. */
  finalCounts?: number[];
}

/** A poll closes `duration` seconds after it is asked, plus the grace for viewers further behind live. */
export function closingTime(openedAt: Date, durationSeconds: number, latencyGraceSeconds: number): Date {
  return new Date(openedAt.getTime() + (durationSeconds + latencyGraceSeconds) * 1000);
}

/** A poll past its closing time is closed even if the close step has not run yet. */
export function effectiveState(poll: Pick<PollRecord, 'state' | 'closesAt'>, now: Date): PollState {
  return poll.state === 'open' && now.getTime() < Date.parse(poll.closesAt) ? 'open' : 'closed';
}

/** Throws the error the API returns when this vote cannot be taken. */
export function assertVoteAllowed(poll: PollRecord, answer: number, now: Date): void {
  if (answer >= poll.answers.length) {
    throw new BadRequestError(
      `answer: expected an index from 0 to ${poll.answers.length - 1}, got ${answer}`,
    );
  }
  if (effectiveState(poll, now) === 'closed') {
    throw new ConflictError('poll_closed', `poll ${poll.pollId} is closed`);
  }
}

export function emptyCounts(answerCount: number): number[] {
  return Array.from({ length: answerCount }, () => 0);
}

/** Counts answers by index; indexes outside the poll are ignored (they were never accepted). */
export function countAnswers(answers: Iterable<number>, answerCount: number): number[] {
  const counts = emptyCounts(answerCount);
  for (const a of answers) if (Number.isInteger(a) && a >= 0 && a < answerCount) counts[a]! += 1;
  return counts;
}

export function total(counts: readonly number[]): number {
  return counts.reduce((a, b) => a + b, 0);
}

/** Indexes with the most votes (several on a tie, none when nobody voted). */
export function winners(counts: readonly number[]): number[] {
  const top = Math.max(0, ...counts);
  if (top === 0) return [];
  return counts.flatMap((c, i) => (c === top ? [i] : []));
}

/** What a viewer may see of a poll: `correct` only once the poll is closed and recounted. */
export interface PollView {
  poll_id: string;
  question: string;
  answers: string[];
  state: PollState;
  counts: number[];
  total: number;
  correct?: number;
  closes_at: string;
}

export function viewPoll(poll: PollRecord, liveCounts: readonly number[], now: Date): PollView {
  const revealed = poll.state === 'closed' && poll.finalCounts !== undefined;
  const counts = revealed ? poll.finalCounts! : [...liveCounts];
  const view: PollView = {
    poll_id: poll.pollId,
    question: poll.question,
    answers: poll.answers,
    state: effectiveState(poll, now),
    counts,
    total: total(counts),
    closes_at: poll.closesAt,
  };
  if (revealed && poll.correct !== undefined) view.correct = poll.correct;
  return view;
}

/** One answer in a viewer's history (GET /requestor-get), with the question it answered. */
export interface HistoryEntry {
  poll_id: string;
  answer: number;
  answered_at: string;
  question?: string;
  answers?: string[];
  state?: 'open' | 'closed';
  correct?: number;
}

/** A page of history, newest first; `next_cursor` is null on the last page. */
export interface HistoryPage {
  items: HistoryEntry[];
  next_cursor: string | null;
}
