// Quiz scoring (issue 22, core/scoring.ts): each test is named after the rule it checks.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  DEFAULT_POINTS,
  boundElapsed,
  compareStandings,
  scoreVote,
  type StandingKey,
  type VoteToScore,
} from '../../core/scoring.ts';

const vote = (over: Partial<VoteToScore> = {}): VoteToScore => ({
  correct: 1,
  answer: 1,
  points: DEFAULT_POINTS,
  speed: false,
  durationMs: 20_000,
  elapsedMs: 0,
  ...over,
});

describe('scoreVote: "a quiz question (one with `correct`) is worth `points` (default 1,000)"', () => {
  it('"worth `points` (default 1,000)": a right answer earns the points, 1,000 unless the show says', () => {
    expect(DEFAULT_POINTS).toBe(1000);
    expect(scoreVote(vote())).toBe(1000);
    expect(scoreVote(vote({ points: 250, elapsedMs: 19_000 }))).toBe(250);
  });

  it('a wrong answer earns nothing, with or without the speed bonus', () => {
    expect(scoreVote(vote({ answer: 0 }))).toBe(0);
    expect(scoreVote(vote({ answer: 0, speed: true }))).toBe(0);
  });

  it('"Polls without `correct` score nothing"', () => {
    expect(scoreVote(vote({ correct: undefined }))).toBe(0);
    expect(scoreVote(vote({ correct: undefined, speed: true }))).toBe(0);
  });

  it('"up to half the points, falling linearly over the question\'s duration": 1,000 at 0 s, 750 at half, 500 at the end', () => {
    const at = (elapsedMs: number) => scoreVote(vote({ speed: true, elapsedMs }));
    expect(at(0)).toBe(1000);
    expect(at(5_000)).toBe(875);
    expect(at(10_000)).toBe(750);
    expect(at(20_000)).toBe(500);
  });

  it('an elapsed time outside 0…duration counts as the nearer end (no bonus above half, no base below half)', () => {
    expect(scoreVote(vote({ speed: true, elapsedMs: -3_000 }))).toBe(1000);
    expect(scoreVote(vote({ speed: true, elapsedMs: 90_000 }))).toBe(500);
  });

  it('rounding: the bonus is rounded down to whole points; the base is ⌈points / 2⌉, the bonus at most ⌊points / 2⌋', () => {
    // 1,000 points over 20 s: a point every 40 ms, and only whole points: the first is lost at 1 ms.
    expect(scoreVote(vote({ speed: true, elapsedMs: 0 }))).toBe(1000);
    expect(scoreVote(vote({ speed: true, elapsedMs: 1 }))).toBe(999);
    expect(scoreVote(vote({ speed: true, elapsedMs: 40 }))).toBe(999);
    expect(scoreVote(vote({ speed: true, elapsedMs: 41 }))).toBe(998);
    // Odd points: 999 = 500 base + up to 499 bonus.
    expect(scoreVote(vote({ points: 999, speed: true, elapsedMs: 20_000 }))).toBe(500);
    expect(scoreVote(vote({ points: 999, speed: true, elapsedMs: 0 }))).toBe(999);
    // A fraction of a millisecond counts as the next one.
    expect(scoreVote(vote({ speed: true, elapsedMs: 40.5 }))).toBe(998);
  });

  it('the score is a whole number in [⌈points/2⌉, points] and never rises with elapsed time (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_800_000 }),
        fc.integer({ min: -5_000, max: 2_000_000 }),
        fc.integer({ min: 0, max: 2_000_000 }),
        (points, durationMs, early, later) => {
          const at = (elapsedMs: number) => scoreVote(vote({ points, durationMs, elapsedMs, speed: true }));
          const score = at(early);
          expect(Number.isInteger(score)).toBe(true);
          expect(score).toBeGreaterThanOrEqual(Math.ceil(points / 2));
          expect(score).toBeLessThanOrEqual(points);
          expect(at(early + later)).toBeLessThanOrEqual(score);
        },
      ),
    );
  });

  it('refuses inputs that have no score: points not a whole number ≥ 0, a duration ≤ 0, elapsed NaN', () => {
    expect(() => scoreVote(vote({ points: 1.5 }))).toThrow('points: expected a whole number ≥ 0, got 1.5');
    expect(() => scoreVote(vote({ points: -1 }))).toThrow(RangeError);
    expect(() => scoreVote(vote({ durationMs: 0 }))).toThrow(
      'durationMs: expected a whole number > 0, got 0',
    );
    expect(() => scoreVote(vote({ elapsedMs: Number.NaN }))).toThrow(RangeError);
  });
});

