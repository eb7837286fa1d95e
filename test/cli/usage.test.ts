// The CLI without a stack: validation output, usage errors that name the flag, and the AWS target's
// reading of CloudFormation outputs (against a stub CloudFormation endpoint).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../cli/showrunner.ts';
import { resolveTarget, TargetError, type TargetOptions } from '../../ops/target.ts';
import { parseStartAt } from '../../cli/args.ts';
import { closeServer, listen, readBody } from '../../local/http.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    env: { EDGE_URL: 'http://127.0.0.1:9' },
    now: () => new Date('2026-11-25T18:00:00Z'),
  });
  return { code, stdout, stderr };
}

describe('showrunner CLI usage', () => {
  it('validate lists each question with its cue size; an invalid file exits 1 with path-named errors', async () => {
    const ok = await run('validate', 'shows/demo.json');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/✓ shows\/demo\.json: "Cat Facts Live" \(cat-facts\), 6 questions/);
    expect(ok.stdout).toMatch(/sleep\s+0:10\s+15\+5 s\s+\d+\/1024 B\s+Cats sleep/);
    expect(ok.stdout).toMatch(/encore\s+manual/);
    const bad = await run(
      'validate',
      'shows/demo.json',
      'test/fixtures/shows/invalid/duplicate-poll-ids.json',
      'missing.json',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      'test/fixtures/shows/invalid/duplicate-poll-ids.json: polls[1].id: duplicate id',
    );
    expect(bad.stderr).toContain('missing.json: cannot read it (ENOENT)');
    const json = await run('validate', 'shows/test-short.json', '--json');
    expect(JSON.parse(json.stdout)[0]).toMatchObject({
      ok: true,
      polls: [{ id: 'q1', cueBytes: expect.any(Number) }, { id: 'q2' }],
    });
  });

  it('usage errors exit 2 and name the flag or argument', async () => {
    expect(await run()).toMatchObject({ code: 2 });
    expect(await run('bogus')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command "bogus"'),
    });
    expect(await run('start')).toMatchObject({ code: 2, stderr: expect.stringContaining('FILE: missing') });
    expect(await run('start', 'shows/demo.json', '--at', 'tomorrow')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--at: expected an ISO 8601 date-time'),
    });
    expect(await run('start', 'shows/demo.json', '--at', '2020-01-01T00:00:00Z')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--at: 2020-01-01T00:00:00.000Z is in the past'),
    });
    expect(await run('start', 'shows/demo.json', '--channel', 'x')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--channel: expected an IVS channel ARN'),
    });
    expect(await run('start', 'shows/demo.json', '--name', 'has space')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--name: expected'),
    });
    expect(await run('list', '--status', 'bogus')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--status: expected one of'),
    });
    expect(await run('list', '--limit', '0')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--limit: expected a whole number'),
    });
    expect(await run('results', 'run-1', '--json', '--csv')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--json, --csv: choose one'),
    });
    expect(await run('cue', 'bad run!')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('RUN: expected a run id'),
    });
    expect(await run('history')).toMatchObject({ code: 2, stderr: expect.stringContaining('RUN: missing') });
    expect(await run('stop', 'run-1', '--target', 'gcp')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--target: expected local or aws'),
    });
    expect(await run('list', '--bogus')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Unknown option '--bogus'"),
    });
  });

  it('every command has --help; a stack that is not running is explained', async () => {
    for (const command of [
      'validate',
      'start',
      'cue',
      'stop',
      'status',
      'list',
      'history',
      'results',
      'leaderboard',
      'hide-name',
    ]) {
      const help = await run(command, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: showrunner ${command}`));
    }
    const down = await run('list');
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(
      'cannot reach the local stack at http://127.0.0.1:9: is `npm start` running?',
    );
  });

  it('`npx showrunner` runs the launcher npm links into node_modules/.bin, and it prints what main prints', async () => {
    // A "bin" in the root package.json makes npx load the whole dependency tree before every run.
    const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(root.bin).toBeUndefined();
    expect(root.workspaces).toContain('cli/bin');
    const bin = JSON.parse(readFileSync(join(ROOT, 'cli/bin/package.json'), 'utf8'));
    expect(bin).toMatchObject({ type: 'module', bin: { showrunner: 'showrunner.js' } });
    const launched = spawnSync(process.execPath, ['cli/bin/showrunner.js', 'cue', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(launched.status).toBe(0);
    expect(launched.stdout).toBe((await run('cue', '--help')).stdout);
  });

  it('--at accepts ISO times, times of day and offsets from now', () => {
    const now = new Date('2026-11-25T18:00:00Z');
    expect(parseStartAt('2026-11-25T18:30:00Z', now).toISOString()).toBe('2026-11-25T18:30:00.000Z');
    expect(parseStartAt('+90', now).toISOString()).toBe('2026-11-25T18:01:30.000Z');
    expect(parseStartAt('+1:02:03', now).toISOString()).toBe('2026-11-25T19:02:03.000Z');
    expect(parseStartAt('now', now)).toEqual(now);
    const local = parseStartAt('23:59', now);
    expect([local.getHours(), local.getMinutes()]).toEqual([23, 59]);
  });
});

describe('--target aws', () => {
  let server: Server;
  let outputs: Array<[string, string]> | undefined;
  // The stack's outputs come from a stub CloudFormation; region and credentials as a producer sets them.
  let aws: Pick<TargetOptions, 'env' | 'cloudFormationConfig'>;

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      await readBody(req, 65536);
      res.setHeader('content-type', 'text/xml');
      if (!outputs) {
        res.statusCode = 400;
        res.end(
          '<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id Showrunner does not exist</Message></Error><RequestId>x</RequestId></ErrorResponse>',
        );
        return;
      }
      const members = outputs
        .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
        .join('');
      res.end(
        `<DescribeStacksResponse><DescribeStacksResult><Stacks><member><StackName>Showrunner</StackName><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-11-25T18:00:00Z</CreationTime><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult></DescribeStacksResponse>`,
      );
    });
    const port = await listen(server, 0);
    aws = {
      env: { AWS_REGION: 'eu-west-1' },
      cloudFormationConfig: {
        endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      },
    };
  });
  afterAll(async () => {
    await closeServer(server);
  });

  it('reads StateMachineArn, TableName and ChannelArn from the stack outputs, or says the stack is not deployed', async () => {
    outputs = undefined;
    await expect(resolveTarget({ target: 'aws', ...aws })).rejects.toThrow(
      /not deployed: no CloudFormation stack Showrunner in eu-west-1/,
    );
    outputs = [
      ['StateMachineArn', 'arn:aws:states:eu-west-1:123456789012:stateMachine:Show'],
      ['TableName', 'polls'],
    ];
    await expect(resolveTarget({ target: 'aws', ...aws })).rejects.toThrow(TargetError);
    await expect(resolveTarget({ target: 'aws', ...aws })).rejects.toThrow(/has no output ChannelArn/);
    outputs.push(['ChannelArn', 'arn:aws:ivs:eu-west-1:123456789012:channel/AbCd1234']);
    const target = await resolveTarget({ target: 'aws', ...aws });
    expect(target).toMatchObject({
      kind: 'aws',
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Show',
      tableName: 'polls',
      channelArn: 'arn:aws:ivs:eu-west-1:123456789012:channel/AbCd1234',
      description: 'stack Showrunner (eu-west-1)',
    });
    target.close();
  });
});
