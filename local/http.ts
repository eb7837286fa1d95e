// Small HTTP plumbing shared by the local servers: routing by service or path prefix, body reading
// with a size cap, JSON replies, and the limits that make them safe to leave running (loopback
// names only on the edge, connection caps, timeouts). No framework: these servers stand in for AWS
// endpoints and must answer exactly what the real ones answer.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { errorKind, repeatLimiter, type RepeatLimiter } from './log-limit.ts';

/** One emulated AWS service behind the edge endpoint, picked by the request's shape (target header or path). */
export interface EdgeService {
  readonly name: string;
  matches(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
}

/** One part of the app server on :3000, picked by path prefix ('/api/', '/live/', '/'). */
export interface AppRoute {
  readonly prefix: string;
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
}

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  readonly limit: number;
  constructor(limit: number) {
    super(`request body is larger than ${limit} bytes`);
    this.limit = limit;
  }
}

/**
 * Reads the whole body, at most `limit` bytes. A larger one (declared in Content-Length, or seen
 * while reading) is refused without being kept: the rest is read and thrown away, for at most
 * `DISCARD_MAX_BYTES` or `DISCARD_MAX_MS`, and then BodyTooLargeError is thrown. A client still
 * sending (fetch and curl write the whole body before they read the answer) would otherwise get
 * EPIPE instead of the 413; a client sending more, or stalling, is cut off at the bound, and the
 * caller answers with `connection: close`.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const refuse = () => {
      refused = true;
      chunks.length = 0;
      void discardRest(req).then(() => reject(new BodyTooLargeError(limit)));
    };
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      refuse();
      return;
    }
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else refuse();
    });
    req.on('end', () => refused || resolve(Buffer.concat(chunks)));
    req.on('error', (error) => refused || reject(error));
  });
}

const DISCARD_MAX_BYTES = 16 << 20;
const DISCARD_MAX_MS = 3000;

function discardRest(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.readableEnded) return resolve();
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      req.off('data', count).off('end', done).off('error', done).off('close', done);
      resolve();
    };
    const count = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DISCARD_MAX_BYTES) done();
    };
    const timer = setTimeout(done, DISCARD_MAX_MS);
    req.on('data', count).once('end', done).once('error', done).once('close', done);
    req.resume();
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * Runs a handler and turns anything it throws into a 500 without leaking the stack to the client.
 * Failures are logged through `limit`: the first of a kind (the server and the error's code or
 * class, nothing a client chooses, so a client cannot mint new kinds) in full, repeats as one
 * summary line per window (./log-limit.ts).
 */
function guarded(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
  source: string,
  limit: RepeatLimiter,
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      await handler(req, res);
    } catch (error) {
      // A client that left mid-request (ECONNRESET "aborted") is not the server's failure.
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET')
        limit(`${source} gone`, `${req.method} ${req.url}: client went away`);
      else
        limit(
          `${source} ${errorKind(error)}`,
          `${req.method} ${req.url} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      if (!res.headersSent)
        sendJson(res, 500, { error: { code: 'internal_error', message: 'internal error' } });
      else res.destroy();
    }
  };
}

/**
 * The names a browser can reach the edge endpoint by without DNS rebinding: a page from
 * evil.example whose name later resolves to 127.0.0.1 still sends `Host: evil.example`.
 */
const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;

export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(host);
}

/**
 * Connection caps: past them new sockets are dropped, so a flood cannot exhaust file descriptors
 * or memory (a request body is at most the API Lambda's limit, 4 KB by default). The edge serves
 * this machine's SDK clients (50 sockets each at most); the app serves browsers (2–6 sockets
 * each), a room of viewers when HOST exposes it: 1,000 voting at the same instant must fit.
 */
const EDGE_MAX_CONNECTIONS = 512;
const APP_MAX_CONNECTIONS = 2048;

/**
 * Open sockets one address may hold on the app server, so one client cannot fill the cap above
 * (an attack held 2,100 half-open sockets from one address: every other client was refused until
 * the headers timeout closed them). A quarter of the cap: it takes four addresses to fill it, and a
 * venue behind one NAT still gets room for ~85 browsers at 6 sockets each (~250 at the 2 a
 * viewer's page keeps busy: the playlist and the API).
 */
export const APP_MAX_CONNECTIONS_PER_CLIENT = 512;

/**
 * The addresses this machine's own programs connect from: Linux gives a socket connecting to any
 * loopback address the source 127.0.0.1 (or ::1), unless the program binds another on purpose.
 * They have no per-client cap (the server's cap still applies): the load tests and benchmarks
 * (bench/storm.ts: 2,000 simulated viewers from 127.0.0.1) are many clients on one address, and so
 * is a reverse proxy on this machine, whose clients' limits are its own to enforce. A process on
 * this machine can do worse than open sockets anyway.
 */
export function isThisMachine(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

/** Drops a new socket from an address that already holds `cap` open ones (this machine's aside). */
function capConnectionsPerClient(server: Server, cap: number, limit: RepeatLimiter): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    // Undefined once the peer has already reset it (Node then closes it on its own).
    if (address === undefined || isThisMachine(address)) return;
    const count = (open.get(address) ?? 0) + 1;
    if (count > cap) {
      limit(
        `refused ${address}`,
        `refusing connections from ${address}: it already has ${cap} open (the per-client cap)`,
      );
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

/** Says (once per kind and window) when the server's own cap drops a socket. */
function logDrops(server: Server, name: string, max: number, limit: RepeatLimiter): void {
  server.on('drop', (data?: { remoteAddress?: string }) =>
    limit(
      `${name} full`,
      `${name}: dropping a connection from ${data?.remoteAddress ?? 'an unknown address'}: ${max} are open (the server's cap)`,
    ),
  );
}

