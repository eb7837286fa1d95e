import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  formatIssues,
  parseShowText,
  pollCueBytes,
  validateExecutionInput,
  validateShow,
} from '../../core/show.ts';

const poll = (over: Record<string, unknown> = {}) => ({
  id: 'q1',
  at: '0:30',
  question: 'Cats sleep 12–16 hours a day.',
  answers: ['True', 'False'],
  ...over,
});
const show = (over: Record<string, unknown> = {}) => ({
  id: 'cat-facts',
  title: 'Cat Facts',
  polls: [poll()],
  ...over,
});
const messages = (input: unknown) => {
  const result = validateShow(input);
  if (result.ok) throw new Error('expected the show to be rejected');
  return formatIssues(result.issues);
};

describe('show files (DESIGN.md: "Errors name the path")', () => {
  it('accepts the shipped demo and test shows', () => {
    for (const file of ['demo.json', 'test-short.json']) {
      const result = parseShowText(readFileSync(new URL(`../../shows/${file}`, import.meta.url), 'utf8'));
      expect(result.ok ? 'ok' : formatIssues(result.issues)).toBe('ok');
    }
  });

  it('fills defaults: duration 30 s, latencyGraceSeconds 10', () => {
    const result = validateShow(show());
    expect(result.ok && result.value.polls[0]!.duration).toBe(30);
    expect(result.ok && result.value.latencyGraceSeconds).toBe(10);
  });

  it('names the path of a poll with too few answers', () => {
    const input = show({ polls: [poll(), poll({ id: 'q2', at: '5:00', answers: ['Only'] })] });
    expect(messages(input)).toBe('polls[1].answers: expected 2–6 answers, got 1');
  });

  it.each([
    [{ id: 'Bad Id' }, /^id: expected 1–40 lowercase/],
    [{ title: '' }, /^title: a title must not be empty/],
    [{ polls: [] }, /^polls: expected at least one poll/],
    [{ polls: 'x' }, /^polls: expected an array of polls/],
    [{ latencyGraceSeconds: 61 }, /^latencyGraceSeconds: expected at most 60 seconds/],
    [{ extra: true }, /^extra: unknown field/],
    [
      { polls: [poll({ answers: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] })] },
      /^polls\[0\]\.answers: expected 2–6 answers, got 7/,
    ],
    [{ polls: [poll({ answers: ['a', ''] })] }, /^polls\[0\]\.answers\[1\]: an answer must not be empty/],
    [{ polls: [poll({ correct: 2 })] }, /^polls\[0\]\.correct: expected an index from 0 to 1, got 2/],
    [{ polls: [poll({ correct: 0.5 })] }, /^polls\[0\]\.correct: expected a whole number/],
    [{ polls: [poll({ duration: 2 })] }, /^polls\[0\]\.duration: expected at least 5 seconds/],
    [
      { polls: [poll({ at: 'soon' })] },
      /^polls\[0\]\.at: expected seconds, "m:ss", "h:mm:ss" or "manual", got "soon"/,
    ],
    [{ polls: [poll({ at: true })] }, /^polls\[0\]\.at: expected seconds/],
    [{ polls: [poll({ colour: 'red' })] }, /^polls\[0\]\.colour: unknown field/],
    [
      { polls: [poll({ question: 'x'.repeat(301) })] },
      /^polls\[0\]\.question: a question is longer than 300 characters \(301\)/,
    ],
  ])('rejects %j with a path-named error', (over, expected) => {
    expect(messages(show(over))).toMatch(expected);
  });

  it('rejects a non-object with a root error', () => {
    expect(messages(null)).toBe('(root): expected a show object');
    expect(formatIssues((parseShowText('{"id":') as unknown as { issues: never[] }).issues)).toMatch(
      /^\(root\): not valid JSON/,
    );
  });

  it('rejects duplicate poll ids, naming both places', () => {
    const input = show({ polls: [poll(), poll({ at: '5:00' })] });
    expect(messages(input)).toBe('polls[1].id: duplicate id "q1" (also polls[0])');
  });

  it('rejects a poll asked before the previous one closes (at + duration + latencyGraceSeconds)', () => {
    // q1: asked 0:30, 30 s to answer, 10 s grace → closes 1:10.
    const input = show({ polls: [poll(), poll({ id: 'q2', at: '1:09' })] });
    expect(messages(input)).toMatch(
      /^polls\[1\]\.at: overlaps "q1": asked at 1:09, before "q1" closes at 1:10/,
    );
    expect(validateShow(show({ polls: [poll(), poll({ id: 'q2', at: '1:10' })] })).ok).toBe(true);
  });

  it('lets a timed poll follow a manual one without an overlap check', () => {
    const input = show({ polls: [poll({ at: 'manual' }), poll({ id: 'q2', at: '0:01' })] });
    expect(validateShow(input).ok).toBe(true);
  });

  it('rejects a poll whose cue would exceed 1 KB, counting UTF-8 bytes, not characters', () => {
    // 6 answers × 80 chars of a 3-byte character is 1,440 bytes but only 480 characters.
    const heavy = poll({ answers: Array.from({ length: 6 }, () => '猫'.repeat(80)) });
    expect(messages(show({ polls: [heavy] }))).toMatch(
      /^polls\[0\]: its poll cue would be \d+ bytes, over the 1024-byte IVS limit/,
    );
    const light = poll({ answers: Array.from({ length: 6 }, () => 'x'.repeat(80)) });
    const ok = validateShow(show({ polls: [light] }));
    expect(ok.ok).toBe(true);
    expect(ok.ok && pollCueBytes(ok.value.polls[0]!)).toBeLessThanOrEqual(1024);
  });

  it('execution input: the show file itself, optionally with an ISO startAt', () => {
    expect(validateExecutionInput({ ...show(), startAt: '2026-11-25T18:00:00Z' }).ok).toBe(true);
    const bad = validateExecutionInput({ ...show(), startAt: 'tomorrow' });
    expect(bad.ok ? '' : formatIssues(bad.issues)).toMatch(/^startAt: expected an ISO 8601 date-time/);
    expect(validateShow({ ...show(), startAt: '2026-11-25T18:00:00Z' }).ok).toBe(false);
    expect(
      validateExecutionInput({ ...show(), channelArn: 'arn:aws:ivs:us-east-1:000000000000:channel/local' })
        .ok,
    ).toBe(true);
    const badChannel = validateExecutionInput({ ...show(), channelArn: 'local' });
    expect(badChannel.ok ? '' : formatIssues(badChannel.issues)).toMatch(
      /^channelArn: expected an IVS channel ARN/,
    );
  });
});
