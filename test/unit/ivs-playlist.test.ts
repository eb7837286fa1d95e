import { describe, expect, it } from '@jest/globals';
import HLS from 'hls-parser';
import { LiveWindow } from '../../local/ivs/playlist.ts';

const segment = (sequence: number, duration = 1) => ({
  sequence,
  uri: `s-${sequence}.ts`,
  duration,
  programDateTime: new Date(Date.UTC(2026, 0, 1, 12, 0, sequence)),
});

describe('LiveWindow', () => {
  it('lists the last N segments and releases them only after the grace period', () => {
    const window = new LiveWindow({ size: 3, grace: 2, targetDuration: 1 });
    expect(window.render()).toBeUndefined();
    const released: number[] = [];
    for (let i = 0; i < 8; i++) released.push(...window.add(segment(i)).map((s) => s.sequence));
    expect(window.listed.map((s) => s.sequence)).toEqual([5, 6, 7]);
    expect(window.retained.map((s) => s.sequence)).toEqual([3, 4, 5, 6, 7]);
    expect(released).toEqual([0, 1, 2]);
    expect(window.find('s-3.ts')?.sequence).toBe(3); // still servable to a player holding the older playlist
    expect(window.find('s-2.ts')).toBeUndefined();
  });

  it('renders a live media playlist hls-parser reads back, with program date-times and the media sequence', () => {
    const window = new LiveWindow({ size: 3, grace: 2, targetDuration: 1 });
    for (let i = 10; i < 15; i++) window.add(segment(i, i === 13 ? 0.4 : 1));
    const text = window.render()!;
    expect(text).toContain('#EXT-X-TARGETDURATION:1\n');
    expect(text).not.toContain('#EXT-X-ENDLIST');
    const parsed = HLS.parse(text) as InstanceType<typeof HLS.types.MediaPlaylist>;
    expect(parsed.mediaSequenceBase).toBe(12);
    expect(parsed.segments.map((s) => [s.uri, s.duration, s.programDateTime?.toISOString()])).toEqual([
      ['s-12.ts', 1, '2026-01-01T12:00:12.000Z'],
      ['s-13.ts', 0.4, '2026-01-01T12:00:13.000Z'],
      ['s-14.ts', 1, '2026-01-01T12:00:14.000Z'],
    ]);
  });

  it('raises EXT-X-TARGETDURATION once if a longer segment ever appears, and keeps it', () => {
    const window = new LiveWindow({ size: 2, grace: 0, targetDuration: 1 });
    window.add(segment(0, 1.6));
    for (let i = 1; i < 5; i++) window.add(segment(i));
    expect(window.targetDuration).toBe(2);
    expect(window.render()).toContain('#EXT-X-TARGETDURATION:2\n');
  });

  it('marks a gap (segments that could not be written) as a discontinuity, counted once it leaves the playlist', () => {
    const window = new LiveWindow({ size: 3, grace: 1, targetDuration: 1 });
    for (let i = 0; i < 3; i++) window.add(segment(i));
    window.add({ ...segment(3), discontinuity: true });
    const gap = HLS.parse(window.render()!) as InstanceType<typeof HLS.types.MediaPlaylist>;
    expect(gap.segments.map((s) => [s.mediaSequenceNumber, s.discontinuity ?? false])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(window.render()).not.toContain('#EXT-X-DISCONTINUITY-SEQUENCE');
    // Once the marked segment has left the playlist (even if still retained), players are told how
    // many discontinuities came before it, so their timelines stay numbered alike.
    for (let i = 4; i < 7; i++) window.add(segment(i));
    const text = window.render()!;
    expect(text).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:1\n');
    expect(text).not.toContain('#EXT-X-DISCONTINUITY\n');
    window.add(segment(7));
    expect(window.render()).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:1\n');
  });
});
