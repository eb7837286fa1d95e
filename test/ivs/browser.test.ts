// hls.js in Chromium plays the local stream and raises one metadata cue per PutMetadata payload, at the
// media time of the frame it was stamped on. The page and hls.js's dist file come from the test's own app server.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutMetadataCommand } from '@aws-sdk/client-ivs';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import type { AppRoute } from '../../local/http.ts';
import { resolveFfmpeg } from '../../local/binaries.ts';
import { DEFAULT_CHANNEL_ARN } from '../../local/ivs/index.ts';
import { ChannelRecorder, run } from './recorder.ts';
import { FillableDisk, startIvs, type IvsHarness } from '../support/ivs.ts';
import { waitFor } from '../support/wait.ts';

const HLS_JS = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'));

const PAGE = `<!doctype html><meta charset="utf-8"><title>ivs test player</title>
<video id="v" muted playsinline autoplay width="640" height="360"></video>
<script src="/test/hls.min.js"></script>
<script>
  window.cues = []; window.frames = []; window.errors = []; window.initPts = [];
  const video = document.getElementById('v');
  const hls = new Hls({ liveSyncDurationCount: 2 });
  hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) errors.push(d.type + ':' + d.details); });
  hls.on(Hls.Events.INIT_PTS_FOUND, (_, d) => initPts.push({ id: d.id, initPTS: d.initPTS, timescale: d.timescale }));
  // The demuxer's own view of each ID3 PES (what the TextTrack cues are made from): PTS in seconds + PRIV data.
  window.samples = [];
  const owner = 'metadata.live-video.net' + String.fromCharCode(0);
  hls.on(Hls.Events.FRAG_PARSING_METADATA, (_, d) => {
    for (const s of d.samples) {
      const bytes = new Uint8Array(s.data);
      const latin = Array.from(bytes, (b) => String.fromCharCode(b)).join('');
      const at = latin.indexOf(owner);
      samples.push({ pts: s.pts, text: at < 0 ? null : new TextDecoder().decode(bytes.subarray(at + owner.length)) });
    }
  });
  window.trackReady = () => [...video.querySelectorAll('track')].some((t) => t.label === 'id3' && t.readyState === 2);
  const seen = new WeakSet();
  setInterval(() => {
    for (const track of video.textTracks) {
      if (track.kind !== 'metadata') continue;
      if (track.mode === 'disabled') track.mode = 'hidden';
      for (const cue of track.cues ?? []) {
        if (seen.has(cue)) continue;
        seen.add(cue);
        const v = cue.value;
        if (v && v.key === 'PRIV' && v.info === 'metadata.live-video.net') {
          cues.push({ startTime: cue.startTime, text: new TextDecoder().decode(v.data), label: track.label });
        }
      }
    }
  }, 50);
  const onFrame = (_, meta) => { frames.push(meta.mediaTime); video.requestVideoFrameCallback(onFrame); };
  video.requestVideoFrameCallback(onFrame);
  hls.loadSource(new URLSearchParams(location.search).get('src'));
  hls.attachMedia(video);
  video.play().catch((e) => errors.push('play:' + e.message));
</script>`;

const testRoute: AppRoute = {
  prefix: '/test/',
  handle(req, res) {
    if (req.url?.startsWith('/test/hls.min.js')) {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(HLS_JS);
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    }
  },
};

interface PageState {
  cues: { startTime: number; text: string; label: string }[];
  samples: { pts: number; text: string | null }[];
  trackReady(): boolean;
  frames: number[];
  errors: string[];
  initPts: { id: string; initPTS: number; timescale: number }[];
  currentTime: number;
}