describe('boundElapsed: "bounded by the server so no claim beats what the vote\'s arrival allows (arrival − asked − the latency grace)"', () => {
  const ASKED = 1_800_000_000_000;
  const claim = (claimedMs: number | undefined, arrivedAfterMs: number) =>
    boundElapsed({
      claimedMs,
      askedAtMs: ASKED,
      arrivedAtMs: ASKED + arrivedAfterMs,
      graceMs: 5_000,
      durationMs: 20_000,
    });

  it('an honest claim within what the arrival allows is accepted as sent', () => {
    // Seen 3 s behind live, tapped 4.2 s later, the vote arrived 7.3 s after the ask.
    expect(claim(4_200, 7_300)).toBe(4_200);
  });

  it('"no claim beats what the vote\'s arrival allows": a claim below arrival − asked − grace is raised to it', () => {
    // Claims 0.1 s but the vote arrived 12 s after the ask: at least 12 − 5 = 7 s.
    expect(claim(100, 12_000)).toBe(7_000);
  });

  it("what the bound trusts: delay behind live plus the vote's trip ≤ grace; a viewer further behind is bounded up", () => {
    // 8 s behind live, tapped after 1 s: arrives at 9 s; only 9 − 5 = 4 s is accepted.
    expect(claim(1_000, 9_000)).toBe(4_000);
  });

  it('never negative, never more than the duration', () => {
    expect(claim(-500, 1_000)).toBe(0);
    expect(claim(45_000, 24_000)).toBe(20_000);
    expect(claim(0, 40_000)).toBe(20_000);
    // A server clock behind the ask (a skewed clock) still gives 0, not a negative time.
    expect(claim(undefined, -2_000)).toBe(0);
  });

  it("a vote without a usable claim gets the server's own measurement, arrival − asked, with no grace", () => {
    expect(claim(undefined, 6_000)).toBe(6_000);
    expect(claim(Number.NaN, 6_000)).toBe(6_000);
    expect(claim(Number.POSITIVE_INFINITY, 6_000)).toBe(6_000);
  });

  it('fractions round up: rounding never favours the claimant', () => {
    expect(claim(1_234.2, 2_000)).toBe(1_235);
  });

  it('"no claim beats what the vote\'s arrival allows", for any claim, arrival and grace (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.option(fc.double({ min: -1e7, max: 1e7, noNaN: true }), { nil: undefined }),
        fc.integer({ min: 0, max: 2e12 }),
        fc.integer({ min: -10_000, max: 4_000_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: 5_000, max: 1_800_000 }),
        (claimedMs, askedAtMs, after, graceMs, durationMs) => {
          const arrivedAtMs = askedAtMs + after;
          const accepted = boundElapsed({ claimedMs, askedAtMs, arrivedAtMs, graceMs, durationMs });
          expect(Number.isInteger(accepted)).toBe(true);
          expect(accepted).toBeGreaterThanOrEqual(Math.min(durationMs, arrivedAtMs - askedAtMs - graceMs));
          expect(accepted).toBeGreaterThanOrEqual(0);
          expect(accepted).toBeLessThanOrEqual(durationMs);
          // An honest claim (within the bounds) is kept, up to rounding.
          if (
            claimedMs !== undefined &&
            claimedMs >= after - graceMs &&
            claimedMs >= 0 &&
            claimedMs <= durationMs
          )
            expect(accepted).toBe(Math.ceil(claimedMs) + 0); // + 0: -0 is accepted as 0
        },
      ),
    );
  });
});

describe('compareStandings: "Ties break by total answer time, then by who answered first"', () => {
  const player = (requestorId: string, over: Partial<StandingKey> = {}): StandingKey => ({
    requestorId,
    score: 1000,
    totalAnswerMs: 5_000,
    firstAnsweredAt: 100,
    ...over,
  });
  const order = (...players: StandingKey[]) => [...players].sort(compareStandings).map((p) => p.requestorId);

  it('the higher score first', () => {
    expect(order(player('a', { score: 900 }), player('b', { score: 1500, totalAnswerMs: 99_000 }))).toEqual([
      'b',
      'a',
    ]);
  });

  it('"then by total answer time": on equal scores, less total answer time first', () => {
    expect(order(player('a', { totalAnswerMs: 7_000 }), player('b', { totalAnswerMs: 6_999 }))).toEqual([
      'b',
      'a',
    ]);
  });

  it('"then by who answered first": on equal scores and times, the earlier first answer first', () => {
    expect(order(player('a', { firstAnsweredAt: 300 }), player('b', { firstAnsweredAt: 200 }))).toEqual([
      'b',
      'a',
    ]);
  });

  it('then requestor id, in code-unit order, so the order is total and every reader sorts alike', () => {
    expect(order(player('b'), player('a'), player('B'))).toEqual(['B', 'a', 'b']);
    expect(compareStandings(player('a'), player('a'))).toBe(0);
  });

  it('is a total order: antisymmetric and transitive, 0 only for equal keys (fast-check)', () => {
    const key = fc.record({
      requestorId: fc.constantFrom('a', 'b', 'c'),
      score: fc.integer({ min: 0, max: 3 }),
      totalAnswerMs: fc.integer({ min: 0, max: 3 }),
      firstAnsweredAt: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(key, key, key, (a, b, c) => {
        expect(Math.sign(compareStandings(a, b))).toBe(-Math.sign(compareStandings(b, a)) || 0);
        if (compareStandings(a, b) === 0) expect(a).toEqual(b);
        if (compareStandings(a, b) < 0 && compareStandings(b, c) < 0)
          expect(compareStandings(a, c)).toBeLessThan(0);
      }),
    );
  });
});
