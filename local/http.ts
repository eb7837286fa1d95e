// Small HTTP plumbing shared by the local servers: routing by service or path prefix, body reading
// with a size cap, JSON replies. No framework: these servers stand in for AWS endpoints and must
// answer exactly what the real ones answer.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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
 * Reads the whole body, keeping at most `limit` bytes. A larger body is still read to its end
 * (and thrown away) so the client gets the 413 instead of a broken pipe, up to `drainLimit`,
 * past which the connection is cut.
 */
export function readBody(req: IncomingMessage, limit: number, drainLimit = limit * 8): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > drainLimit) {
        reject(new BodyTooLargeError(limit));
        req.destroy();
      }
    });
    req.on('end', () =>
      size > limit ? reject(new BodyTooLargeError(limit)) : resolve(Buffer.concat(chunks)),
    );
    req.on('error', reject);
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

/** Runs a handler and turns anything it throws into a 500 without leaking the stack to the client. */
function guarded(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
  log: (message: string) => void,
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      await handler(req, res);
    } catch (error) {
      log(
        `${req.method} ${req.url} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      if (!res.headersSent)
        sendJson(res, 500, { error: { code: 'internal_error', message: 'internal error' } });
      else res.destroy();
    }
  };
}

export function createEdgeServer(services: readonly EdgeService[], log: (m: string) => void): Server {
  return createServer(
    guarded((req, res) => {
      const service = services.find((s) => s.matches(req));
      if (!service) {
        sendJson(res, 400, {
          __type: 'UnknownOperationException',
          message: `no local service answers ${req.method} ${req.url} (target ${req.headers['x-amz-target'] ?? 'none'})`,
        });
        return;
      }
      return service.handle(req, res);
    }, log),
  );
}

/** `routes` is read on every request, so parts can be mounted once they are ready. */
export function createAppServer(routes: readonly AppRoute[], log: (m: string) => void): Server {
  return createServer(
    guarded((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      // Longest prefix wins, so '/api/' is chosen over '/'.
      let route: AppRoute | undefined;
      for (const r of routes) {
        if (path.startsWith(r.prefix) && (!route || r.prefix.length > route.prefix.length)) route = r;
      }
      if (!route) {
        sendJson(res, 404, { error: { code: 'not_found', message: `nothing at ${path}` } });
        return;
      }
      return route.handle(req, res);
    }, log),
  );
}

/**
 * Keeps idle keep-alive connections longer than SDK clients reuse them: with Node's 5 s default,
 * a client could send on a socket the server was closing that instant and get ECONNRESET.
 */
const KEEP_ALIVE_MS = 65_000;

export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1000;
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
