// `npm run costs -- --measure`: counts what a show asks of each AWS service, on the local stack with
// its meter (local/meter.ts), for bench/costs.ts to price. One show of COST_SHOW's shape (10 questions,
// the show file's default duration and grace) runs through the local Step Functions as
// `showrunner start` runs it, with two viewers in headless Chromium on the real page:
//   answering  answers every question as soon as it is asked;
//   silent     only watches (it still gets a token, and reloads its history at every result).
// Their page reaches the API on another origin (localhost against the page's 127.0.0.1), as the page on
// CloudFront reaches API Gateway in the cloud, so the browser's CORS preflights are counted too; GET
// /poll-get goes to the page's own origin, as it goes to CloudFront. A third page loads with the cloud's
// player (config.json `player: "ivs"`) to see which files a viewer downloads from CloudFront.
// Then each API route is called once more on its own, between meter resets, to count the DynamoDB units
// one request of it takes. Everything else (prices, the audience, the model) is bench/costs.ts's.
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { API_ROUTES, VIEWER_TOKEN_HEADER, VIEWER_TOKEN_SCHEME } from '../contract/api.ts';
import { TABLE } from '../contract/table.ts';
import { itemBytes, METER_PATH, type MeterSnapshot } from '../local/meter.ts';
import { launchChromium } from '../test/support/browser.ts';
import { ROOT, startStack, type StackProcess } from '../test/support/stack.ts';
import { fetchChallenge } from '../test/support/viewer.ts';
import { solveChallenge } from '../site/src/lib/identity.ts';
import type { MeasuredCounts, PageFile, RouteProbe } from './costs.ts';

/** The show to run: bench/costs.ts COST_SHOW (passed in: this module is loaded from that one). */
export interface MeasuredShow {
  id: string;
  title: string;
  polls: Array<{ id: string; at: number; question: string; answers: string[] }>;
}

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const SITE_DIR = join(ROOT, 'site', 'dist');
/** The local stack's channel id (config.json `channel`). */
const LOCAL_CHANNEL = 'local';

/** Bytes of every file under `dir` (the site as it is uploaded to S3). */
export function dirBytes(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    bytes += entry.isDirectory() ? dirBytes(path) : statSync(path).size;
  }
  return bytes;
}

/**
 * What CloudFront compresses (Brotli for browsers that take it): files of 1,000 to 10,000,000 bytes whose
 * Content-Type is on its list (HTML, CSS, JavaScript, JSON, SVG…; not application/wasm), per
 * https://github.com/awsdocs/amazon-cloudfront-developer-guide/blob/master/doc_source/ServingCompressedFiles.md
 * The type follows the file's extension, as BucketDeployment sets it in S3.
 */
const COMPRESSED_EXTENSIONS = new Set(['.html', '.css', '.js', '.json', '.svg']);
const compressedByCloudFront = (path: string, bytes: number) =>
  bytes >= 1_000 &&
  bytes <= 10_000_000 &&
  COMPRESSED_EXTENSIONS.has(extname(path === '/' ? 'index.html' : path));

interface SeenRequest {
  method: string;
  url: URL;
  /** A CORS preflight the browser sent by itself. */
  preflight: boolean;
  status?: number;
  /** Bytes received for it, headers included (Network.loadingFinished). */
  bytes?: number;
}

/**
 * Every request a page makes, with its preflights (which page.on('request') does not show); and, for
 * the files of the site, the paths its workers fetch too (which the page's CDP session does not show:
 * the IVS player's worker loads its WebAssembly).
 */
async function recordRequests(
  context: BrowserContext,
  page: Page,
): Promise<{ seen: Map<string, SeenRequest>; fetched: Set<string> }> {
  const seen = new Map<string, SeenRequest>();
  const fetched = new Set<string>();
  page.on('request', (r) => fetched.add(r.url()));
  const cdp: CDPSession = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.requestWillBeSent', (e) => {
    if (!e.request.url.startsWith('http')) return;
    seen.set(e.requestId, {
      method: e.request.method,
      url: new URL(e.request.url),
      preflight: e.type === 'Preflight' || e.request.method === 'OPTIONS',
    });
  });
  cdp.on('Network.responseReceived', (e) => {
    const r = seen.get(e.requestId);
    if (!r) return;
    r.status = e.response.status;
  });
  cdp.on('Network.loadingFinished', (e) => {
    const r = seen.get(e.requestId);
    if (r) r.bytes = e.encodedDataLength;
  });
  return { seen, fetched };
}

