// `npm run costs`: what a show costs on AWS, and what the stack costs a month with no show. Prints the
// tables; `--write` also rewrites the generated part of docs/COSTS.md; `--measure` first counts a show
// afresh on the local stack (bench/costs-measure.ts) and rewrites bench/costs-counts.json.
//
// Three kinds of figures, kept apart (docs/COSTS.md says which is which):
//   measured  bench/costs-counts.json: what one show of COST_SHOW's shape asked of each service on the
//             local stack's meter (local/meter.ts), two real viewers in Chromium, each API route alone.
//   modelled  the audience and what it does (core/sizing.ts ASSUMPTIONS: the share of viewers who
//             answer; sizeFor: vote shards, Lambda environments, warm throughput) and COST_MODEL below.
//   prices    bench/aws-prices.json: AWS's published prices, each with its source, region and date read.
// The model (showCounts, showCosts, videoCosts, idleCosts, render*) is pure: the test (test/unit/costs.test.ts) checks it and that
// docs/COSTS.md is what it renders from the checked-in counts and prices.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { ASSUMPTIONS, fmt, sizeFor } from '../core/sizing.ts';
import { ANSWER_TTL_SECONDS, DEFAULT_VOTE_SHARDS } from '../contract/table.ts';
import { DEFAULT_DURATION_SECONDS, DEFAULT_LATENCY_GRACE_SECONDS } from '../core/show.ts';
import { table } from './lib.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const COUNTS_PATH = join(ROOT, 'bench', 'costs-counts.json');
export const PRICES_PATH = join(ROOT, 'bench', 'aws-prices.json');
export const DOC_PATH = join(ROOT, 'docs', 'COSTS.md');
/** docs/COSTS.md's generated part sits between two of these lines. */
export const DOC_MARKER = '<!-- costs:generated (npm run costs -- --write) -->';

/** The audiences the tables are for. */
export const COST_AUDIENCES = [1_000, 10_000, 100_000] as const;

/**
 * The show that is measured and priced: 10 questions of 4 answers, each with the show file's default
 * duration and grace (core/show.ts). It is priced as a 30-minute show (COST_MODEL.showMinutes); on the
 * local stack the questions follow each other as closely as the show file allows, so that a
 * measurement takes minutes: waiting between questions costs nothing but video.
 */
export const COST_SHOW = {
  id: 'costs',
  title: 'What a show costs',
  polls: Array.from({ length: 10 }, (_, i) => ({
    id: `q${i + 1}`,
    at: 10 + i * (DEFAULT_DURATION_SECONDS + DEFAULT_LATENCY_GRACE_SECONDS + 5),
    question: `Question ${i + 1}: which of these four answers would you pick?`,
    answers: ['The first answer', 'The second answer', 'The third answer', 'The fourth answer'],
  })),
};

/** This model's own assumptions, beyond core/sizing.ts's. Each one is printed in docs/COSTS.md. */
export const COST_MODEL = {
  /** The show's length: video hours, and the X-Ray reservoir's seconds. */
  showMinutes: 30,
  /** Share of the show each viewer watches. 1: everyone watches it all (IVS's own rule of thumb is 50 %). */
  watchShare: 1,
  /** The broadcaster streams for the show's length only (no rehearsal, no pre-roll). */
  inputHoursPerShow: 0.5,
  /** Every Lambda of the stack has 512 MB (cdk/lib/lambda.ts), arm64. */
  lambdaMemoryGb: 0.5,
  /** Billed seconds per API invocation: the vote's p99 from the sizing model, for every request (an upper bound). */
  apiInvocationSeconds: ASSUMPTIONS.voteP99Seconds,
  /** Seconds of initialisation per API Lambda environment (cold start, billed since 2025). */
  coldStartSeconds: 1,
  /** Lambda's own START, END and REPORT lines per invocation, in bytes. */
  lambdaPlatformLogBytes: 350,
  /** X-Ray's default sampling rule: the first request each second, then 5 % of the rest. */
  xrayReservoirPerSecond: 1,
  xrayRate: 0.05,
  /** DynamoDB bills each item's size plus 100 bytes; the requestor index holds every answer again (projection ALL). */
  itemOverheadBytes: 100,
  answerCopies: 2,
  /** Read units of a Query returning little: eventually consistent (history) and strongly consistent (the close's recount). */
  queryReadUnits: 0.5,
  recountQueryReadUnits: 1,
  /** GET /poll-get per viewer from the cloud's page: its IVS player needs no grace (the local hls.js page asks once a question). */
  cloudPlayerPollGets: 0,
  /** Tally cues per question: one a second while votes come in (the storm's window), then none. */
  tallyCuesPerQuestion: Math.ceil(ASSUMPTIONS.answerWindowSeconds) + 1,
  /** EMF and metric-filter metrics published during a show (votes, refusals, lifecycle actions, tallies, the 429 and IVS filters). */
  customMetricsDuringShow: 16,
  hoursPerMonth: 730,
  /** Idle inventory (cdk/lib): one web ACL with 5 rules (two rate limits, AWS's common rule set, two label rules), */
  wafRules: 5,
  /** one customer managed KMS key (the alarm topic's), one secret (the viewer-token key), */
  kmsKeys: 1,
  secrets: 1,
  /** six alarms over 14 metrics (5xx 2, 429 2, WAF 2, DynamoDB throttles 4, failed runs 2, IVS throttles 2). */
  alarmMetrics: 14,
} as const;

// ---- The measured counts (bench/costs-counts.json) --------------------------------------------------

export interface PageFile {
  path: string;
  raw_bytes: number;
  /** As CloudFront sends it: Brotli-compressed when CloudFront compresses its type and size. */
  sent_bytes: number;
}

