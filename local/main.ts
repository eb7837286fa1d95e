// `npm start`: runs the whole local stack in the foreground until Ctrl-C, and the demo show in a
// loop as a client of it (local/demo.ts).
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runDemoLoop, type DemoLoop } from './demo.ts';
import { DEFAULT_CHANNEL_ARN, StreamKeyError } from './ivs/index.ts';
import { createMeter, METER_PATH, type Meter } from './meter.ts';
import { DataDirError, startLocalStack } from './server.ts';
import { UsageError } from '../ops/errors.ts';

const DEMO_SHOW = fileURLToPath(new URL('../shows/demo.json', import.meta.url));

const HELP = `Usage: npm start -- [options]

Runs showrunner locally: the viewer site, the REST API, a live test-pattern stream
with timed metadata (and an RTMP ingest for OBS), and the AWS emulators (DynamoDB,
IVS) on one edge endpoint, with state kept under the data directory.

Options:
  --no-demo          do not run the demo show
  --data-dir DIR     where state is kept (default: .showrunner, or SHOWRUNNER_DATA_DIR)
  --meter            count DynamoDB write units per key and item, API requests by route
                     and AWS calls by action; read at the edge: GET ${METER_PATH}
                     (POST ${METER_PATH}/reset starts afresh)
  --write-cap N      with --meter: refuse DynamoDB writes over N write units/s on one
                     partition key or item (AWS's 1,000 scaled down to a local storm)
  --metrics          print the Lambdas' CloudWatch metric lines (EMF JSON), as their
                     logs in AWS hold them (default: a quiet console)
  -h, --help         show this help

Environment:
  PORT        app server port (default 3000)
  EDGE_PORT   AWS edge endpoint port (default 4566)
  RTMP_PORT   RTMP ingest port for OBS (default 1935; "off" disables ingest); it
              takes only the stream key printed at start (kept in the data
              directory, ivs-stream-keys.json)
  HOST        interface the site, API and stream listen on (default 127.0.0.1;
              0.0.0.0 shows them to the network); the AWS edge endpoint
              always listens on 127.0.0.1
`;

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535)
    throw new UsageError(`${name}: expected a port number 0–65535, got "${raw}"`);
  return port;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      demo: { type: 'boolean', default: true },
      'no-demo': { type: 'boolean' },
      'data-dir': { type: 'string' },
      meter: { type: 'boolean' },
      metrics: { type: 'boolean' },
      'write-cap': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowNegative: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  let meter: Meter | undefined;
  if (values.meter) {
    const raw = values['write-cap'];
    const cap = raw === undefined ? undefined : Number(raw);
    if (cap !== undefined && !(Number.isFinite(cap) && cap > 0))
      throw new UsageError(`--write-cap: expected write units per second above 0, got "${raw}"`);
    meter = createMeter(cap === undefined ? {} : { writeCapPerKey: cap });
  } else if (values['write-cap'] !== undefined) throw new UsageError('--write-cap needs --meter');
  const stack = await startLocalStack({
    ...(meter ? { meter } : {}),
    metrics: values.metrics === true,
    port: portFromEnv('PORT', 3000),
    edgePort: portFromEnv('EDGE_PORT', 4566),
    host: process.env.HOST?.trim() || '127.0.0.1',
    rtmpPort: process.env.RTMP_PORT?.trim() === 'off' ? null : portFromEnv('RTMP_PORT', 1935),
    dataDir: values['data-dir'] ?? (process.env.SHOWRUNNER_DATA_DIR?.trim() || '.showrunner'),
  });
  let demo: DemoLoop | undefined;
  if (values.demo && !values['no-demo']) {
    if (stack.ivs) {
      demo = runDemoLoop({
        showFile: DEMO_SHOW,
        edgeUrl: stack.edgeUrl,
        channelArn: DEFAULT_CHANNEL_ARN,
        tableName: stack.tableName,
        // Short pause between runs: a newcomer sees a question within 30 s of opening the page.
        pauseSeconds: 5,
      });
      console.log(`  demo        ${DEMO_SHOW} runs in a loop (the first question comes ~15 s after start)`);
    } else console.log('  demo        not running: it needs the local stream (ffmpeg)');
  }
  if (meter) {
    const cap = meter.snapshot().write_cap_per_key;
    console.log(
      `  meter       ${stack.edgeUrl}${METER_PATH}${cap === null ? '' : `  (writes capped at ${cap} units/s per key and item)`}`,
    );
  }
  console.log(`ready: open ${stack.appUrl}/ (Ctrl-C stops)`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    // The demo loop first, so it sends nothing to a stack that is closing; its run stays RUNNING.
    const demoStopped = (demo?.stop() ?? Promise.resolve()).catch((e: unknown) =>
      console.log(`while stopping: ${String(e)}`),
    );
    demoStopped
      .then(() => stack.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`showrunner: ${(error as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  if (error instanceof DataDirError || error instanceof StreamKeyError) {
    console.error(`showrunner: ${error.message}`);
    process.exit(1);
  }
  if ((error as { code?: string }).code === 'EADDRINUSE') {
    console.error(
      `showrunner: ${(error as Error).message} — is another local stack running? Set PORT / EDGE_PORT to use other ports.`,
    );
    process.exit(1);
  }
  console.error(error);
  process.exit(1);
});
