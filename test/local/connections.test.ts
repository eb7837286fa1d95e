// One client cannot fill the app server: past its per-client cap its new sockets are closed at
// once while other addresses are served, and a socket that never sends a whole request head is
// closed within the headers timeout. The flooding client is another loopback address (127.0.0.2):
// on Linux the whole of 127.0.0.0/8 reaches a server bound to 127.0.0.1, and a socket binds it as
// its source with `localAddress`.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import {
  APP_MAX_CONNECTIONS_PER_CLIENT,
  HEADERS_TIMEOUT_MS,
  TIMEOUT_CHECK_MS,
  closeServer,
  createAppServer,
  isThisMachine,
  listen,
  sendJson,
} from '../../local/http.ts';
import { until } from './support.ts';

interface Held {
  socket: Socket;
  connectedAt: number;
  /** Milliseconds from connecting to being closed by the server, once it is. */
  closedAfter: number | undefined;
  received: string;
}

/** A socket from `localAddress` that connects and then sends `data` (maybe nothing) and waits. */
function hold(port: number, localAddress: string, data = ''): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    const held: Held = { socket, connectedAt: 0, closedAfter: undefined, received: '' };
    socket.on('data', (chunk: Buffer) => (held.received += chunk.toString('latin1')));
    socket.on('close', () => (held.closedAfter = Date.now() - held.connectedAt));
    socket.once('error', () => {}); // a reset is one way of being closed
    socket.once('connect', () => {
      held.connectedAt = Date.now();
      if (data) socket.write(data);
      resolve(held);
    });
    socket.once('error', reject);
  });
}

/** GET / on a fresh connection from `localAddress`: its status and how long it took. */
function timedGet(port: number, localAddress: string): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - started }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the app server under a one-client connection flood', () => {
  let server: Server;
  let port: number;
  const logs: string[] = [];
  const held: Held[] = [];

  beforeAll(async () => {
    server = createAppServer(
      [{ prefix: '/', handle: (_req, res) => sendJson(res, 200, { ok: true }) }],
      (line) => logs.push(line),
    );
    port = await listen(server, 0, '127.0.0.1');
  });

  afterAll(async () => {
    for (const h of held) h.socket.destroy();
    await closeServer(server);
  });

  it('closes the sockets one address opens past its cap, and serves other addresses at once', async () => {
    const extra = 40;
    const started = Date.now();
    for (let i = 0; i < APP_MAX_CONNECTIONS_PER_CLIENT + extra; i++) held.push(await hold(port, '127.0.0.2'));
    await until(
      `the ${extra} sockets over the cap to be closed`,
      () => held.filter((h) => h.closedAfter !== undefined).length >= extra,
      5000,
    );
    // The server closed exactly the ones over the cap, as they came, not after a timeout.
    const closed = held.filter((h) => h.closedAfter !== undefined);
    expect(closed).toHaveLength(extra);
    for (const h of closed) expect(h.closedAfter!).toBeLessThan(1000);
    expect(Date.now() - started).toBeLessThan(HEADERS_TIMEOUT_MS);

    // Another address, and this machine's own, are served at once while the flood holds its share.
    for (const from of ['127.0.0.3', '127.0.0.1']) {
      const got = await timedGet(port, from);
      expect([from, got.status]).toEqual([from, 200]);
      expect(got.ms).toBeLessThan(500);
    }
    // The flooding address cannot open one more.
    const more = await hold(port, '127.0.0.2');
    held.push(more);
    await until(
      'the next socket from the flooding address to be closed',
      () => more.closedAfter !== undefined,
      2000,
    );
    // Forty-one refusals, one line (the rest are summed up after the window).
    expect(logs.filter((l) => l.includes('refusing connections from 127.0.0.2'))).toEqual([
      `refusing connections from 127.0.0.2: it already has ${APP_MAX_CONNECTIONS_PER_CLIENT} open (the per-client cap)`,
    ]);
  }, 30_000);

  it('closes the sockets that never sent a request head within the headers timeout, with a 408', async () => {
    const open = held.filter((h) => h.closedAfter === undefined);
    expect(open).toHaveLength(APP_MAX_CONNECTIONS_PER_CLIENT);
    const partial = await hold(port, '127.0.0.4', 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const all = [...open, partial];
    const bound = HEADERS_TIMEOUT_MS + TIMEOUT_CHECK_MS;
    await until(
      'every stalled socket to be closed',
      () => all.every((h) => h.closedAfter !== undefined),
      bound + 5000,
    );
    for (const h of all) {
      expect(h.closedAfter!).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
      // The bound plus scheduling slack on a loaded two-core machine.
      expect(h.closedAfter!).toBeLessThan(bound + 1500);
    }
    expect(partial.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(open[0]!.received).toMatch(/^HTTP\/1\.1 408 /);
    // And the flooding address has its whole share back.
    expect((await timedGet(port, '127.0.0.2')).status).toBe(200);
  }, 30_000);
});

describe('this machine has no per-client cap', () => {
  it('treats 127.0.0.1 and ::1 as this machine, other loopback and LAN addresses as clients', () => {
    expect(['127.0.0.1', '::1', '::ffff:127.0.0.1'].map(isThisMachine)).toEqual([true, true, true]);
    expect(['127.0.0.2', '192.168.1.20', '::ffff:10.0.0.2', undefined].map(isThisMachine)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('lets 127.0.0.1 hold more sockets than the per-client cap (load tests and benchmarks)', async () => {
    const server = createAppServer(
      [{ prefix: '/', handle: (_req, res) => sendJson(res, 200, { ok: true }) }],
      () => undefined,
    );
    const port = await listen(server, 0, '127.0.0.1');
    const mine: Held[] = [];
    try {
      for (let i = 0; i < APP_MAX_CONNECTIONS_PER_CLIENT + 20; i++) mine.push(await hold(port, '127.0.0.1'));
      expect((await timedGet(port, '127.0.0.1')).status).toBe(200);
      expect(mine.filter((h) => h.closedAfter !== undefined)).toHaveLength(0);
    } finally {
      for (const h of mine) h.socket.destroy();
      await closeServer(server);
    }
  }, 30_000);
});