export interface RouteProbe {
  route: string;
  status: number;
  dynamodb_requests: Record<string, number>;
  read_units: number;
  write_units: number;
  index_write_units: number;
  queries: number;
  /** For GET /requestor-get: how many answers the viewer's history held. */
  answers?: number;
}

export interface ViewerCounts {
  /** API requests by `METHOD /route`, the browser's CORS preflights as OPTIONS. */
  api: Record<string, number>;
  /** Bytes the browser received for them (headers included). */
  api_bytes: Record<string, number>;
  /** Requests to the CloudFront-cached API path (GET /poll-get). */
  cached: Record<string, number>;
}

export interface MeasuredCounts {
  measured: {
    date: string;
    command: string;
    commit: string;
    machine: string;
    run_id: string;
    /** Anything about the run a reader should know (set by hand). */
    notes?: string;
  };
  show: {
    questions: number;
    /** Questions the answering viewer answered. */
    answered: number;
    api: Record<string, number>;
    dynamodb: {
      requests: Record<string, number>;
      read_units: number;
      write_units: number;
      index_write_units: number;
      queries: number;
      vote_write_units: number;
    };
    edge: Record<string, number>;
    state_transitions: number;
    state_transitions_by_state: Record<string, number>;
    lifecycle_lambda: Record<string, { invocations: number; seconds: number }>;
    /** The Lambdas' JSON log lines during the show: the votes' EMF lines, and the rest (the lifecycle's). */
    logs: { vote_lines: number; vote_bytes: number; other_lines: number; other_bytes: number };
  };
  viewers: { answering: ViewerCounts; silent: ViewerCounts };
  page: PageFile[];
  probes: RouteProbe[];
  items: {
    answer_bytes: number;
    poll_bytes: number;
    count_after_show: number;
    bytes_without_answers: number;
  };
  site_bytes: number;
}

// ---- Prices (bench/aws-prices.json) ----------------------------------------------------------------

export type PriceStatus = 'aws' | 'secondary' | 'assumption';

export interface Price {
  usd: number | null;
  unit: string;
  label: string;
  status: PriceStatus;
  source: string;
  note?: string;
  /** Monthly volume tiers: the rate up to each cumulative amount (null: no end). */
  tiers?: Array<{ up_to: number | null; usd: number }>;
}

export interface PriceBook {
  region: string;
  region_name: string;
  read: string;
  currency: string;
  how_read: string;
  prices: Record<string, Price>;
}

export function loadCounts(path = COUNTS_PATH): MeasuredCounts {
  return JSON.parse(readFileSync(path, 'utf8')) as MeasuredCounts;
}

export function loadPrices(path = PRICES_PATH): PriceBook {
  return JSON.parse(readFileSync(path, 'utf8')) as PriceBook;
}

/** A price by key; a missing or unpriced one is an error (the model uses only priced figures). */
function rate(prices: PriceBook, key: string): number {
  const p = prices.prices[key];
  if (!p || p.usd === null) throw new Error(`bench/aws-prices.json: no price for ${key}`);
  return p.usd;
}

/** The cost of `amount` at a tiered rate (volume within the month, this show taken as the month's only use). */
export function tiered(amount: number, price: Price): number {
  if (!price.tiers) return amount * (price.usd ?? 0);
  let cost = 0;
  let from = 0;
  for (const tier of price.tiers) {
    const to = tier.up_to ?? Infinity;
    if (amount <= from) break;
    cost += (Math.min(amount, to) - from) * tier.usd;
    from = to;
  }
  return cost;
}

// ---- From the measurement to rates per viewer, vote, question and show ------------------------------

const isPreflight = (route: string) => route.startsWith('OPTIONS ');
const HISTORY = 'GET /requestor-get';

/** A viewer's requests by route: what every viewer makes, what answering adds once, and per vote. */
export interface ViewerPattern {
  /** Per viewer, over the whole show (the silent viewer's requests). */
  perViewer: Record<string, number>;
  /** Once per viewer who answers at all: the preflight of the vote route (browsers keep it for the show). */
  oncePerVoter: Record<string, number>;
  /** Per vote (the answering viewer's extra requests over its answers). */
  perVote: Record<string, number>;
  /** Response bytes per request, by route. */
  bytesPerRequest: Record<string, number>;
  /** CloudFront-cached API requests per viewer. */
  cachedPerViewer: number;
}

export function viewerPattern(counts: MeasuredCounts): ViewerPattern {
  const { answering, silent } = counts.viewers;
  const answered = Math.max(1, counts.show.answered);
  const perViewer: Record<string, number> = { ...silent.api };
  const oncePerVoter: Record<string, number> = {};
  const perVote: Record<string, number> = {};
  const bytesPerRequest: Record<string, number> = {};
  for (const route of new Set([...Object.keys(answering.api), ...Object.keys(silent.api)])) {
    const extra = (answering.api[route] ?? 0) - (silent.api[route] ?? 0);
    if (extra > 0 && isPreflight(route)) oncePerVoter[route] = extra;
    else if (extra > 0) perVote[route] = extra / answered;
    const n = (answering.api[route] ?? 0) + (silent.api[route] ?? 0);
    const bytes = (answering.api_bytes[route] ?? 0) + (silent.api_bytes[route] ?? 0);
    if (n > 0) bytesPerRequest[route] = bytes / n;
  }
  const cached = (v: ViewerCounts) => Object.values(v.cached).reduce((a, b) => a + b, 0);
  return { perViewer, oncePerVoter, perVote, bytesPerRequest, cachedPerViewer: cached(silent) };
}

/** DynamoDB per request of a route, from its probe; the history read's units grow with the answers it holds. */
export interface RouteUnits {
  readUnits: number;
  writeUnits: number;
  queries: number;
}

