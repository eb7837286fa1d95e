// ffmpeg, ffprobe and Chromium are found in one order — the explicit variable, the system's copy on
// PATH, then the copy shipped inside an npm package — and the shipped copies can do what the project
// asks of them, so `npm install && npm start` and `npm test` need nothing but Node and npm.
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BinaryNotFoundError,
  ensureExecutable,
  resolveChromium,
  resolveFfmpeg,
  resolveFfprobe,
  resolveFont,
} from '../../local/binaries.ts';
import { launchChromium } from '../support/browser.ts';

/** A folder holding a fake `name` that reports `version`, to stand for a system copy on PATH. */
function fakeSystemCopy(name: string, version: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'showrunner-bin-'));
  writeFileSync(join(dir, name), `#!/bin/sh\necho "${name} version ${version} Copyright"\n`);
  chmodSync(join(dir, name), 0o755);
  return dir;
}

// ffmpeg and ffprobe ship for these; elsewhere those cases are reported as skipped, not passed.
const shippedHere = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64'].includes(
  `${process.platform}-${process.arch}`,
);
const itShipped = shippedHere ? it : it.skip;

describe('resolution order: variable, then system, then npm package', () => {
  it('takes the system copy on PATH before the npm one', async () => {
    const dir = fakeSystemCopy('ffmpeg', '9.9.1');
    const found = await resolveFfmpeg({ env: { PATH: dir } });
    expect(found).toMatchObject({
      source: 'system',
      origin: dir,
      version: '9.9.1',
      path: join(dir, 'ffmpeg'),
    });
  });

  it('takes the explicit variable before the system copy', async () => {
    const system = fakeSystemCopy('ffprobe', '9.9.2');
    const explicit = fakeSystemCopy('ffprobe', '9.9.3');
    const found = await resolveFfprobe({ env: { PATH: system, FFPROBE_PATH: join(explicit, 'ffprobe') } });
    expect(found).toMatchObject({ source: 'variable', origin: 'FFPROBE_PATH', version: '9.9.3' });
  });

  it('names the variable when it points at nothing runnable', async () => {
    await expect(resolveFfmpeg({ env: { PATH: '', FFMPEG_PATH: '/nonexistent/ffmpeg' } })).rejects.toThrow(
      'FFMPEG_PATH: /nonexistent/ffmpeg is not an executable file',
    );
  });

  itShipped('skips the system copy when asked for the npm one (CI runs the suite on both)', async () => {
    const dir = fakeSystemCopy('ffmpeg', '9.9.4');
    const found = await resolveFfmpeg({ env: { PATH: dir }, prefer: 'npm' });
    expect(found.source).toBe('npm');
  });

  it('on a platform with nothing shipped, names the platform and the variable to set', async () => {
    const error = await resolveFfmpeg({ env: { PATH: '' }, platform: 'sunos-sparc' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BinaryNotFoundError);
    expect((error as Error).message).toMatch(/sunos-sparc.*FFMPEG_PATH/);
    await expect(resolveChromium({ env: { PATH: '' }, platform: 'darwin-arm64' })).rejects.toThrow(
      /darwin-arm64.*CHROMIUM_PATH/,
    );
  });

  it('makes a shipped binary executable when the tarball lost its mode (npm runs no install script)', () => {
    const dir = fakeSystemCopy('ffmpeg', '1');
    const file = join(dir, 'ffmpeg');
    chmodSync(file, 0o644);
    expect(ensureExecutable(file)).toBe(true);
    expect(statSync(file).mode & 0o100).toBe(0o100);
  });
});

// The copies a bare machine gets from `npm install`: what the stream and the tests need must be in them.
describe('the npm-shipped copies', () => {
  itShipped(
    'ffmpeg has libx264, aac, drawtext, testsrc2, anullsrc, the FLV demuxer and RTMP (for publishers)',
    async () => {
      const ffmpeg = await resolveFfmpeg({ env: { PATH: '' }, prefer: 'npm' });
      expect(ffmpeg).toMatchObject({ source: 'npm', origin: expect.stringMatching(/^@ffmpeg-installer\//) });
      const run = (...args: string[]) =>
        execFileSync(ffmpeg.path, ['-hide_banner', ...args], { encoding: 'utf8' });
      expect(run('-encoders')).toMatch(/libx264[\s\S]*\baac\b/);
      expect(run('-filters')).toMatch(/anullsrc[\s\S]*drawtext[\s\S]*testsrc2/);
      expect(run('-demuxers')).toMatch(/\bflv\b/);
      expect(run('-protocols')).toMatch(/\brtmp\b/);
    },
  );

  itShipped(
    'a static build named by the variable gets the same safe environment as the shipped copy',
    async () => {
      const shipped = await resolveFfprobe({ env: { PATH: '' }, prefer: 'npm' });
      const named = await resolveFfprobe({ env: { PATH: '', FFPROBE_PATH: shipped.path } });
      expect(named).toMatchObject({ source: 'variable', version: shipped.version, env: shipped.env });
      // A dynamically linked program (here a script) needs none.
      const dir = fakeSystemCopy('ffprobe', '9.9.5');
      expect((await resolveFfprobe({ env: { PATH: dir } })).env).toBeUndefined();
    },
  );

  itShipped(
    'ffprobe reads MPEG-TS (a static glibc loading the system gconv modules would SIGSEGV)',
    async () => {
      const ffprobe = await resolveFfprobe({ env: { PATH: '' }, prefer: 'npm' });
      expect(ffprobe).toMatchObject({ source: 'npm', version: expect.stringMatching(/^\d+\.\d+/) });
      const fixture = join(import.meta.dirname, '../fixtures/ivs/pattern-2.5s.ts');
      const streams = execFileSync(ffprobe.path, ['-v', 'error', '-show_streams', '-of', 'json', fixture], {
        encoding: 'utf8',
        env: { ...process.env, ...ffprobe.env },
      });
      expect(JSON.parse(streams).streams.map((s: { codec_name: string }) => s.codec_name)).toEqual([
        'h264',
        'aac',
      ]);
    },
  );

  it('a font for the burned-in clock is always there (the npm DejaVu when the system has none)', () => {
    expect(resolveFont(['/nonexistent.ttf'])).toMatchObject({
      source: 'npm',
      path: expect.stringMatching(/dejavu-fonts-ttf\/ttf\/DejaVuSansMono\.ttf$/),
    });
  });

  it('Chromium (the one the tests use) has requestVideoFrameCallback and H.264/AAC Media Source', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const features = await page.evaluate(() => ({
        rvfc: 'requestVideoFrameCallback' in HTMLVideoElement.prototype,
        mse: MediaSource.isTypeSupported('video/mp4; codecs="avc1.4d401e,mp4a.40.2"'),
      }));
      expect(features).toEqual({ rvfc: true, mse: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});
