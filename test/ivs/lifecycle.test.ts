// ffmpeg never outlives the process that started it.
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, startIvs, waitFor } from './support.ts';

const ROOT_BIN = join(import.meta.dirname, '../../node_modules/.bin');

/** Alive and not a zombie (a killed child whose parent is gone may linger as Z until init reaps it). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('ffmpeg process lifetime', () => {
  it('close() ends every ffmpeg process', async () => {
    const h = await startIvs();
    await h.ivs.ready;
    const pids = h.ivs.channel().ffmpegPids;
    expect(pids).toHaveLength(2); // test pattern + RTMP listener
    await h.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 60_000);

  it('no ffmpeg survives its parent being SIGKILLed (not even the idle RTMP listener)', async () => {
    // Node ≥ 24 runs the .ts child directly (npm test puts node_modules/.bin/node, Node 24, first on PATH).
    const node = existsSync(join(ROOT_BIN, 'node')) ? join(ROOT_BIN, 'node') : process.execPath;
    const child = spawn(
      node,
      [join(import.meta.dirname, '../fixtures/ivs/ivs-child.ts'), String(await freePort())],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    const pids = JSON.parse(line) as number[];
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    await waitFor('the orphaned ffmpeg processes to die', () => pids.every((pid) => !alive(pid)), 10_000);
  }, 60_000);
});
