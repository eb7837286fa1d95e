// Serves /live/<channel>/index.m3u8 and its segments on the app server, with the content types and cache
// headers of a CDN-fronted live stream: the playlist must be refetched each time, a segment never changes
// (its name carries a per-start session id, so a restart can never serve stale cached bytes under an old URL).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppRoute } from '../http.ts';
import type { LocalChannel } from './channel.ts';

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'range',
};

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: Buffer | string,
  headers: Record<string, string>,
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...CORS, ...headers, 'content-length': String(bytes.length) });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

function notFound(req: IncomingMessage, res: ServerResponse, what: string): void {
  send(req, res, 404, `${what} not found\n`, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-cache',
  });
}

export function createLiveRoute(channelByName: (name: string) => LocalChannel | undefined): AppRoute {
  return {
    prefix: '/live/',
    async handle(req, res) {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { ...CORS, 'access-control-max-age': '86400' });
        res.end();
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(req, res, 405, 'method not allowed\n', {
          'content-type': 'text/plain; charset=utf-8',
          allow: 'GET, HEAD, OPTIONS',
        });
        return;
      }
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const match = /^\/live\/([A-Za-z0-9-]+)\/([A-Za-z0-9-]+\.(?:m3u8|ts))$/.exec(path);
      const channel = match && channelByName(match[1]!);
      if (!match || !channel) return notFound(req, res, path);
      const file = match[2]!;
      if (file === 'index.m3u8') {
        const playlist = channel.live ? channel.playlist() : undefined;
        if (!playlist) return notFound(req, res, 'stream'); // offline, like an IVS playback URL
        channel.noteViewer(`${req.socket.remoteAddress} ${req.headers['user-agent'] ?? ''}`);
        send(req, res, 200, playlist, {
          'content-type': 'application/vnd.apple.mpegurl',
          // Live playlists change every segment; a short max-age would only add latency.
          'cache-control': 'no-cache, no-store',
        });
        return;
      }
      const data = file.endsWith('.ts') ? await channel.readSegment(file) : undefined;
      if (!data) return notFound(req, res, file);
      send(req, res, 200, data, {
        'content-type': 'video/mp2t',
        'cache-control': 'public, max-age=31536000, immutable',
      });
    },
  };
}
