// lambdas/observability.ts: what the Lambdas print for CloudWatch — EMF metric records and JSON
// log lines on stdout — run through the middlewares on a tiny Middy handler with a fake Lambda
// context, outside Lambda (tracing off), and once in a child process with a Lambda's environment.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promisify } from 'node:util';
import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import { ConfigError } from '../../lambdas/config.ts';
import {
  METRIC,
  METRICS_NAMESPACE,
  createObservability,
  isThrottled,
  type Observability,
} from '../../lambdas/observability.ts';
import { lambdaContext } from '../../local/api/context.ts';

const POLL_ID = 'cat-facts-20261125T061500Z:q1';
const RUN_ID = 'cat-facts-20261125T061500Z';

let stdout: string[];
let stderr: string[];
beforeEach(() => {
  stdout = [];
  stderr = [];
  // Powertools prints through a Console of its own on process.stdout/stderr (not the global console).
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  jest.restoreAllMocks();
});

/** Every line printed on a stream so far, parsed: each must be one JSON object. */
const parsed = (chunks: string[]): Array<Record<string, any>> =>
  chunks
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
/** EMF records go to stdout. */
const emfRecords = () => parsed(stdout).filter((line) => line._aws !== undefined);
/** Log lines: DEBUG and INFO on stdout, WARN and above on stderr (both reach CloudWatch Logs in Lambda). */
const logLines = () => [...parsed(stdout), ...parsed(stderr)].filter((line) => line._aws === undefined);
/** The EMF record that holds `metric`. */
const recordOf = (metric: string) => {
  const found = emfRecords().filter((r) =>
    r._aws.CloudWatchMetrics[0].Metrics.some((m: any) => m.Name === metric),
  );
  expect(found).toHaveLength(1);
  return found[0]!;
};

/** A Middy handler with nothing but the observability middlewares around `body`. */
function wrap(obs: Observability, body: (event: any) => unknown = () => 'ok') {
  const handler = middy<any, unknown>()
    .use(obs.middlewares)
    .handler(async (event) => body(event));
  return (event: unknown = {}) => handler(event, lambdaContext('showrunner-api'));
}

const local = (env: Record<string, string> = {}) =>
  createObservability({ serviceName: 'showrunner-api', env: { AWS_REGION: 'us-east-1', ...env } });

describe('metrics (CloudWatch EMF on stdout)', () => {
  it('an accepted vote is one EMF record in the showrunner namespace, dimensioned by service only, with the poll and run ids as metadata', async () => {
    const obs = await local();
    await wrap(obs, () => obs.voteAccepted(POLL_ID))();
    const record = recordOf(METRIC.voteAccepted);
    expect(record._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [['service']],
      Metrics: [{ Name: 'VotesAccepted', Unit: 'Count' }],
    });
    expect(record).toMatchObject({
      service: 'showrunner-api',
      VotesAccepted: 1,
      pollId: POLL_ID,
      runId: RUN_ID,
    });
    expect(stderr.join('')).toBe('');
  });

  it('a refusal is counted under its API error code (a low-cardinality dimension), the poll id stays metadata', async () => {
    const obs = await local();
    await wrap(obs, () => obs.voteRefused(POLL_ID, 'poll_closed'))();
    await wrap(obs, () => obs.voteRefused(undefined, 'unsupported_media_type'))();
    const [closed, media] = emfRecords();
    expect(closed!._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'reason']]);
    expect(closed).toMatchObject({ reason: 'poll_closed', VotesRefused: 1, pollId: POLL_ID });
    expect(media).toMatchObject({ reason: 'unsupported_media_type', VotesRefused: 1 });
    expect(media).not.toHaveProperty('pollId');
  });

  it('the dimensions and metadata of one invocation do not leak into the next', async () => {
    const obs = await local();
    const handler = wrap(obs, (event) =>
      event.refuse ? obs.voteRefused(POLL_ID, 'already_answered') : obs.voteThrottled('other-run:q2'),
    );
    await handler({ refuse: true });
    await handler({ refuse: false });
    const throttled = recordOf(METRIC.voteThrottled);
    expect(throttled._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
    expect(throttled).not.toHaveProperty('reason');
    expect(throttled).toMatchObject({ pollId: 'other-run:q2', runId: 'other-run' });
  });

  it('a lifecycle invocation is one record per action: its duration in milliseconds and the tally cue counts', async () => {
    const obs = await local();
    await wrap(obs, () => {
      obs.tallyCuesSent(POLL_ID, 41);
      obs.tallyCuesSkipped(POLL_ID, 2);
      obs.lifecycleTiming('tally', 840_012.5);
    })();
    const record = recordOf(METRIC.lifecycleTiming);
    expect(record._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'action']]);
    expect(record._aws.CloudWatchMetrics[0].Metrics).toEqual(
      expect.arrayContaining([
        { Name: 'LifecycleDuration', Unit: 'Milliseconds' },
        { Name: 'TallyCuesSent', Unit: 'Count' },
        { Name: 'TallyCuesSkipped', Unit: 'Count' },
      ]),
    );
    expect(record).toMatchObject({
      action: 'tally',
      LifecycleDuration: 840_012.5,
      TallyCuesSent: 41,
      TallyCuesSkipped: 2,
      pollId: POLL_ID,
      runId: RUN_ID,
    });
  });

  it('an invocation that records no metric prints nothing: no empty record, no "No application metrics" warning', async () => {
    const obs = await local();
    await wrap(obs)();
    expect(stdout.join('')).toBe('');
    expect(stderr.join('')).toBe('');
  });

  it('metrics are still published when the handler throws, and the error reaches the caller unchanged', async () => {
    const obs = await local();
    const failure = new Error('boom');
    const handler = wrap(obs, () => {
      obs.voteThrottled(POLL_ID);
      throw failure;
    });
    await expect(handler()).rejects.toBe(failure);
    expect(recordOf(METRIC.voteThrottled)).toMatchObject({ VotesThrottled: 1, pollId: POLL_ID });
  });

  it('POWERTOOLS_METRICS_DISABLED=true in the env turns metrics off (nothing printed, the helpers still callable)', async () => {
    const obs = await local({ POWERTOOLS_METRICS_DISABLED: 'true' });
    expect(obs.config.metricsEnabled).toBe(false);
    await wrap(obs, () => {
      obs.voteAccepted(POLL_ID);
      obs.voteRefused(POLL_ID, 'bad_request');
      obs.lifecycleTiming('open', 12);
    })();
    expect(emfRecords()).toEqual([]);
  });
});

