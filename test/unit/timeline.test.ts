import { describe, expect, it } from '@jest/globals';
import { formatOffset, parseAt } from '../../core/timeline.ts';

describe('`at`: seconds, m:ss / h:mm:ss from show start, or "manual" (DESIGN.md)', () => {
  it.each([
    [90, 90],
    ['90', 90],
    ['1.5', 1.5],
    ['0:30', 30],
    ['1:30', 90],
    ['1:02:03', 3723],
    ['12:00', 720],
    [' 2:05 ', 125],
  ])('%j is %d s', (input, seconds) => {
    expect(parseAt(input)).toEqual({ kind: 'offset', seconds });
  });

  it('"manual" waits for the producer', () => {
    expect(parseAt('manual')).toEqual({ kind: 'manual' });
  });

  it.each([-1, Number.NaN, 'later', '1:5', '1:60', '1:60:00', '::', '1:2:3:4', 'Manual'])(
    'rejects %j',
    (input) => {
      expect(typeof parseAt(input as never)).toBe('string');
    },
  );

  it('formats offsets back as producers write them', () => {
    expect(formatOffset(5)).toBe('0:05');
    expect(formatOffset(90)).toBe('1:30');
    expect(formatOffset(3723)).toBe('1:02:03');
  });
});