/** A page whose config.json is changed as the cloud's would be (no request interception: it would answer preflights itself). */
async function openPage(
  browser: Browser,
  stack: StackProcess,
  change: Record<string, unknown>,
): Promise<{ context: BrowserContext; page: Page; seen: Map<string, SeenRequest>; fetched: Set<string> }> {
  // The site's CSP (contract/site-headers.ts) allows the local page its own origin only; the API on
  // another origin stands in for the cloud's, so the page's policy is set aside (bypassCSP is no
  // request interception: the browser still sends its preflights).
  const context = await browser.newContext({ bypassCSP: true });
  await context.addInitScript((overrides) => {
    const original = window.fetch.bind(window);
    window.fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const response = await original(input, init);
      if (!new URL(url, location.href).pathname.endsWith('/config.json')) return response;
      const config = (await response.json()) as Record<string, unknown>;
      return new Response(JSON.stringify({ ...config, ...overrides }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    };
  }, change);
  const page = await context.newPage();
  const { seen, fetched } = await recordRequests(context, page);
  await page.goto(stack.appUrl);
  return { context, page, seen, fetched };
}

/** A viewer's API requests by `METHOD /route` (preflights as OPTIONS), and the bytes they brought back. */
function apiRequests(
  seen: Iterable<SeenRequest>,
  apiHost: string,
  cachedHost: string,
): { requests: Record<string, number>; bytes: Record<string, number>; cached: Record<string, number> } {
  const requests: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  const cached: Record<string, number> = {};
  for (const r of seen) {
    if (!r.url.pathname.startsWith('/api/')) continue;
    const key = `${r.method} ${r.url.pathname.slice('/api'.length)}`;
    if (r.url.host === apiHost) {
      requests[key] = (requests[key] ?? 0) + 1;
      bytes[key] = (bytes[key] ?? 0) + (r.bytes ?? 0);
    } else if (r.url.host === cachedHost) cached[key] = (cached[key] ?? 0) + 1;
  }
  return { requests, bytes, cached };
}

/** The files the cloud's page downloads from CloudFront, sized as CloudFront would send them. */
function pageFiles(urls: Iterable<string>, siteHost: string, generated: Record<string, Buffer>): PageFile[] {
  const files = new Map<string, PageFile>();
  for (const url of urls) {
    const u = new URL(url);
    const path = u.pathname;
    if (u.host !== siteHost || path.startsWith('/api/') || path.startsWith('/live/')) continue;
    // config.json is written at deploy time (the local stack answers it): its size is the local one.
    const file = join(SITE_DIR, path === '/' ? 'index.html' : path);
    const body = generated[path] ?? (existsSync(file) ? readFileSync(file) : undefined);
    if (!body) continue;
    const sentBytes = compressedByCloudFront(path, body.length)
      ? brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } }).length
      : body.length;
    files.set(path, { path, raw_bytes: body.length, sent_bytes: sentBytes });
  }
  return [...files.values()].sort((a, b) => b.sent_bytes - a.sent_bytes || a.path.localeCompare(b.path));
}

async function meter(stack: StackProcess, reset = false): Promise<MeterSnapshot> {
  if (reset) {
    await (await fetch(`${stack.edgeUrl}${METER_PATH}/reset`, { method: 'POST' })).arrayBuffer();
  }
  return (await (await fetch(`${stack.edgeUrl}${METER_PATH}`)).json()) as MeterSnapshot;
}

