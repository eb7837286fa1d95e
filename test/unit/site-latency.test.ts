// `?latency=N`: how far behind live a viewer plays, capped to the stream's window and the show's
// grace, and always a legal hls.js config (liveMaxLatencyDuration > liveSyncDuration).
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  latencyNotice,
  parseLatency,
  planLatency,
  widerWindow,
  type StreamWindow,
} from '../../site/src/lib/latency.ts';

/** The local stream: 30 half-second segments, EXT-X-TARGETDURATION 1, long past its start. */
const LOCAL: StreamWindow = { seconds: 15, targetDuration: 1, sliding: true };

describe('parseLatency', () => {
  it.each([
    ['?latency=12', 12],
    ['?latency=2.5', 2.5],
    ['?latency=1', 1],
    ['?x=1&latency=40', 40],
    ['', null],
    ['?latency=', null],
    ['?latency=%20', null],
    ['?latency=abc', null],
    ['?latency=0.5', null],
    ['?latency=-3', null],
    ['?latency=Infinity', null],
  ])('%s → %p', (search, expected) => {
    expect(parseLatency(search)).toBe(expected);
  });
});

describe('planLatency', () => {
  it('without ?latency plays 1 s behind live and lets viewers fall 12 s behind on the local stream', () => {
    expect(planLatency(null, LOCAL, null)).toEqual({
      requested: null,
      seconds: 1,
      maxSeconds: 12,
      cappedBy: null,
    });
  });

  it('before the playlist is known, is already a legal hls.js config', () => {
    const plan = planLatency(20, null, null);
    expect(plan.seconds).toBe(20);
    expect(plan.maxSeconds).toBeGreaterThan(plan.seconds);
  });

  it('keeps a request the stream allows', () => {
    expect(planLatency(5, LOCAL, null)).toEqual({ requested: 5, seconds: 5, maxSeconds: 12, cappedBy: null });
  });

  it.each([12, 20, 1000])(
    'caps ?latency=%d to the 15 s window less headroom and slack (the old "Illegal hls.js config")',
    (requested) => {
      const plan = planLatency(requested, LOCAL, null);
      expect(plan).toEqual({ requested, seconds: 10, maxSeconds: 12, cappedBy: 'stream' });
      expect(latencyNotice(plan)).toBe('Playing 10 s behind live (the most this stream allows).');
    },
  );

  it('scales the window margins with the target duration', () => {
    // 60 s of 6 s segments: 18 s headroom, 12 s slack.
    expect(planLatency(60, { seconds: 60, targetDuration: 6, sliding: true }, null)).toMatchObject({
      seconds: 30,
      maxSeconds: 42,
    });
  });

  it('does not cap by a window still filling (nothing has left it yet)', () => {
    const plan = planLatency(12, { seconds: 6, targetDuration: 1, sliding: false }, null);
    expect(plan).toMatchObject({ seconds: 12, cappedBy: null });
    expect(plan.maxSeconds).toBeGreaterThan(12);
  });

  it('caps to the show’s grace less the live edge’s own delay, and says why', () => {
    const plan = planLatency(12, LOCAL, 10);
    expect(plan).toEqual({ requested: 12, seconds: 6, maxSeconds: 8, cappedBy: 'grace' });
    expect(latencyNotice(plan)).toBe(
      'Playing 6 s behind live (the most that still lets your answers count).',
    );
  });

  it('names the tighter of the two limits', () => {
    expect(planLatency(30, LOCAL, 30).cappedBy).toBe('stream');
    expect(planLatency(30, LOCAL, 12).cappedBy).toBe('grace');
    expect(planLatency(30, null, 12).cappedBy).toBe('grace');
  });

  it('never goes below the default, and stays legal, when the grace leaves no room', () => {
    const plan = planLatency(5, LOCAL, 0);
    expect(plan).toMatchObject({ seconds: 1, cappedBy: 'grace' });
    expect(plan.maxSeconds).toBeGreaterThan(1);
  });

  it('says nothing to a viewer who did not ask', () => {
    expect(latencyNotice(planLatency(null, LOCAL, 0))).toBeNull();
    expect(latencyNotice(planLatency(4, LOCAL, 30))).toBeNull();
  });

  it('always gives hls.js max > sync, never more than asked, never less than 1 s', () => {
    fc.assert(
      fc.property(
        fc.option(fc.double({ min: 1, max: 1e4, noNaN: true }), { nil: null }),
        fc.option(
          fc.record({
            seconds: fc.double({ min: 0, max: 600, noNaN: true }),
            targetDuration: fc.constantFrom(0.5, 1, 2, 6, 10),
            sliding: fc.boolean(),
          }),
          { nil: null },
        ),
        fc.option(fc.integer({ min: 0, max: 60 }), { nil: null }),
        (requested, window, grace) => {
          const plan = planLatency(requested, window, grace);
          expect(plan.maxSeconds).toBeGreaterThan(plan.seconds);
          expect(plan.seconds).toBeGreaterThanOrEqual(1);
          expect(plan.seconds).toBeLessThanOrEqual(requested ?? 1);
          expect(plan.cappedBy !== null).toBe(requested !== null && plan.seconds < requested);
        },
      ),
    );
  });
});

describe('widerWindow', () => {
  it('keeps the widest window seen, so a refresh that lists a little less changes nothing', () => {
    const known = { seconds: 15, targetDuration: 1, sliding: true };
    expect(widerWindow(known, { ...known, seconds: 14.5 })).toBe(known);
    expect(widerWindow(known, { ...known })).toBe(known);
    expect(widerWindow(known, { ...known, seconds: 16 })).toEqual({ ...known, seconds: 16 });
  });

  it('takes the first window, and the first sliding one over a filling one', () => {
    const filling = { seconds: 14, targetDuration: 1, sliding: false };
    expect(widerWindow(null, filling)).toBe(filling);
    expect(widerWindow(filling, { seconds: 10, targetDuration: 1, sliding: true })).toMatchObject({
      seconds: 10,
      sliding: true,
    });
    expect(widerWindow(LOCAL, filling)).toBe(LOCAL);
  });
});
