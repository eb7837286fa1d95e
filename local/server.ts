// The composition root of the local stack: one edge endpoint that speaks the AWS services'
// wire protocols (the LocalStack convention) and one app server for the site, the API and the
// stream. Programs reach the emulators through the standard AWS_ENDPOINT_URL variable, so the
// Lambda handlers, the CLI and the state machine run unchanged. The edge endpoint is
// unauthenticated, so it listens on loopback whatever `host` says; `host` exposes the app server only.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { apiRoute } from './api/index.ts';
import { LambdaWorker } from './api/worker.ts';
import { ensureTable, startLocalDynamoDb } from './dynamodb/index.ts';
import {
  closeServer,
  createAppServer,
  createEdgeServer,
  listen,
  sendJson,
  type AppRoute,
  type EdgeService,
} from './http.ts';
import { TABLE } from '../contract/table.ts';
import { staticSiteRoute } from './static.ts';
import { createLocalIvs, DEFAULT_CHANNEL_ARN, BinaryNotFoundError, type LocalIvs } from './ivs/index.ts';
import { createLocalStepFunctions, type LocalStepFunctions } from './sfn/index.ts';
import { runDemoLoop } from '../cli/demo.ts';

export { DataDirError } from './dynamodb/index.ts';

const SITE_DIR = fileURLToPath(new URL('../site/dist', import.meta.url));
const DEMO_SHOW = fileURLToPath(new URL('../shows/demo.json', import.meta.url));

export interface LocalStackOptions {
  /** App server port (site, /api, /live, /config.json); 0 picks a free one. */
  port: number;
  /** AWS edge endpoint port (always on 127.0.0.1); 0 picks a free one. */
  edgePort: number;
  /** Where the app server listens (default 127.0.0.1; 0.0.0.0 shows the site to the network). */
  host?: string;
  dataDir: string;
  /** The built viewer site (default site/dist). */
  siteDir?: string;
  tableName?: string;
  /** First RTMP ingest port (OBS); 0 picks a free one, null turns ingest off. */
  rtmpPort?: number | null;
  demo?: boolean;
  log?: (line: string) => void;
}

export interface LocalStack {
  appUrl: string;
  apiUrl: string;
  edgeUrl: string;
  tableName: string;
  /** Absent when ffmpeg is missing. */
  ivs: LocalIvs | undefined;
  sfn: LocalStepFunctions;
  close(): Promise<void>;
}

/** Dummy credentials: the emulators ignore signatures, but the SDK refuses to sign without any. */
function pointSdkAt(edgeUrl: string, tableName: string, appUrl: string): void {
  process.env.AWS_ENDPOINT_URL = edgeUrl;
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.TABLE_NAME = tableName;
  process.env.CORS_ORIGINS ??= appUrl;
}

async function freePort(host: string): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, host, resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** How this machine reaches a server bound to `host`: a wildcard bind answers on loopback too. */
function localUrlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** A Host header that can go into a URL as it is: a name or an address, and maybe a port. */
const HOST_HEADER = /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The site's config, with URLs on the address the viewer reached: with HOST=0.0.0.0 a phone on
 * the LAN asks for http://192.168.1.20:3000/config.json and must be sent there, not to 0.0.0.0.
 */