/** The meter's DynamoDB figures for one request of a route. */
async function probe(
  stack: StackProcess,
  route: string,
  request: () => Promise<Response>,
): Promise<RouteProbe> {
  await meter(stack, true);
  const response = await request();
  await response.arrayBuffer();
  await sleep(300);
  const m = await meter(stack);
  return {
    route,
    status: response.status,
    dynamodb_requests: m.dynamodb.requests,
    read_units: m.dynamodb.read_units.total,
    write_units: m.dynamodb.write_units.total,
    index_write_units: m.dynamodb.index_write_units.total,
    queries: m.dynamodb.queries,
  };
}

interface HistoryEvent {
  id: number;
  previousEventId?: number;
  type?: string;
  timestamp?: Date;
  stateEnteredEventDetails?: { name?: string };
  taskScheduledEventDetails?: { resourceType?: string; resource?: string };
}

/** State transitions (states entered) and, per Lambda task state, invocations and their seconds. */
function fromHistory(events: HistoryEvent[]): {
  transitions: number;
  transitionsByState: Record<string, number>;
  lambda: Record<string, { invocations: number; seconds: number }>;
} {
  const byId = new Map(events.map((e) => [e.id, e]));
  const transitionsByState: Record<string, number> = {};
  const lambda: Record<string, { invocations: number; seconds: number }> = {};
  let transitions = 0;
  for (const e of events) {
    if (e.type?.endsWith('StateEntered')) {
      transitions++;
      const name = e.stateEnteredEventDetails?.name ?? '?';
      transitionsByState[name] = (transitionsByState[name] ?? 0) + 1;
    }
    if (e.type !== 'TaskSucceeded' && e.type !== 'TaskFailed' && e.type !== 'TaskTimedOut') continue;
    let started: HistoryEvent | undefined;
    let scheduled: HistoryEvent | undefined;
    let state: string | undefined;
    for (let p = byId.get(e.previousEventId ?? 0); p; p = byId.get(p.previousEventId ?? 0)) {
      if (p.type === 'TaskStarted' && !started) started = p;
      else if (p.type === 'TaskScheduled' && !scheduled) scheduled = p;
      else if (p.type === 'TaskStateEntered') {
        state = p.stateEnteredEventDetails?.name;
        break;
      }
    }
    if (scheduled?.taskScheduledEventDetails?.resourceType !== 'lambda' || !started || !state) continue;
    const seconds = (Number(e.timestamp) - Number(started.timestamp)) / 1000;
    const l = (lambda[state] ??= { invocations: 0, seconds: 0 });
    l.invocations++;
    l.seconds = Math.round((l.seconds + seconds) * 1000) / 1000;
  }
  return { transitions, transitionsByState, lambda };
}

/** What the answering viewer does: answer each question once, as soon as its card asks. */
async function answerEveryQuestion(page: Page, stopped: () => boolean): Promise<string[]> {
  const answered: string[] = [];
  while (!stopped()) {
    try {
      const card = page.getByTestId('poll-card');
      const [pollId, phase] = await Promise.all([
        card.getAttribute('data-poll-id', { timeout: 1000 }),
        card.getAttribute('data-phase', { timeout: 1000 }),
      ]);
      if (pollId && phase === 'answering' && !answered.includes(pollId)) {
        await page.getByTestId('answer').first().click({ timeout: 2000 });
        answered.push(pollId);
      }
    } catch {
      // no card yet, or it changed under the click: look again
    }
    await sleep(300);
  }
  return answered;
}