describe('hls.js in Chromium', () => {
  let h: IvsHarness;
  let recorder: ChannelRecorder;
  let browser: Browser;
  let page: Page;
  /** The disk the segments go to: full on demand (the last test). */
  const disk = new FillableDisk();
  const state = () =>
    page.evaluate(() => {
      const w = window as unknown as PageState;
      const video = document.querySelector('video')!;
      return {
        cues: w.cues,
        samples: w.samples,
        trackReady: w.trackReady(),
        frames: w.frames,
        errors: w.errors,
        initPts: w.initPts,
        currentTime: video.currentTime,
      };
    });

  beforeAll(async () => {
    h = await startIvs({ files: disk }, { routes: [testRoute] });
    recorder = new ChannelRecorder(h.ivs.channel());
    browser = await launchChromium();
    await h.ivs.ready;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('plays the stream and raises a cue per payload whose startTime is its frame’s media time', async () => {
    page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${h.appUrl}/test/page.html?src=${encodeURIComponent(h.ivs.playbackUrl())}`);
    await waitFor('playback to start', async () => (await state()).frames.length > 10, 30_000, 200);

    // hls.js 1.7 creates its id3 TextTrack as a <track src="data:,WEBVTT"> on the first metadata it parses, and
    // Chromium empties the track when that load completes, dropping the first batch of cues (hls.js issue #7691).
    // Warm up until the track has loaded; the FRAG_PARSING_METADATA samples still show the warm-up payloads.
    const warmups: string[] = [];
    await waitFor(
      'the id3 track to be loaded',
      async () => {
        if ((await state()).trackReady) return true;
        const metadata = JSON.stringify({ warmup: warmups.length });
        warmups.push(metadata);
        await h.client.send(new PutMetadataCommand({ channelArn: DEFAULT_CHANNEL_ARN, metadata }));
        return false;
      },
      30_000,
      1000,
    );

    const payloads = Array.from({ length: 6 }, (_, i) =>
      JSON.stringify({
        v: 1,
        type: 'poll',
        poll_id: `browser:${i}`,
        question: `Question ${i} ✓`,
        pad: 'z'.repeat(i * 150),
      }),
    );
    for (const metadata of payloads) {
      await h.client.send(new PutMetadataCommand({ channelArn: DEFAULT_CHANNEL_ARN, metadata }));
      await new Promise((r) => setTimeout(r, 300));
    }
    const final = await waitFor<Awaited<ReturnType<typeof state>>>(
      'a cue for every payload',
      async () => {
        const s = await state();
        const cued = payloads.every((p) => s.cues.some((c) => c.text === p));
        const demuxed = [...warmups, ...payloads].every((p) => s.samples.some((x) => x.text === p));
        return cued && demuxed && s;
      },
      30_000,
      200,
    ).catch(async (error: Error) => {
      const s = await state();
      throw new Error(
        `${error.message}\ncues ${JSON.stringify(s.cues)}\nsamples ${JSON.stringify(s.samples)}\nerrors ${s.errors}\nframes ${s.frames.length} at ${s.currentTime}`,
      );
    });
    expect(final.errors).toEqual([]);
    expect(pageErrors).toEqual([]);

    const mainInit = final.initPts.find((i) => i.id === 'main') ?? final.initPts[0]!;
    const mediaTime = (pts: number) => (pts - (mainInit.initPTS * 90000) / mainInit.timescale) / 90000;
    // hls.js's demuxer saw every payload (warm-ups included) exactly once, at its frame's media time.
    for (const accepted of recorder.accepted) {
      const samples = final.samples.filter((s) => s.text === accepted.payload.toString('utf8'));
      expect(samples).toHaveLength(1);
      expect(Math.abs(samples[0]!.pts - mediaTime(recorder.expectedPts(accepted)!))).toBeLessThan(0.0005);
    }
    const offsets: number[] = [];
    for (const accepted of recorder.accepted.filter((a) => payloads.includes(a.payload.toString('utf8')))) {
      const text = accepted.payload.toString('utf8');
      const cues = final.cues.filter((c) => c.text === text);
      expect(cues).toHaveLength(1); // exactly once
      const cue = cues[0]!;
      expect(cue.label).toBe('id3');
      const pts = recorder.expectedPts(accepted)!;
      // hls.js media time of a frame = (PTS − initPTS) / timescale.
      expect(Math.abs(cue.startTime - mediaTime(pts))).toBeLessThan(0.0005);
      offsets.push(cue.startTime - pts / 90000);
    }
    // The same PTS→media time mapping for every cue (one timeline), and cues sit on the frame grid that
    // requestVideoFrameCallback reports for presented frames.
    for (const offset of offsets) expect(offset).toBeCloseTo(offsets[0]!, 5);
    const frame = final.frames.at(-1)!;
    for (const cue of final.cues) {
      const frames = (cue.startTime - frame) * 30;
      expect(Math.abs(frames - Math.round(frames))).toBeLessThan(0.02);
    }
    expect(final.currentTime).toBeGreaterThan(0);
  }, 90_000);

  it('keeps playing through a switch to an RTMP publisher and back (one timeline, no fatal error)', async () => {
    const channel = h.ivs.channel();
    const clip = join(h.dataDir, 'switch.flv');
    const ffmpeg = (await resolveFfmpeg()).path;
    await run(ffmpeg, [
      '-v', 'error', '-f', 'lavfi', '-i', 'color=c=blue:size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=44100',
      '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'flv', clip,
    ]); // prettier-ignore
    const publisher = spawn(
      ffmpeg,
      ['-v', 'error', '-re', '-i', clip, '-c', 'copy', '-f', 'flv', h.ivs.ingestUrl()!],
      {
        stdio: 'ignore',
      },
    );
    try {
      const firstSource = (n: number) => recorder.segments.find((s) => s.segment.sourceIndex === n)?.segment;
      const back = await waitFor(
        'the pattern to come back after the publisher',
        () => firstSource(2),
        40_000,
      );
      const init = (await state()).initPts[0]!;
      const switchBack = (back.startPts - (init.initPTS * 90000) / init.timescale) / 90000;
      const s = await waitFor(
        'the player to play past both switches',
        async () => {
          const s = await state();
          return (s.currentTime > switchBack + 1 || s.errors.length > 0) && s;
        },
        40_000,
        250,
      );
      expect(s.errors).toEqual([]);
      expect(channel.sourceKind).toBe('pattern');
      // Presented frames kept coming across the switches, in media-time order.
      const after = s.frames.filter((t) => t > switchBack);
      expect(after.length).toBeGreaterThan(10);
      for (let i = 1; i < s.frames.length; i++) expect(s.frames[i]!).toBeGreaterThanOrEqual(s.frames[i - 1]!);
    } finally {
      publisher.kill('SIGKILL');
    }
  }, 120_000);

  it('plays a publisher that sends no audio (silence is added), with its cues', async () => {
    const channel = h.ivs.channel();
    const ffmpeg = await resolveFfmpeg();
    const fromSource = (n: number) => recorder.segments.find((s) => s.segment.sourceIndex === n)?.segment;
    const sourcesBefore = Math.max(...recorder.segments.map((s) => s.segment.sourceIndex));
    // Live, like OBS with no audio source: a camera-like lavfi source pushed in real time, video only.
    const publisher = spawn(
      ffmpeg.path,
      [
        '-v', 'error', '-re', '-f', 'lavfi', '-i', 'color=c=green:size=320x240:rate=25', '-t', '8',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-pix_fmt', 'yuv420p', '-an', '-f', 'flv', h.ivs.ingestUrl()!,
      ], // prettier-ignore
      { stdio: 'ignore', env: { ...process.env, ...ffmpeg.env } },
    );
    try {
      const on = await waitFor('the publisher on air', () => fromSource(sourcesBefore + 1), 30_000);
      expect(channel.sourceKind).toBe('rtmp');
      const metadata = JSON.stringify({
        v: 1,
        type: 'poll',
        poll_id: 'browser:video-only',
        question: 'Silent?',
      });
      await h.client.send(new PutMetadataCommand({ channelArn: DEFAULT_CHANNEL_ARN, metadata }));
      const init = (await state()).initPts[0]!;
      const mediaTime = (pts: number) => (pts - (init.initPTS * 90000) / init.timescale) / 90000;
      const s = await waitFor(
        'the player to play the publisher and raise its cue',
        async () => {
          const s = await state();
          const played = s.currentTime > mediaTime(on.startPts) + 2;
          return ((played && s.samples.some((x) => x.text === metadata)) || s.errors.length > 0) && s;
        },
        40_000,
        250,
      );
      expect(s.errors).toEqual([]);
      const accepted = recorder.accepted.find((a) => a.payload.toString('utf8') === metadata)!;
      const sample = s.samples.find((x) => x.text === metadata)!;
      expect(Math.abs(sample.pts - mediaTime(recorder.expectedPts(accepted)!))).toBeLessThan(0.0005);
      // Presented frames kept coming through the publisher's stretch.
      expect(s.frames.filter((t) => t > mediaTime(on.startPts)).length).toBeGreaterThan(30);
    } finally {
      publisher.kill('SIGKILL');
    }
  }, 120_000);

  it('keeps playing across a full disk: the gap is a discontinuity, the cue sent meanwhile arrives', async () => {
    const channel = h.ivs.channel();
    await waitFor('the pattern on air', () => channel.sourceKind === 'pattern', 30_000);
    const written = recorder.segments.length;
    disk.full = true;
    const metadata = JSON.stringify({ v: 1, type: 'poll', poll_id: 'browser:disk-full', question: 'Late?' });
    try {
      await waitFor('the stream to starve', () => channel.health === 'STARVING', 20_000);
      await h.client.send(new PutMetadataCommand({ channelArn: DEFAULT_CHANNEL_ARN, metadata }));
      await waitFor('a few failed writes', () => disk.failures >= 3, 20_000);
    } finally {
      disk.full = false;
    }
    const resumed = await waitFor(
      'the stream to resume',
      () => recorder.segments.slice(written).find((s) => s.segment.discontinuity)?.segment,
    );
    const s = await waitFor(
      'the player to play past the gap and raise the cue',
      async () => {
        const s = await state();
        const cued = s.samples.some((x) => x.text === metadata);
        return (
          ((cued && s.frames.length > 0 && channel.segments.at(-1)!.sequence > resumed.sequence + 2) ||
            s.errors.length > 0) &&
          s
        );
      },
      40_000,
      250,
    );
    expect(s.errors).toEqual([]);
    // Frames kept being presented after the gap (hls.js placed the resumed segments after the old ones).
    const before = s.frames.length;
    await waitFor(
      'more frames after the gap',
      async () => (await state()).frames.length > before + 30,
      20_000,
      250,
    );
    const frames = (await state()).frames;
    for (let i = 1; i < frames.length; i++) expect(frames[i]!).toBeGreaterThanOrEqual(frames[i - 1]!);
  }, 120_000);
});
