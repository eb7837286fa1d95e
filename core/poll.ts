// Poll rules: when a poll is open, whether a vote counts, and how results are tallied.
// Pure functions over plain records; the store and the API apply them.
import { VOTE_CLOSE_DEADLINE_MS, VOTE_DEADLINE_MS, type PollState, type PollView } from '../contract/api.ts';
import type { RunEndReason } from '../contract/state-machine.ts';
import type { Refusal } from './refusal.ts';
import { boundElapsed, DEFAULT_POINTS, scoreVote } from './scoring.ts';

/** What the poll item holds (see store/polls.ts for the attribute names). */
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
  /** When it was closed: by its run's Close step, or early when the run failed or was stopped. */
  closedAt?: string;
  /**
   * Set when the run's end closed it, not its Close step: the run was stopped, failed or timed out
   * while the question was open. The end of the run then also sent its results cue (`resultsAt`).
   */
  closedBy?: RunEndReason;
  /** When the end of the run got its results cue into the stream (the Close path's is in the execution history). */
  resultsAt?: string;
  /** How many shard partitions its answers and counters are spread over (contract/table.ts), fixed at open. */
  voteShards: number;
  /** Quiz questions: what a right answer is worth. */
  points?: number;
  /** Quiz questions of a show with the speed bonus. */
  speed?: boolean;
  /** The show's title (the poll cue's). */
  title?: string;
  /** The question's duration in seconds (without the grace), for the speed bonus. */
  durationSeconds?: number;
  /** The show's latency grace in seconds, for boundElapsed. */
  graceSeconds?: number;
  /** The run's score shard count (store/scores.ts), fixed at open; quiz questions only. */
  scoreShards?: number;
  /** Quiz questions, once closed: the points its answers earned in all. */
  pointsGiven?: number;
}

/** A quiz question (one with `correct`) scores: what it is worth. */
export function isQuiz(poll: Pick<PollRecord, 'correct'>): boolean {
  return poll.correct !== undefined;
}

/** A poll closes `duration` seconds after it is asked, plus the grace for viewers further behind live. */
export function closingTime(openedAt: Date, durationSeconds: number, latencyGraceSeconds: number): Date {
  return new Date(openedAt.getTime() + (durationSeconds + latencyGraceSeconds) * 1000);
}

/** A poll past its closing time is closed even if the close step has not run yet. */
export function effectiveState(poll: Pick<PollRecord, 'state' | 'closesAt'>, now: Date): PollState {
  return poll.state === 'open' && now.getTime() < Date.parse(poll.closesAt) ? 'open' : 'closed';
}

/** Why this vote cannot be taken, or undefined when it can. */
export function voteRefusal(
  poll: PollRecord,
  answer: number,
  now: Date,
): (Refusal & { reason: 'answer_out_of_range' | 'poll_closed' }) | undefined {
  if (answer >= poll.answers.length) {
    return {
      reason: 'answer_out_of_range',
      message: `answer: expected an index from 0 to ${poll.answers.length - 1}, got ${answer}`,
    };
  }
  if (effectiveState(poll, now) === 'closed') {
    return { reason: 'poll_closed', message: `poll ${poll.pollId} is closed` };
  }
  return undefined;
}

/**
 * Whether a vote checked against the closing time at `checkedAt` and written by `writtenBy` may be
 * acknowledged: only within VOTE_DEADLINE_MS of its check and VOTE_CLOSE_DEADLINE_MS of the poll's
 * closes_at, which the close step waits out before recounting.
 */
export function withinVoteDeadline(checkedAt: Date, writtenBy: Date, closesAt: Date): boolean {
  const by = Math.min(checkedAt.getTime() + VOTE_DEADLINE_MS, closesAt.getTime() + VOTE_CLOSE_DEADLINE_MS);
  return writtenBy.getTime() <= by;
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

/** Closed and recounted: the counts are final and a quiz answer may be revealed. */
export function isRecounted(poll: PollRecord): poll is PollRecord & { finalCounts: number[] } {
  return poll.state === 'closed' && poll.finalCounts !== undefined;
}

/**
 * What a viewer sees of a poll (GET /poll-get, GET /poll-current), the one place that decides it:
 * the exact recount once the poll is closed, the running tally before (`liveCounts`, needed only
 * while the poll is not recounted); `correct` only once recounted; closed from closes_at on.
 */
export function viewPoll(poll: PollRecord, liveCounts: readonly number[], now: Date): PollView {
  const revealed = isRecounted(poll);
  const counts = revealed ? [...poll.finalCounts] : [...liveCounts];
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
  if (poll.closedBy) view.closed_by = poll.closedBy;
  if (poll.title !== undefined) view.title = poll.title;
  if (poll.correct !== undefined && poll.points !== undefined) {
    view.points = poll.points;
    if (poll.speed === true) view.speed = true;
  }
  return view;
}

/**
 * What a vote on a quiz question earns (core/scoring.ts), its time bounded from the poll's open (the
 * moment its cue was made; the cue goes out right after) and the show's grace; undefined for a poll.
 */
export function scoreOf(
  poll: PollRecord,
  answer: number,
  elapsedMs: number | undefined,
  arrivedAt: Date,
): { points: number; elapsedMs: number } | undefined {
  if (poll.correct === undefined) return undefined;
  const openedAt = Date.parse(poll.openedAt);
  const durationMs =
    poll.durationSeconds !== undefined
      ? poll.durationSeconds * 1000
      : Math.max(1, Date.parse(poll.closesAt) - openedAt - (poll.graceSeconds ?? 0) * 1000);
  const accepted = boundElapsed({
    claimedMs: elapsedMs,
    askedAtMs: openedAt,
    arrivedAtMs: arrivedAt.getTime(),
    graceMs: (poll.graceSeconds ?? 0) * 1000,
    durationMs,
  });
  const points = scoreVote({
    correct: poll.correct,
    answer,
    points: poll.points ?? DEFAULT_POINTS,
    speed: poll.speed === true,
    durationMs,
    elapsedMs: accepted,
  });
  return { points, elapsedMs: accepted };
}
