import { describe, expect, it } from '@jest/globals';
import { decodeCue, MAX_CUE_BYTES } from '../../contract/cues.ts';
import { CueTooLargeError, encodeCue, pollCue, resultsCue, tallyCue } from '../../core/cues.ts';

describe('timed metadata payloads: "≤ 1024 bytes UTF-8"', () => {
  it('the poll cue carries question, answers and duration, and never the correct answer', () => {
    const cue = pollCue('run-1:q1', {
      question: 'Q?',
      answers: ['A', 'B'],
      duration: 20,
      correct: 1,
    } as never);
    expect(JSON.parse(encodeCue(cue))).toEqual({
      v: 1,
      type: 'poll',
      poll_id: 'run-1:q1',
      question: 'Q?',
      answers: ['A', 'B'],
      duration: 20,
    });
  });

  it('the results cue carries counts, total and, for quiz questions, correct', () => {
    expect(JSON.parse(encodeCue(resultsCue('run-1:q1', [12, 40, 3], 0)))).toEqual({
      v: 1,
      type: 'results',
      poll_id: 'run-1:q1',
      counts: [12, 40, 3],
      total: 55,
      correct: 0,
    });
    expect(resultsCue('run-1:q2', [1, 2])).not.toHaveProperty('correct');
  });

  it('counts bytes, not characters: 1024 one-byte characters fit, 342 three-byte ones do not', () => {
    const base = JSON.stringify(pollCue('r:q', { question: '', answers: ['a', 'b'], duration: 5 })).length;
    const fits = pollCue('r:q', {
      question: 'x'.repeat(MAX_CUE_BYTES - base),
      answers: ['a', 'b'],
      duration: 5,
    });
    expect(Buffer.byteLength(encodeCue(fits))).toBe(MAX_CUE_BYTES);
    const over = pollCue('r:q', { question: '猫'.repeat(342), answers: ['a', 'b'], duration: 5 });
    expect(() => encodeCue(over)).toThrow(CueTooLargeError);
  });

  it('decodes our cues and ignores anything else', () => {
    const text = encodeCue(pollCue('r:q', { question: 'Q', answers: ['a', 'b'], duration: 5 }));
    expect(decodeCue(text)).toMatchObject({ type: 'poll', poll_id: 'r:q' });
    expect(decodeCue(encodeCue(resultsCue('r:q', [1, 0])))).toMatchObject({ type: 'results', total: 1 });
    expect(decodeCue(encodeCue(tallyCue('r:q', [2, 5])))).toEqual({
      v: 1,
      type: 'tally',
      poll_id: 'r:q',
      counts: [2, 5],
      total: 7,
    });
    for (const other of [
      '',
      'nope',
      '[]',
      '{"v":2,"type":"poll"}',
      '{"v":1,"type":"ad","poll_id":"x"}',
      '{"v":1,"type":"results","poll_id":"x","counts":[-1],"total":0}',
      // A tally never carries the quiz answer: only the results reveal it.
      '{"v":1,"type":"tally","poll_id":"x","counts":[1],"total":1,"correct":0}',
    ]) {
      expect(decodeCue(other)).toBeUndefined();
    }
  });
});