/** Hears each edge request's service, action and status once it is answered (local/meter.ts). */
export type EdgeObserver = (service: string, action: string, status: number) => void;

/** The action of an AWS request: X-Amz-Target's operation (JSON protocols) or the REST path (IVS). */
function actionOf(req: IncomingMessage): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target.slice(target.lastIndexOf('.') + 1);
  return ((req.url ?? '/').split('?')[0] ?? '/').replace(/^\/+/, '');
}

export function createEdgeServer(
  services: readonly EdgeService[],
  log: (m: string) => void,
  observe?: EdgeObserver,
): Server {
  const limit = repeatLimiter(log);
  const server = createServer(
    guarded(
      (req, res) => {
        // The emulators are unauthenticated: only this machine may use them, by a loopback name.
        if (!isLoopbackHost(req.headers.host)) {
          sendJson(
            res,
            403,
            {
              __type: 'AccessDeniedException',
              message: `Host: ${JSON.stringify(req.headers.host ?? null)} is not a loopback name; the local AWS endpoint answers only 127.0.0.1, localhost and [::1]`,
            },
            { 'x-amzn-errortype': 'AccessDeniedException', connection: 'close' },
          );
          return;
        }
        const service = services.find((s) => s.matches(req));
        if (observe && service)
          res.once('finish', () => observe(service.name, actionOf(req), res.statusCode));
        if (!service) {
          sendJson(res, 400, {
            __type: 'UnknownOperationException',
            message: `no local service answers ${req.method} ${req.url} (target ${req.headers['x-amz-target'] ?? 'none'})`,
          });
          return;
        }
        return service.handle(req, res);
      },
      'edge',
      limit,
    ),
  );
  server.maxConnections = EDGE_MAX_CONNECTIONS;
  logDrops(server, 'the AWS edge', EDGE_MAX_CONNECTIONS, limit);
  server.once('close', () => limit.flush());
  return server;
}

