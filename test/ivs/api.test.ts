// The IVS API as @aws-sdk/client-ivs sees it: successful shapes, and every error as the named exception
// with its status, while the stream keeps running.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ChannelNotBroadcasting,
  GetChannelCommand,
  GetStreamCommand,
  ListChannelsCommand,
  PutMetadataCommand,
  ResourceNotFoundException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-ivs';
import type { IncomingMessage } from 'node:http';
import { DEFAULT_CHANNEL_ARN } from '../../local/ivs/index.ts';
import { startIvs, type IvsHarness } from '../support/ivs.ts';
import { waitFor } from '../support/wait.ts';

const DARK_ARN = 'arn:aws:ivs:us-east-1:000000000000:channel/dark';

async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $metadata: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}

describe('local IVS API through @aws-sdk/client-ivs', () => {
  let h: IvsHarness;

  beforeAll(async () => {
    // 'dark' has no test pattern and no ingest: it never broadcasts.
    h = await startIvs({
      channels: [{ name: 'local' }, { name: 'dark', testPattern: false, rtmpPort: null }],
    });
    await h.ivs.ready;
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  const put = (metadata: string, channelArn = DEFAULT_CHANNEL_ARN) =>
    h.client.send(new PutMetadataCommand({ channelArn, metadata }));

  it('claims only IVS requests on the shared edge endpoint', () => {
    const req = (method: string, url: string, authorization?: string) =>
      ({ method, url, headers: authorization ? { authorization } : {} }) as unknown as IncomingMessage;
    const scope = (service: string) =>
      `AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`;
    expect(h.ivs.edge.matches(req('POST', '/PutMetadata', scope('ivs')))).toBe(true);
    expect(h.ivs.edge.matches(req('POST', '/GetChannel'))).toBe(true);
    expect(h.ivs.edge.matches(req('POST', '/GetChannel', 'Bearer abc'))).toBe(true); // IVS's to refuse
    expect(h.ivs.edge.matches(req('POST', '/', scope('dynamodb')))).toBe(false);
    expect(h.ivs.edge.matches(req('POST', '/ListChannels', scope('medialive')))).toBe(false);
    expect(h.ivs.edge.matches(req('GET', '/GetChannel', scope('ivs')))).toBe(false);
  });

  it('refuses unsigned and non-JSON calls as IVS does, while the SDK (which signs) gets through', async () => {
    const accepted: string[] = [];
    const onAccepted = ({ payload }: { payload: Buffer }) => accepted.push(payload.toString('utf8'));
    h.ivs.channel().on('accepted', onAccepted);
    const forged = JSON.stringify({ channelArn: DEFAULT_CHANNEL_ARN, metadata: '{"forged":true}' });
    const sigv4 = {
      authorization:
        'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/ivs/aws4_request, SignedHeaders=host;x-amz-date, Signature=0',
      'x-amz-date': '20260101T000000Z',
    };
    const cases: Array<[Record<string, string>, string | Blob, number, string, RegExp]> = [
      // What a web page can send without a CORS preflight: a text/plain POST, no Authorization.
      [{}, forged, 403, 'MissingAuthenticationTokenException', /^Missing Authentication Token$/],
      [{ 'content-type': 'application/json' }, forged, 403, 'MissingAuthenticationTokenException', /Missing/],
      [
        { authorization: 'Bearer abc', 'content-type': 'application/json' },
        forged,
        403,
        'IncompleteSignatureException',
        /Unsupported AWS 'algorithm': 'Bearer'.*requires 'Credential' parameter.*requires 'Signature' parameter/,
      ],
      [
        {
          authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/ivs/aws4_request',
          'content-type': 'application/json',
        },
        forged,
        403,
        'IncompleteSignatureException',
        /requires 'Signature' parameter.*requires 'SignedHeaders' parameter.*'X-Amz-Date' or a 'Date' header/,
      ],
      [
        { ...sigv4, 'content-type': 'text/plain' },
        forged,
        415,
        'UnsupportedMediaTypeException',
        /"text\/plain"/,
      ],
      [{ ...sigv4 }, new Blob([forged]), 415, 'UnsupportedMediaTypeException', /got null$/],
    ];
    for (const [headers, body, status, type, message] of cases) {
      const response = await fetch(`${h.edgeUrl}/PutMetadata`, { method: 'POST', headers, body });
      const json = await response.json();
      expect([headers, response.status, response.headers.get('x-amzn-errortype')]).toEqual([
        headers,
        status,
        type,
      ]);
      expect(json.message).toMatch(message);
    }
    expect(accepted).toEqual([]);

    const signedByHand = await fetch(`${h.edgeUrl}/PutMetadata`, {
      method: 'POST',
      headers: { ...sigv4, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channelArn: DEFAULT_CHANNEL_ARN, metadata: '{"shape":"sigv4"}' }),
    });
    expect(signedByHand.status).toBe(204);
    await put('{"by":"sdk"}');
    expect(accepted).toEqual(['{"shape":"sigv4"}', '{"by":"sdk"}']);
    h.ivs.channel().off('accepted', onAccepted);
  });

  it('GetChannel, GetStream and ListChannels answer like IVS', async () => {
    const { channel } = await h.client.send(new GetChannelCommand({ arn: DEFAULT_CHANNEL_ARN }));
    expect(channel).toMatchObject({
      arn: DEFAULT_CHANNEL_ARN,
      name: 'local',
      latencyMode: 'LOW',
      type: 'STANDARD',
      playbackUrl: `${h.appUrl}/live/local/index.m3u8`,
    });
    expect(channel!.ingestEndpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(h.ivs.playbackUrl()).toBe(channel!.playbackUrl);

    const { stream } = await h.client.send(new GetStreamCommand({ channelArn: DEFAULT_CHANNEL_ARN }));
    expect(stream).toMatchObject({ channelArn: DEFAULT_CHANNEL_ARN, state: 'LIVE', health: 'HEALTHY' });
    expect(stream!.startTime).toBeInstanceOf(Date);
    expect(Date.now() - stream!.startTime!.getTime()).toBeLessThan(60_000);
    expect(typeof stream!.viewerCount).toBe('number');

    const list = await h.client.send(new ListChannelsCommand({}));
    expect(list.channels!.map((c) => c.arn)).toEqual([DEFAULT_CHANNEL_ARN, DARK_ARN]);
    const page = await h.client.send(new ListChannelsCommand({ maxResults: 1 }));
    expect(page.channels).toHaveLength(1);
    const next = await h.client.send(new ListChannelsCommand({ maxResults: 1, nextToken: page.nextToken }));
    expect(next.channels!.map((c) => c.name)).toEqual(['dark']);
    expect(next.nextToken).toBeUndefined();
    const filtered = await h.client.send(new ListChannelsCommand({ filterByName: 'dar' }));
    expect(filtered.channels!.map((c) => c.name)).toEqual(['dark']);
  });

  it('raises ValidationException (400) for payloads over 1024 UTF-8 bytes, empty payloads and bad ARNs', async () => {
    const cases = [
      () => put('x'.repeat(1025)),
      () => put('é'.repeat(513)), // 513 characters, 1026 bytes
      () => put(''),
      () => put('{}', 'not-an-arn'),
      () => put('{}', 'arn:aws:ivs:us-east-1:000000000000:stream-key/local'),
      () => h.client.send(new GetChannelCommand({ arn: 'channel/local' })),
    ];
    for (const call of cases) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(ValidationException);
      expect(error.name).toBe('ValidationException');
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.message.length).toBeGreaterThan(0);
    }
  });

  it('raises ResourceNotFoundException (404) for an unknown channel', async () => {
    const unknown = 'arn:aws:ivs:us-east-1:000000000000:channel/nope';
    for (const call of [
      () => put('{}', unknown),
      () => h.client.send(new GetChannelCommand({ arn: unknown })),
      () => h.client.send(new GetStreamCommand({ channelArn: unknown })),
    ]) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.$metadata.httpStatusCode).toBe(404);
    }
  });

  it('raises ChannelNotBroadcasting (404) for a channel with no source', async () => {
    for (const call of [
      () => put('{}', DARK_ARN),
      () => h.client.send(new GetStreamCommand({ channelArn: DARK_ARN })),
    ]) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(ChannelNotBroadcasting);
      expect(error.name).toBe('ChannelNotBroadcasting');
      expect(error.$metadata.httpStatusCode).toBe(404);
    }
    expect((await fetch(`${h.appUrl}/live/dark/index.m3u8`)).status).toBe(404);
  });

  it('raises ThrottlingException (429) past 5 calls in a second, then accepts calls again', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // a fresh second for this channel
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => put(`{"burst":${i}}`)));
    const rejected = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason);
    const accepted = results.filter((r) => r.status === 'fulfilled');
    // At most 5 within any second; the burst takes far less than a second even on a busy machine.
    expect(accepted.length).toBeLessThanOrEqual(5);
    expect(rejected.length).toBeGreaterThanOrEqual(5);
    for (const error of rejected) {
      expect(error).toBeInstanceOf(ThrottlingException);
      expect(error.$metadata.httpStatusCode).toBe(429);
      expect(error.message).toBe(
        `Operation: ivs:PutMetadata exceeded call rate: 5 for resource: ${DEFAULT_CHANNEL_ARN}`,
      );
    }
    await new Promise((r) => setTimeout(r, 1100));
    await expect(put('{"after":"throttling"}')).resolves.toBeDefined();
  });

  it('keeps streaming after all those errors', async () => {
    const channel = h.ivs.channel();
    const before = channel.segments.at(-1)!.sequence;
    await waitFor('two more segments', () => channel.segments.at(-1)!.sequence >= before + 2);
    expect(channel.live).toBe(true);
    expect((await fetch(h.ivs.playbackUrl())).status).toBe(200);
  }, 30_000);
});
