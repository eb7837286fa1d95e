// The real Lambda bundles, as `cdk synth` builds them with the local esbuild (no Docker): ESM
// output with Middy 7, the AWS SDK bundled in. Each bundle is loaded by a separate Node process
// from a directory with no node_modules, like the Lambda runtime, and invoked on paths that need
// no database.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable, startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/index.ts';
import { closeServer, createEdgeServer, listen } from '../../local/http.ts';
import { Match } from 'aws-cdk-lib/assertions';
import { REPO_ROOT } from '../../cdk/lib/paths.ts';
import { CORS_MAX_AGE_SECONDS } from '../../contract/api.ts';
import { onlyResource, removeTempDirs, rootProxy, synth, tempDir, type Synth } from './support.ts';

afterAll(removeTempDirs);

let built: Synth;

/** Copies a function's bundle out of the assembly (away from the repo's node_modules). */
function bundleOf(description: RegExp): string {
  const [, fn] = onlyResource(built.template, 'AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp(description.source),
  });
  const assetDir = join(built.app.outdir, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
  const isolated = tempDir('bundle');
  cpSync(assetDir, isolated, { recursive: true });
  return isolated;
}

/** Imports the bundle in a fresh Node (the one running these tests: Node 24) and calls its handler. */
/** Runs `script` as an ES module in a fresh Node (the bundle's runtime), in `dir`; its stdout is JSON. */
/** As the stack configures the API: the viewer-token secret's ARN, read from Secrets Manager on first use (not by these requests). */
const TOKEN_SECRET = {
  VIEWER_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:viewer-token-AbCdEf',
};

