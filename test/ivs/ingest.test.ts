// The RTMP ingest takes the channel's stream key and no other, the way IVS does: a publisher with a
// wrong key is refused before any of its media is taken and the stream on air does not change; the
// right key takes over. A publisher without audio (OBS with no audio source) is accepted, and the
// stream keeps its AAC track (silence), so players see one program throughout. Publishers are the
// npm-shipped ffmpeg, pushing a live lavfi source the way OBS pushes a camera.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutMetadataCommand } from '@aws-sdk/client-ivs';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpeg } from '../../local/binaries.ts';
import { DEFAULT_CHANNEL_ARN } from '../../local/ivs/index.ts';
import { localStreamKeys, STREAM_KEYS_FILE, StreamKeyError } from '../../local/ivs/stream-key.ts';
import { ChannelRecorder, ffprobe } from './recorder.ts';
import { startIvs, type IvsHarness } from '../support/ivs.ts';
import { waitFor } from '../support/wait.ts';
import { demux } from './ts-reader.ts';

/** ffmpeg pushing `seconds` of a live colour source (with a tone unless `audio` is false) to `url`. */
async function publish(url: string, options: { audio: boolean; seconds: number; colour?: string }) {
  const ffmpeg = await resolveFfmpeg();
  const args = [
    '-v', 'warning', '-re', '-f', 'lavfi', '-i', `color=c=${options.colour ?? 'red'}:size=320x240:rate=25`,
    ...(options.audio ? ['-re', '-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=44100'] : []),
    '-t', String(options.seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-pix_fmt', 'yuv420p',
    ...(options.audio ? ['-c:a', 'aac'] : ['-an']), '-f', 'flv', url,
  ]; // prettier-ignore
  const child = spawn(ffmpeg.path, args, {
    env: { ...process.env, ...ffmpeg.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stderr })),
  );
  return { child, exited };
}

describe('stream keys', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stream-key-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are made once per data directory, readable by the owner only, shaped like IVS keys, and kept', async () => {
    const first = await localStreamKeys(dir, [{ name: 'local', region: 'us-east-1' }]);
    expect(first.local).toMatch(/^sk_us-east-1_[A-Za-z0-9]{36}$/);
    expect((await stat(join(dir, STREAM_KEYS_FILE))).mode & 0o777).toBe(0o600);
    // A restart reads the same key; a second channel gets its own, the first keeps its.
    const again = await localStreamKeys(dir, [
      { name: 'local', region: 'us-east-1' },
      { name: 'second', region: 'eu-west-1' },
    ]);
    expect(again.local).toBe(first.local);
    expect(again.second).toMatch(/^sk_eu-west-1_/);
    expect(again.second).not.toBe(first.local);
    const other = await mkdtemp(join(tmpdir(), 'stream-key-'));
    try {
      expect((await localStreamKeys(other, [{ name: 'local', region: 'us-east-1' }])).local).not.toBe(
        first.local,
      );
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('a damaged keys file stops start-up with what to do', async () => {
    await writeFile(join(dir, STREAM_KEYS_FILE), '{not json');
    await expect(localStreamKeys(dir, [{ name: 'local', region: 'us-east-1' }])).rejects.toThrow(
      StreamKeyError,
    );
    await expect(localStreamKeys(dir, [{ name: 'local', region: 'us-east-1' }])).rejects.toThrow(
      /delete the file/,
    );
  });
});

