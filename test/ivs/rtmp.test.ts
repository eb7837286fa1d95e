// An RTMP publisher (ffmpeg pushing a file) replaces the test pattern, PutMetadata works on its frames, and
// the pattern comes back when it leaves, all on one monotonic timeline.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutMetadataCommand } from '@aws-sdk/client-ivs';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveFfmpeg } from '../../local/binaries.ts';
import { DEFAULT_CHANNEL_ARN } from '../../local/ivs/index.ts';
import { ChannelRecorder, run } from './recorder.ts';
import { startIvs, type IvsHarness } from '../support/ivs.ts';
import { waitFor } from '../support/wait.ts';
import { demux } from './ts-reader.ts';

/** Mean colour of a segment's first frame (decoded by ffmpeg, scaled to one pixel). */
async function meanColour(data: Buffer, file: string): Promise<[number, number, number]> {
  await writeFile(file, data);
  const ffmpeg = await resolveFfmpeg();
  const { stdout } = await run(
    ffmpeg.path,
    [
      '-v',
      'error',
      '-i',
      file,
      '-frames:v',
      '1',
      '-vf',
      'scale=1:1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    { encoding: 'buffer', env: { ...process.env, ...ffmpeg.env } },
  );
  return [stdout[0]!, stdout[1]!, stdout[2]!];
}

describe('RTMP ingest', () => {
  let h: IvsHarness;
  let recorder: ChannelRecorder;
  let publisher: ChildProcess | undefined;
  let file: string;

  beforeAll(async () => {
    h = await startIvs();
    recorder = new ChannelRecorder(h.ivs.channel());
    // A 6 s red clip with a 300 Hz tone, H.264/AAC in FLV, like a streaming app would send (other size and rate).
    file = join(h.dataDir, 'publisher.flv');
    await run((await resolveFfmpeg()).path, [
      '-v', 'error', '-f', 'lavfi', '-i', 'color=c=red:size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=44100',
      '-t', '6', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'flv', file,
    ]); // prettier-ignore
    await h.ivs.ready;
  }, 60_000);

  afterAll(async () => {
    publisher?.kill('SIGKILL');
    await h?.close();
  });

  it('switches to the publisher, stamps metadata on its frames, and returns to the pattern when it leaves', async () => {
    const channel = h.ivs.channel();
    const ingest = h.ivs.ingestUrl()!;
    expect(ingest).toMatch(/^rtmp:\/\/127\.0\.0\.1:\d+\/live\/sk_us-east-1_[A-Za-z0-9]{36}$/);
    publisher = spawn(
      (await resolveFfmpeg()).path,
      ['-v', 'error', '-re', '-i', file, '-c', 'copy', '-f', 'flv', ingest],
      {
        stdio: 'ignore',
      },
    );
    const publisherExit = new Promise<number | null>((resolve) => publisher!.once('exit', resolve));

    await waitFor('the publisher to go live', () => channel.sourceKind === 'rtmp', 20_000);
    expect(channel.live).toBe(true);
    const onPublisher = ['{"on":"publisher","n":1}', '{"on":"publisher","n":2}'];
    for (const metadata of onPublisher) {
      await waitFor(
        'a frame from the publisher',
        () => recorder.frames.length > 0 && channel.sourceKind === 'rtmp',
      );
      await h.client.send(new PutMetadataCommand({ channelArn: DEFAULT_CHANNEL_ARN, metadata }));
      await new Promise((r) => setTimeout(r, 700));
    }
    await waitFor('a segment from the publisher', () =>
      recorder.segments.some((s) => s.segment.sourceIndex === 1),
    );
    expect(await publisherExit).toBe(0);
    await waitFor(
      'the test pattern to return',
      () => recorder.segments.some((s) => s.segment.sourceIndex === 2),
      20_000,
    );
    await h.client.send(
      new PutMetadataCommand({ channelArn: DEFAULT_CHANNEL_ARN, metadata: '{"on":"pattern"}' }),
    );
    await waitFor('all payloads written', () => recorder.allWritten());

    // The publisher's segments show its picture (red), transcoded to the channel's format.
    const fromPublisher = recorder.segments.filter((s) => s.segment.sourceIndex === 1);
    const middle = fromPublisher[Math.floor(fromPublisher.length / 2)]!;
    const [r, g, b] = await meanColour(middle.data, join(h.dataDir, 'middle.ts'));
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(80);
    expect(b).toBeLessThan(80);
    const [pr, pg, pb] = await meanColour(recorder.segments[0]!.data, join(h.dataDir, 'first.ts'));
    expect(pr > 180 && pg < 80 && pb < 80).toBe(false);

    // Payloads: exactly once each, on the next frame, the publisher's ones inside the publisher's segments.
    const found = recorder.privFrames();
    expect(found).toHaveLength(recorder.accepted.length);
    for (const accepted of recorder.accepted) {
      const matches = found.filter((f) => f.data.equals(accepted.payload));
      expect(matches).toHaveLength(1);
      expect(matches[0]!.pts).toBe(recorder.expectedPts(accepted));
      const segment = recorder.segments.find((s) => s.segment.sequence === matches[0]!.segment)!;
      expect(segment.segment.sourceIndex).toBe(accepted.payload.toString().includes('publisher') ? 1 : 2);
    }

    // One timeline across both switches: strictly increasing video and audio PTS, no continuity errors.
    const all = demux(Buffer.concat(recorder.segments.map((s) => s.data)));
    expect(all.continuityErrors).toEqual([]);
    for (const pid of [0x100, 0x101]) {
      const pts = all.pes.filter((p) => p.pid === pid).map((p) => p.pts!);
      for (let i = 1; i < pts.length; i++) expect(pts[i]!).toBeGreaterThan(pts[i - 1]!);
    }
  }, 90_000);
});
