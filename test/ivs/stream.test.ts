// The local IVS end to end at the byte level: ffmpeg test pattern → segmenter → HLS over HTTP, with
// PutMetadata through the real @aws-sdk/client-ivs. Checked with Debian's ffprobe and the test's own demuxer.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutMetadataCommand } from '@aws-sdk/client-ivs';
import HLS from 'hls-parser';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CHANNEL_ARN } from '../../local/ivs/index.ts';
import { IVS_PRIV_OWNER } from '../../local/ivs/id3.ts';
import { ChannelRecorder, ffprobe } from './recorder.ts';
import { startIvs, type IvsHarness } from '../support/ivs.ts';
import { waitFor } from '../support/wait.ts';
import { demux } from './ts-reader.ts';

const PAYLOADS = [
  '{"v":1,"type":"poll","poll_id":"run-1:q1","question":"Cats sleep 12–16 hours a day.","answers":["True","False"]}',
  'x',
  // exactly 1024 bytes of UTF-8: 341 three-byte characters + 1 byte
  '€'.repeat(341) + '!',
  JSON.stringify({ emoji: '🐈‍⬛', nested: { a: [1, 2, 3] } }),
  'a'.repeat(127),
  'b'.repeat(128),
  JSON.stringify({ v: 1, type: 'results', poll_id: 'run-1:q1', counts: [12, 40, 3], total: 55, correct: 0 }),
];

describe('local IVS stream', () => {
  let h: IvsHarness;
  let recorder: ChannelRecorder;

  beforeAll(async () => {
    h = await startIvs({ windowSize: 3 });
    recorder = new ChannelRecorder(h.ivs.channel());
    await h.ivs.ready;
  }, 60_000);

  afterAll(async () => {
    const pids = h?.ivs.channel().ffmpegPids ?? [];
    await h?.close();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(); // no orphan ffmpeg
  });

  it('stamps every accepted payload exactly once, byte-identical, on the next video frame; ffprobe sees timed_id3', async () => {
    for (const metadata of PAYLOADS) {
      await h.client.send(new PutMetadataCommand({ channelArn: DEFAULT_CHANNEL_ARN, metadata }));
      await new Promise((r) => setTimeout(r, 250)); // stay under 5 calls/s
    }
    expect(Buffer.byteLength(PAYLOADS[2]!)).toBe(1024);
    expect(recorder.accepted).toHaveLength(PAYLOADS.length);
    await waitFor('the segments carrying every payload', () => recorder.allWritten());

    const found = recorder.privFrames();
    expect(found.every((f) => f.owner === IVS_PRIV_OWNER)).toBe(true);
    expect(found).toHaveLength(PAYLOADS.length);
    for (const accepted of recorder.accepted) {
      const matches = found.filter((f) => f.data.equals(accepted.payload));
      expect(matches).toHaveLength(1);
      expect(matches[0]!.pts).toBe(recorder.expectedPts(accepted));
      expect(matches[0]!.sameSegmentVideo).toBe(true);
    }
    expect(found.map((f) => f.data.toString('utf8'))).toEqual(PAYLOADS);

    // Debian's ffprobe: the data stream is recognised, and each of its packets sits on a video packet's PTS.
    const file = join(h.dataDir, 'all.ts');
    await recorder.writeAll(file);
    const probe = await ffprobe(file);
    expect(probe.text).toContain('Data: timed_id3 (ID3  / 0x20334449)');
    const data = probe.streams.find((s) => s.codec_type === 'data')!;
    expect(data.id).toBe('0x102');
    const dataPts = probe.packets.filter((p) => p.stream_index === data.index).map((p) => p.pts);
    const videoPts = new Set(probe.packets.filter((p) => p.codec_type === 'video').map((p) => p.pts));
    expect(dataPts).toEqual(found.map((f) => f.pts));
    for (const pts of dataPts) expect(videoPts.has(pts)).toBe(true);
    // One continuous stream: no continuity errors, video PTS strictly increasing.
    const all = demux(Buffer.concat(recorder.segments.map((s) => s.data)));
    expect(all.continuityErrors).toEqual([]);
    const video = all.pes.filter((p) => p.pid === 0x100).map((p) => p.pts!);
    for (let i = 1; i < video.length; i++) expect(video[i]!).toBeGreaterThan(video[i - 1]!);
  }, 60_000);

  it('serves a sliding-window playlist with program date-times and segments with the right headers', async () => {
    const response = await fetch(h.ivs.playbackUrl());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(response.headers.get('cache-control')).toMatch(/no-cache/);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const playlist = HLS.parse(await response.text()) as InstanceType<typeof HLS.types.MediaPlaylist>;
    expect(playlist.isMasterPlaylist).toBe(false);
    expect(playlist.targetDuration).toBe(1);
    expect(playlist.segments.length).toBeLessThanOrEqual(3);
    expect(playlist.segments.length).toBeGreaterThan(0);
    for (const segment of playlist.segments) {
      expect(segment.duration).toBeCloseTo(1, 3);
      expect(segment.programDateTime).toBeInstanceOf(Date);
      expect(Math.abs(segment.programDateTime!.getTime() - Date.now())).toBeLessThan(30_000);
    }
    const first = playlist.segments[0]!;
    expect(first.mediaSequenceNumber).toBe(playlist.mediaSequenceBase);
    const segment = await fetch(new URL(first.uri, h.ivs.playbackUrl()));
    expect(segment.status).toBe(200);
    expect(segment.headers.get('content-type')).toBe('video/mp2t');
    expect(segment.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const bytes = Buffer.from(await segment.arrayBuffer());
    expect(bytes[0]).toBe(0x47);
    expect(bytes.length % 188).toBe(0);
    expect((await fetch(new URL('nope-1.ts', h.ivs.playbackUrl()))).status).toBe(404);
    expect((await fetch(`${h.appUrl}/live/unknown/index.m3u8`)).status).toBe(404);
  });

  it('deletes segments once they have left the window (plus a short grace period)', async () => {
    // window 3 + grace 4: the eighth segment's arrival removes the first file.
    await waitFor('8 segments', () => recorder.segments.length >= 9);
    const firstFile = recorder.segments[0]!.segment.file;
    await waitFor('the first segment to be deleted', () => !existsSync(firstFile));
    const usage = await h.ivs.channel().diskUsage();
    expect(usage.files).toBeLessThanOrEqual(7);
    expect((await fetch(new URL(recorder.segments[0]!.segment.uri, h.ivs.playbackUrl()))).status).toBe(404);
  }, 60_000);
});
