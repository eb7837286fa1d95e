// The composition root of the local stack: one edge endpoint that speaks the AWS services'
// wire protocols (the LocalStack convention) and one app server for the site, the API and the
// stream. Programs reach the emulators through the standard AWS_ENDPOINT_URL variable, so the
// Lambda handlers, the CLI and the state machine run unchanged.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Server } from 'node:http';
import { apiRoute, type ProxyHandler } from './api/index.ts';
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
import { TABLE } from '../core/table.ts';
import { staticSiteRoute } from './static.ts';

const SITE_DIR = fileURLToPath(new URL('../site/dist', import.meta.url));

export interface LocalStackOptions {
  /** App server port (site, /api, /live, /config.json); 0 picks a free one. */
  port: number;
  /** AWS edge endpoint port; 0 picks a free one. */
  edgePort: number;
  host?: string;
  dataDir: string;
  tableName?: string;
  demo?: boolean;
  log?: (line: string) => void;
}

export interface LocalStack {
  appUrl: string;
  apiUrl: string;
  edgeUrl: string;
  tableName: string;
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

function configRoute(config: () => Record<string, unknown>): AppRoute {
  return {
    prefix: '/config.json',
    handle: (_req, res) => sendJson(res, 200, config(), { 'cache-control': 'no-store' }),
  };
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir);
  const tableName = options.tableName ?? TABLE.defaultName;
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const fn of closers.reverse()) await fn().catch((e: unknown) => log(`while stopping: ${String(e)}`));
  };

  try {
    const dynamo = await startLocalDynamoDb(resolve(dataDir, 'dynamodb'));
    closers.push(dynamo.close);
    const services: EdgeService[] = [dynamo.edge];
    const edge: Server = createEdgeServer(services, log);
    const edgePort = await listen(edge, options.edgePort, host);
    closers.push(() => closeServer(edge));
    const edgeUrl = `http://${host}:${edgePort}`;

    const routes: AppRoute[] = [];
    const app = createAppServer(routes, log);
    const port = await listen(app, options.port, host);
    closers.push(() => closeServer(app));
    const appUrl = `http://${host}:${port}`;
    const apiUrl = `${appUrl}/api`;

    pointSdkAt(edgeUrl, tableName, appUrl);
    const dynamoClient = new DynamoDBClient({});
    const table = await ensureTable(dynamoClient, tableName);
    dynamoClient.destroy();

    // Imported only now: Lambda modules read their configuration once, at load, like a cold start.
    const api = (await import('../lambdas/api.ts')) as { handler: ProxyHandler };
    routes.push(
      apiRoute('/api/', api.handler),
      configRoute(() => ({ apiUrl, playbackUrl: null, player: 'hls.js' })),
      staticSiteRoute(
        SITE_DIR,
        () => `The viewer site is not built: run \`npm run build\` (npm start does it).\n`,
      ),
    );

    log(`showrunner local stack (data in ${dataDir})`);
    log(`  site        ${appUrl}/`);
    log(`  API         ${apiUrl}/  (poll-get, requestor-get, requestor-put)`);
    log(`  config      ${appUrl}/config.json`);
    log(`  AWS edge    ${edgeUrl}  DynamoDB (table ${tableName}, ${table})`);
    return { appUrl, apiUrl, edgeUrl, tableName, close };
  } catch (error) {
    await close();
    throw error;
  }
}