export function routeUnits(counts: MeasuredCounts): {
  byRoute: Record<string, RouteUnits>;
  /** Read units per answer a history page holds (one poll item each, in a BatchGetItem). */
  historyReadUnitsPerAnswer: number;
} {
  const byRoute: Record<string, RouteUnits> = {};
  let historyReadUnitsPerAnswer = 0;
  const histories = counts.probes.filter((p) => p.route === HISTORY);
  for (const p of counts.probes) {
    if (p.route === HISTORY && (p.answers ?? 0) > 0) continue;
    byRoute[p.route] = {
      readUnits: p.read_units,
      writeUnits: p.write_units + p.index_write_units,
      queries: p.queries,
    };
  }
  const empty = histories.find((p) => (p.answers ?? 0) === 0);
  const full = histories.find((p) => (p.answers ?? 0) > 0);
  if (empty && full) historyReadUnitsPerAnswer = (full.read_units - empty.read_units) / full.answers!;
  return { byRoute, historyReadUnitsPerAnswer };
}

/**
 * Answers a viewer's history pages hold over the show, summed: the page reloads after each of the
 * viewer's answers and at each question's results (site/src/lib/history.svelte.ts), and holds every answer
 * so far, at most 10 (the page's limit). `share`: the chance the viewer answers each question.
 */
export function historyAnswersPerViewer(questions: number, share: number, limit = 10): number {
  let sum = 0;
  for (let q = 1; q <= questions; q++) {
    sum += share * Math.min(limit, 1 + share * (q - 1)); // the reload after answering question q
    sum += Math.min(limit, share * q); // the reload at question q's results
  }
  return sum;
}

/** What one show asks of each service at an audience. */
export interface ShowCounts {
  audience: number;
  votes: number;
  apiRequests: number;
  apiByRoute: Record<string, number>;
  preflights: number;
  apiResponseBytes: number;
  apiLambdaInvocations: number;
  apiEnvironments: number;
  lifecycleInvocations: number;
  lifecycleSeconds: number;
  writeUnits: number;
  readUnits: number;
  answerStorageGbMonths: number;
  stateTransitions: number;
  putMetadata: number;
  cloudfrontRequests: number;
  cloudfrontBytes: number;
  cloudfrontFunctions: number;
  wafRequests: number;
  logBytes: number;
  xrayTraces: number;
  secretReads: number;
  viewerHours: number;
}

export function showCounts(counts: MeasuredCounts, audience: number): ShowCounts {
  const m = COST_MODEL;
  const questions = counts.show.questions;
  const answered = Math.max(1, counts.show.answered);
  const share = ASSUMPTIONS.answeringShare;
  const sizing = sizeFor(audience);
  const pattern = viewerPattern(counts);
  const { byRoute, historyReadUnitsPerAnswer } = routeUnits(counts);

  // The audience's requests: every viewer's, the voters' preflight, and per vote.
  const votes = audience * questions * share;
  const voters = audience * (1 - (1 - share) ** questions);
  const apiByRoute: Record<string, number> = {};
  const add = (table: Record<string, number>, times: number) => {
    for (const [route, n] of Object.entries(table)) apiByRoute[route] = (apiByRoute[route] ?? 0) + n * times;
  };
  add(pattern.perViewer, audience);
  add(pattern.oncePerVoter, voters);
  add(pattern.perVote, votes);
  // GET /poll-get through CloudFront: the local page asks it once a question to learn the show's grace
  // (hls.js plays at a latency the page plans); the cloud's IVS player picks its own latency and the
  // page never asks (site/src/lib/question.svelte.ts #learnGrace). So none, in the cloud.
  const cachedRequests = m.cloudPlayerPollGets * audience;
  const apiRequests = Object.values(apiByRoute).reduce((a, b) => a + b, 0);
  const preflights = Object.entries(apiByRoute)
    .filter(([route]) => isPreflight(route))
    .reduce((n, [, v]) => n + v, 0);
  const apiLambdaInvocations = apiRequests - preflights; // API Gateway answers preflights itself
  const apiResponseBytes = Object.entries(apiByRoute).reduce(
    (n, [route, v]) => n + v * (pattern.bytesPerRequest[route] ?? 0),
    0,
  );

  // DynamoDB, viewers: each route's units from its probe; history pages by the answers they hold.
  const unitsOf = (route: string) => byRoute[route] ?? { readUnits: 0, writeUnits: 0, queries: 0 };
  let viewerReads = 0;
  let viewerWrites = 0;
  for (const [route, n] of Object.entries(apiByRoute)) {
    if (isPreflight(route) || route === 'POST /requestor-put') continue;
    const u = unitsOf(route);
    viewerReads += n * (u.readUnits + u.queries * m.queryReadUnits);
    viewerWrites += n * u.writeUnits;
  }
  viewerReads += audience * historyAnswersPerViewer(questions, share) * historyReadUnitsPerAnswer;

  // Votes: the answer's put and its shard counter's ADD, and the answer on the requestor index.
  const writesPerVote =
    (counts.show.dynamodb.vote_write_units + counts.show.dynamodb.index_write_units) / answered;

  // The show itself (plan, open, tally loop, close; the API's poll-item cache): what the measured show
  // read and wrote beyond its two viewers' requests and its votes.
  const measured = measuredViewerUnits(counts);
  const lifecycleReads = Math.max(0, counts.show.dynamodb.read_units - measured.reads);
  const lifecycleWrites = Math.max(
    0,
    counts.show.dynamodb.write_units - counts.show.dynamodb.vote_write_units - measured.writes,
  );
  // The close recounts every shard with strongly consistent Queries: the minimum per shard, and the
  // answers' bytes (a read unit per 4 KB).
  const votesPerQuestion = votes / questions;
  const recountReads =
    questions *
    (sizing.voteShards * m.recountQueryReadUnits + (votesPerQuestion * counts.items.answer_bytes) / 4096);

  const writeUnits = viewerWrites + votes * writesPerVote + lifecycleWrites;
  const readUnits = viewerReads + lifecycleReads + recountReads;
  const answerStorageGbMonths =
    (votes * (counts.items.answer_bytes + m.itemOverheadBytes) * m.answerCopies * ANSWER_TTL_SECONDS) /
    (1e9 * (365.25 / 12) * 86_400);

  // Lambda: the API's invocations, the lifecycle's (measured, per show), their cold starts.
  const lifecycle = Object.values(counts.show.lifecycle_lambda);
  const lifecycleInvocations = lifecycle.reduce((n, l) => n + l.invocations, 0);
  const lifecycleSeconds = lifecycle.reduce((n, l) => n + l.seconds, 0);

  // CloudFront: the page's files for every viewer, and the cached API path.
  const cloudfrontRequests = audience * counts.page.length + cachedRequests;
  const cloudfrontBytes = audience * counts.page.reduce((n, f) => n + f.sent_bytes, 0);

  // Logs: an access-log line per API request, Lambda's own lines per invocation, and the handlers'
  // JSON lines as the show wrote them (an EMF line per vote; the lifecycle's lines per show).
  const logs = counts.show.logs;
  const voteLogBytes = logs.vote_lines > 0 ? logs.vote_bytes / logs.vote_lines : 0;
  const logBytes =
    apiRequests * ACCESS_LOG_LINE_BYTES +
    (apiLambdaInvocations + lifecycleInvocations) * m.lambdaPlatformLogBytes +
    votes * voteLogBytes +
    logs.other_bytes;

  const showSeconds = m.showMinutes * 60;
  const xrayTraces =
    Math.min(apiRequests, showSeconds * m.xrayReservoirPerSecond) +
    Math.max(0, apiRequests - showSeconds * m.xrayReservoirPerSecond) * m.xrayRate +
    1; // the execution's own trace

  const putMetadata =
    questions *
    (2 + Math.min(DEFAULT_DURATION_SECONDS + DEFAULT_LATENCY_GRACE_SECONDS, m.tallyCuesPerQuestion));

  return {
    audience,
    votes,
    apiRequests,
    apiByRoute,
    preflights,
    apiResponseBytes,
    apiLambdaInvocations,
    apiEnvironments: sizing.peakApiEnvironments,
    lifecycleInvocations,
    lifecycleSeconds,
    writeUnits,
    readUnits,
    answerStorageGbMonths,
    stateTransitions: counts.show.state_transitions,
    putMetadata,
    cloudfrontRequests,
    cloudfrontBytes,
    // A viewer-request function runs on every file of the site (SitePaths) and on the cached API path.
    cloudfrontFunctions: cloudfrontRequests,
    wafRequests: apiRequests,
    logBytes,
    xrayTraces,
    secretReads: sizing.peakApiEnvironments,
    viewerHours: (audience * m.showMinutes * m.watchShare) / 60,
  };
}