describe('logs (JSON lines)', () => {
  it('log lines carry the poll id and run id of the invocation, and the next invocation starts without them', async () => {
    const obs = await local();
    const handler = wrap(obs, (event) => {
      if (event.pollId) obs.appendPollKeys({ pollId: event.pollId });
      obs.logger.info('handled');
    });
    await handler({ pollId: POLL_ID });
    await handler({});
    const [first, second] = logLines();
    expect(first).toMatchObject({
      level: 'INFO',
      message: 'handled',
      service: 'showrunner-api',
      function_name: 'showrunner-api',
      pollId: POLL_ID,
      runId: RUN_ID,
    });
    expect(first!.function_request_id).toEqual(expect.any(String));
    expect(second).not.toHaveProperty('pollId');
    expect(second).not.toHaveProperty('runId');
  });

  it('a run id alone (plan) is a key of its own', async () => {
    const obs = await local();
    await wrap(obs, () => {
      obs.appendPollKeys({ runId: RUN_ID });
      obs.logger.warn('planned');
    })();
    expect(logLines()[0]).toMatchObject({ level: 'WARN', runId: RUN_ID });
    expect(logLines()[0]).not.toHaveProperty('pollId');
  });

  it('the log level comes from the env parameter (POWERTOOLS_LOG_LEVEL, then LOG_LEVEL); a bad one fails at init with its name', async () => {
    const quiet = await local({ LOG_LEVEL: 'error' });
    await wrap(quiet, () => {
      quiet.logger.info('hidden');
      quiet.logger.error('shown');
    })();
    expect(logLines().map((l) => l.message)).toEqual(['shown']);
    expect((await local({ POWERTOOLS_LOG_LEVEL: 'DEBUG', LOG_LEVEL: 'ERROR' })).config.logLevel).toBe(
      'DEBUG',
    );
    await expect(local({ LOG_LEVEL: 'LOUD' })).rejects.toThrow(ConfigError);
    await expect(local({ LOG_LEVEL: 'LOUD' })).rejects.toThrow(/LOG_LEVEL/);
  });

  it('the service name and namespace come from the env parameter when it sets them', async () => {
    const obs = await local({
      POWERTOOLS_SERVICE_NAME: 'api-blue',
      POWERTOOLS_METRICS_NAMESPACE: 'Showrunner/Test',
    });
    await wrap(obs, () => {
      obs.voteAccepted(POLL_ID);
      obs.logger.info('x');
    })();
    expect(recordOf(METRIC.voteAccepted)).toMatchObject({ service: 'api-blue' });
    expect(recordOf(METRIC.voteAccepted)._aws.CloudWatchMetrics[0].Namespace).toBe('Showrunner/Test');
    expect(logLines()[0]).toMatchObject({ service: 'api-blue' });
  });
});

