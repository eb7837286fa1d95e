// The composition root of the local stack: one edge endpoint that speaks the AWS services'
// wire protocols (the LocalStack convention) and one app server for the site, the API and the
// stream. Other programs (the CLI) reach the emulators through the standard AWS_ENDPOINT_URL
// variable. Inside, this root hands each part what it needs and changes nothing of this process's
// environment: SDK clients get the edge endpoint in their config, the API Lambda's thread gets a
// Lambda's environment of its own, the local Step Functions gets its Lambda registry. The edge
// endpoint is unauthenticated, so it listens on loopback whatever `host` says; `host` exposes the
// app server only.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IvsClient } from '@aws-sdk/client-ivs';
import type { Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { apiRoute } from './api/index.ts';
import { LambdaWorker } from './api/worker.ts';
import type { Meter } from './meter.ts';
import { ensureTable, startLocalDynamoDb } from './dynamodb/index.ts';
import {
  closeServer,
  appHostCheck,
  createAppServer,
  createEdgeServer,
  listen,
  sendJson,
  type AppRoute,
  type EdgeService,
} from './http.ts';
import { LOCAL_POLL_LIFECYCLE_FUNCTION } from '../contract/state-machine.ts';
import { API_ROUTES } from '../contract/api.ts';
import { LAMBDA_ENV } from '../contract/lambda-env.ts';
import { TABLE } from '../contract/table.ts';
import { channelIdOf } from '../core/ids.ts';
import { apiConfigFromEnv } from '../lambdas/api.ts';
import { documentClient } from '../store/clients.ts';
import { createObservability } from '../lambdas/observability.ts';
import { createPollLifecycleHandler, pollLifecycleConfigFromEnv } from '../lambdas/poll-lifecycle.ts';
import { PollStore } from '../store/polls.ts';
import { staticSiteRoute } from './static.ts';
import { localViewerSecret } from './viewer-secret.ts';
import { localProducerSignIn } from './producer-sign-in.ts';
import { lambdaContext } from './api/context.ts';
import { connectLocal } from '../ops/target.ts';
import type { APIGatewayProxyResult } from 'aws-lambda';
import {
  createProducerHandler,
  PRODUCER_MAX_BODY_BYTES,
  targetOperations,
  type ProducerDeps,
} from '../lambdas/producer.ts';
import { createLocalIvs, DEFAULT_CHANNEL_ARN, BinaryNotFoundError, type LocalIvs } from './ivs/index.ts';
import { createLocalStepFunctions, type LocalStepFunctions } from './sfn/index.ts';

export { DataDirError } from './dynamodb/index.ts';

const SITE_DIR = fileURLToPath(new URL('../site/dist', import.meta.url));
const API_ENTRY = new URL('../lambdas/handlers/api.ts', import.meta.url).href;

/** The region of the local ARNs (DEFAULT_CHANNEL_ARN's) and of the clients that reach the edge. */
const LOCAL_REGION = 'us-east-1';

/** Dummy credentials: the emulators ignore signatures, but the SDK refuses to sign without any. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** An AWS SDK client's config for the local stack's edge endpoint. */
export function localClientConfig(edgeUrl: string) {
  return { endpoint: edgeUrl, region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS } };
}

/** The Lambdas' own settings a user may give, named as the cloud's environment variables. */
const LAMBDA_SETTINGS = [
  LAMBDA_ENV.CORS_ORIGINS,
  LAMBDA_ENV.MAX_BODY_BYTES,
  LAMBDA_ENV.POLL_CACHE_MS,
  LAMBDA_ENV.VOTE_SETTLE_MS,
  LAMBDA_ENV.VOTE_SHARDS,
  LAMBDA_ENV.CUE_CHANNEL_ARNS,
  // The work a new viewer identity costs (lambdas/viewer-token.ts); a load test may lower it.
  LAMBDA_ENV.TOKEN_WORK_BITS,
  // Observability (lambdas/observability.ts), e.g. POWERTOOLS_METRICS_DISABLED=true for a quiet stack.
  LAMBDA_ENV.LOG_LEVEL,
  LAMBDA_ENV.POWERTOOLS_LOG_LEVEL,
  LAMBDA_ENV.POWERTOOLS_METRICS_DISABLED,
] as const;

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
  /**
   * The Lambdas' settings, as the cloud's environment variables: CORS_ORIGINS (default: the app's
   * own origin), MAX_BODY_BYTES, POLL_CACHE_MS, VOTE_SETTLE_MS, VOTE_SHARDS, CUE_CHANNEL_ARNS;
   * other names are ignored. Default: those set in this process's environment. TABLE_NAME and the
   * SDK's endpoint and credentials are the stack's own.
   */
  lambdaEnv?: Readonly<Record<string, string | undefined>>;
  /** Counts what the edge and the API see (local/meter.ts), served at the edge's /_showrunner/meter; default none. */
  meter?: Meter;
  /**
   * Print the Lambdas' CloudWatch metric lines (EMF JSON) as the cloud's logs would hold them. Default
   * false, for a console a person reads; POWERTOOLS_METRICS_DISABLED in `lambdaEnv` decides when set.
   */
  metrics?: boolean;
  log?: (line: string) => void;
}

