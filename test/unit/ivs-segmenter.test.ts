import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsSegmenter, type Segment, type VideoFrame } from '../../local/ivs/segmenter.ts';
import { IVS_PRIV_OWNER } from '../../local/ivs/id3.ts';
import { demux, readPrivFrames } from '../ivs/ts-reader.ts';

// 2.5 s of 160x90 H.264 (keyframe every 30 frames) + AAC as ffmpeg writes it with the project's flags.
const FIXTURE = readFileSync(join(import.meta.dirname, '../fixtures/ivs/pattern-2.5s.ts'));

function run(
  sources: Buffer[],
  options: { chunk?: number; onFrame?: (f: VideoFrame, s: TsSegmenter) => void } = {},
): { segments: Segment[]; frames: VideoFrame[] } {
  const segments: Segment[] = [];
  const frames: VideoFrame[] = [];
  let clock = 1_700_000_000_000;
  const segmenter: TsSegmenter = new TsSegmenter({
    targetDuration: 1,
    now: () => (clock += 10),
    onSegment: (s) => segments.push(s),
    onFrame: (f) => {
      frames.push(f);
      options.onFrame?.(f, segmenter);
    },
  });
  const chunk = options.chunk ?? 4096;
  for (const source of sources) {
    segmenter.startSource();
    for (let i = 0; i < source.length; i += chunk) segmenter.push(source.subarray(i, i + chunk));
  }
  segmenter.flush();
  return { segments, frames };
}

describe('TsSegmenter', () => {
  it('cuts 1 s segments at keyframes, each opening with PAT, PMT (with the ID3 stream) and a keyframe', () => {
    const { segments } = run([FIXTURE]);
    expect(segments.map((s) => s.duration)).toEqual([1, 1, 0.5]);
    for (const segment of segments) {
      const d = demux(segment.data);
      expect(segment.data.readUInt8(0)).toBe(0x47);
      expect(((segment.data[1]! & 0x1f) << 8) | segment.data[2]!).toBe(0); // PAT first
      expect(((segment.data[189]! & 0x1f) << 8) | segment.data[190]!).toBe(0x1000); // then the PMT
      expect(d.streams.map((s) => [s.streamType, s.pid])).toEqual([
        [0x1b, 0x100],
        [0x0f, 0x101],
        [0x15, 0x102],
      ]);
      const firstVideo = d.pes.find((p) => p.pid === 0x100)!;
      expect(firstVideo.randomAccess).toBe(true);
      expect(firstVideo.pts).toBe(segment.startPts);
      expect(d.continuityErrors).toEqual([]);
    }
    // Program date-times advance with media time.
    expect(segments[1]!.programDateTime.getTime() - segments[0]!.programDateTime.getTime()).toBe(1000);
  });

  it('gives the same bytes whatever the pipe chunk sizes', () => {
    const a = run([FIXTURE], { chunk: 65536 }).segments.map((s) => s.data);
    const b = run([FIXTURE], { chunk: 1 + 188 * 3 }).segments.map((s) => s.data);
    expect(Buffer.concat(a).equals(Buffer.concat(b))).toBe(true);
  });

  it('stamps each queued payload on the next video frame, in that frame’s segment, as IVS does', () => {
    const payloads = new Map<number, Buffer>();
    const expectedPts = new Map<number, number>();
    let queuedAt: number[] = [];
    let frameCount = 0;
    const { segments } = run([FIXTURE], {
      onFrame: (frame, segmenter) => {
        for (const id of queuedAt) expectedPts.set(id, frame.pts);
        queuedAt = [];
        // Two payloads after the 10th frame and after the 30th (the last one before a keyframe), one after the 40th.
        const index = ++frameCount;
        const make = (text: string) => {
          const payload = Buffer.from(text);
          const id = segmenter.queueMetadata(payload);
          payloads.set(id, payload);
          queuedAt.push(id);
        };
        if (index === 10 || index === 30) {
          make(`{"n":${index},"a":1}`);
          make(`{"n":${index},"b":"${'ü'.repeat(300)}"}`);
        }
        if (index === 40) make(JSON.stringify({ n: 40 }));
      },
    });
    const found: { pts: number; payload: Buffer; segment: number }[] = [];
    for (const segment of segments) {
      const d = demux(segment.data);
      const videoPts = new Set(d.pes.filter((p) => p.pid === 0x100).map((p) => p.pts));
      for (const pes of d.pes.filter((p) => p.pid === 0x102)) {
        expect(pes.streamId).toBe(0xbd);
        expect(pes.headerBytes).toEqual([0x84, 0x80, 0x05]);
        expect(videoPts.has(pes.pts)).toBe(true); // same segment as its frame
        const [frame, ...rest] = readPrivFrames(pes.payload);
        expect(rest).toEqual([]);
        expect(frame!.owner).toBe(IVS_PRIV_OWNER);
        found.push({ pts: pes.pts!, payload: frame!.data, segment: segment.sequence });
      }
    }
    expect(found).toHaveLength(5);
    for (const [id, payload] of payloads) {
      const matches = found.filter((f) => f.payload.equals(payload));
      expect(matches).toHaveLength(1);
      expect(matches[0]!.pts).toBe(expectedPts.get(id));
    }
    // The payloads queued after the 30th frame ride the keyframe that opens segment 1.
    expect(found.filter((f) => f.segment === 1).map((f) => f.pts)).toContain(segments[1]!.startPts);
  });

  it('continues one monotonic timeline across source switches (PTS, PCR) with continuous CCs', () => {
    const { segments, frames } = run([FIXTURE, FIXTURE, FIXTURE]);
    expect(segments.map((s) => s.sourceIndex)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    // Within a source frames are 3000 ticks apart; at a switch the gap covers the old source's trailing audio.
    const gaps = frames.slice(1).map((f, i) => f.pts - frames[i]!.pts);
    expect(gaps.filter((g) => g !== 3000)).toHaveLength(2);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(3000);
    for (const gap of gaps) expect(gap).toBeLessThan(3000 * 3);
    const all = demux(Buffer.concat(segments.map((s) => s.data)));
    expect(all.continuityErrors).toEqual([]);
    const audio = all.pes.filter((p) => p.pid === 0x101).map((p) => p.pts!);
    for (let i = 1; i < audio.length; i++) expect(audio[i]!).toBeGreaterThan(audio[i - 1]!);
    // Each segment's duration is exactly the distance to the next one's start.
    for (let i = 1; i < segments.length; i++) {
      expect(segments[i]!.startPts - segments[i - 1]!.startPts).toBe(
        Math.round(segments[i - 1]!.duration * 90000),
      );
    }
  });

  it('drops a source’s packets until its first keyframe', () => {
    // Start mid-stream: the first keyframe after byte 20000 opens the first segment.
    const { segments } = run([FIXTURE.subarray(188 * 100)]);
    const d = demux(segments[0]!.data);
    expect(d.pes.find((p) => p.pid === 0x100)!.randomAccess).toBe(true);
    expect(segments.length).toBeGreaterThanOrEqual(1);
  });
});