/** A Host header that can go into a URL as it is: a name or an address, and maybe a port. */
const HOST_HEADER = /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** An IP address as a Host header names it (v4, or v6 in brackets), with an optional port. */
const IP_LITERAL_HOST = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** A name no public DNS answers: one label (`laptop`) or an mDNS `.local` name. */
const LAN_ONLY_NAME = /^(?:[a-z0-9_-]+|[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.local\.?)(?::\d{1,5})?$/i;

/**
 * The Host names the app server answers: loopback names, IP addresses (a page served from an
 * address is this server's own page), names no public DNS can answer (one label, `.local`), and the
 * name it was bound to. Any other name may be a page from elsewhere whose DNS now points here
 * (DNS rebinding), minting tokens and voting from the visitor's browser.
 */
export function appHostCheck(bindHost: string): (host: string) => boolean {
  const bound = bindHost.toLowerCase();
  return (host) =>
    isLoopbackHost(host) ||
    IP_LITERAL_HOST.test(host) ||
    LAN_ONLY_NAME.test(host) ||
    host.toLowerCase().replace(/:\d{1,5}$/, '') === bound;
}

export interface AppServerOptions {
  /**
   * Which well-formed Host headers are answered; a missing or malformed one is then a 400. Default:
   * every request, for test servers that serve fixtures only.
   */
  hostAllowed?: (host: string) => boolean;
  /** False while parts are still being mounted: a path no mounted route serves is 503, not 404. */
  ready?: () => boolean;
}

/** How long a client is told to wait while the stack is still starting. */
const STARTING_RETRY_AFTER_SECONDS = 1;

/** `routes` is read on every request, so parts can be mounted once they are ready. */
export function createAppServer(
  routes: readonly AppRoute[],
  log: (m: string) => void,
  options: AppServerOptions = {},
): Server {
  const limit = repeatLimiter(log);
  const server = createServer(
    guarded(
      (req, res) => {
        const host = req.headers.host;
        if (options.hostAllowed && (host === undefined || host.length > 255 || !HOST_HEADER.test(host))) {
          sendJson(res, 400, {
            error: {
              code: 'bad_request',
              message: `host: expected a host name or address and an optional port, got ${JSON.stringify(host ?? null)}`,
            },
          });
          return;
        }
        if (options.hostAllowed && !options.hostAllowed(host!)) {
          sendJson(
            res,
            403,
            {
              error: {
                code: 'forbidden',
                message: `Host: ${JSON.stringify(host)} is not a name this server answers: open it by 127.0.0.1, localhost, an IP address, a .local name, or the name HOST was set to`,
              },
            },
            { connection: 'close' },
          );
          return;
        }
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        // Longest prefix wins, so '/api/' is chosen over '/'.
        let route: AppRoute | undefined;
        for (const r of routes) {
          if (path.startsWith(r.prefix) && (!route || r.prefix.length > route.prefix.length)) route = r;
        }
        if (!route && options.ready && !options.ready()) {
          sendJson(
            res,
            503,
            {
              error: {
                code: 'starting',
                message: 'the local stack is still starting: try again in a moment',
              },
            },
            { 'retry-after': String(STARTING_RETRY_AFTER_SECONDS) },
          );
          return;
        }
        if (!route) {
          sendJson(res, 404, { error: { code: 'not_found', message: `nothing at ${path}` } });
          return;
        }
        return route.handle(req, res);
      },
      'app',
      limit,
    ),
  );
  server.maxConnections = APP_MAX_CONNECTIONS;
  logDrops(server, 'the app server', APP_MAX_CONNECTIONS, limit);
  capConnectionsPerClient(server, APP_MAX_CONNECTIONS_PER_CLIENT, limit);
  server.once('close', () => limit.flush());
  return server;
}

/**
 * Keeps idle keep-alive connections longer than SDK clients reuse them: with Node's 5 s default,
 * a client could send on a socket the server was closing that instant and get ECONNRESET.
 * (Idle keep-alive sockets are not subject to the two limits below: they start with a request.)
 */
const KEEP_ALIVE_MS = 65_000;
/**
 * A connection that has not sent a whole request head within this long gets 408 and is closed:
 * one that sends nothing at all, or a head that never ends (slowloris). Each such socket holds a
 * place under the connection caps, so this bounds how long a flood of them shuts others out. A
 * request head is one packet from a browser or an SDK; 5 s leaves room for a few retransmissions
 * on a bad network.
 */
export const HEADERS_TIMEOUT_MS = 5_000;
/** A request whose whole body takes longer than this gets 408 and its socket closed. */
const REQUEST_TIMEOUT_MS = 15_000;
/** How often those limits are checked (Node's default, 30 s, would multiply how long a stall lasts). */
export const TIMEOUT_CHECK_MS = 500;

export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  // A createServer option in the typings, but Node reads the property when the server starts listening.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = TIMEOUT_CHECK_MS;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
