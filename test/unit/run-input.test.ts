// A show is parsed and checked once (core/show.ts ValidShow) and a run's fields are checked on top of
// it (checkRunInput), without checking the show again: the issues must be exactly those the run's
// Plan step names for the whole execution input (validateExecutionInput), in the same order.
import { describe, expect, it } from '@jest/globals';
import {
  checkRunInput,
  parseShowText,
  readShowText,
  validateExecutionInput,
  validateShow,
  ValidShow,
  type RunContext,
  type RunFields,
} from '../../core/show.ts';

const SHOW = {
  id: 'cats',
  title: 'Cat Facts Live',
  polls: [
    { id: 'q1', at: 30, question: 'Cats sleep 12–16 hours a day.', answers: ['True', 'False'], correct: 0 },
    { id: 'q2', at: '100:00:00', question: 'Best cat?', answers: ['Tabby', 'Siamese'] },
  ],
};
const CHANNEL = 'arn:aws:ivs:us-east-1:123456789012:channel/AbCd1234';
const NOW = new Date('2030-01-01T00:00:00Z');

const cases: Array<[string, RunFields, RunContext]> = [
  ['no fields', {}, {}],
  ['a start time and a channel', { startAt: '2030-01-02T00:00:00Z', channelArn: CHANNEL }, {}],
  ['a start time that is not one', { startAt: 'tomorrow' }, {}],
  ['a channel that is not an ARN, and a bad start time', { startAt: 'soon', channelArn: 'local' }, {}],
  [
    'a channel the stack may not cue',
    { channelArn: CHANNEL },
    { channelArns: ['arn:aws:ivs:x:1:channel/y'] },
  ],
  ['a start too far away for a run to last', { startAt: '2030-12-20T00:00:00Z' }, { now: NOW }],
];

describe('checkRunInput', () => {
  const valid = ValidShow.check(SHOW);
  if (!valid.ok) throw new Error('the test show is valid');

  it.each(cases)(
    '%s: a ValidShow gets exactly the Plan step’s issues and value',
    (_name, fields, context) => {
      const whole = validateExecutionInput({ ...SHOW, ...fields }, context);
      const checked = checkRunInput(valid.value, fields, context);
      if (whole.ok) {
        expect(checked).toEqual({ ok: true, value: { input: { ...SHOW, ...fields }, value: whole.value } });
      } else {
        expect(checked).toEqual({ ok: false, issues: whole.issues });
      }
    },
  );

  it('a show not checked yet is checked whole, its issues and the fields’ together, in file order', () => {
    const bad = { ...SHOW, polls: [{ ...SHOW.polls[0], answers: ['True'] }, SHOW.polls[1]] };
    const fields = { startAt: 'soon', channelArn: 'local' };
    const checked = checkRunInput(bad, fields);
    const whole = validateExecutionInput({ ...bad, ...fields });
    expect(whole.ok).toBe(false);
    expect(checked).toEqual(whole);
    expect(checked.ok ? [] : checked.issues.map((i) => i.path)).toEqual([
      'polls[0].answers',
      'startAt',
      'channelArn',
    ]);
  });

  it('keeps the show as written (no defaults filled in) for the execution input', () => {
    const checked = checkRunInput(valid.value, { startAt: '2030-01-02T00:00:00Z' });
    expect(checked.ok && checked.value.input).toEqual({ ...SHOW, startAt: '2030-01-02T00:00:00Z' });
    expect(checked.ok && checked.value.value.latencyGraceSeconds).toBe(valid.value.show.latencyGraceSeconds);
  });
});

describe('readShowText', () => {
  it('parses and checks the text once: the ValidShow holds what parseShowText and validateShow give', () => {
    const text = JSON.stringify(SHOW);
    const read = readShowText(text);
    if (!read.ok) throw new Error('the test show is valid');
    expect(read.value.written).toEqual(SHOW);
    expect(parseShowText(text)).toEqual({ ok: true, value: read.value.show });
    expect(validateShow(SHOW)).toEqual({ ok: true, value: read.value.show });
  });

  it('reports what parseShowText reports for text that is not a valid show', () => {
    for (const text of ['{"id":', JSON.stringify({ ...SHOW, polls: [] })]) {
      expect(readShowText(text)).toEqual(parseShowText(text));
      expect(readShowText(text).ok).toBe(false);
    }
  });
});
