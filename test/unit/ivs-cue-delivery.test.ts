// Every payload PutMetadata accepted reaches a published segment, also when it was accepted at a seam:
// after a source's last frame (the source is ending, being replaced by a publisher, or restarting after a
// crash), while the next source is still being dropped up to its first keyframe, or on the last frame
// before the source stopped. The channel keeps one queue across sources, so a cue is delayed to the next
// frame on air, never lost.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  TsSegmenter,
  type InjectedMetadata,
  type Segment,
  type VideoFrame,
} from '../../local/ivs/segmenter.ts';
import { demux, readPrivFrames } from '../ivs/ts-reader.ts';

// 2.5 s of 160x90 H.264 (keyframe every 30 frames) + AAC as ffmpeg writes it with the project's flags.
const FIXTURE = readFileSync(join(import.meta.dirname, '../fixtures/ivs/pattern-2.5s.ts'));

function harness() {
  const segments: Segment[] = [];
  const frames: VideoFrame[] = [];
  const injected: InjectedMetadata[] = [];
  let clock = 1_700_000_000_000;
  let onFrame: ((frame: VideoFrame) => void) | undefined;
  const segmenter = new TsSegmenter({
    targetDuration: 1,
    now: () => (clock += 10),
    onSegment: (s) => segments.push(s),
    onFrame: (f) => {
      frames.push(f);
      onFrame?.(f);
    },
    onMetadata: (m) => injected.push(m),
  });
  const payloads = new Map<number, Buffer>();
  return {
    segmenter,
    segments,
    frames,
    injected,
    payloads,
    set onFrame(fn: ((frame: VideoFrame) => void) | undefined) {
      onFrame = fn;
    },
    queue(text: string): number {
      const payload = Buffer.from(text);
      const id = segmenter.queueMetadata(payload);
      payloads.set(id, payload);
      return id;
    },
    feed(source: Buffer): void {
      for (let i = 0; i < source.length; i += 4096) segmenter.push(source.subarray(i, i + 4096));
    },
    /** Where each queued payload is in the published segments' bytes (and in their metadata lists). */
    published(): Map<number, { segment: Segment; pts: number; sameSegmentVideo: boolean }[]> {
      const found = new Map<number, { segment: Segment; pts: number; sameSegmentVideo: boolean }[]>();
      for (const segment of segments) {
        const d = demux(segment.data);
        const videoPts = new Set(d.pes.filter((p) => p.pid === 0x100).map((p) => p.pts));
        for (const pes of d.pes.filter((p) => p.pid === 0x102)) {
          for (const frame of readPrivFrames(pes.payload)) {
            const id = [...payloads].find(([, p]) => p.equals(frame.data))?.[0];
            expect(id).toBeDefined();
            expect(segment.metadata.map((m) => m.id)).toContain(id);
            const list = found.get(id!) ?? [];
            list.push({ segment, pts: pes.pts!, sameSegmentVideo: videoPts.has(pes.pts) });
            found.set(id!, list);
          }
        }
      }
      return found;
    },
  };
}

describe('cue delivery across source seams', () => {
  it('a payload accepted after a source’s last frame, while off air and while the next source waits for a keyframe, rides the next source’s first keyframe', () => {
    const h = harness();
    h.segmenter.startSource();
    h.feed(FIXTURE);
    const afterLastFrame = h.queue('{"n":"after the last frame"}');
    // The source process exits and no other is on air: the channel closes the open segment.
    h.segmenter.flush();
    const segmentsBefore = h.segments.length;
    // The restarted source's output begins mid-GOP: its frames are dropped up to its first keyframe.
    const restarted = FIXTURE.subarray(188 * 100);
    h.segmenter.startSource();
    h.segmenter.push(restarted.subarray(0, 188));
    const whileDropping = h.queue('{"n":"while dropping"}');
    expect(h.segmenter.pendingMetadata).toBe(2);
    h.feed(restarted.subarray(188));
    h.segmenter.flush();

    const found = h.published();
    const first = h.segments[segmentsBefore]!;
    expect(first.sourceIndex).toBe(1);
    for (const id of [afterLastFrame, whileDropping]) {
      expect(found.get(id)).toEqual([{ segment: first, pts: first.startPts, sameSegmentVideo: true }]);
    }
    expect(h.injected.map((m) => m.id)).toEqual([afterLastFrame, whileDropping]);
  });

  it('a payload accepted while a publisher replaces the pattern (no gap) rides the publisher’s first keyframe', () => {
    const h = harness();
    h.segmenter.startSource();
    h.feed(FIXTURE);
    const atSwitch = h.queue('{"n":"at the switch"}');
    h.segmenter.startSource();
    h.feed(FIXTURE);
    h.segmenter.flush();

    const found = h.published();
    const first = h.segments.find((s) => s.sourceIndex === 1)!;
    expect(found.get(atSwitch)).toEqual([{ segment: first, pts: first.startPts, sameSegmentVideo: true }]);
  });

  it('a payload stamped on a source’s last frame is published with the segment closed when the source stops', () => {
    const h = harness();
    let count = 0;
    let onLast: number | undefined;
    h.onFrame = () => {
      if (++count === 74) onLast = h.queue('{"n":"on the last frame"}'); // the fixture has 75 frames
    };
    h.segmenter.startSource();
    h.feed(FIXTURE);
    expect(h.segmenter.pendingMetadata).toBe(0);
    h.segmenter.flush();

    const last = h.segments.at(-1)!;
    expect(h.frames).toHaveLength(75);
    expect(h.published().get(onLast!)).toEqual([
      { segment: last, pts: h.frames.at(-1)!.pts, sameSegmentVideo: true },
    ]);
  });
});