/** Runs the script in its own Node process, asynchronously: the test's local DynamoDB must answer meanwhile. */
async function runModuleScript(dir: string, script: string, env: Record<string, string>): Promise<any> {
  const { stdout: out } = await execFileAsync(
    process.execPath,
    ['--enable-source-maps', '--input-type=module', '-e', script],
    {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  // The handler's own log and EMF metric lines come first; the script's JSON is the last line.
  return JSON.parse(out.trimEnd().split('\n').at(-1)!);
}

function invoke(dir: string, event: unknown, env: Record<string, string>): Promise<any> {
  const script = `
    const { handler } = await import(${JSON.stringify(join(dir, 'index.mjs'))});
    if (typeof handler !== 'function') throw new Error('handler is not exported');
    const result = await handler(${JSON.stringify(event)}, { getRemainingTimeInMillis: () => 10000 });
    process.stdout.write(JSON.stringify(result ?? null));`;
  return runModuleScript(dir, script, env);
}

/**
 * Like invoke(), for a handler that throws: the error as the Lambda runtime reports it to Step
 * Functions (errorType, errorMessage, and the stack as trace), which becomes the Cause.
 */
function invokeFailing(dir: string, event: unknown, env: Record<string, string>): Promise<any> {
  // The event goes through a file: a large one exceeds what a command-line argument may hold.
  const eventFile = join(dir, 'event.json');
  writeFileSync(eventFile, JSON.stringify(event));
  const script = `
    const { handler } = await import(${JSON.stringify(join(dir, 'index.mjs'))});
    const { readFileSync } = await import('node:fs');
    try {
      await handler(JSON.parse(readFileSync(${JSON.stringify(eventFile)}, 'utf8')), { getRemainingTimeInMillis: () => 10000 });
      process.stdout.write('null');
    } catch (error) {
      process.stdout.write(JSON.stringify({ errorType: error.name, errorMessage: error.message, trace: String(error.stack).split('\\n') }));
    }`;
  return runModuleScript(dir, script, env);
}

const execFileAsync = promisify(execFile);

/** A local DynamoDB for the lifecycle bundle: Plan claims the run's channel in the table. */
let dynamo: LocalDynamoDb;
let edge: ReturnType<typeof createEdgeServer>;
let tableEnv: Record<string, string>;

beforeAll(async () => {
  built = synth({}, { bundle: true });
  dynamo = await startLocalDynamoDb(tempDir('showrunner-bundle-db-'));
  edge = createEdgeServer([dynamo.edge], () => undefined);
  const endpoint = `http://127.0.0.1:${await listen(edge, 0)}`;
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  await ensureTable(client, 'showrunner-test');
  client.destroy();
  tableEnv = {
    TABLE_NAME: 'showrunner-test',
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  };
}, 120_000);

afterAll(async () => {
  if (edge) await closeServer(edge);
  await dynamo?.close();
});

describe('Lambda bundles (local esbuild)', () => {
  it('are single-file ESM bundles with a source map', () => {
    for (const name of [/REST API/, /lifecycle/]) {
      const dir = bundleOf(name);
      expect(existsSync(join(dir, 'index.mjs'))).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
      expect(readFileSync(join(dir, 'index.mjs'), 'utf8')).toMatch(
        /^import\s*\{\s*createRequire as __showrunnerCreateRequire/,
      );
    }
  });

  it('the API bundle loads and answers a bad request with the contract error (Middy router + CORS)', async () => {
    const response = await invoke(
      bundleOf(/REST API/),
      {
        httpMethod: 'GET',
        path: '/poll-get',
        resource: '/{proxy+}',
        headers: { Origin: 'https://d111111abcdef8.cloudfront.net' },
        multiValueHeaders: {},
        queryStringParameters: { poll_id: 'no spaces allowed' },
        multiValueQueryStringParameters: null,
        pathParameters: { proxy: 'poll-get' },
        requestContext: { requestId: 'test', stage: 'prod', httpMethod: 'GET', path: '/prod/poll-get' },
        body: null,
        isBase64Encoded: false,
      },
      {
        TABLE_NAME: 'showrunner-test',
        CORS_ORIGINS: 'https://d111111abcdef8.cloudfront.net',
        ...TOKEN_SECRET,
      },
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: expect.any(String) } });
    const headers = Object.fromEntries(
      Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), v]),
    );
    expect(headers['access-control-allow-origin']).toBe('https://d111111abcdef8.cloudfront.net');
  });

  it('"The CORS max-age is one constant": the API bundle answers a preflight with API Gateway\'s Access-Control-Max-Age', async () => {
    const origin = 'https://d111111abcdef8.cloudfront.net';
    const response = await invoke(
      bundleOf(/REST API/),
      {
        httpMethod: 'OPTIONS',
        path: '/requestor-put',
        resource: '/{proxy+}',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
        multiValueHeaders: {},
        queryStringParameters: null,
        multiValueQueryStringParameters: null,
        pathParameters: { proxy: 'requestor-put' },
        requestContext: {
          requestId: 'test',
          stage: 'prod',
          httpMethod: 'OPTIONS',
          path: '/prod/requestor-put',
        },
        body: null,
        isBase64Encoded: false,
      },
      { TABLE_NAME: 'showrunner-test', CORS_ORIGINS: origin, ...TOKEN_SECRET },
    );
    const headers = Object.fromEntries(
      Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const proxy = rootProxy(built.template);
    const [, options] = onlyResource(built.template, 'AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      ResourceId: { Ref: proxy },
    });
    const gateway = options.Properties.Integration.IntegrationResponses[0].ResponseParameters[
      'method.response.header.Access-Control-Max-Age'
    ] as string;
    expect(headers['access-control-max-age']).toBe(String(CORS_MAX_AGE_SECONDS));
    expect(`'${headers['access-control-max-age']}'`).toBe(gateway);
  });

  it('"A channel outside the stack\'s grant fails at Plan": the lifecycle bundle refuses it with ShowValidationError', async () => {
    const show = JSON.parse(readFileSync(join(REPO_ROOT, 'shows', 'demo.json'), 'utf8'));
    const stackChannel = 'arn:aws:ivs:us-east-1:123456789012:channel/Stack1234';
    const extra = 'arn:aws:ivs:us-east-1:123456789012:channel/Extra1234';
    const event = (channelArn: string) => ({
      action: 'plan',
      input: { ...show, channelArn },
      runId: 'bundle-test',
      now: '2030-01-01T00:00:00.000Z',
      stackChannelArn: stackChannel,
    });
    const env = { ...tableEnv, CUE_CHANNEL_ARNS: `${stackChannel},${extra}` };
    const dir = bundleOf(/lifecycle/);
    expect((await invoke(dir, event(extra), env)).runId).toBe('bundle-test');
    expect((await invoke(dir, event(stackChannel), env)).runId).toBe('bundle-test');
    const refused = await invokeFailing(
      dir,
      event('arn:aws:ivs:us-east-1:123456789012:channel/Other1234'),
      env,
    );
    expect(refused.errorType).toBe('ShowValidationError');
    expect(refused.errorMessage).toMatch(
      /^channelArn: arn:aws:ivs:\S+\/Other1234 is not a channel this stack may send cues to/,
    );
  });

  it('"A validation failure\'s Cause is capped at 32,768 characters": the lifecycle bundle\'s error fits, first 20 issues then "and N more"', async () => {
    const polls = Array.from({ length: 40 }, (_, i) => ({
      id: `q${i}`,
      at: `"${'\\'.repeat(3000)}`,
      question: '',
      answers: ['only'],
      [`x${'"'.repeat(3000)}`]: 1,
    }));
    const error = await invokeFailing(
      bundleOf(/lifecycle/),
      { action: 'plan', input: { id: 'big', title: 'Big', polls }, runId: 'bundle-test' },
      { TABLE_NAME: 'showrunner-test' },
    );
    expect(error.errorType).toBe('ShowValidationError');
    const lines = (error.errorMessage as string).split('\n');
    expect(lines).toHaveLength(21);
    expect(lines[20]).toMatch(/^… and \d+ more issues$/);
    expect(JSON.stringify(error).length).toBeLessThanOrEqual(32_768);
  });

  it('the lifecycle bundle loads and plans the demo show', async () => {
    const show = JSON.parse(readFileSync(join(REPO_ROOT, 'shows', 'demo.json'), 'utf8'));
    const plan = await invoke(
      bundleOf(/lifecycle/),
      { action: 'plan', input: show, runId: 'bundle-test', now: '2030-01-01T00:00:00.000Z' },
      { TABLE_NAME: 'showrunner-test' },
    );
    expect(plan.runId).toBe('bundle-test');
    expect(Array.isArray(plan.polls)).toBe(true);
    expect(plan.polls.length).toBeGreaterThan(0);
  });
});
