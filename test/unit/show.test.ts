import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { MAX_CUE_BYTES } from '../../contract/cues.ts';
import { TALLY_SLICE_MS } from '../../lambdas/poll-lifecycle.ts';
import { planShow } from '../../core/plan.ts';
import {
  MAX_DURATION_SECONDS,
  MAX_LATENCY_GRACE_SECONDS,
  MAX_POLLS,
  MAX_REPORTED_ISSUES,
  formatIssues,
  parseShowText,
  pollCueBytes,
  showJsonSchema,
  summarizeIssues,
  validateExecutionInput,
  validateShow,
} from '../../core/show.ts';
import { MAX_AT_SECONDS, MAX_RUN_SECONDS } from '../../core/timeline.ts';

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

describe('show files: "Errors name the path"', () => {
  it('accepts the shipped demo and test shows', () => {
    for (const file of ['demo.json', 'test-short.json']) {
      const result = parseShowText(readFileSync(new URL(`../../shows/${file}`, import.meta.url), 'utf8'));
      expect(result.ok ? 'ok' : formatIssues(result.issues)).toBe('ok');
    }
  });

  it('fills defaults: duration 30 s, latencyGraceSeconds 5', () => {
    const result = validateShow(show());
    expect(result.ok && result.value.polls[0]!.duration).toBe(30);
    expect(result.ok && result.value.latencyGraceSeconds).toBe(5);
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
    // q1: asked 0:30, 30 s to answer, 5 s grace → closes 1:05.
    const input = show({ polls: [poll(), poll({ id: 'q2', at: '1:04' })] });
    expect(messages(input)).toMatch(
      /^polls\[1\]\.at: overlaps "q1": asked at 1:04, before "q1" closes at 1:05/,
    );
    expect(validateShow(show({ polls: [poll(), poll({ id: 'q2', at: '1:05' })] })).ok).toBe(true);
  });

  it('lets a timed poll follow a manual one without an overlap check', () => {
    const input = show({ polls: [poll({ at: 'manual' }), poll({ id: 'q2', at: '0:01' })] });
    expect(validateShow(input).ok).toBe(true);
  });

  it('rejects a poll whose cue would exceed 1 KB, counting UTF-8 bytes, not characters', () => {
    // 6 answers × 80 chars, 79 of them a 3-byte character, is 1,428 bytes but only 480 characters.
    // (Each answer starts with its index: answers must differ.)
    const heavy = poll({ answers: Array.from({ length: 6 }, (_, i) => `${i}${'猫'.repeat(79)}`) });
    expect(messages(show({ polls: [heavy] }))).toMatch(
      /^polls\[0\]: its poll cue would be \d+ bytes, over the 1024-byte IVS limit/,
    );
    const light = poll({ answers: Array.from({ length: 6 }, (_, i) => `${i}${'x'.repeat(79)}`) });
    const ok = validateShow(show({ polls: [light] }));
    expect(ok.ok).toBe(true);
    expect(ok.ok && pollCueBytes(ok.value.polls[0]!)).toBeLessThanOrEqual(1024);
  });

  it('reports every problem in one pass, schema and cross-field rules together, in file order', () => {
    const input = show({
      polls: [
        poll({ answers: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], correct: 9, at: 10, duration: 20 }),
        poll({ id: 'q2', at: '1m30s', duration: 3 }),
        poll({ at: 40, bogus: true }),
        poll({ id: 'q3', at: 45, answers: ['Yes', 'Yes'] }),
      ],
    });
    expect(messages(input).split('\n')).toEqual([
      'polls[0].answers: expected 2–6 answers, got 7',
      'polls[0].correct: expected an index from 0 to 6, got 9',
      'polls[1].at: expected seconds, "m:ss", "h:mm:ss" or "manual", got "1m30s"',
      'polls[1].duration: expected at least 5 seconds',
      'polls[2].id: duplicate id "q1" (also polls[0])',
      'polls[2].bogus: unknown field',
      // q1 (polls[2]) is asked at 0:40 and closes at 0:40 + 30 s + 5 s grace = 1:15.
      'polls[3].at: overlaps "q1": asked at 0:45, before "q1" closes at 1:15 (its at + duration + latencyGraceSeconds); polls run one at a time, in file order',
      'polls[3].answers[1]: duplicate of answers[0] "Yes"',
    ]);
  });

  it('judges no overlap against a poll whose own at, duration or the show grace is invalid', () => {
    const bad = (over: Record<string, unknown>, showOver: Record<string, unknown> = {}) =>
      messages(show({ polls: [poll(over), poll({ id: 'q2', at: '0:31' })], ...showOver }));
    expect(bad({ duration: 1 })).toBe('polls[0].duration: expected at least 5 seconds');
    expect(bad({ at: 'soon' })).toMatch(/^polls\[0\]\.at: expected seconds/);
    expect(bad({}, { latencyGraceSeconds: -1 })).toBe('latencyGraceSeconds: expected ≥ 0');
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

describe('show limits that keep a run inside Step Functions', () => {
  const timed = (i: number, over: Record<string, unknown> = {}) =>
    poll({ id: `q${i}`, at: i * 60, duration: 5, ...over });

  it('"Duplicate answers are rejected with an error naming the path": polls[0].answers[1]: duplicate of answers[0] "Yes"', () => {
    expect(messages(show({ polls: [poll({ answers: ['Yes', 'Yes'] })] }))).toBe(
      'polls[0].answers[1]: duplicate of answers[0] "Yes"',
    );
    // Compared as viewers see them: after trimming.
    expect(messages(show({ polls: [poll({ answers: ['No', 'Yes', ' Yes '] })] }))).toBe(
      'polls[0].answers[2]: duplicate of answers[1] "Yes"',
    );
    expect(validateShow(show({ polls: [poll({ answers: ['Yes', 'yes'] })] })).ok).toBe(true);
  });

  it(`"An inline Map runs at most 40 iterations at once": a show has at most MAX_POLLS (${MAX_POLLS}) polls`, () => {
    expect(MAX_POLLS).toBeLessThanOrEqual(40);
    const polls = (n: number) => Array.from({ length: n }, (_, i) => timed(i));
    expect(validateShow(show({ polls: polls(MAX_POLLS) })).ok).toBe(true);
    expect(messages(show({ polls: polls(MAX_POLLS + 1) }))).toMatch(
      new RegExp(`^polls: expected at most ${MAX_POLLS} polls, got ${MAX_POLLS + 1}`),
    );
    // The editor schema and its description come from the same constant.
    const schema = showJsonSchema() as { properties: { polls: { maxItems: number; description: string } } };
    expect(schema.properties.polls.maxItems).toBe(MAX_POLLS);
    expect(schema.properties.polls.description).toContain(`at most ${MAX_POLLS}`);
  });

  it('docs/show-limits.md states the limits from the same constants', () => {
    const doc = readFileSync(new URL('../../docs/show-limits.md', import.meta.url), 'utf8');
    expect(doc).toContain(`at most ${MAX_POLLS} polls (\`MAX_POLLS\``);
    expect(doc).toContain(`at most ${MAX_AT_SECONDS} seconds (364 days, \`MAX_AT_SECONDS\``);
    expect(doc).toContain(`the first ${MAX_REPORTED_ISSUES} issues (\`MAX_REPORTED_ISSUES\``);
    expect(doc).toContain(`${MAX_CUE_BYTES.toLocaleString('en-US')} bytes of UTF-8 (\`MAX_CUE_BYTES\``);
  });

  it('"Step Functions keeps at most 25,000 events per execution": the longest show stays well under, per-second tallies out of the history', () => {
    const doc = readFileSync(new URL('../../docs/show-limits.md', import.meta.url), 'utf8');
    const longestOpenSeconds = MAX_DURATION_SECONDS + MAX_LATENCY_GRACE_SECONDS;
    const slices = Math.ceil((longestOpenSeconds * 1000) / TALLY_SLICE_MS);
    expect(TALLY_SLICE_MS).toBeLessThan(15 * 60_000); // the Lambda's longest timeout
    expect(doc).toContain(
      `1,800 s of \`duration\` plus 60 s of grace = ${longestOpenSeconds.toLocaleString('en-US')} s: ${slices} slices (${slices * 7}`,
    );
    const perPoll = 2 + 8 + 3 + 20 + slices * 7;
    expect(doc).toContain(`costs 2 + 8 + 3 + 20 + ${slices * 7} = **${perPoll} events**`);
    expect(doc).toContain(`(${MAX_POLLS} such polls) **${(perPoll * MAX_POLLS).toLocaleString('en-US')}**`);
    expect(perPoll * MAX_POLLS + 20 + MAX_POLLS * 2 * 21).toBeLessThan(25_000 / 5);
  });

  it(`"at" is bounded: at most MAX_AT_SECONDS (${MAX_AT_SECONDS} s, 364 days), so 1e13 is rejected instead of Plan throwing RangeError`, () => {
    expect(MAX_AT_SECONDS).toBeLessThan(MAX_RUN_SECONDS);
    expect(MAX_RUN_SECONDS).toBe(365 * 86_400);
    for (const at of [1e13, MAX_AT_SECONDS + 1, String(MAX_AT_SECONDS + 1), '8736:00:01', '1e13']) {
      expect(messages(show({ polls: [poll({ at })] }))).toMatch(/^polls\[0\]\.at: expected /);
    }
    expect(messages(show({ polls: [poll({ at: 1e13 })] }))).toBe(
      `polls[0].at: expected at most ${MAX_AT_SECONDS} seconds (364 days) from show start, got 10000000000000: ` +
        'a run must ask its last question within the year a Step Functions execution may last',
    );
    // The largest allowed offset plans to a valid absolute time.
    const latest = validateExecutionInput(show({ polls: [poll({ at: '8736:00:00' })] }));
    expect(latest.ok).toBe(true);
    if (latest.ok) {
      const plan = planShow(latest.value, 'run', new Date('2030-01-01T00:00:00Z'));
      expect(plan.polls[0]!.askAt).toBe('2030-12-31T00:00:00.000Z');
    }
    const schema = JSON.stringify(showJsonSchema());
    expect(schema).toContain(`"maximum":${MAX_AT_SECONDS}`);
  });

  it('"A start plus last offset beyond 365 days exceeds a Standard execution": startAt is bounded against the run\'s start', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const input = (startAt: string, lastAt: number) => ({
      ...show({ polls: [timed(0), poll({ id: 'last', at: lastAt, duration: 5 })] }),
      startAt,
    });
    // 200 days ahead, last question 100 days in: 300 days from now, fine.
    expect(validateExecutionInput(input('2030-07-20T00:00:00Z', 100 * 86_400), { now }).ok).toBe(true);
    // 200 days ahead, last question 200 days in: 400 days from now.
    const late = validateExecutionInput(input('2030-07-20T00:00:00Z', 200 * 86_400), { now });
    expect(late.ok ? '' : formatIssues(late.issues)).toBe(
      'startAt: 2030-07-20T00:00:00Z is 200.0 days away and polls[1] is asked 200.0 days after it: ' +
        'a run must ask its last question within 364 days of being started (a Step Functions execution lasts at most a year)',
    );
    const farAway = validateExecutionInput(input('9999-12-31T00:00:00Z', 60), { now });
    expect(farAway.ok ? '' : formatIssues(farAway.issues)).toMatch(
      /^startAt: 9999-12-31T00:00:00Z is \d+\.\d days away/,
    );
    // Without the run's start (showrunner validate), only the file's own bounds apply.
    expect(validateExecutionInput(input('9999-12-31T00:00:00Z', 60)).ok).toBe(true);
  });

  it('"A channel outside the stack\'s grant fails at Plan": channelArn must be one the stack may send cues to', () => {
    const stack = 'arn:aws:ivs:us-east-1:123456789012:channel/Stack1234';
    const extra = 'arn:aws:ivs:us-east-1:123456789012:channel/Extra1234';
    const foreign = 'arn:aws:ivs:us-east-1:123456789012:channel/Other1234';
    const channelArns = [stack, extra];
    expect(validateExecutionInput(show(), { channelArns }).ok).toBe(true);
    expect(validateExecutionInput({ ...show(), channelArn: extra }, { channelArns }).ok).toBe(true);
    const refused = validateExecutionInput({ ...show(), channelArn: foreign }, { channelArns });
    expect(refused.ok ? '' : formatIssues(refused.issues)).toBe(
      `channelArn: ${foreign} is not a channel this stack may send cues to (${stack}, ${extra}): ` +
        "deploy the stack with it in -c extraChannelArns=…, or leave channelArn out to use the stack's channel",
    );
  });

  it('"A failure\'s Cause is capped at 32,768 characters": the message lists the first 20 issues, then "and N more"', () => {
    // 40 polls, each with several issues, echoing long producer text full of characters JSON escapes.
    const nasty = `"\\\u0001`.repeat(5000);
    const input = show({
      polls: Array.from({ length: MAX_POLLS }, (_, i) => ({
        id: `q${i}`,
        at: nasty,
        question: '',
        answers: ['only'],
        [nasty]: true,
      })),
    });
    const result = validateExecutionInput(input);
    expect(result.ok).toBe(false);
    const issues = result.ok ? [] : result.issues;
    expect(issues.length).toBeGreaterThan(MAX_REPORTED_ISSUES);
    const message = summarizeIssues(issues);
    const lines = message.split('\n');
    expect(MAX_REPORTED_ISSUES).toBe(20);
    expect(lines).toHaveLength(MAX_REPORTED_ISSUES + 1);
    // Each is the issue as formatIssues writes it, or its start and "…" when the echoed text is long.
    lines.slice(0, MAX_REPORTED_ISSUES).forEach((line, i) => {
      const full = `${issues[i]!.path}: ${issues[i]!.message}`;
      if (line !== full) {
        expect(line.endsWith('…')).toBe(true);
        expect(full.startsWith(line.slice(0, -1))).toBe(true);
      }
    });
    expect(lines[0]).toMatch(/^polls\[0\]/);
    expect(lines.at(-1)).toBe(`… and ${issues.length - MAX_REPORTED_ISSUES} more issues`);
    // The Cause Step Functions records for a Lambda error: its JSON, with the stack (which repeats the message).
    const error = Object.assign(new Error(message), { name: 'ShowValidationError' });
    const cause = JSON.stringify({
      errorType: error.name,
      errorMessage: error.message,
      trace: error.stack!.split('\n'),
    });
    expect(cause.length).toBeLessThanOrEqual(32_768);
    // Few issues: the message is exactly formatIssues.
    expect(summarizeIssues([{ path: 'id', message: 'x' }])).toBe('id: x');
  });
});