/** The DynamoDB units the measured show's two viewers took (one answered every question, one none). */
function measuredViewerUnits(counts: MeasuredCounts): { reads: number; writes: number } {
  const { byRoute, historyReadUnitsPerAnswer } = routeUnits(counts);
  let reads = 0;
  let writes = 0;
  for (const viewer of [counts.viewers.answering, counts.viewers.silent]) {
    for (const [route, n] of Object.entries(viewer.api)) {
      if (isPreflight(route) || route === 'POST /requestor-put') continue;
      const u = byRoute[route];
      if (!u) continue;
      reads += n * u.readUnits;
      writes += n * u.writeUnits;
    }
  }
  // Their cached GET /poll-get reached the local API (no CloudFront in front of it).
  const cached = counts.viewers.answering.cached['GET /poll-get'] ?? 0;
  reads +=
    (cached + (counts.viewers.silent.cached['GET /poll-get'] ?? 0)) *
    (byRoute['GET /poll-get']?.readUnits ?? 0);
  const questions = Math.max(1, counts.show.questions);
  reads += historyAnswersPerViewer(questions, counts.show.answered / questions) * historyReadUnitsPerAnswer;
  return { reads, writes };
}

/**
 * One API Gateway access-log line as the stage writes it (cdk/lib/viewer-api.ts accessLogFormat),
 * with typical values, plus CloudWatch's 26 bytes of event overhead.
 */
export const ACCESS_LOG_LINE_BYTES =
  JSON.stringify({
    requestId: '1b4f0e9a-6d2c-4b8e-9f3a-2c7d5e8a1b0c',
    ip: '203.0.113.100',
    user: '-',
    caller: '-',
    requestTime: '06/Dec/2026:19:30:05 +0000',
    httpMethod: 'POST',
    resourcePath: '/{proxy+}',
    status: '201',
    protocol: 'HTTP/1.1',
    responseLength: '150',
    wafResponseCode: 'WAF_ALLOW',
  }).length + 26;

// ---- Costs ---------------------------------------------------------------------------------------

export interface CostLine {
  service: string;
  what: string;
  /** Price keys it uses (bench/aws-prices.json). */
  prices: string[];
  byAudience: number[];
}

