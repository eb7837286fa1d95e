// The AWS edge endpoint is unauthenticated, so it must stay on this machine: with HOST=0.0.0.0 only
// the app server (site, API, stream) listens on every interface, the edge refuses Host names a
// DNS-rebinding page would send, and /config.json sends viewers to the address they reached.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { networkInterfaces } from 'node:os';
import { startStack, type StackProcess } from '../support/stack.ts';
import { listeningAddresses, openSocket, rawRequest } from './support.ts';

let stack: StackProcess;
let appPort: number;
let edgePort: number;

/** An address of this machine that is not loopback (the LAN side), if it has one. */
function lanAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
}

beforeAll(async () => {
  stack = await startStack({ env: { HOST: '0.0.0.0' } });
  appPort = Number(new URL(stack.appUrl).port);
  edgePort = Number(new URL(stack.edgeUrl).port);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const unsignedListTables = (host: string) =>
  rawRequest(edgePort, {
    method: 'POST',
    host,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
    body: '{}',
  });

describe('HOST=0.0.0.0', () => {
  it('binds the app server on every interface and the edge endpoint on 127.0.0.1 only', async () => {
    expect(listeningAddresses(appPort)).toEqual(['0.0.0.0']);
    expect(listeningAddresses(edgePort)).toEqual(['127.0.0.1']);

    const lan = lanAddress();
    if (lan) {
      expect((await fetch(`http://${lan}:${appPort}/config.json`)).status).toBe(200);
      await expect(fetch(`http://${lan}:${edgePort}/`)).rejects.toMatchObject({
        cause: { code: 'ECONNREFUSED' },
      });
    }
  });

  it('/config.json gives the API and stream on the address the viewer reached', async () => {
    for (const host of [
      `192.168.1.20:${appPort}`,
      'showrunner.local',
      '[fe80::1]:3000',
      `127.0.0.1:${appPort}`,
    ]) {
      const response = await rawRequest(appPort, { path: '/config.json', host });
      expect(response.status).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.json).toEqual({
        apiUrl: `http://${host}/api`,
        playbackUrl: `http://${host}/live/local/index.m3u8`,
        player: 'hls.js',
        channel: 'local',
        control: { signIn: 'local' },
      });
    }
    const lan = lanAddress();
    if (lan) {
      const config = await (await fetch(`http://${lan}:${appPort}/config.json`)).json();
      expect(config.apiUrl).toBe(`http://${lan}:${appPort}/api`);
    }
  });

  it('/config.json refuses a Host that is not a host name or address, naming the header', async () => {
    for (const host of ['exa mple.com', 'evil.example/path', 'a@b', '"quoted"', ' ']) {
      const response = await rawRequest(appPort, { path: '/config.json', host });
      expect([host, response.status]).toEqual([host, 400]);
      expect(response.json.error).toMatchObject({ code: 'bad_request' });
      expect(response.json.error.message).toMatch(/^host: expected a host name or address/);
    }
    // HTTP/1.0 allows no Host at all.
    const noHost = await openSocket(appPort, 'GET /config.json HTTP/1.0\r\n\r\n');
    await noHost.closed;
    expect(noHost.received()).toMatch(
      /^HTTP\/1\.1 400 .*"host: expected a host name or address .*, got null"/s,
    );
  });
});

describe('the edge endpoint and DNS rebinding', () => {
  it.each([
    'evil.example',
    'evil.example:4566',
    '127.0.0.1.nip.io',
    'localhost.evil.example',
    '192.168.1.20',
    '0.0.0.0',
    '[::ffff:127.0.0.1]',
    ' ',
  ])('refuses Host %j with a JSON 403', async (host) => {
    const response = await unsignedListTables(host);
    expect(response.status).toBe(403);
    expect(response.headers['x-amzn-errortype']).toBe('AccessDeniedException');
    expect(response.json.__type).toBe('AccessDeniedException');
    expect(response.json.message).toMatch(/^Host: .* is not a loopback name/);
  });

  it('refuses a request without a Host header (HTTP/1.0)', async () => {
    const client = await openSocket(
      edgePort,
      'POST / HTTP/1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 2\r\n\r\n{}',
    );
    await client.closed;
    expect(client.received()).toMatch(/^HTTP\/1\.1 403 .*"Host: null is not a loopback name/s);
  });

  it.each(['127.0.0.1', 'localhost', 'LocalHost', '[::1]'])(
    'passes Host %s (any port) to the emulators',
    async (name) => {
      for (const host of [name, `${name}:${edgePort}`, `${name}:1`]) {
        const response = await unsignedListTables(host);
        // dynalite's own answer to an unsigned call: the request got through.
        expect(response.status).toBe(400);
        expect(response.json.__type).toMatch(/MissingAuthenticationTokenException$/);
      }
    },
  );

  it('answers prototype-named X-Amz-Target operations with a 400 UnknownOperationException', async () => {
    for (const target of [
      'AWSStepFunctions.__proto__',
      'AWSStepFunctions.constructor',
      'AWSStepFunctions.toString',
      'AWSStepFunctions.hasOwnProperty',
      'DynamoDB_20120810.constructor',
      'DynamoDB_20120810.__proto__',
      'DynamoDB_20120810.toString',
      'DynamoDB_20120810.valueOf',
    ]) {
      const response = await rawRequest(edgePort, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': target,
          authorization:
            'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=0',
          'x-amz-date': '20260101T000000Z',
        },
        body: '{"stateMachineArn":"x"}',
      });
      expect([target, response.status]).toEqual([target, 400]);
      expect(response.json.__type).toMatch(/UnknownOperationException$/);
    }
    // Still serving.
    expect((await unsignedListTables('127.0.0.1')).status).toBe(400);
  });
});
