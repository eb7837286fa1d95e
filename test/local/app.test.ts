// What arrives from outside cannot take the local stack down or make it hoard memory: bad paths,
// prototype-named query and header names, unreadable files, oversized and stalled bodies get a 4xx
// (or a 500 for that one request) and the stack keeps serving. The real composition root runs in
// this process, with a site directory of the test's own (one file in it cannot be read).
import { viewerAuthorization } from '../support/viewer.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../local/server.ts';
import { HEADERS_TIMEOUT_MS, appHostCheck, closeServer, createAppServer, listen } from '../../local/http.ts';
import { openSocket, rawRequest, until } from './support.ts';

let stack: LocalStack;
let dir: string;
let appPort: number;
let edgePort: number;
const logs: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'showrunner-local-'));
  const site = join(dir, 'site');
  await mkdir(join(site, 'assets'), { recursive: true });
  await writeFile(join(site, 'index.html'), '<!doctype html><title>test</title>');
  await writeFile(join(site, 'assets', 'ok.js'), 'export {};\n');
  // Opens like a file, fails on the first read (EIO): a disk error, without a broken disk.
  await symlink('/proc/self/mem', join(site, 'assets', 'broken.js'));
  stack = await startLocalStack({
    port: 0,
    edgePort: 0,
    dataDir: join(dir, 'data'),
    siteDir: site,
    rtmpPort: null,
    log: (line) => logs.push(line),
  });
  appPort = Number(new URL(stack.appUrl).port);
  edgePort = Number(new URL(stack.edgeUrl).port);
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The stack still answers on the site, the API and the edge. */
async function stillServing(): Promise<void> {
  expect((await fetch(`${stack.appUrl}/assets/ok.js`)).status).toBe(200);
  expect((await fetch(`${stack.appUrl}/`)).status).toBe(200);
  const current = await fetch(`${stack.apiUrl}/poll-current?channel=local`);
  expect(current.status).toBe(404);
  expect((await current.json()).error.code).toBe('no_poll');
  expect((await fetch(`${stack.appUrl}/config.json`)).status).toBe(200);
}

describe('the static site', () => {
  it('answers 500 for a file that cannot be read, and keeps serving', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await rawRequest(appPort, { path: '/assets/broken.js' });
      expect(response.status).toBe(500);
      expect(response.json.error).toEqual({
        code: 'internal_error',
        message: '/assets/broken.js: the file cannot be read',
      });
    }
    expect(logs.some((l) => /cannot read \/assets\/broken\.js/.test(l))).toBe(true);
    await stillServing();
  });

  it.each(['/%', '/%E0%A4%A', '/assets/%zz.js', '/%C0%AF'])(
    'answers 400 for the malformed percent-encoding in %s',
    async (path) => {
      const response = await rawRequest(appPort, { path });
      expect(response.status).toBe(400);
      expect(response.json.error).toEqual({
        code: 'bad_request',
        message: 'path: not valid percent-encoding',
      });
    },
  );
});

describe('the local API Gateway', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    'treats a query parameter named %s as a plain name: a 400 that names it',
    async (name) => {
      for (const [path, message] of [
        [`/api/poll-get?poll_id=run:q1&${name}=1`, `${name}: unknown field`],
        [`/api/poll-current?channel=local&${name}`, `${name}: unknown field`],
        [`/api/requestor-get?requestor_id=viewer&${name}=x&${name}=y`, `${name}: given more than once`],
        [`/api/poll-get?${name}=1`, 'poll_id: required'],
      ] as const) {
        const response = await rawRequest(appPort, { path });
        expect([path, response.status, response.json.error]).toEqual([
          path,
          400,
          { code: 'bad_request', message: expect.stringMatching(new RegExp(`^${message}`)) },
        ]);
      }
    },
  );

  it('treats headers named like Object.prototype members as plain headers', async () => {
    const headers = {
      constructor: '1',
      ['__proto__']: '1',
      toString: 'x',
      hasOwnProperty: 'x',
      'content-type': 'application/json',
    };
    const put = await rawRequest(appPort, {
      method: 'POST',
      path: '/api/requestor-put',
      headers: { ...headers, authorization: viewerAuthorization({ dataDir: join(dir, 'data') }, 'viewer') },
      body: JSON.stringify({ poll_id: 'none:q1', requestor_id: 'viewer', answer: 0 }),
    });
    expect(put.status).toBe(404);
    expect(put.json.error.code).toBe('unknown_poll');
    const get = await rawRequest(appPort, { path: '/api/poll-current?channel=local', headers });
    expect(get.status).toBe(404);
  });

  it('answers 413 to a declared oversized body before it is sent', async () => {
    const client = await openSocket(
      appPort,
      'POST /api/requestor-put HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${10 * 1024 * 1024}\r\n\r\n`,
    );
    await until('the 413', () => client.received().includes('\r\n\r\n'), 5000);
    expect(client.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(client.received()).toMatch(/"code":"payload_too_large","message":"body: larger than \d+ bytes"/);
    expect(await client.closed).toBeLessThan(5000);
    client.socket.destroy();
  });

  it('answers 413 as soon as a chunked body crosses the limit, without reading the rest', async () => {
    const client = await openSocket(
      appPort,
      'POST /api/requestor-put HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        'Transfer-Encoding: chunked\r\n\r\n',
    );
    // 64 KB (over the Lambda's limit), and then the client stalls: no final chunk ever comes.
    client.socket.write(`10000\r\n${'x'.repeat(0x10000)}\r\n`);
    await until('the 413', () => client.received().includes('\r\n\r\n'), 5000);
    expect(client.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(client.received()).toMatch(/connection: close/i);
    expect(await client.closed).toBeLessThan(5000);
    await stillServing();
  });
});