/** Runs the measuring show on a fresh metered stack; `log` reports progress. */
export async function measureCounts(
  show: MeasuredShow,
  command: string,
  log: (line: string) => void = () => {},
): Promise<MeasuredCounts> {
  if (!existsSync(join(SITE_DIR, 'index.html'))) {
    throw new Error(`${SITE_DIR}/index.html is missing: build the site first (npm run build)`);
  }
  const stack = await startStack({ args: ['--meter', '--metrics'] });
  const browser = await launchChromium();
  const clients = {
    endpoint: stack.edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'costs', secretAccessKey: 'costs' },
  };
  const sfn = new SFNClient(clients);
  const dynamodb = new DynamoDBClient(clients);
  const app = new URL(stack.appUrl);
  const apiHost = `localhost:${app.port}`;
  try {
    await sleep(2000); // a few segments before the players start

    // The cloud's page: which files a viewer downloads from CloudFront.
    log('costs: the page as CloudFront serves it (player: ivs)…');
    const cloud = await openPage(browser, stack, { player: 'ivs' });
    await sleep(8000);
    const config = Buffer.from(await (await fetch(`${stack.appUrl}/config.json`)).arrayBuffer());
    const files = pageFiles(cloud.fetched, app.host, { '/config.json': config });
    await cloud.context.close();

    // The show, with one viewer who answers everything and one who only watches.
    await meter(stack, true);
    const overrides = { apiUrl: `http://${apiHost}/api`, cachedApiUrl: `${stack.appUrl}/api` };
    const answering = await openPage(browser, stack, overrides);
    const silent = await openPage(browser, stack, overrides);
    await sleep(5000);
    const dir = await mkdtemp(join(tmpdir(), 'bench-costs-'));
    const file = join(dir, 'show.json');
    await writeFile(file, JSON.stringify(show));
    const logBefore = stack.output().length;
    const { stdout } = await run(process.execPath, ['cli/showrunner.ts', 'start', file, '--json'], {
      cwd: ROOT,
      env: { ...process.env, EDGE_URL: stack.edgeUrl, AWS_ENDPOINT_URL: '' },
    });
    const { runId, executionArn } = JSON.parse(stdout) as { runId: string; executionArn: string };
    log(`costs: run ${runId}: ${show.polls.length} questions, two viewers in Chromium…`);
    let done = false;
    const answered = answerEveryQuestion(answering.page, () => done);
    const startedAt = Date.now();
    let status = 'RUNNING';
    while (status === 'RUNNING' && Date.now() - startedAt < 30 * 60_000) {
      await sleep(2000);
      status = (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status ?? 'UNKNOWN';
    }
    if (status !== 'SUCCEEDED') throw new Error(`the measuring show ended ${status}`);
    // The last results cue reaches the players a few seconds later, then each reloads its history.
    await sleep(10_000);
    done = true;
    const answeredPolls = await answered;
    const showSnapshot = await meter(stack);
    // The Lambdas' JSON log lines (Powertools logs and EMF metrics) the show wrote: the votes' and the rest.
    const jsonLines = stack
      .output()
      .slice(logBefore)
      .split('\n')
      .filter((line) => line.startsWith('{'));
    const lineBytes = (lines: string[]) => lines.reduce((n, line) => n + Buffer.byteLength(line) + 1, 0);
    const voteLines = jsonLines.filter((line) => line.includes('"VotesAccepted"'));
    const otherLines = jsonLines.filter((line) => !line.includes('"VotesAccepted"'));
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken }));
      events.push(...((page.events ?? []) as HistoryEvent[]));
      nextToken = page.nextToken;
    } while (nextToken);
    const identity = async (p: Page, who: string) => {
      const stored = await p.evaluate(() => localStorage.getItem('showrunner.viewer'));
      if (!stored)
        throw new Error(`the ${who} viewer has no identity (its requests: ${JSON.stringify(viewers)})`);
      return JSON.parse(stored) as { requestor_id: string; token: string };
    };
    const viewers = {
      answering: apiRequests(answering.seen.values(), apiHost, app.host),
      silent: apiRequests(silent.seen.values(), apiHost, app.host),
    };
    log(`costs: answered ${answeredPolls.length}; requests ${JSON.stringify(viewers.answering.requests)}`);
    const answeringViewer = await identity(answering.page, 'answering');
    const silentViewer = await identity(silent.page, 'silent');
    await answering.context.close();
    await silent.context.close();

    // What one request of each route takes from DynamoDB (and the log lines it writes).
    log('costs: one request of each route, between meter resets…');
    const lastPoll = `${runId}:${show.polls.at(-1)!.id}`;
    const auth = (v: { token: string }) => ({ [VIEWER_TOKEN_HEADER]: `${VIEWER_TOKEN_SCHEME} ${v.token}` });
    const history = (v: { requestor_id: string; token: string }) =>
      fetch(
        `${stack.apiUrl}${API_ROUTES.history}?requestor_id=${encodeURIComponent(v.requestor_id)}&limit=10`,
        {
          headers: auth(v),
        },
      );
    // A new viewer's token: the challenge's work is done outside the probe, as the page does it.
    const { challenge, difficulty } = await fetchChallenge(stack.apiUrl);
    const nonce = await solveChallenge(challenge, difficulty);
    const probes: RouteProbe[] = [
      await probe(stack, `GET ${API_ROUTES.challenge}`, () =>
        fetch(`${stack.apiUrl}${API_ROUTES.challenge}`),
      ),
      await probe(stack, `POST ${API_ROUTES.token}`, () =>
        fetch(`${stack.apiUrl}${API_ROUTES.token}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ challenge, nonce }),
        }),
      ),
      await probe(stack, `GET ${API_ROUTES.currentPoll}`, () =>
        fetch(`${stack.apiUrl}${API_ROUTES.currentPoll}?channel=${LOCAL_CHANNEL}`),
      ),
      await probe(stack, `GET ${API_ROUTES.poll}`, () =>
        fetch(`${stack.apiUrl}${API_ROUTES.poll}?poll_id=${encodeURIComponent(lastPoll)}`),
      ),
      {
        ...(await probe(stack, `GET ${API_ROUTES.history}`, () => history(answeringViewer))),
        answers: answeredPolls.length,
      },
      { ...(await probe(stack, `GET ${API_ROUTES.history}`, () => history(silentViewer))), answers: 0 },
    ];

    // Item sizes, for storage and for the reads DynamoDB bills by size.
    const items: Array<Record<string, AttributeValue>> = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await dynamodb.send(
        new ScanCommand({ TableName: TABLE.defaultName, ExclusiveStartKey: start }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    const answerItems = items.filter(
      (i) => i.answer !== undefined && !String(i[TABLE.sortKey]?.S ?? '').startsWith('#'),
    );
    const maxBytes = (list: typeof items) => Math.max(0, ...list.map((i) => itemBytes(i as never)));

    const h = fromHistory(events);
    const m = showSnapshot;
    return {
      measured: {
        date: new Date().toISOString().slice(0, 10),
        command,
        commit: (await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT })).stdout.trim(),
        machine: `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}`,
        run_id: runId,
      },
      show: {
        questions: show.polls.length,
        answered: answeredPolls.length,
        api: m.api.requests,
        dynamodb: {
          requests: m.dynamodb.requests,
          read_units: m.dynamodb.read_units.total,
          write_units: m.dynamodb.write_units.total,
          index_write_units: m.dynamodb.index_write_units.total,
          queries: m.dynamodb.queries,
          // The shard partitions: the answers' puts and the counters' ADDs, nothing else.
          vote_write_units: m.dynamodb.partition_keys
            .filter((k) => k.key.startsWith(`${runId}:`) && k.key.includes('#'))
            .reduce((n, k) => n + k.total, 0),
        },
        edge: m.edge.calls,
        state_transitions: h.transitions,
        state_transitions_by_state: h.transitionsByState,
        lifecycle_lambda: h.lambda,
        logs: {
          vote_lines: voteLines.length,
          vote_bytes: lineBytes(voteLines),
          other_lines: otherLines.length,
          other_bytes: lineBytes(otherLines),
        },
      },
      viewers: {
        answering: {
          api: viewers.answering.requests,
          api_bytes: viewers.answering.bytes,
          cached: viewers.answering.cached,
        },
        silent: {
          api: viewers.silent.requests,
          api_bytes: viewers.silent.bytes,
          cached: viewers.silent.cached,
        },
      },
      page: files,
      probes,
      items: {
        answer_bytes: maxBytes(answerItems),
        poll_bytes: maxBytes(items.filter((i) => i[TABLE.sortKey]?.S === '#poll')),
        count_after_show: items.length,
        // What stays when the answers expire: polls, counters, pointers (with DynamoDB's 100 bytes each).
        bytes_without_answers: items
          .filter((i) => !answerItems.includes(i))
          .reduce((n, i) => n + itemBytes(i as never) + 100, 0),
      },
      site_bytes: dirBytes(SITE_DIR),
    };
  } finally {
    await browser.close();
    await stack.stop();
  }
}