/** The stack's cost of one show, per service, at each audience (video apart: videoCosts). */
export function showCosts(
  counts: MeasuredCounts,
  prices: PriceBook,
  audiences: readonly number[] = COST_AUDIENCES,
): CostLine[] {
  const m = COST_MODEL;
  const all = audiences.map((a) => showCounts(counts, a));
  const line = (service: string, what: string, keys: string[], f: (c: ShowCounts) => number): CostLine => ({
    service,
    what,
    prices: keys,
    byAudience: all.map(f),
  });
  const p = (key: string) => rate(prices, key);
  return [
    line(
      'API Gateway',
      'REST requests (preflights included)',
      ['apigateway_rest_request'],
      (c) => c.apiRequests * p('apigateway_rest_request'),
    ),
    line(
      'API Gateway',
      'responses to the internet',
      ['apigateway_data_out_gb'],
      (c) => (c.apiResponseBytes / 1e9) * p('apigateway_data_out_gb'),
    ),
    line('AWS WAF', 'requests inspected', ['waf_request'], (c) => c.wafRequests * p('waf_request')),
    line(
      'Lambda',
      'invocations (API, lifecycle)',
      ['lambda_request'],
      (c) => (c.apiLambdaInvocations + c.lifecycleInvocations) * p('lambda_request'),
    ),
    line(
      'Lambda',
      'GB-seconds (API, lifecycle, cold starts)',
      ['lambda_arm_gb_second'],
      (c) =>
        (c.apiLambdaInvocations * m.apiInvocationSeconds +
          c.lifecycleSeconds +
          c.apiEnvironments * m.coldStartSeconds) *
        m.lambdaMemoryGb *
        p('lambda_arm_gb_second'),
    ),
    line(
      'DynamoDB',
      'write request units',
      ['dynamodb_write_request_unit'],
      (c) => c.writeUnits * p('dynamodb_write_request_unit'),
    ),
    line(
      'DynamoDB',
      'read request units',
      ['dynamodb_read_request_unit'],
      (c) => c.readUnits * p('dynamodb_read_request_unit'),
    ),
    line(
      'DynamoDB',
      'answers stored 90 days, with PITR',
      ['dynamodb_storage_gb_month', 'dynamodb_pitr_gb_month'],
      (c) => c.answerStorageGbMonths * (p('dynamodb_storage_gb_month') + p('dynamodb_pitr_gb_month')),
    ),
    line(
      'Step Functions',
      'state transitions',
      ['stepfunctions_state_transition'],
      (c) => c.stateTransitions * p('stepfunctions_state_transition'),
    ),
    line(
      'CloudFront',
      'the page to every viewer (GB)',
      ['cloudfront_data_out_gb'],
      (c) => (c.cloudfrontBytes / 1e9) * p('cloudfront_data_out_gb'),
    ),
    line(
      'CloudFront',
      'HTTPS requests',
      ['cloudfront_https_request'],
      (c) => c.cloudfrontRequests * p('cloudfront_https_request'),
    ),
    line(
      'CloudFront',
      'Functions (the site-paths function on every file)',
      ['cloudfront_function_invocation'],
      (c) => c.cloudfrontFunctions * p('cloudfront_function_invocation'),
    ),
    line(
      'CloudWatch',
      'logs ingested and kept a month',
      ['cloudwatch_logs_ingest_gb', 'cloudwatch_logs_storage_gb_month'],
      (c) => (c.logBytes / 1e9) * (p('cloudwatch_logs_ingest_gb') + p('cloudwatch_logs_storage_gb_month')),
    ),
    line(
      'CloudWatch',
      'custom metrics for the show hour',
      ['cloudwatch_custom_metric_month'],
      () => (m.customMetricsDuringShow * p('cloudwatch_custom_metric_month')) / m.hoursPerMonth,
    ),
    line('X-Ray', 'traces recorded', ['xray_trace_recorded'], (c) => c.xrayTraces * p('xray_trace_recorded')),
    line(
      'Secrets Manager',
      'key reads (one per cold start)',
      ['secretsmanager_api_call'],
      (c) => c.secretReads * p('secretsmanager_api_call'),
    ),
  ];
}

/** The video: the channel's input hours, and viewer-hours at the HD rate (SD below it). */
export function videoCosts(
  counts: MeasuredCounts,
  prices: PriceBook,
  audiences: readonly number[] = COST_AUDIENCES,
): CostLine[] {
  const hours = audiences.map((a) => showCounts(counts, a).viewerHours);
  return [
    {
      service: 'IVS',
      what: `input, STANDARD channel (${COST_MODEL.inputHoursPerShow} h)`,
      prices: ['ivs_input_standard_hour'],
      byAudience: audiences.map(() => COST_MODEL.inputHoursPerShow * rate(prices, 'ivs_input_standard_hour')),
    },
    {
      service: 'IVS',
      what: 'output, every viewer at HD',
      prices: ['ivs_output_hd_hour'],
      byAudience: hours.map((h) => tiered(h, prices.prices.ivs_output_hd_hour!)),
    },
    {
      service: 'IVS',
      what: 'output, every viewer at SD (instead)',
      prices: ['ivs_output_sd_hour'],
      byAudience: hours.map((h) => tiered(h, prices.prices.ivs_output_sd_hour!)),
    },
  ];
}

/** A month with the stack deployed and no show. */
export function idleCosts(counts: MeasuredCounts, prices: PriceBook): CostLine[] {
  const m = COST_MODEL;
  const p = (key: string) => rate(prices, key);
  const one = (service: string, what: string, keys: string[], usd: number): CostLine => ({
    service,
    what,
    prices: keys,
    byAudience: [usd],
  });
  return [
    one(
      'AWS WAF',
      `web ACL with ${m.wafRules} rules`,
      ['waf_web_acl_month', 'waf_rule_month'],
      p('waf_web_acl_month') + m.wafRules * p('waf_rule_month'),
    ),
    one(
      'CloudWatch',
      `alarms (${m.alarmMetrics} alarm metrics)`,
      ['cloudwatch_alarm_metric_month'],
      m.alarmMetrics * p('cloudwatch_alarm_metric_month'),
    ),
    one('KMS', 'the alarm topic key', ['kms_key_month'], m.kmsKeys * p('kms_key_month')),
    one(
      'Secrets Manager',
      'the viewer-token key',
      ['secretsmanager_secret_month'],
      m.secrets * p('secretsmanager_secret_month'),
    ),
    one(
      'S3',
      `the site (${fmt(Math.round(counts.site_bytes / 1000))} kB)`,
      ['s3_standard_gb_month'],
      (counts.site_bytes / 1e9) * p('s3_standard_gb_month'),
    ),
    one(
      'DynamoDB',
      'the table without answers, with PITR',
      ['dynamodb_storage_gb_month', 'dynamodb_pitr_gb_month'],
      (counts.items.bytes_without_answers / 1e9) *
        (p('dynamodb_storage_gb_month') + p('dynamodb_pitr_gb_month')),
    ),
    one('Cognito', 'a few producers', ['cognito_mau'], p('cognito_mau')),
    one('IVS', 'the channel, not streaming', [], 0),
  ];
}

