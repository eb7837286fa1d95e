import { describe, expect, it } from '@jest/globals';
import {
  closingTime,
  countAnswers,
  effectiveState,
  viewPoll,
  voteRefusal,
  winners,
  type PollRecord,
} from '../../core/poll.ts';
import { httpErrorFor } from '../../lambdas/http-errors.ts';
import { makePollId, makeRunId, splitPollId } from '../../core/ids.ts';
import { planShow } from '../../core/plan.ts';
import { validateExecutionInput } from '../../core/show.ts';

const record = (over: Partial<PollRecord> = {}): PollRecord => ({
  pollId: 'run:q1',
  runId: 'run',
  question: 'Q?',
  answers: ['A', 'B', 'C'],
  correct: 2,
  state: 'open',
  openedAt: '2026-11-25T10:00:00.000Z',
  closesAt: '2026-11-25T10:00:30.000Z',
  voteShards: 4,
  ...over,
});

describe('poll rules', () => {
  it('a poll closes duration + latencyGraceSeconds after it is asked', () => {
    expect(closingTime(new Date('2026-11-25T10:00:00Z'), 20, 10).toISOString()).toBe(
      '2026-11-25T10:00:30.000Z',
    );
  });

  it('votes after closes_at are refused even if the close step has not run yet', () => {
    expect(effectiveState(record(), new Date('2026-11-25T10:00:29.999Z'))).toBe('open');
    expect(effectiveState(record(), new Date('2026-11-25T10:00:30.000Z'))).toBe('closed');
    // Core gives the reason; the API Lambda answers it with the status and code.
    const late = voteRefusal(record(), 0, new Date('2026-11-25T10:00:31Z'));
    expect(late).toEqual({ reason: 'poll_closed', message: 'poll run:q1 is closed' });
    expect(httpErrorFor(late!)).toEqual(expect.objectContaining({ statusCode: 409, code: 'poll_closed' }));
    const closed = voteRefusal(record({ state: 'closed' }), 0, new Date('2026-11-25T10:00:01Z'));
    expect(httpErrorFor(closed!)).toEqual(expect.objectContaining({ code: 'poll_closed' }));
    expect(voteRefusal(record(), 2, new Date('2026-11-25T10:00:01Z'))).toBeUndefined();
  });

  it('an answer index outside the poll is a 400 naming the field', () => {
    const refusal = voteRefusal(record(), 3, new Date('2026-11-25T10:00:01Z'));
    expect(refusal).toMatchObject({ reason: 'answer_out_of_range' });
    expect(httpErrorFor(refusal!)).toEqual(
      expect.objectContaining({ statusCode: 400, message: 'answer: expected an index from 0 to 2, got 3' }),
    );
  });

  it('tallies by index and finds the winners (several on a tie, none with no votes)', () => {
    expect(countAnswers([0, 2, 2, 1, 2, 7, -1], 3)).toEqual([1, 1, 3]);
    expect(winners([1, 1, 3])).toEqual([2]);
    expect(winners([2, 2, 0])).toEqual([0, 1]);
    expect(winners([0, 0])).toEqual([]);
  });

  it('shows `correct` only once the poll is closed and recounted', () => {
    const now = new Date('2026-11-25T10:00:05Z');
    expect(viewPoll(record(), [1, 0, 2], now)).not.toHaveProperty('correct');
    expect(viewPoll(record(), [1, 0, 2], now)).toMatchObject({ state: 'open', counts: [1, 0, 2], total: 3 });
    const closed = viewPoll(record({ state: 'closed', finalCounts: [1, 1, 2] }), [9, 9, 9], now);
    expect(closed).toMatchObject({ state: 'closed', counts: [1, 1, 2], total: 4, correct: 2 });
  });
});

describe('run and poll identity: poll_id = "<runId>:<pollId>"', () => {
  it('names runs <showId>-<UTC timestamp> and polls <runId>:<pollId>', () => {
    const runId = makeRunId('cat-facts', new Date('2026-11-25T06:15:00.123Z'));
    expect(runId).toBe('cat-facts-20261125T061500Z');
    expect(makePollId(runId, 'q1')).toBe('cat-facts-20261125T061500Z:q1');
    expect(splitPollId('cat-facts-20261125T061500Z:q1')).toEqual({ runId, localPollId: 'q1' });
    expect(splitPollId('no-colon')).toBeUndefined();
  });

  it('plans absolute ask times from the start, so long shows do not drift', () => {
    const input = validateExecutionInput({
      id: 'long',
      title: 'Long',
      startAt: '2026-11-25T18:00:00Z',
      polls: [
        { id: 'a', at: '0:30', question: 'A?', answers: ['x', 'y'], correct: 1 },
        { id: 'b', at: 'manual', question: 'B?', answers: ['x', 'y'] },
        { id: 'c', at: '2:59:30', question: 'C?', answers: ['x', 'y'] },
      ],
    });
    if (!input.ok) throw new Error('fixture');
    const plan = planShow(input.value, 'long-1', new Date('2026-11-25T17:00:00Z'));
    expect(plan.startAt).toBe('2026-11-25T18:00:00.000Z');
    expect(plan.polls.map((p) => [p.pollId, p.askAt, p.manual])).toEqual([
      ['long-1:a', '2026-11-25T18:00:30.000Z', false],
      ['long-1:b', null, true],
      ['long-1:c', '2026-11-25T20:59:30.000Z', false],
    ]);
    expect(plan.polls[0]).toMatchObject({ correct: 1, duration: 30, latencyGraceSeconds: 5 });
  });
});