describe('RTMP ingest', () => {
  let h: IvsHarness;
  let recorder: ChannelRecorder;

  beforeAll(async () => {
    h = await startIvs();
    recorder = new ChannelRecorder(h.ivs.channel());
    await h.ivs.ready;
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('gives the channel a secret key in its ingest URL, kept in the data directory', async () => {
    const key = h.ivs.streamKey()!;
    expect(key).toMatch(/^sk_us-east-1_[A-Za-z0-9]{36}$/);
    expect(h.ivs.ingestUrl()).toMatch(new RegExp(`^rtmp://127\\.0\\.0\\.1:\\d+/live/${key}$`));
    const stored = JSON.parse(await readFile(join(h.dataDir, STREAM_KEYS_FILE), 'utf8'));
    expect(stored).toEqual({ local: key });
  });

  it('refuses a wrong key before taking any media: the publisher is told, the stream stays on the pattern', async () => {
    const channel = h.ivs.channel();
    const pids = channel.ffmpegPids;
    const segmentsBefore = recorder.segments.length;
    const sources: string[] = [];
    const onSource = ({ kind }: { kind: string }) => sources.push(kind);
    channel.on('source', onSource);
    const base = h.ivs.ingestUrl()!.replace(/[^/]+$/, '');
    try {
      for (const key of ['local', 'wrong-key', `${h.ivs.streamKey()}x`, h.ivs.streamKey()!.slice(0, -1)]) {
        const started = Date.now();
        const publisher = await publish(`${base}${key}`, { audio: true, seconds: 3 });
        // No transcoder is started for it: the channel's only ffmpeg is still the pattern's.
        const seen = new Set<string>();
        const polled = setInterval(() => seen.add(channel.ffmpegPids.join(',')), 20);
        const { code, stderr } = await publisher.exited;
        clearInterval(polled);
        expect([...seen]).toEqual([pids.join(',')]);
        expect([key, code]).toEqual([key, 1]);
        // ffmpeg prints the server's error status: the publisher learns why.
        expect(stderr).toContain('Server error: wrong stream key');
        // Refused at publish, not after the 3 s it wanted to send.
        expect(Date.now() - started).toBeLessThan(2500);
        expect(channel.sourceKind).toBe('pattern');
      }
      // The pattern kept going meanwhile: more segments, all of the first source.
      await waitFor('a segment after the attempts', () => recorder.segments.length > segmentsBefore + 1);
      expect(recorder.segments.every((s) => s.segment.sourceIndex === 0)).toBe(true);
      expect(sources).toEqual([]);
      // One line per kind of refusal, not one per attempt.
      expect(h.logs.filter((l) => l.includes('refused: wrong stream key'))).toHaveLength(1);
    } finally {
      channel.off('source', onSource);
    }
  }, 60_000);

  it('takes a publisher with the key and no audio: it goes on air with silent AAC, cues on its frames', async () => {
    const channel = h.ivs.channel();
    const publisher = await publish(h.ivs.ingestUrl()!, { audio: false, seconds: 6, colour: 'blue' });
    try {
      await waitFor('the publisher to go live', () => channel.sourceKind === 'rtmp', 20_000);
      await waitFor('a frame from the publisher', () =>
        recorder.segments.some((s) => s.segment.sourceIndex === 1),
      );
      const metadata = '{"on":"video-only publisher"}';
      await h.client.send(new PutMetadataCommand({ channelArn: DEFAULT_CHANNEL_ARN, metadata }));
      // A second publisher with the right key is refused while this one is live.
      const second = await publish(h.ivs.ingestUrl()!, { audio: true, seconds: 2 });
      const refused = await second.exited;
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('Server error: another publisher is live on this channel');

      expect((await publisher.exited).code).toBe(0);
      await waitFor(
        'the pattern to come back',
        () => recorder.segments.some((s) => s.segment.sourceIndex === 2),
        20_000,
      );
      await waitFor('all payloads written', () => recorder.allWritten());
    } finally {
      publisher.child.kill('SIGKILL');
    }
    expect(h.logs.some((l) => l.includes('accepted (video only: silent audio added)'))).toBe(true);

    const fromPublisher = recorder.segments.filter((s) => s.segment.sourceIndex === 1);
    expect(fromPublisher.length).toBeGreaterThan(4);
    // The cue is in the publisher's segments, on the first frame after it was accepted.
    const accepted = recorder.accepted.find((a) => a.payload.toString() === '{"on":"video-only publisher"}')!;
    const found = recorder.privFrames().filter((f) => f.data.equals(accepted.payload));
    expect(found).toHaveLength(1);
    expect(found[0]!.pts).toBe(recorder.expectedPts(accepted));
    expect(fromPublisher.map((s) => s.segment.sequence)).toContain(found[0]!.segment);

    // Every publisher segment carries AAC audio alongside its video (the same program as the pattern's).
    for (const { data } of fromPublisher) {
      const d = demux(data);
      expect(d.streams.map((s) => [s.streamType, s.pid])).toEqual([
        [0x1b, 0x100],
        [0x0f, 0x101],
        [0x15, 0x102],
      ]);
      expect(d.pes.filter((p) => p.pid === 0x101).length).toBeGreaterThan(0);
    }
    // One timeline across both switches: audio and video PTS strictly increasing, no continuity errors,
    // and the audio keeps pace with the video (silence is made at the video's rate, not ahead of it).
    const all = demux(Buffer.concat(recorder.segments.map((s) => s.data)));
    expect(all.continuityErrors).toEqual([]);
    for (const pid of [0x100, 0x101]) {
      const pts = all.pes.filter((p) => p.pid === pid).map((p) => p.pts!);
      for (let i = 1; i < pts.length; i++) expect(pts[i]!).toBeGreaterThan(pts[i - 1]!);
    }
    const publisherOnly = demux(Buffer.concat(fromPublisher.map((s) => s.data)));
    const span = (pid: number): [number, number] => {
      const pts = publisherOnly.pes.filter((p) => p.pid === pid).map((p) => p.pts!);
      return [pts[0]!, pts.at(-1)!];
    };
    const [v0, v1] = span(0x100);
    const [a0, a1] = span(0x101);
    expect(Math.abs(a0 - v0) / 90_000).toBeLessThan(0.2);
    expect(Math.abs(a1 - v1) / 90_000).toBeLessThan(0.2);

    // ffprobe reads the publisher's stretch as H.264 + AAC 48 kHz stereo.
    const file = join(h.dataDir, 'video-only.ts');
    await writeFile(file, Buffer.concat(fromPublisher.map((s) => s.data)));
    const probe = await ffprobe(file);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(expect.arrayContaining(['h264', 'aac']));
  }, 90_000);
});