const sum = (lines: CostLine[], i: number) => lines.reduce((n, l) => n + (l.byAudience[i] ?? 0), 0);

// ---- Rendering -------------------------------------------------------------------------------------

/** Dollars: whole ones from $100, cents from 10 cents, two significant figures below. */
export function usd(n: number): string {
  if (n === 0) return '$0';
  if (n < 0.0001) return '<$0.0001';
  if (n >= 100) return `$${fmt(Math.round(n))}`;
  if (n >= 0.1) return `$${n.toFixed(2)}`;
  return `$${n.toPrecision(2)}`;
}

/** A count: whole numbers with thousands separators, small ones to two decimals. */
function count(n: number): string {
  if (n >= 100 || Number.isInteger(n)) return fmt(Math.round(n));
  return String(Math.round(n * 100) / 100);
}

const audienceHeader = (a: number) => `${fmt(a)} viewers`;
const plural = (n: number, what: string) => `${fmt(n)} ${what}${n === 1 ? '' : 's'}`;

/** What the show asks of each service, per audience. */
export function countRows(
  counts: MeasuredCounts,
  audiences: readonly number[] = COST_AUDIENCES,
): Array<Record<string, string>> {
  const all = audiences.map((a) => showCounts(counts, a));
  const row = (what: string, f: (c: ShowCounts) => string) =>
    Object.fromEntries([['per show', what], ...all.map((c) => [audienceHeader(c.audience), f(c)])]);
  return [
    row('votes', (c) => count(c.votes)),
    row('API requests (of which CORS preflights)', (c) => `${count(c.apiRequests)} (${count(c.preflights)})`),
    row('WAF requests', (c) => count(c.wafRequests)),
    row('Lambda invocations (API + lifecycle)', (c) =>
      count(c.apiLambdaInvocations + c.lifecycleInvocations),
    ),
    row('Lambda GB-seconds', (c) =>
      count(
        (c.apiLambdaInvocations * COST_MODEL.apiInvocationSeconds +
          c.lifecycleSeconds +
          c.apiEnvironments * COST_MODEL.coldStartSeconds) *
          COST_MODEL.lambdaMemoryGb,
      ),
    ),
    row('DynamoDB write request units', (c) => count(c.writeUnits)),
    row('DynamoDB read request units', (c) => count(c.readUnits)),
    row('Step Functions state transitions', (c) => count(c.stateTransitions)),
    row('IVS PutMetadata calls', (c) => count(c.putMetadata)),
    row('CloudFront requests', (c) => count(c.cloudfrontRequests)),
    row('CloudFront GB out', (c) => count(c.cloudfrontBytes / 1e9)),
    row('CloudWatch Logs GB', (c) => count(c.logBytes / 1e9)),
    row('X-Ray traces', (c) => count(c.xrayTraces)),
    row('IVS viewer-hours', (c) => count(c.viewerHours)),
  ];
}

function costRows(
  lines: CostLine[],
  audiences: readonly number[],
  totalLabel: string,
): Array<Record<string, string>> {
  const rows = lines.map((l) =>
    Object.fromEntries([
      ['service', l.service],
      ['what', l.what],
      ...audiences.map((a, i) => [audienceHeader(a), usd(l.byAudience[i] ?? 0)]),
    ]),
  );
  rows.push(
    Object.fromEntries([
      ['service', totalLabel],
      ['what', ''],
      ...audiences.map((a, i) => [audienceHeader(a), usd(sum(lines, i))]),
    ]),
  );
  return rows;
}

/** The tables: the stack per show, the video per show, the show in all, the idle month. */
export function costTables(
  counts: MeasuredCounts,
  prices: PriceBook,
  audiences: readonly number[] = COST_AUDIENCES,
) {
  const stack = showCosts(counts, prices, audiences);
  const video = videoCosts(counts, prices, audiences);
  const idle = idleCosts(counts, prices);
  const hdVideo = video.filter((l) => !l.what.includes('SD'));
  const totals = audiences.map((a, i) => {
    const s = sum(stack, i);
    const v = sum(hdVideo, i);
    return {
      audience: audienceHeader(a),
      'stack (no video)': usd(s),
      'video (IVS, HD)': usd(v),
      'show in all': usd(s + v),
      'per viewer': usd((s + v) / a),
      'video share': `${Math.round((100 * v) / (s + v))} %`,
    };
  });
  const warm = audiences.map((a) => {
    const s = sizeFor(a);
    const units = (w: typeof s.tableWarmThroughput) =>
      w
        ? [
            w.writeUnitsPerSecond && `${fmt(w.writeUnitsPerSecond)} WU/s`,
            w.readUnitsPerSecond && `${fmt(w.readUnitsPerSecond)} RU/s`,
          ]
            .filter(Boolean)
            .join(', ')
        : 'none';
    return {
      audience: audienceHeader(a),
      table: units(s.tableWarmThroughput),
      'requestor index': units(s.indexWarmThroughput),
    };
  });
  return {
    counts: countRows(counts, audiences),
    stack: costRows(stack, audiences, 'stack per show'),
    video: costRows(hdVideo, audiences, 'video per show (HD)').concat(
      costRows(
        video.filter((l) => l.what.includes('SD')),
        audiences,
        '',
      ).slice(0, 1),
    ),
    totals,
    idle: idle
      .map((l) => ({ service: l.service, what: l.what, 'per month': usd(l.byAudience[0] ?? 0) }))
      .concat([{ service: 'idle month', what: '', 'per month': usd(sum(idle, 0)) }]),
    warm,
  };
}

