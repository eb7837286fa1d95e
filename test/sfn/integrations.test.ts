// The AWS SDK bindings of Task states: ASL's PascalCase parameters reach the service in the SDK's own
// member names, and service errors come back named as Step Functions names them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { closeServer, listen, readBody } from '../../local/http.ts';
import { TaskFailure } from '../../local/sfn/errors.ts';
import { createLocalIntegrations } from '../../local/sfn/integrations.ts';

const requests: Array<{ path: string; body: unknown }> = [];
let reply: { status: number; type?: string; body?: unknown } = { status: 204 };
let server: Server;
let edgeUrl: string;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const text = (await readBody(req, 65536)).toString('utf8');
    requests.push({ path: req.url ?? '', body: text ? JSON.parse(text) : undefined });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (reply.type) headers['x-amzn-errortype'] = reply.type;
    res.writeHead(reply.status, headers);
    res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  });
  edgeUrl = `http://127.0.0.1:${await listen(server, 0)}`;
});
afterAll(() => closeServer(server));

const channelArn = 'arn:aws:ivs:us-east-1:000000000000:channel/local';

describe('local Task integrations', () => {
  it('sends ivs:putMetadata with the SDK member names and returns an empty object', async () => {
    const aws = createLocalIntegrations({ edgeUrl, region: 'us-east-1', functions: {} });
    reply = { status: 204 };
    await expect(
      aws.callAws('ivs', 'putMetadata', { ChannelArn: channelArn, Metadata: '{"v":1}' }),
    ).resolves.toEqual({});
    expect(requests.at(-1)).toEqual({ path: '/PutMetadata', body: { channelArn, metadata: '{"v":1}' } });
    aws.close();
  });

  it('names IVS errors Ivs.<Name>Exception, adding the suffix IVS leaves out', async () => {
    const aws = createLocalIntegrations({ edgeUrl, region: 'us-east-1', functions: {} });
    const cases: Array<[number, string, string]> = [
      [429, 'ThrottlingException', 'Ivs.ThrottlingException'],
      [404, 'ChannelNotBroadcasting', 'Ivs.ChannelNotBroadcastingException'],
      [400, 'ValidationException', 'Ivs.ValidationException'],
    ];
    for (const [status, type, expected] of cases) {
      reply = { status, type, body: { message: `${type} happened` } };
      const error = await aws
        .callAws('ivs', 'putMetadata', { ChannelArn: channelArn, Metadata: 'x' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskFailure);
      expect(error).toMatchObject({ name: expected });
    }
    aws.close();
  });

  it('a service that cannot be reached is States.TaskFailed; an unknown action is States.Runtime', async () => {
    const aws = createLocalIntegrations({
      edgeUrl: 'http://127.0.0.1:9',
      region: 'us-east-1',
      functions: {},
    });
    await expect(
      aws.callAws('ivs', 'putMetadata', { ChannelArn: channelArn, Metadata: 'x' }),
    ).rejects.toMatchObject({ name: 'States.TaskFailed' });
    await expect(aws.callAws('sns', 'publish', {})).rejects.toMatchObject({ name: 'States.Runtime' });
    aws.close();
  });

  it('invokes a local function by name or ARN; its errors keep their name, with the Lambda error JSON as cause', async () => {
    class ShowValidationError extends Error {
      override readonly name = 'ShowValidationError';
    }
    const aws = createLocalIntegrations({
      edgeUrl,
      region: 'us-east-1',
      functions: {
        lifecycle: async (event: unknown) => {
          if ((event as { fail?: boolean }).fail)
            throw new ShowValidationError('polls[0].answers: expected 2–6 answers, got 1');
          return { echo: event };
        },
      },
    });
    await expect(
      aws.invokeLambda('arn:aws:lambda:us-east-1:000000000000:function:lifecycle', { a: 1 }),
    ).resolves.toEqual({ echo: { a: 1 } });
    const error = (await aws
      .invokeLambda('lifecycle', { fail: true })
      .catch((e: unknown) => e)) as TaskFailure;
    expect(error.name).toBe('ShowValidationError');
    expect(JSON.parse(error.message)).toMatchObject({
      errorType: 'ShowValidationError',
      errorMessage: 'polls[0].answers: expected 2–6 answers, got 1',
    });
    await expect(aws.invokeLambda('other', {})).rejects.toMatchObject({
      name: 'Lambda.ResourceNotFoundException',
    });
    aws.close();
  });
});