describe('tracing', () => {
  it('outside Lambda there is no tracer: two middlewares, X-Ray SDK not loaded, nothing thrown or printed to stderr', async () => {
    const obs = await local({ POWERTOOLS_TRACE_ENABLED: 'true' }); // asking is not enough: no AWS_EXECUTION_ENV
    expect(obs.config.tracingEnabled).toBe(false);
    expect(obs.tracer).toBeUndefined();
    expect(obs.middlewares).toHaveLength(2);
    await wrap(obs, () => obs.appendPollKeys({ pollId: POLL_ID }))();
    // aws-xray-sdk-core registers its cls-hooked namespace (a process-wide async hook) on import.
    expect(
      (process as unknown as { namespaces?: Record<string, unknown> }).namespaces?.AWSXRay,
    ).toBeUndefined();
    expect(stderr.join('')).toBe('');
  });

  it('POWERTOOLS_TRACE_ENABLED=false and SAM local turn tracing off in Lambda too', async () => {
    const lambda = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' };
    expect((await local({ ...lambda, POWERTOOLS_TRACE_ENABLED: 'false' })).tracer).toBeUndefined();
    expect((await local({ ...lambda, AWS_SAM_LOCAL: 'true' })).tracer).toBeUndefined();
  });

  it('in a Lambda environment the tracer is on: the handler subsegment carries the poll and run ids as annotations, metrics as outside', async () => {
    // Segments go to the X-Ray daemon over UDP: this socket stands in for it.
    const daemon = createSocket('udp4');
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
    const subsegment = new Promise<Record<string, any>>((resolve) =>
      daemon.on('message', (message) => {
        // "{header}\n{segment}"
        const segment = JSON.parse(message.toString('utf8').split('\n')[1]!);
        if (segment.name === '## index.handler') resolve(segment);
      }),
    );
    // A child process: Powertools reads the Lambda runtime's variables from process.env itself.
    const module = new URL('../../lambdas/observability.ts', import.meta.url).href;
    const script = `
      const { createObservability } = await import(${JSON.stringify(module)});
      const { default: middy } = await import('@middy/core');
      const obs = await createObservability({ serviceName: 'showrunner-api', env: process.env });
      const handler = middy().use(obs.middlewares).handler(async () => {
        obs.appendPollKeys({ pollId: ${JSON.stringify(POLL_ID)} });
        obs.voteAccepted(${JSON.stringify(POLL_ID)});
        return { tracing: obs.tracer.isTracingEnabled(), middlewares: obs.middlewares.length };
      });
      const result = await handler({}, { functionName: 'showrunner-api', awsRequestId: 'r1', getRemainingTimeInMillis: () => 10000 });
      console.log(JSON.stringify({ result }));`;
    try {
      const { stdout: out } = await promisify(execFile)(
        process.execPath,
        ['--input-type=module', '-e', script],
        {
          cwd: new URL('../..', import.meta.url),
          env: {
            PATH: process.env.PATH ?? '',
            AWS_REGION: 'us-east-1',
            AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
            AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
            LAMBDA_TASK_ROOT: '/var/task',
            _HANDLER: 'index.handler',
            _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
            AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
          },
          encoding: 'utf8',
        },
      );
      const lines = out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines.at(-1)).toEqual({ result: { tracing: true, middlewares: 3 } });
      const metrics = lines.filter((l) => l._aws).map((l) => l._aws.CloudWatchMetrics[0].Metrics[0].Name);
      // In Lambda the cold start is counted too (Powertools knows it from AWS_LAMBDA_INITIALIZATION_TYPE).
      expect(metrics).toEqual(['ColdStart', 'VotesAccepted']);
      expect((await subsegment).annotations).toEqual({
        ColdStart: true,
        Service: 'showrunner-api',
        pollId: POLL_ID,
        runId: RUN_ID,
      });
    } finally {
      daemon.close();
    }
  });
});

describe('isThrottled', () => {
  it("recognises DynamoDB's throttling errors by class or by the SDK's classification, and nothing else", () => {
    const named = (name: string, extra: object = {}) => Object.assign(new Error('x'), { name, ...extra });
    const thrown = { message: 'x', $metadata: {} };
    expect(isThrottled(new ProvisionedThroughputExceededException(thrown))).toBe(true);
    expect(isThrottled(new RequestLimitExceeded(thrown))).toBe(true);
    expect(isThrottled(new ThrottlingException(thrown))).toBe(true);
    expect(isThrottled(named('Whatever', { $retryable: { throttling: true } }))).toBe(true);
    expect(isThrottled(new ConditionalCheckFailedException(thrown))).toBe(false);
    expect(isThrottled(new Error('x'))).toBe(false);
    expect(isThrottled(undefined)).toBe(false);
  });
});