/** A markdown table, numbers right-aligned. */
export function markdownTable(rows: Array<Record<string, string | number>>): string {
  if (rows.length === 0) return '';
  const headers = Object.keys(rows[0]!);
  const numeric = /^(<?\$[\d,.]+|[\d,.]+( \([\d,.]+\))?|\d+ %|)$/;
  const right = headers.map((h) => rows.every((r) => numeric.test(String(r[h] ?? ''))));
  const cell = (v: unknown) => String(v ?? '').replace(/\|/g, '\\|');
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map((_, i) => (right[i] ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${headers.map((h) => cell(r[h])).join(' | ')} |`),
  ].join('\n');
}

const STATUS_WORDS: Record<PriceStatus, string> = {
  aws: 'AWS page',
  secondary: 'third party quoting AWS',
  assumption: '**assumption**',
};

/** docs/COSTS.md's generated part (between the two DOC_MARKER lines). */
export function renderSection(counts: MeasuredCounts, prices: PriceBook): string {
  const t = costTables(counts, prices);
  const c = counts.measured;
  const used = new Set([
    ...showCosts(counts, prices).flatMap((l) => l.prices),
    ...videoCosts(counts, prices).flatMap((l) => l.prices),
    ...idleCosts(counts, prices).flatMap((l) => l.prices),
    'dynamodb_warm_throughput',
    'ivs_put_metadata',
  ]);
  const priceRows = Object.entries(prices.prices)
    .filter(([key]) => used.has(key))
    .map(([key, p]) => ({
      price: key,
      figure: p.label,
      status: STATUS_WORDS[p.status],
      source: `<${p.source}>`,
    }));
  const pattern = viewerPattern(counts);
  const perRoute = (table: Record<string, number>) =>
    Object.entries(table)
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([route, n]) => `${route} × ${count(n)}`)
      .join(', ');
  const lifecycle = Object.entries(counts.show.lifecycle_lambda)
    .map(([state, l]) => `${state} × ${l.invocations} (${count(l.seconds)} s)`)
    .join(', ');
  const pageBytes = counts.page.reduce((n, f) => n + f.sent_bytes, 0);
  const biggest = counts.page
    .slice(0, 3)
    .map((f) => `${f.path.replace(/^\/assets\//, '')} ${fmt(Math.round(f.sent_bytes / 1000))} kB`)
    .join(', ');
  return [
    DOC_MARKER,
    '',
    `Counts measured ${c.date} at commit ${c.commit} (\`${c.command}\`, ${c.machine}); prices read ${prices.read} for ${prices.region} (${prices.region_name}). Sizing from \`core/sizing.ts\` for each audience. No free tier applied.${c.notes ? ` ${c.notes}` : ''}`,
    '',
    '### Per show: 30 minutes, 10 questions',
    '',
    markdownTable(t.totals),
    '',
    '#### The stack (everything but the video)',
    '',
    markdownTable(t.stack),
    '',
    '#### The video (IVS), apart',
    '',
    markdownTable(t.video),
    '',
    '#### What the show asks for',
    '',
    markdownTable(t.counts),
    '',
    '### Per month, idle (the stack deployed, no show)',
    '',
    markdownTable(t.idle),
    '',
    `Once per deployment, not priced: the table's warm throughput for the audience it is sized for (\`sizeFor\`), billed when raised; no price was found (below).`,
    '',
    markdownTable(t.warm),
    '',
    '### Where each count comes from',
    '',
    `- **Measured on the local stack** (\`bench/costs-counts.json\`, run ${c.run_id}): one show of 10 questions (${DEFAULT_DURATION_SECONDS} s each + ${DEFAULT_LATENCY_GRACE_SECONDS} s grace) with two viewers in headless Chromium on the real page, one answering each question as it is asked (${counts.show.answered} of ${counts.show.questions} here), one only watching; the API on another origin, so the browser's CORS preflights are counted.`,
    `  - every viewer: ${perRoute(pattern.perViewer)}; a viewer who answers at all adds ${perRoute(pattern.oncePerVoter) || 'nothing'}; each vote adds ${perRoute(pattern.perVote)} (the page reloads the viewer's history after each answer and at each question's results).`,
    `  - the page from CloudFront, with the cloud's IVS player: ${counts.page.length} files, ${fmt(Math.round(pageBytes / 1000))} kB as sent (Brotli where CloudFront compresses; largest: ${biggest}).`,
    `  - DynamoDB per request: each route called alone between meter resets (\`local/meter.ts\`); a vote ${count((counts.show.dynamodb.vote_write_units + counts.show.dynamodb.index_write_units) / Math.max(1, counts.show.answered))} write units (answer, shard counter, requestor index); answers ${fmt(counts.items.answer_bytes)} bytes.`,
    `  - the show itself: ${counts.show.state_transitions} state transitions; lifecycle Lambda ${lifecycle} (from the execution history); ${counts.show.edge['ivs.PutMetadata'] ?? 0} PutMetadata calls with one voter.`,
    `- **Modelled**: the share of viewers answering each question (${ASSUMPTIONS.answeringShare}, \`ASSUMPTIONS.answeringShare\`); vote shards and API Lambda environments at the storm's peak (\`sizeFor\`: ${COST_AUDIENCES.map((a) => `${fmt(a)}: ${plural(sizeFor(a).voteShards, 'shard')}, ${plural(sizeFor(a).peakApiEnvironments, 'environment')}`).join('; ')}); each API invocation billed ${COST_MODEL.apiInvocationSeconds * 1000} ms (\`ASSUMPTIONS.voteP99Seconds\`, a p99, so an upper bound) at ${COST_MODEL.lambdaMemoryGb * 1024} MB arm64, ${COST_MODEL.coldStartSeconds} s of init per environment; ${COST_MODEL.tallyCuesPerQuestion} tally cues per question (one a second over the ${ASSUMPTIONS.answerWindowSeconds} s answer window); the close's recount at ${COST_MODEL.recountQueryReadUnits} read unit per shard plus the answers' bytes (strongly consistent); a history Query at ${COST_MODEL.queryReadUnits} read unit (the meter counts GetItem and BatchGetItem units only); answers kept ${ANSWER_TTL_SECONDS / 86_400} days (their TTL) at their size + ${COST_MODEL.itemOverheadBytes} bytes, twice (table and index); ${ACCESS_LOG_LINE_BYTES}-byte access-log lines and ${COST_MODEL.lambdaPlatformLogBytes} bytes of Lambda platform lines per invocation; X-Ray's default sampling (${COST_MODEL.xrayReservoirPerSecond}/s, then ${COST_MODEL.xrayRate * 100} %); ${COST_MODEL.customMetricsDuringShow} custom metrics for the show's hour; every viewer loads the page once, cold, and watches the whole show (${COST_MODEL.watchShare * 100} %); the broadcaster streams ${COST_MODEL.inputHoursPerShow} h. The lifecycle's DynamoDB reads were measured with ${DEFAULT_VOTE_SHARDS} shards (the local default): an upper bound for smaller audiences.`,
    '- **Idle inventory** (from `cdk/lib`): one web ACL with 5 rules, 14 alarm metrics over 6 alarms, one KMS key (the alarm topic), one secret, the site in S3, the table; IVS, API Gateway, Lambda, Step Functions and CloudFront cost nothing without traffic.',
    '',
    '### Prices',
    '',
    markdownTable(priceRows),
    '',
    ...Object.entries(prices.prices)
      .filter(([key, p]) => used.has(key) && p.note)
      .map(([key, p]) => `- \`${key}\`: ${p.note}`),
    '',
    DOC_MARKER,
  ].join('\n');
}

/**
 * docs/COSTS.md as `--write` leaves it: the generated part replaced, then the whole file formatted as
 * `prettier --write` would (so the lint's `prettier --check` and this agree).
 */
export async function renderDoc(
  existing: string,
  counts: MeasuredCounts,
  prices: PriceBook,
): Promise<string> {
  const options = (await prettier.resolveConfig(DOC_PATH)) ?? {};
  return prettier.format(updatedDoc(existing, renderSection(counts, prices)), {
    ...options,
    parser: 'markdown',
  });
}

/** docs/COSTS.md with its generated part replaced (or appended, the first time). */
export function updatedDoc(existing: string, section: string): string {
  const at = existing.indexOf(DOC_MARKER);
  const end = existing.lastIndexOf(DOC_MARKER);
  if (at === -1 || end === at) return `${existing.trimEnd()}\n\n${section}\n`;
  return `${existing.slice(0, at)}${section}${existing.slice(end + DOC_MARKER.length)}`;
}

/** The generated part of docs/COSTS.md as it stands, or undefined. */
export function sectionOf(doc: string): string | undefined {
  const at = doc.indexOf(DOC_MARKER);
  const end = doc.lastIndexOf(DOC_MARKER);
  return at === -1 || end === at ? undefined : doc.slice(at, end + DOC_MARKER.length);
}

/** The console's version: the same tables, aligned. */
export function renderConsole(counts: MeasuredCounts, prices: PriceBook): string {
  const t = costTables(counts, prices);
  return [
    `What a show costs (30 minutes, 10 questions), ${prices.region}, prices read ${prices.read}, counts measured ${counts.measured.date}`,
    '',
    table(t.totals),
    '',
    'the stack, per show',
    table(t.stack),
    '',
    'the video (IVS), per show',
    table(t.video),
    '',
    'what the show asks for',
    table(t.counts),
    '',
    'per month, idle',
    table(t.idle),
    '',
    'warm throughput raised once per deployment (not priced)',
    table(t.warm),
  ].join('\n');
}

// ---- The command ---------------------------------------------------------------------------------

const HELP = `Usage: npm run costs -- [--write] [--measure]

Prices one show (30 minutes, 10 questions) at 1,000, 10,000 and 100,000 viewers, and an idle month,
from the counts in bench/costs-counts.json and the prices in bench/aws-prices.json; prints the tables.

  --write     also rewrite the generated part of docs/COSTS.md
  --measure   first count a show afresh on the local stack (about 10 minutes: a show of 10 questions
              with two viewers in headless Chromium) and rewrite bench/costs-counts.json; needs the
              built site (npm run build)
  -h, --help  this help
`;

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      write: { type: 'boolean' },
      measure: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  if (values.measure) {
    const { measureCounts } = await import('./costs-measure.ts');
    const measured = await measureCounts(COST_SHOW, 'npm run costs -- --measure', (line) =>
      console.log(`[costs] ${line}`),
    );
    const options = (await prettier.resolveConfig(COUNTS_PATH)) ?? {};
    writeFileSync(
      COUNTS_PATH,
      await prettier.format(JSON.stringify(measured), { ...options, parser: 'json' }),
    );
    console.log(`[costs] wrote ${COUNTS_PATH}`);
  }
  const counts = loadCounts();
  const prices = loadPrices();
  console.log(renderConsole(counts, prices));
  if (values.write) {
    const existing = existsSync(DOC_PATH) ? readFileSync(DOC_PATH, 'utf8') : '';
    writeFileSync(DOC_PATH, await renderDoc(existing, counts, prices));
    console.log(`\n[costs] updated ${DOC_PATH}`);
  }
}
