// The CDK app entry (cdk.json "app": node cdk/bin/showrunner.ts), run the way the cdk CLI runs
// it: a child process with the context in CDK_CONTEXT_JSON and the assembly directory in CDK_OUTDIR.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../cdk/lib/paths.ts';
import { CDK_JSON, fakeSite, removeTempDirs, tempDir } from './support.ts';

afterAll(removeTempDirs);

function runApp(context: Record<string, unknown>) {
  const outdir = tempDir('app');
  const [command, ...args] = CDK_JSON.app.split(' ');
  expect(command).toBe('node');
  const run = spawnSync(process.execPath, args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [], ...context }),
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { ...run, outdir };
}

describe('cdk app (cdk/bin/showrunner.ts)', () => {
  it('synthesizes the Showrunner stack offline, with cdk-nag passing', () => {
    const run = runApp({ siteDir: fakeSite() });
    expect(run.stderr).not.toMatch(/AwsSolutions-/);
    expect(run.status).toBe(0);
    const template = JSON.parse(readFileSync(join(run.outdir, 'Showrunner.template.json'), 'utf8'));
    expect(template.Outputs).toHaveProperty('StateMachineArn');
    expect(existsSync(join(run.outdir, 'manifest.json'))).toBe(true);
  }, 60_000);

  it('explains a missing site build instead of failing at deploy', () => {
    const run = runApp({ siteDir: tempDir('nosite') });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('The viewer site is not built');
    expect(run.stderr).toContain('npm run build');
    expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  }, 60_000);

  it('rejects a malformed channel ARN and a bad flag with the context key', () => {
    const bad = runApp({ siteDir: fakeSite(), channelArn: 'arn:aws:ivs:us-west-2:123:channel' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('is not an IVS channel ARN');
    const flag = runApp({ siteDir: fakeSite(), tracing: 'yes' });
    expect(flag.status).toBe(1);
    expect(flag.stderr).toContain('-c tracing=yes: expected true or false');
    // Cognito refuses a domain prefix with a reserved word only at deploy time ("Domain cannot contain reserved word").
    const prefix = runApp({ siteDir: fakeSite(), controlDomainPrefix: 'my-aws-show' });
    expect(prefix.status).toBe(1);
    expect(prefix.stderr).toContain('-c controlDomainPrefix=my-aws-show: expected lowercase letters');
    expect(prefix.stderr).not.toMatch(/\n\s+at /);
  }, 90_000);

  it('"A bad stateMachineLogLevel fails synth, naming the key": -c stateMachineLogLevel=DEBUG stops with a message, not a stack trace; ALL passes cdk-nag', () => {
    const run = runApp({ siteDir: fakeSite(), stateMachineLogLevel: 'DEBUG' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('-c stateMachineLogLevel=DEBUG: expected ERROR or ALL (default ERROR');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const all = runApp({ siteDir: fakeSite(), stateMachineLogLevel: 'all' });
    expect(all.stderr).not.toMatch(/AwsSolutions-/);
    expect(all.status).toBe(0);
    const template = JSON.parse(readFileSync(join(all.outdir, 'Showrunner.template.json'), 'utf8'));
    const [machine] = Object.values<any>(template.Resources).filter(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine',
    );
    expect(machine.Properties.LoggingConfiguration).toMatchObject({
      Level: 'ALL',
      IncludeExecutionData: false,
    });
  }, 60_000);

  it('"A bad audience fails synth, naming the key": -c audience=lots stops with a message, not a stack trace', () => {
    const run = runApp({ siteDir: fakeSite(), audience: 'lots' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      '-c audience=lots: expected a whole number of viewers from 100 to 10,000,000 (default 1,000)',
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('"A bad WAF limit fails synth, naming the key": -c wafVoteLimit=5 stops with a message, not a stack trace', () => {
    const run = runApp({ siteDir: fakeSite(), wafVoteLimit: '5' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      '-c wafVoteLimit=5: expected a whole number of requests per IP address per 60 s from 10 to 2,000,000,000',
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
