// Serves the built site with a config of the test's choosing, and an API proxy the test can
// take down and bring back, to see what viewers see when the API is unreachable.
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { closeServer, createAppServer, listen, sendJson } from '../../local/http.ts';
import { staticSiteRoute } from '../../local/static.ts';
import { ROOT } from './stack.ts';

export interface TestSite {
  url: string;
  apiUp(up: boolean): void;
  close(): Promise<void>;
}

export async function serveSite(
  upstreamApi: string,
  port = 0,
  playbackUrl: string | null = null,
): Promise<TestSite> {
  let up = true;
  const upstream = new URL(upstreamApi);
  const proxy: Server = createServer((req, res) => {
    if (!up) {
      req.socket.destroy(); // what a dead server looks like to fetch
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: `${upstream.pathname}${req.url}`,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  const proxyPort = await listen(proxy, 0);
  const routes = [
    {
      prefix: '/config.json',
      handle: (_r: unknown, res: import('node:http').ServerResponse) =>
        sendJson(res, 200, {
          apiUrl: `http://127.0.0.1:${proxyPort}`,
          playbackUrl,
          player: 'hls.js',
          channel: 'local',
        }),
    },
    // The API (and a stream) on other origins, as in the cloud: the pages' policy allows them.
    staticSiteRoute(join(ROOT, 'site', 'dist'), () => 'site not built', undefined, {
      apiOrigin: `http://127.0.0.1:${proxyPort}`,
      ...(playbackUrl === null ? {} : { streamOrigins: [new URL(playbackUrl).origin] }),
    }),
  ];
  const site = createAppServer(routes, () => undefined);
  const sitePort = await listen(site, port);
  return {
    url: `http://127.0.0.1:${sitePort}`,
    apiUp: (value) => {
      up = value;
      if (!value) proxy.closeAllConnections();
    },
    close: async () => {
      await closeServer(site);
      await closeServer(proxy);
    },
  };
}
