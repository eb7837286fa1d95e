// A full disk stops the stream honestly and it comes back by itself: a segment that cannot be
// written is never listed (no 0-byte or partial segment reaches players), one line says why,
// GetStream reports STARVING, and when writes succeed again the playlist continues after an
// EXT-X-DISCONTINUITY with consecutive sequence numbers; a cue sent meanwhile reaches the stream.
// Twice: with a writer that fails on demand (any machine), and on a real 3 MB tmpfs (where this
// process may mount one; root in a container that allows it).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetStreamCommand, PutMetadataCommand } from '@aws-sdk/client-ivs';
import HLS from 'hls-parser';
import { execFile } from 'node:child_process';
import { mkdtemp, open, readdir, rm, statfs, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_CHANNEL_ARN } from '../../local/ivs/index.ts';
import { ChannelRecorder } from './recorder.ts';
import { FillableDisk, startIvs, type IvsHarness } from '../support/ivs.ts';
import { waitFor } from '../support/wait.ts';

const exec = promisify(execFile);
const STOPPED =
  /\[ivs local\] the stream stopped: no space left on device writing (\S+\.ts); it resumes when space returns$/;

async function playlist(h: IvsHarness): Promise<HLS.types.MediaPlaylist> {
  const text = await (await fetch(h.ivs.playbackUrl())).text();
  return HLS.parse(text) as HLS.types.MediaPlaylist;
}

async function health(h: IvsHarness): Promise<string | undefined> {
  const { stream } = await h.client.send(new GetStreamCommand({ channelArn: DEFAULT_CHANNEL_ARN }));
  expect(stream?.state).toBe('LIVE');
  return stream?.health;
}

/** Every listed segment is served whole: the bytes the segmenter made (as far as recorded), never an empty file. */
async function listedSegmentsServeWhole(h: IvsHarness, recorder: ChannelRecorder): Promise<void> {
  const listed = await playlist(h);
  expect(listed.segments.length).toBeGreaterThan(0);
  for (const segment of listed.segments) {
    const response = await fetch(new URL(segment.uri, h.ivs.playbackUrl()));
    expect([segment.uri, response.status]).toEqual([segment.uri, 200]);
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.length).toBeGreaterThan(0);
    expect(body.length).toBe(h.ivs.channel().segments.find((s) => s.uri === segment.uri)!.size);
    const made = recorder.segments.find((s) => s.segment.uri === segment.uri); // those since it started
    if (made) expect(body.equals(made.data)).toBe(true);
  }
}

