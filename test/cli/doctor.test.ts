// `showrunner doctor` through the launcher npm links (cli/bin/showrunner.js), in its own process with
// a producer's environment: credentials and region from the environment, AWS_ENDPOINT_URL at the
// recorded AWS responses (test/unit/doctor-replay.ts), no AWS profile files.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReplay, type Replay } from '../unit/doctor-replay.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let replay: Replay;
let home: string;

beforeAll(async () => {
  replay = await startReplay();
  home = await mkdtemp(join(tmpdir(), 'showrunner-doctor-'));
});
afterAll(async () => {
  await replay?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

/** Runs the bin with only these variables (and PATH, and a HOME without ~/.aws). */
function showrunner(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['cli/bin/showrunner.js', ...args],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          AWS_CONFIG_FILE: join(home, 'no-config'),
          AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
          AWS_EC2_METADATA_DISABLED: 'true',
          ...env,
        },
        timeout: 30_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('showrunner doctor (the bin)', () => {
  it('a brand-new account: exit 1, the bootstrap FAILs with the command to run', async () => {
    const { code, stdout, stderr } = await showrunner(['doctor', '--target', 'aws'], {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'brand-new',
      AWS_SECRET_ACCESS_KEY: 'recorded',
      AWS_ENDPOINT_URL: replay.endpoint,
    });
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(stdout).toMatch(/^FAIL\s+CDK bootstrap\s+.*npx cdk bootstrap aws:\/\/111111111111\/eu-west-1$/m);
    expect(stdout).toContain('✗ The deploy would fail here: 1 check FAIL');
    expect(replay.unexpected).toEqual([]);
  });

  it('no region, then no credentials: one message each, naming what to set', async () => {
    const noRegion = await showrunner(['doctor', '--target', 'aws'], {});
    expect(noRegion.code).toBe(1);
    expect(noRegion.stderr).toBe(
      'showrunner doctor: no AWS region: pass --region REGION (eu-west-1…), or set AWS_REGION (or a region in your AWS profile)\n',
    );
    const noCredentials = await showrunner(['doctor', '--target', 'aws', '--region', 'eu-west-1'], {
      AWS_ENDPOINT_URL: replay.endpoint,
    });
    expect(noCredentials.code).toBe(1);
    expect(noCredentials.stderr).toMatch(/^showrunner doctor: no AWS credentials \(.*\): set AWS_PROFILE/);
    expect(replay.unexpected).toEqual([]);
  });
});
