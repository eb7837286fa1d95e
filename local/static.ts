// Serves the built site (site/dist: the viewer page, and the control room under /control/). Hashed
// assets are cached for good; each index.html is revalidated so a new build is picked up at once. A
// file that cannot be read is a 500 for that request only: the stack keeps serving. Every answer
// carries the site's security headers (contract/site-headers.ts): the control room's under
// /control/, the viewer page's everywhere else, assets included (a worker made from an asset's URL
// runs under that response's policy, not its page's).
import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sitePageOf, siteSecurityHeaders, type SiteOrigins } from '../contract/site-headers.ts';
import { sendJson, type AppRoute } from './http.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

/** The request's path, decoded; undefined when its percent-encoding is broken (`/%`, `/%E0%A4%A`). */
function decodedPath(url: string | undefined): string | undefined {
  try {
    return decodeURIComponent(new URL(url ?? '/', 'http://x').pathname);
  } catch {
    return undefined;
  }
}

/**
 * Opens the file and waits for its first bytes (or its end) before anything is answered, so that
 * a file that cannot be opened or read is still a clean 404/500 rather than a cut 200.
 */
async function openForReading(file: string): Promise<ReadStream> {
  const stream = createReadStream(file);
  try {
    await once(stream, 'readable');
    return stream;
  } catch (error) {
    stream.destroy();
    throw error;
  }
}

function sendReadError(
  res: ServerResponse,
  urlPath: string,
  error: unknown,
  log: (line: string) => void,
  security: Record<string, string>,
) {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    res
      .writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...security })
      .end(`not found: ${urlPath}\n`);
    return;
  }
  log(`site: cannot read ${urlPath}: ${(error as Error).message}`);
  sendJson(
    res,
    500,
    { error: { code: 'internal_error', message: `${urlPath}: the file cannot be read` } },
    security,
  );
}

/**
 * `origins`: what the pages reach beyond their own origin (contract/site-headers.ts). The local
 * stack's pages reach only their own (config.json names the origin the viewer came from): none. A
 * server that hands the built site another API, stream or sign-in (the tests' stand-ins for the
 * cloud) names them here, as CDK does for CloudFront.
 */
export function staticSiteRoute(
  root: string,
  missing: () => string,
  log: (line: string) => void = () => {},
  origins: SiteOrigins = {},
): AppRoute {
  const policies = {
    viewer: siteSecurityHeaders({ ...origins, page: 'viewer' }),
    control: siteSecurityHeaders({ ...origins, page: 'control' }),
  };
  return {
    prefix: '/',
    async handle(req, res) {
      const urlPath = decodedPath(req.url);
      // A folder's page is its index.html (/control/ is the control room's).
      const relative =
        urlPath === undefined
          ? undefined
          : normalize(urlPath.endsWith('/') ? `${urlPath}index.html` : urlPath).replace(/^([/\\])+/, '');
      // The page of the file served, by its decoded and normalised path (`/%63ontrol/` is the control room).
      const security = policies[sitePageOf(`/${(relative ?? '').split(sep).join('/')}`)];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', ...security }).end();
        return;
      }
      if (urlPath === undefined || relative === undefined) {
        sendJson(
          res,
          400,
          { error: { code: 'bad_request', message: 'path: not valid percent-encoding' } },
          security,
        );
        return;
      }
      const file = join(root, relative);
      if (!file.startsWith(root + sep)) {
        res.writeHead(404, security).end();
        return;
      }
      const info = await stat(file).catch(() => undefined);
      if (info?.isDirectory() && (await stat(join(file, 'index.html')).catch(() => undefined))?.isFile()) {
        // /control → /control/, so the page's address is the one sign-in redirects name.
        const { pathname, search } = new URL(req.url ?? '/', 'http://x');
        res.writeHead(308, { location: `${pathname}/${search}`, ...security }).end();
        return;
      }
      if (!info?.isFile()) {
        if (relative === 'index.html') {
          res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', ...security }).end(missing());
        } else {
          res
            .writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...security })
            .end(`not found: ${urlPath}\n`);
        }
        return;
      }
      const headers = {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': info.size,
        'cache-control': relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        ...security,
      };
      if (req.method === 'HEAD') {
        res.writeHead(200, headers).end();
        return;
      }
      let stream: ReadStream;
      try {
        stream = await openForReading(file);
      } catch (error) {
        sendReadError(res, urlPath, error, log, security);
        return;
      }
      res.writeHead(200, headers);
      // A read error past the first bytes, or a viewer who left: the response is cut short (its
      // Content-Length tells the client), and nothing is thrown at the server.
      await pipeline(stream, res).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE')
          log(`site: ${urlPath} cut short: ${(error as Error).message}`);
      });
    },
  };
}