function configRoute(config: (origin: string) => Record<string, unknown>): AppRoute {
  return {
    prefix: '/config.json',
    handle(req, res) {
      const host = req.headers.host;
      if (host === undefined || host.length > 255 || !HOST_HEADER.test(host)) {
        sendJson(res, 400, {
          error: {
            code: 'bad_request',
            message: `host: expected a host name or address and an optional port, got ${JSON.stringify(host ?? null)}`,
          },
        });
        return;
      }
      sendJson(res, 200, config(`http://${host}`), { 'cache-control': 'no-store' });
    },
  };
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const host = options.host ?? '127.0.0.1';
  const siteDir = options.siteDir ?? SITE_DIR;
  const dataDir = resolve(options.dataDir);
  const tableName = options.tableName ?? TABLE.defaultName;
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const fn of closers.reverse()) await fn().catch((e: unknown) => log(`while stopping: ${String(e)}`));
  };

  try {
    const dynamo = await startLocalDynamoDb(resolve(dataDir, 'dynamodb'), { log, stateDir: dataDir });
    closers.push(dynamo.close);
    const services: EdgeService[] = [dynamo.edge];
    const edge: Server = createEdgeServer(services, log);
    const edgePort = await listen(edge, options.edgePort, '127.0.0.1');
    closers.push(() => closeServer(edge));
    const edgeUrl = `http://127.0.0.1:${edgePort}`;

    const routes: AppRoute[] = [];
    const app = createAppServer(routes, log);
    const port = await listen(app, options.port, host);
    closers.push(() => closeServer(app));
    const appUrl = `http://${localUrlHost(host)}:${port}`;
    const apiUrl = `${appUrl}/api`;

    pointSdkAt(edgeUrl, tableName, appUrl);

    // The RTMP ingest (ffmpeg) listens on loopback.
    const rtmpPort = options.rtmpPort === 0 ? await freePort('127.0.0.1') : options.rtmpPort;
    let ivs: LocalIvs | undefined;
    try {
      // Half-second segments (and keyframes): a cue reaches viewers ~0.5 s sooner than with 1 s
      // segments, which keeps glass-to-glass cue latency under the 3 s target.
      ivs = await createLocalIvs({
        dataDir,
        appBaseUrl: appUrl,
        log,
        rtmpPort,
        segmentDuration: 0.5,
        windowSize: 30, // 15 s: hls.js keeps viewers several seconds behind where they are
      });
      closers.push(() => ivs!.close());
      services.push(ivs.edge);
      routes.push(ivs.route);
    } catch (error) {
      if (!(error instanceof BinaryNotFoundError)) throw error;
      // Everything else still works without video: say what is missing and how to get it.
      log(`no local stream: ${error.message}`);
    }
    const dynamoClient = new DynamoDBClient({});
    const table = await ensureTable(dynamoClient, tableName);
    dynamoClient.destroy();

    const sfn = await createLocalStepFunctions({
      dataDir: resolve(dataDir, 'stepfunctions'),
      log,
      env: { tableName, channelArn: DEFAULT_CHANNEL_ARN, edgeUrl },
    });
    closers.push(() => sfn.close());
    services.push(sfn.edge);

    // The API Lambda runs in its own thread (its cold start happens now, after the SDK environment
    // is set), so HTTP requests and the emulators it calls use both cores.
    const api = new LambdaWorker(new URL('../lambdas/api.ts', import.meta.url).href, 'showrunner-api', log);
    await api.start();
    closers.push(() => api.close());
    routes.push(
      apiRoute('/api/', (event) => api.invoke(event)),
      configRoute((origin) => ({
        apiUrl: `${origin}/api`,
        playbackUrl: ivs ? `${origin}${new URL(ivs.playbackUrl()).pathname}` : null,
        player: 'hls.js',
      })),
      staticSiteRoute(
        siteDir,
        () => `The viewer site is not built: run \`npm run build\` (npm start does it).\n`,
        log,
      ),
    );

    await ivs?.ready;

    log(`showrunner local stack (data in ${dataDir})`);
    log(
      `  site        ${appUrl}/${localUrlHost(host) === host ? '' : `  (HOST=${host}: also on this machine's other addresses)`}`,
    );
    log(`  API         ${apiUrl}/  (poll-get, requestor-get, requestor-put)`);
    log(`  config      ${appUrl}/config.json`);
    if (ivs) {
      log(`  stream      ${ivs.playbackUrl()}  (test pattern; channel ${DEFAULT_CHANNEL_ARN})`);
      const ingest = ivs.ingestUrl();
      if (ingest)
        log(`  RTMP ingest ${ingest}  (OBS: server rtmp://127.0.0.1:${rtmpPort}/live, stream key local)`);
    }
    log(
      `  AWS edge    ${edgeUrl}  DynamoDB (table ${tableName}, ${table}), Step Functions${ivs ? ', IVS' : ''}`,
    );
    const edgeEnv = edgePort === 4566 ? '' : `EDGE_URL=${edgeUrl} `;
    log(`  producer    ${edgeEnv}npx showrunner list   (or validate, start, cue, stop, history, results)`);

    if (options.demo && ivs) {
      // Closers run in reverse: the demo stops before Step Functions does.
      const demo = runDemoLoop({
        showFile: DEMO_SHOW,
        edgeUrl,
        channelArn: DEFAULT_CHANNEL_ARN,
        log,
        tableName,
        // Short pause between runs: a newcomer sees a question within 30 s of opening the page.
        pauseSeconds: 5,
      });
      closers.push(() => demo.stop());
      log(`  demo        ${DEMO_SHOW} runs in a loop (the first question comes ~15 s after start)`);
    } else if (options.demo) {
      log('  demo        not running: it needs the local stream (ffmpeg)');
    }
    return { appUrl, apiUrl, edgeUrl, tableName, ivs, sfn, close };
  } catch (error) {
    await close();
    throw error;
  }
}
