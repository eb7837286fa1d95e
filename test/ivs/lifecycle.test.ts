// ffmpeg never outlives the process that started it.
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { resolveFfmpeg } from '../../local/binaries.ts';
import { freePort } from '../support/stack.ts';
import { startIvs } from '../support/ivs.ts';
import { waitFor } from '../support/wait.ts';

const ROOT_BIN = join(import.meta.dirname, '../../node_modules/.bin');

/** Alive and not a zombie (a killed child whose parent is gone may linger as Z until init reaps it). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** ffmpeg pushing a live test source to `url` for `seconds` (a publisher, like OBS). */
async function publish(url: string, seconds: number) {
  const ffmpeg = await resolveFfmpeg();
  return spawn(
    ffmpeg.path,
    [
      '-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', String(seconds),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-pix_fmt', 'yuv420p', '-an', '-f', 'flv', url,
    ], // prettier-ignore
    { stdio: 'ignore', env: { ...process.env, ...ffmpeg.env } },
  );
}

describe('ffmpeg process lifetime', () => {
  it("close() ends every ffmpeg process, the test pattern and a publisher's transcoder", async () => {
    const h = await startIvs();
    await h.ivs.ready;
    const channel = h.ivs.channel();
    expect(channel.ffmpegPids).toHaveLength(1); // the test pattern; no ffmpeg waits for a publisher
    const pattern = channel.ffmpegPids[0]!;
    const publisher = await publish(h.ivs.ingestUrl()!, 30);
    try {
      await waitFor('the publisher on air', () => channel.sourceKind === 'rtmp', 20_000);
      const pids = channel.ffmpegPids;
      expect(pids).toHaveLength(1); // the transcoder; the pattern has stopped
      expect(pids).not.toContain(pattern);
      await h.close();
      for (const pid of [pattern, ...pids]) expect(alive(pid)).toBe(false);
    } finally {
      publisher.kill('SIGKILL');
      await h.close();
    }
  }, 60_000);

  it("no ffmpeg survives its parent being SIGKILLed (not even a publisher's transcoder)", async () => {
    // Node ≥ 24 runs the .ts child directly (npm test puts node_modules/.bin/node, Node 24, first on PATH).
    const node = existsSync(join(ROOT_BIN, 'node')) ? join(ROOT_BIN, 'node') : process.execPath;
    const child = spawn(
      node,
      [join(import.meta.dirname, '../fixtures/ivs/ivs-child.ts'), String(await freePort())],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const next = async () => {
      const line = await lines.next();
      if (line.done) throw new Error('the child exited early');
      return JSON.parse(line.value) as { source: string; ingest: string; pids: number[] };
    };
    const live = await next();
    expect(live.pids).toHaveLength(1);
    const publisher = await publish(live.ingest, 30);
    try {
      const publishing = await next();
      expect(publishing.source).toBe('rtmp');
      const pids = [...new Set([...live.pids, ...publishing.pids])];
      const transcoder = publishing.pids.find((pid) => !live.pids.includes(pid))!;
      expect(alive(transcoder)).toBe(true);
      child.kill('SIGKILL');
      await waitFor('the orphaned ffmpeg processes to die', () => pids.every((pid) => !alive(pid)), 10_000);
    } finally {
      publisher.kill('SIGKILL');
      child.kill('SIGKILL');
    }
  }, 60_000);
});