/** The disk outage as players and operators see it, from `fill()` to `free()`. */
async function outageAndRecovery(h: IvsHarness, fill: () => Promise<void>, free: () => Promise<void>) {
  const channel = h.ivs.channel();
  const recorder = new ChannelRecorder(channel);
  await waitFor('two segments', () => recorder.segments.length >= 2, 20_000);
  expect(await health(h)).toBe('HEALTHY');

  await fill();
  await waitFor('the stream to starve', () => channel.health === 'STARVING', 20_000);
  expect(await health(h)).toBe('STARVING');
  // A cue sent now is accepted (the channel is live) and reaches viewers once space returns.
  const cue = '{"sent":"while the disk was full"}';
  await h.client.send(new PutMetadataCommand({ channelArn: DEFAULT_CHANNEL_ARN, metadata: cue }));

  // The playlist stops growing, and stays whole: nothing partial or empty gets listed.
  const frozen = await playlist(h);
  await new Promise((r) => setTimeout(r, 2500));
  const still = await playlist(h);
  expect(still.segments.map((s) => s.uri)).toEqual(frozen.segments.map((s) => s.uri));
  await listedSegmentsServeWhole(h, recorder);
  // No leftover of the failed writes in the channel's directory: only the segments it keeps.
  const files = (await readdir(channel.dir)).filter((f) => f.endsWith('.ts')).sort();
  expect(files).toEqual(channel.segments.map((s) => basename(s.file)).sort());

  // One line says what happened and what happens next (not one per failed segment).
  const stopped = h.logs.filter((l) => STOPPED.test(l));
  expect(stopped).toHaveLength(1);
  expect(stopped[0]!.match(STOPPED)![1]!.startsWith(channel.dir)).toBe(true);

  const writtenBefore = recorder.segments.length;
  await free();
  await waitFor('the stream to resume', () => recorder.segments.length > writtenBefore + 1, 20_000);
  expect(channel.health).toBe('HEALTHY');
  expect(await health(h)).toBe('HEALTHY');
  expect(
    h.logs.filter((l) =>
      /\[ivs local\] the stream resumed after [\d.]+ s \(\d+ segments? could not be written\)$/.test(l),
    ),
  ).toHaveLength(1);

  // The playlist goes on with consecutive numbers; the first segment after the gap is a discontinuity.
  const resumed = recorder.segments[writtenBefore]!.segment;
  expect(resumed.discontinuity).toBe(true);
  expect(resumed.sequence).toBe(recorder.segments[writtenBefore - 1]!.segment.sequence + 1);
  const after = await waitFor('the playlist to list the resumed segment', async () => {
    const p = await playlist(h);
    return p.segments.some((s) => s.uri === resumed.uri) && p;
  });
  const numbers = after.segments.map((s) => s.mediaSequenceNumber);
  for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBe(numbers[i - 1]! + 1);
  const marked = after.segments.filter((s) => s.discontinuity).map((s) => s.uri);
  expect(marked).toEqual([resumed.uri]);
  await listedSegmentsServeWhole(h, recorder);

  // The cue is in the stream exactly once, after the gap.
  await waitFor('the cue to be written', () => recorder.allWritten());
  const found = recorder.privFrames().filter((f) => f.data.toString() === cue);
  expect(found).toHaveLength(1);
  expect(found[0]!.segment).toBeGreaterThanOrEqual(resumed.sequence);
}

describe('segment writes that fail (an injected writer)', () => {
  let h: IvsHarness;
  const disk = new FillableDisk();

  beforeAll(async () => {
    h = await startIvs({ files: disk });
    await h.ivs.ready;
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('stop the playlist with one line and STARVING, and it resumes by itself after a discontinuity', async () => {
    await outageAndRecovery(
      h,
      async () => {
        disk.full = true;
      },
      async () => {
        await waitFor('a few failed writes', () => disk.failures >= 3, 20_000);
        disk.full = false;
      },
    );
    // The failures after the first were counted, not logged one by one.
    expect(h.logs.filter((l) => l.includes('no space left on device')).length).toBeLessThanOrEqual(2);
  }, 90_000);
});

/** Mounts a 3 MB tmpfs, or says why it cannot (not root, or a sandbox without mount). */
async function mountSmallDisk(): Promise<{ dir: string } | { reason: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'small-disk-'));
  try {
    await exec('mount', ['-t', 'tmpfs', '-o', 'size=3m,mode=0700', 'tmpfs', dir]);
    return { dir };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return { reason: (error as Error).message.split('\n')[0]! };
  }
}

const small = await mountSmallDisk();
if ('reason' in small) console.log(`the 3 MB tmpfs test is skipped: cannot mount one (${small.reason})`);

(('dir' in small ? describe : describe.skip) as typeof describe)('a real 3 MB disk that fills up', () => {
  let h: IvsHarness;
  const dir = 'dir' in small ? small.dir : '';
  const filler = join(dir, 'filler');

  beforeAll(async () => {
    h = await startIvs({ dataDir: dir });
    await h.ivs.ready;
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await exec('umount', [dir]).catch(() => exec('umount', ['-l', dir]));
    await rm(dir, { recursive: true, force: true });
  });

  it('stops the stream with one line, never lists a 0-byte segment, and resumes when space returns', async () => {
    await outageAndRecovery(
      h,
      async () => {
        // Take every free byte, as a runaway log or a download would.
        const file = await open(filler, 'w');
        try {
          const block = Buffer.alloc(64 * 1024, 1);
          for (;;) await file.write(block);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        } finally {
          await file.close();
        }
        const fs = await statfs(dir);
        expect(fs.bavail * fs.bsize).toBeLessThan(64 * 1024);
      },
      async () => {
        await new Promise((r) => setTimeout(r, 2000));
        await unlink(filler);
      },
    );
  }, 90_000);
});