export interface LocalStack {
  appUrl: string;
  apiUrl: string;
  edgeUrl: string;
  /** For AWS SDK clients of the stack's services: its edge endpoint, region and dummy credentials. */
  clientConfig: ReturnType<typeof localClientConfig>;
  tableName: string;
  /** Absent when ffmpeg is missing. */
  ivs: LocalIvs | undefined;
  sfn: LocalStepFunctions;
  close(): Promise<void>;
}

/** The settings of LAMBDA_SETTINGS that `env` sets. */
function lambdaSettings(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const name of LAMBDA_SETTINGS) {
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    if (value !== undefined) settings[name] = value;
  }
  return settings;
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

/**
 * The site's config, with URLs on the address the viewer reached: with HOST=0.0.0.0 a phone on
 * the LAN asks for http://192.168.1.20:3000/config.json and must be sent there, not to 0.0.0.0.
 * The app server has checked the Host header before any route runs.
 */
function configRoute(config: (origin: string) => Record<string, unknown>): AppRoute {
  return {
    prefix: '/config.json',
    handle(req, res) {
      sendJson(res, 200, config(`http://${req.headers.host}`), { 'cache-control': 'no-store' });
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
    const meter = options.meter;
    const dynamo = await startLocalDynamoDb(resolve(dataDir, 'dynamodb'), {
      log,
      stateDir: dataDir,
      ...(meter ? { tap: meter.dynamodb } : {}),
    });
    closers.push(dynamo.close);
    const services: EdgeService[] = meter ? [meter.edgeService, dynamo.edge] : [dynamo.edge];
    const edge: Server = createEdgeServer(services, log, meter && ((...call) => meter.edge(...call)));
    const edgePort = await listen(edge, options.edgePort, '127.0.0.1');
    closers.push(() => closeServer(edge));
    const edgeUrl = `http://127.0.0.1:${edgePort}`;

    const routes: AppRoute[] = [];
    let mounted = false;
    const app = createAppServer(routes, log, { hostAllowed: appHostCheck(host), ready: () => mounted });
    const port = await listen(app, options.port, host);
    closers.push(() => closeServer(app));
    const appUrl = `http://${localUrlHost(host)}:${port}`;
    const apiUrl = `${appUrl}/api`;

    const clientConfig = localClientConfig(edgeUrl);
    // Each Lambda's environment as the cloud would set it (its settings and TABLE_NAME).
    const functionEnv: Record<string, string> = {
      [LAMBDA_ENV.CORS_ORIGINS]: appUrl,
      ...(options.metrics ? {} : { [LAMBDA_ENV.POWERTOOLS_METRICS_DISABLED]: 'true' }),
      ...lambdaSettings(options.lambdaEnv ?? process.env),
      [LAMBDA_ENV.TABLE_NAME]: tableName,
    };

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
    const dynamoClient = new DynamoDBClient(clientConfig);
    closers.push(async () => dynamoClient.destroy());
    const table = await ensureTable(dynamoClient, tableName);

    // The state machine's Lambda runs in this process, built as its entry file builds it, on a
    // client of the edge and the settings it would have in the cloud.
    // Its IVS client sends the live tally cues; a throttled tally is skipped, never retried.
    const ivsClient = new IvsClient({ ...clientConfig, maxAttempts: 1 });
    closers.push(async () => ivsClient.destroy());
    const pollLifecycle = createPollLifecycleHandler({
      store: new PollStore(documentClient(dynamoClient), tableName),
      ivs: ivsClient,
      config: pollLifecycleConfigFromEnv(functionEnv),
      // Its logs and EMF metric lines on this process's stdout; no tracer outside Lambda.
      observability: await createObservability({
        serviceName: LOCAL_POLL_LIFECYCLE_FUNCTION,
        env: functionEnv,
      }),
    });
    const sfn = await createLocalStepFunctions({
      dataDir: resolve(dataDir, 'stepfunctions'),
      log,
      env: { tableName, channelArn: DEFAULT_CHANNEL_ARN, edgeUrl, region: LOCAL_REGION },
      functions: { [LOCAL_POLL_LIFECYCLE_FUNCTION]: pollLifecycle },
      // The stack's EventBridge rule: a run that did not succeed closes its open polls.
      executionEndedFunction: LOCAL_POLL_LIFECYCLE_FUNCTION,
    });
    closers.push(() => sfn.close());
    services.push(sfn.edge);

    // The API Lambda runs its entry file in its own thread, with a Lambda's environment pointing
    // the SDK at the edge, so HTTP requests and the emulators it calls use both cores. Its cold
    // start happens now, so a bad setting stops the stack at once.
    const apiEnv = {
      ...functionEnv,
      // The cloud's API reads its secret from Secrets Manager (VIEWER_TOKEN_SECRET_ARN); this one
      // gets the local stack's own, kept in the data directory.
      [LAMBDA_ENV.VIEWER_TOKEN_SECRET]: await localViewerSecret(dataDir),
      // The channel whose live run locks nicknames (its first quiz question closed): the stack's.
      [LAMBDA_ENV.CHANNEL_ARN]: DEFAULT_CHANNEL_ARN,
      AWS_ENDPOINT_URL: edgeUrl,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    };
    const apiConfig = apiConfigFromEnv(apiEnv);
    const api = new LambdaWorker({ module: API_ENTRY, functionName: 'showrunner-api', env: apiEnv, log });
    await api.start();
    closers.push(() => api.close());
    // The producer Lambda runs in this process, on the local stack as the CLI reaches it.
    const producerTarget = await connectLocal({
      edgeUrl,
      region: LOCAL_REGION,
      stateMachineArn: sfn.stateMachineArn,
      tableName,
    });
    closers.push(async () => producerTarget.close());
    const producerDeps: ProducerDeps = {
      config: { corsOrigins: [appUrl], maxBodyBytes: PRODUCER_MAX_BODY_BYTES },
      observability: await createObservability({ serviceName: 'showrunner-producer', env: functionEnv }),
      operations: targetOperations(producerTarget),
    };
    const producer = createProducerHandler(producerDeps);
    const producerSignIn = localProducerSignIn();
    routes.push(
      apiRoute(
        '/api/',
        (event) => api.invoke(event),
        apiConfig.maxBodyBytes,
        meter && ((...request) => meter.api(...request)),
      ),
      // The producer API behind the control room's sign-in (the cloud: a Cognito authorizer).
      {
        prefix: '/api/producer/',
        handle: apiRoute(
          '/api/',
          (event) => producer(event, lambdaContext('showrunner-producer')) as Promise<APIGatewayProxyResult>,
          producerDeps.config.maxBodyBytes,
          undefined,
          producerSignIn.authorize,
        ).handle,
      },
      configRoute((origin) => ({
        apiUrl: `${origin}/api`,
        playbackUrl: ivs ? `${origin}${new URL(ivs.playbackUrl()).pathname}` : null,
        player: 'hls.js',
        channel: channelIdOf(DEFAULT_CHANNEL_ARN),
        control: { signIn: 'local' },
      })),
      staticSiteRoute(
        siteDir,
        () => `The viewer site is not built: run \`npm run build\` (npm start does it).\n`,
        log,
      ),
    );

    mounted = true;
    await ivs?.ready;

    log(`showrunner local stack (data in ${dataDir})`);
    log(
      `  site        ${appUrl}/${localUrlHost(host) === host ? '' : `  (HOST=${host}: also on this machine's other addresses)`}`,
    );
    log(`  API         ${apiUrl}/  (${Object.values(API_ROUTES).join(' ')})`);
    log(
      `  control     ${appUrl}/control/#token=${producerSignIn.token}  (the producer's control room; the token lasts until the stack stops)`,
    );
    log(`  config      ${appUrl}/config.json`);
    if (ivs) {
      log(`  stream      ${ivs.playbackUrl()}  (test pattern; channel ${DEFAULT_CHANNEL_ARN})`);
      const ingest = ivs.ingestUrl();
      const key = ivs.streamKey();
      if (ingest && key) {
        // Like IVS's console: the ingest server and the channel's stream key (a secret, kept in the
        // data directory across restarts). The ingest refuses any other key.
        const server = ingest.slice(0, -key.length - 1);
        log(
          `  RTMP ingest OBS: server ${server}, stream key ${key}  (ffmpeg: ${server}/<key>; other keys are refused)`,
        );
      }
    }
    log(
      `  AWS edge    ${edgeUrl}  DynamoDB (table ${tableName}, ${table}), Step Functions${ivs ? ', IVS' : ''}`,
    );
    const edgeEnv = edgePort === 4566 ? '' : `EDGE_URL=${edgeUrl} `;
    log(
      `  producer    ${edgeEnv}npx showrunner list   (or validate, start, cue, stop, history, results, leaderboard)`,
    );

    return { appUrl, apiUrl, edgeUrl, clientConfig, tableName, ivs, sfn, close };
  } catch (error) {
    await close();
    throw error;
  }
}