describe('stalled requests', () => {
  it('closes a body that stops half-way (app and edge) within the request timeout', async () => {
    const head = (path: string, extra = '') =>
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extra}Content-Length: 100\r\n\r\n{"poll_id":`;
    const [app, edge, headers] = await Promise.all([
      openSocket(appPort, head('/api/requestor-put')),
      openSocket(edgePort, head('/', 'X-Amz-Target: DynamoDB_20120810.ListTables\r\n')),
      openSocket(appPort, 'GET /config.json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow'), // headers never end
    ]);
    const [appMs, edgeMs, headersMs] = await Promise.all([app.closed, edge.closed, headers.closed]);
    for (const ms of [appMs, edgeMs, headersMs]) expect(ms).toBeLessThan(25_000);
    expect(app.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(edge.received()).toMatch(/^HTTP\/1\.1 408 /);
    await stillServing();
  }, 40_000);

  it('keeps an idle keep-alive connection open between requests', async () => {
    const client = await openSocket(appPort, 'GET /config.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await until('the first answer', () => /\r\n\r\n\{.*\}$/s.test(client.received()));
    await new Promise((r) => setTimeout(r, HEADERS_TIMEOUT_MS + 1000)); // past the headers timeout
    client.socket.write('GET /config.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await until('the second answer', () => client.received().split('HTTP/1.1 200').length === 3);
    client.socket.destroy();
  }, 30_000);
});

describe('the app server answers only the names it serves (no DNS rebinding)', () => {
  it('"Host: attacker.example" gets a 403 and no token; loopback names and IP addresses are served', async () => {
    for (const host of [
      'attacker.example',
      `attacker.example:${appPort}`,
      'localhost.attacker.example',
      'local.attacker.example',
    ]) {
      for (const [method, path] of [
        ['POST', '/api/requestor-token'],
        ['GET', '/config.json'],
        ['GET', '/'],
      ] as const) {
        const got = await rawRequest(appPort, {
          method,
          path,
          host,
          headers: { 'content-type': 'application/json' },
          ...(method === 'POST' ? { body: '{}' } : {}),
        });
        expect([host, path, got.status, got.json?.error?.code]).toEqual([host, path, 403, 'forbidden']);
      }
    }
    for (const host of [
      `127.0.0.1:${appPort}`,
      `localhost:${appPort}`,
      `[::1]:${appPort}`,
      `192.168.1.20:${appPort}`,
    ]) {
      expect([host, (await rawRequest(appPort, { path: '/config.json', host })).status]).toEqual([host, 200]);
    }
  });

  it('appHostCheck: the name HOST was bound to and names no public DNS answers are served too, with any port', () => {
    const check = appHostCheck('showbox.example.com');
    const served = [
      'showbox.example.com',
      'SHOWBOX.example.com:3000',
      '10.0.0.2:3000',
      'localhost',
      'laptop',
      'laptop.local',
    ];
    expect(served.filter((host) => !check(host))).toEqual([]);
    const refused = ['evil.example', 'showbox.example.com.evil.example', 'local.evil.example'];
    expect(refused.filter(check)).toEqual([]);
  });
});

describe('while the stack starts', () => {
  it('a path no mounted part serves yet is 503 with Retry-After, then 404 once everything is mounted', async () => {
    let ready = false;
    const server = createAppServer([], () => undefined, { ready: () => ready });
    const port = await listen(server, 0);
    try {
      const starting = await rawRequest(port, { path: '/api/poll-current?channel=local' });
      expect([starting.status, starting.headers['retry-after'], starting.json.error.code]).toEqual([
        503,
        '1',
        'starting',
      ]);
      ready = true;
      expect((await rawRequest(port, { path: '/api/poll-current?channel=local' })).status).toBe(404);
    } finally {
      await closeServer(server);
    }
  });
});
