// Quiz scoring (issue 22): what a vote earns, how long the server accepts that the viewer took to
// answer, and how players who scored the same are told apart. A quiz question (one with `correct`)
// is worth `points`; with the show's speed bonus, part of them falls with the time the viewer took.
// That time is measured where the viewer sees the question — in video time, from the frame the
// question appeared on to the tap — because viewers watch seconds behind live, each by a different
// amount, and only the page knows by how much. The server cannot check such a claim, only bound it
// from below by what the vote's arrival allows (boundElapsed). Pure functions; the store and the
// API apply them.

/** What a quiz question is worth when the show does not say. */
export const DEFAULT_POINTS = 1000;

/** One vote, as scoreVote judges it. */
export interface VoteToScore {
  /** The index of the right answer; undefined for a poll (which scores nothing). */
  correct: number | undefined;
  /** The index the viewer chose. */
  answer: number;
  /** What the question is worth: a whole number ≥ 0. */
  points: number;
  /** Whether the show turns the speed bonus on (`"scoring": {"speed": true}`). */
  speed: boolean;
  /** The question's duration, in milliseconds of video time. */
  durationMs: number;
  /** The time the server accepts the viewer took to answer (boundElapsed), in milliseconds. */
  elapsedMs: number;
}

/**
 * The points a vote earns, a whole number:
 * - a poll (no `correct`) or a wrong answer earns 0;
 * - a right answer without the speed bonus earns `points`;
 * - with the speed bonus, a right answer earns a base of ⌈points / 2⌉ plus a bonus of up to
 *   ⌊points / 2⌋ that falls linearly from elapsed 0 (the whole bonus) to elapsed = duration
 *   (none); an elapsed time outside 0…duration counts as the nearer end.
 *
 * Rounding: the bonus is rounded down to whole points (a point is earned only once fully earned),
 * in exact integer arithmetic, so equal times always earn equal scores, a later answer never earns
 * more than an earlier one, and 1,000 points split exactly 500 + up to 500. At 1,000 points and
 * 20 s, the bonus loses one point every 40 ms.
 */
export function scoreVote(vote: VoteToScore): number {
  const { correct, answer, points, speed, durationMs } = vote;
  if (!Number.isSafeInteger(points) || points < 0) {
    throw new RangeError(`points: expected a whole number ≥ 0, got ${points}`);
  }
  if (!Number.isSafeInteger(durationMs) || durationMs <= 0) {
    throw new RangeError(`durationMs: expected a whole number > 0, got ${durationMs}`);
  }
  if (Number.isNaN(vote.elapsedMs)) throw new RangeError('elapsedMs: expected a number, got NaN');
  if (correct === undefined || answer !== correct) return 0;
  if (!speed) return points;
  const maxBonus = Math.floor(points / 2);
  const base = points - maxBonus;
  const elapsed = Math.min(durationMs, Math.max(0, Math.ceil(vote.elapsedMs)));
  return base + wholeQuotient(maxBonus * (durationMs - elapsed), durationMs);
}

/** ⌊a / b⌋ for whole numbers a ≥ 0, b > 0, without a floating-point division. */
function wholeQuotient(a: number, b: number): number {
  return (a - (a % b)) / b;
}

/** What the server knows of one vote's timing, for boundElapsed. */
export interface ElapsedClaim {
  /** `elapsed_ms` as the page sent it: video time from the question's frame to the tap. Undefined when the vote has none. */
  claimedMs: number | undefined;
  /** When the question's cue was put into the stream (the AskCue's PutMetadata), epoch ms on the server's clock. */
  askedAtMs: number;
  /** When the vote reached the API, epoch ms on the server's clock. */
  arrivedAtMs: number;
  /** The show's latencyGraceSeconds, in milliseconds: the most a viewer may be behind live. */
  graceMs: number;
  /** The question's duration, in milliseconds. */
  durationMs: number;
}

/**
 * The elapsed time the server accepts for a vote, in whole milliseconds:
 *
 *     clamp(max(claimed, arrivedAt − askedAt − grace), 0, duration)
 *
 * A claim cannot beat what its arrival allows. A viewer L ms behind live sees the question at
 * askedAt + L, taps e ms later and the vote travels n ms, so e = arrivedAt − askedAt − L − n.
 * The bound trusts that L + n ≤ grace — that the viewer's delay behind live plus the vote's trip
 * fit in the show's latency grace, the same allowance that keeps the poll open after its duration —
 * and so accepts no claim below arrivedAt − askedAt − grace. What it does not catch: a viewer
 * closer to live than the grace may claim up to (grace − L − n) less than they took; the bound
 * caps that gain, it cannot remove it. Honest viewers further behind than the grace are bounded
 * up (they lose bonus, never their answer). Both clocks are the server's (Lambda clocks are
 * NTP-synced), so no viewer clock is trusted.
 *
 * The result is never negative and never above the duration: the page's countdown ends at the
 * duration, so a longer claim is not one an honest page sends, and beyond the duration the bonus
 * is 0 anyway (scoreVote); capping it there also keeps one late vote from dominating a player's
 * total answer time, the first tie-break. A vote without a usable claim (none, or not a finite
 * number) gets the server's own measurement, arrivedAt − askedAt, with no latency allowance.
 * Fractions of a millisecond round up: rounding never favours the claimant.
 */
export function boundElapsed(claim: ElapsedClaim): number {
  const { claimedMs, askedAtMs, arrivedAtMs, graceMs, durationMs } = claim;
  const measured = arrivedAtMs - askedAtMs;
  const floor = measured - Math.max(0, graceMs);
  const accepted =
    claimedMs === undefined || !Number.isFinite(claimedMs) ? measured : Math.max(claimedMs, floor);
  return Math.ceil(Math.min(Math.max(0, durationMs), Math.max(0, accepted)));
}

/** What the tie-breaks compare: one player's totals over a run's quiz questions so far. */
export interface StandingKey {
  requestorId: string;
  /** The sum of scoreVote over the player's answers. */
  score: number;
  /**
   * The sum of the accepted elapsed times (boundElapsed) of every quiz question the player
   * answered, right or wrong, in ms. A question left unanswered adds nothing (counting it would
   * need a write for every player who did not vote); it costs its points instead.
   */
  totalAnswerMs: number;
  /** When the player's first quiz answer reached the server, epoch ms. */
  firstAnsweredAt: number;
}

/**
 * The order of the standings, best first: higher score, then less total answer time, then the
 * earlier first answer, then requestor id (code-unit order, never locale-dependent). The last key
 * makes the order total: ordinal ranks are well defined and every reader sorts the same way.
 */
export function compareStandings(a: StandingKey, b: StandingKey): number {
  return (
    b.score - a.score ||
    a.totalAnswerMs - b.totalAnswerMs ||
    a.firstAnsweredAt - b.firstAnsweredAt ||
    (a.requestorId < b.requestorId ? -1 : a.requestorId > b.requestorId ? 1 : 0)
  );
}
