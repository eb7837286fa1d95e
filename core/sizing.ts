// Sizes the stack for a show's audience. One number — CDK context `audience` (`-c audience=…`),
// default 1,000 viewers (DEFAULT_AUDIENCE says why) — gives the API stage throttle, the Lambdas'
// concurrency (reserved only when the audience needs a Lambda quota raise anyway), the table's and
// its index's warm throughput (only above what a new table has), the number of vote shards
// (contract/table.ts voteShardsFor) and how long the API Lambda caches a poll item.
// Pure (no CDK, no I/O): the stack, the tests and the README table compute the same figures here.
//
// Two kinds of figures, kept apart:
//   AWS_LIMITS   AWS's documented default quotas and fixed limits, each with where AWS says so.
//   ASSUMPTIONS  this project's model of a show and of its own code, each with its reasoning.
//
// The chain (each step is a commented line of sizeFor below):
//   audience ─ storm curve → peak votes/s ─ + the other requests → peak requests/s ─ × headroom →
//   the stage throttle. Everything behind the stage is sized to absorb what the stage lets through,
//   so a storm beyond the plan is refused by API Gateway (429, CORS headers on) and never by the
//   Lambda or the table: API Lambda concurrency = stage rate × vote duration × headroom, table
//   writes = stage rate × write units per vote (as if every admitted request were a vote).
// What the account must allow comes last: quotaRaises against AWS's default quotas, and
// accountConcurrencyNeeded against the account's own Lambda quota (brand-new accounts may have 10).
// GET /poll-get reaches the stage through CloudFront (cached 1 s per poll_id), so at most one
// request per poll per second per edge location counts, however many viewers ask.
import { MAX_VOTE_SHARDS, VOTE_WRITE_UNITS, voteShardsFor } from '../contract/table.ts';
import { ConfigurationError } from './configuration-error.ts';

export const AUDIENCE_CONTEXT_KEY = 'audience';
/**
 * Whether the stack sets the account's API Gateway CloudWatch Logs role (AWS::ApiGateway::Account)
 * unless deployed with `-c apiGatewayCloudWatchRole=false`: the stage's logging needs one, and a new
 * account has none. The stack and `showrunner doctor` read this one default.
 */
export const SETS_API_GATEWAY_CLOUDWATCH_ROLE_BY_DEFAULT = true;
/**
 * 1,000 viewers (a class, a company all-hands, a first show) unless `-c audience` says otherwise.
 * It is what a first `cdk deploy` on a brand-new account can take: no reserved concurrency (a
 * reservation fails the deploy on an account whose Lambda quota is still 10, and any reservation must
 * leave 100 unreserved), no warm throughput (billed, and never lowered once set), and no quota raise.
 * Its peak keeps about 9 API Lambda environments busy (32 with the sizing headroom, API and lifecycle
 * together); 10,000 viewers would need 162, more than such an account has. Bigger shows deploy with
 * `-c audience=…` and get the quota raises listed at synth and in the README.
 */
export const DEFAULT_AUDIENCE = 1_000;
export const MIN_AUDIENCE = 100;
export const MAX_AUDIENCE = 10_000_000;

/**
 * AWS's documented values (defaults per account and Region unless said otherwise):
 * - API Gateway quotas, "Throttle quota per account, per Region across HTTP APIs, REST APIs,
 *   WebSocket APIs…: 10,000 requests per second … maximum bucket capacity of 5,000 requests",
 *   raisable; the burst is set by AWS from the rate quota, not requested
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html). Some newer Regions
 *   start at 2,500 / 1,250.
 * - Lambda quotas: concurrent executions 1,000, "can be increased up to tens of thousands"; new
 *   accounts start lower (https://docs.aws.amazon.com/lambda/latest/dg/limits.html). Reserved
 *   concurrency may take the account's unreserved concurrency "minus 100 for functions that don't
 *   have reserved concurrency" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
 *   Scaling: "for each function, your concurrency scaling rate is 1,000 execution environment
 *   instances every 10 seconds" (https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html);
 *   not a quota one can request.
 * - DynamoDB: a new on-demand table (and GSI) can serve 4,000 write and 12,000 read units/s at
 *   once (its warm throughput), more after pre-warming; warm throughput can be raised, never
 *   lowered, and raising it is billed
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput.html). Each
 *   partition serves at most 1,000 write and 3,000 read units/s
 *   (…/warm-throughput-scenarios.html). On-demand throughput per table (and per GSI) is bounded by
 *   the table-level quota, 40,000 read and 40,000 write units/s, raisable
 *   (…/on-demand-capacity-mode-max-throughput.html, …/ServiceQuotas.html).
 */
export const AWS_LIMITS = {
  apiGatewayAccountRequestsPerSecond: 10_000,
  apiGatewayAccountBurst: 5_000,
  lambdaAccountConcurrency: 1_000,
  lambdaMinUnreservedConcurrency: 100,
  lambdaNewEnvironmentsPer10Seconds: 1_000,
  dynamoDbNewTableWarmWriteUnits: 4_000,
  dynamoDbNewTableWarmReadUnits: 12_000,
  dynamoDbTableQuotaWriteUnits: 40_000,
  dynamoDbTableQuotaReadUnits: 40_000,
  dynamoDbPartitionWriteUnits: 1_000,
  dynamoDbPartitionReadUnits: 3_000,
} as const;

/**
 * This project's assumptions. Change one here and the stack follows; the tests then show which
 * pinned figures and which README rows (test/cdk/sizing.test.ts) to update.
 */
export const ASSUMPTIONS = {
  // ---- The storm ------------------------------------------------------------------------------------
  /** Share of the audience that answers a question… */
  answeringShare: 0.6,
  /** …within this many seconds of seeing it. */
  answerWindowSeconds: 8,
  /**
   * Peak second ÷ average second of the window: viewers see the question a few seconds apart
   * (stream latency), so the answers pile up in the middle. 100,000 viewers: 7,500 votes/s on
   * average, peaks near 15,000/s.
   */
  peakToAverage: 2,

  // ---- The other requests during the storm -------------------------------------------------------
  // Live counts travel as tally cues in the video stream, so no viewer polls the API per second.
  /** Late joiners: the whole audience arriving within 5 minutes, still arriving during a question. */
  joinWindowSeconds: 300,
  /** A joining viewer: its viewer token, then GET /poll-current. */
  requestsPerJoin: 2,
  /** GET /poll-get (results, a reconnecting page): 0.5 % of the audience each second, at CloudFront… */
  pollGetsPerViewerPerSecond: 0.005,
  /**
   * …which answers from its cache and asks the API for a poll at most once per POLL_GET_CACHE_SECONDS
   * (1 s) per edge location. CloudFront has 600+ points of presence; at worst each one asks for itself
   * (its regional edge caches usually share one answer among several).
   */
  cdnEdgeLocations: 600,
  /** Polls viewed in the same second: the open one (late joiners) and the one before (its results). */
  pollsViewedAtOnce: 2,
  /** On the modelled peak: a sharper storm, client retries, the model being wrong. */
  requestHeadroom: 1.2,

  // ---- The API Lambda ------------------------------------------------------------------------------
  /**
   * A vote's duration (p99, warm). Measured locally: the handler itself (Middy, zod, SDK
   * marshalling and signing, with DynamoDB answering at once) costs 0.35 ms of CPU per vote,
   * p99 2 ms, on one x86 core; a 512 MB Lambda has about 0.3 of a vCPU, so ~1 ms, p99 ~7 ms. A vote
   * then waits for two DynamoDB calls in sequence (conditional put, counter ADD), single-digit
   * milliseconds each and some tail: 50 ms p99 in all. (docs/BENCHMARKS.md's votes p99, 270 ms, is
   * 50 clients queueing on a 2-core machine with dynalite, not a vote's own duration.)
   */
  voteP99Seconds: 0.05,
  /** Environments busy with a cold start while the fleet grows, and DynamoDB's tail latency. */
  concurrencyHeadroom: 1.5,
  /** Never fewer API environments than this: one page load's cold starts for a small show. */
  minApiConcurrency: 20,
  /**
   * The lifecycle Lambda (plan, open, tally, close) works for the show, not for viewers. One show
   * keeps at most 3 invocations in flight: the tally loop of the open poll (one invocation at a time,
   * a slice of up to 14 min, called again until closesAt), the close of the previous poll (it waits out the
   * vote deadline, then recounts) and the next poll's open, when a poll follows right after another…
   */
  lifecycleInvocationsPerShow: 3,
  /** …plus one Lambda-level retry (the state machine retries Lambda service errors)… */
  lifecycleRetryInvocations: 1,
  /**
   * …for this many shows on as many channels at once: 3 × (3 + 1) = 12, whatever the audience
   * (reserved, where the stack reserves, so that no storm on the API Lambda can take them away).
   */
  concurrentShows: 3,
  /** The tally loop reads every shard counter of the open poll once a second (one BatchGetItem). */
  tallyLoopReadsPerSecond: 1,

  // ---- DynamoDB (the item layout: contract/table.ts, docs/sharding.md) --------------------------------
  /** A vote: the conditional put of the answer item + its shard counter's ADD, each < 1 KB. */
  writeUnitsPerVote: VOTE_WRITE_UNITS,
  /**
   * A quiz vote also adds its points to the player's score item (contract/table.ts
   * scorePartition: another key, sharded like the votes, < 1 KB). Sized as if every vote were a
   * quiz vote: a show may be all quiz.
   */
  scoreWriteUnitsPerVote: 1,
  /** The answer item is also written to the requestor GSI (projection ALL, < 1 KB). */
  indexWriteUnitsPerVote: 1,
  /**
   * Reads are of eventually consistent items under 4 KB: 0.5 units each. A poll view (GET
   * /poll-get) reads the poll item and every shard counter (one BatchGetItem); GET /poll-current
   * reads the '#current' pointer first. The API Lambda also reads a poll item once per
   * POLL_CACHE_MS per environment…
   */
  readUnitsPerItem: 0.5,
  /** …and all environments together may read one poll item at most this often (a third of a partition). */
  pollItemReadBudget: 1_000,
  /** The API Lambda's own default and maximum for POLL_CACHE_MS (lambdas/api.ts). */
  minPollCacheMs: 1_000,
  maxPollCacheMs: 60_000,

  // ---- Floors for small shows -----------------------------------------------------------------------
  minStageRateLimit: 100,
  minStageBurstLimit: 100,
} as const;

export interface WarmThroughput {
  readUnitsPerSecond?: number;
  writeUnitsPerSecond?: number;
}

/** A quota the account needs above AWS's default for this audience. */
export interface QuotaRaise {
  /** Short, for the README table. */
  name: string;
  /** The quota as AWS names it. */
  quota: string;
  /** At least this much… */
  needed: number;
  /** …where AWS's default is this. */
  defaultValue: number;
  unit: string;
}

/** A limit no quota raise lifts, met by this audience. */
export interface DesignLimit {
  name: 'lambda-scaling' | 'shard-writes' | 'tally-reads';
  text: string;
}

export interface Sizing {
  audience: number;
  /** Votes per second averaged over the answer window, and in its peak second. */
  averageVotesPerSecond: number;
  peakVotesPerSecond: number;
  /** Votes plus joins plus /poll-get (those CloudFront forwards) in the peak second. */
  peakRequestsPerSecond: number;
  /** GET /poll-get per second: asked of CloudFront, and forwarded by it to the API. */
  pollGetsPerSecond: number;
  pollGetOriginRequestsPerSecond: number;
  /** The API stage's throttle (requests/s and its token bucket). */
  stageRateLimit: number;
  stageBurstLimit: number;
  /** Concurrent executions the API Lambda is sized for: all it needs to serve what the stage admits. */
  apiConcurrency: number;
  /** Concurrent executions of the lifecycle Lambda (the show's own work), whatever the audience. */
  lifecycleConcurrency: number;
  /**
   * Whether the stack reserves concurrency for its Lambdas: only when the audience needs a Lambda
   * quota raise anyway (apiConcurrency + lifecycleConcurrency + the 100 Lambda keeps unreserved is
   * over AWS's default 1,000). Below that nothing is reserved, so the deploy cannot fail on an
   * account with a small quota, and both Lambdas draw on the account's unreserved pool.
   */
  reservesConcurrency: boolean;
  /** Reserved concurrency of the API Lambda (its cap, and what it keeps for itself); 0: none reserved. */
  apiReservedConcurrency: number;
  /** Reserved concurrency of the lifecycle Lambda (the show's own work); 0: none reserved. */
  lifecycleReservedConcurrency: number;
  /**
   * The Lambda concurrency quota (ConcurrentExecutions) the account needs for this stack: both
   * Lambdas' concurrency, plus, when they are reserved, the 100 Lambda keeps unreserved. With
   * nothing reserved this is what a show uses at its planned peak, not what the deploy needs.
   */
  accountConcurrencyNeeded: number;
  /** API Lambda environments busy in the peak second (peak requests × vote duration). */
  peakApiEnvironments: number;
  /** From a cold start, the seconds before Lambda may have created that many (1,000 per 10 s). */
  coldScaleUpSeconds: number;
  /** The API Lambda's POLL_CACHE_MS: keeps the poll item's reads within pollItemReadBudget. */
  pollCacheMs: number;
  /** Table writes if every request the stage admits were a vote, and the modelled reads. */
  tableWriteUnitsPerSecond: number;
  tableReadUnitsPerSecond: number;
  /** Writes to the requestor GSI, same basis. */
  indexWriteUnitsPerSecond: number;
  /** What the stack pre-warms: only what exceeds a new on-demand table's warm throughput. */
  tableWarmThroughput: WarmThroughput | undefined;
  indexWarmThroughput: WarmThroughput | undefined;
  /** Shard partitions per poll (the lifecycle Lambda's VOTE_SHARDS): contract/table.ts voteShardsFor(peak). */
  voteShards: number;
  /** Write units/s on each shard key if the stage admitted only votes (a partition serves 1,000). */
  shardWriteUnitsPerSecond: number;
  /** Read units/s on each shard counter item from poll views (an item serves 3,000). */
  tallyItemReadUnitsPerSecond: number;
  /** Limits this audience meets that no quota raise lifts (empty: none). */
  designLimits: DesignLimit[];
  /** Quotas to raise before deploying (empty: the defaults suffice). */
  quotaRaises: QuotaRaise[];
}

const AUDIENCE_RANGE = `a whole number of viewers from ${fmt(MIN_AUDIENCE)} to ${fmt(MAX_AUDIENCE)}`;

/**
 * The audience from CDK context (`-c audience=250000`, also `250_000` or `250,000`; a number in
 * cdk.json). Absent or empty: DEFAULT_AUDIENCE. Anything else fails synth with a message naming the key.
 */
export function parseAudience(value: unknown): number {
  if (value === undefined || value === null || value === '') return DEFAULT_AUDIENCE;
  const text = String(value).trim();
  const digits = /^\d+$/.test(text) || /^\d{1,3}(?:([,_])\d{3})(?:\1\d{3})*$/.test(text);
  const audience = digits ? Number(text.replace(/[,_]/g, '')) : Number.NaN;
  if (typeof value === 'number' ? !isAudience(value) : !isAudience(audience)) {
    throw new ConfigurationError(
      `-c ${AUDIENCE_CONTEXT_KEY}=${text}: expected ${AUDIENCE_RANGE} (default ${fmt(DEFAULT_AUDIENCE)})`,
    );
  }
  return typeof value === 'number' ? value : audience;
}

function isAudience(n: number): boolean {
  return Number.isSafeInteger(n) && n >= MIN_AUDIENCE && n <= MAX_AUDIENCE;
}

/** Everything the stack sets for `audience` viewers, and the quotas that needs. */
export function sizeFor(audience: number): Sizing {
  if (!isAudience(audience)) {
    throw new ConfigurationError(
      `${AUDIENCE_CONTEXT_KEY} ${audience}: expected ${AUDIENCE_RANGE} (CDK context -c ${AUDIENCE_CONTEXT_KEY}=…)`,
    );
  }
  const traffic = trafficFor(audience);
  const stage = stageThrottleFor(traffic.peakRequestsPerSecond);
  const lambda = lambdaSizingFor(stage.stageRateLimit, traffic.peakRequestsPerSecond);
  const table = tableSizingFor(traffic, stage.stageRateLimit, lambda);
  const sized = { ...stage, ...lambda, ...table };
  return {
    audience,
    averageVotesPerSecond: traffic.averageVotesPerSecond,
    peakVotesPerSecond: traffic.peakVotesPerSecond,
    peakRequestsPerSecond: traffic.peakRequestsPerSecond,
    pollGetsPerSecond: traffic.pollGetsPerSecond,
    pollGetOriginRequestsPerSecond: traffic.pollGetOriginRequestsPerSecond,
    ...stage,
    ...lambda,
    tableWriteUnitsPerSecond: table.tableWriteUnitsPerSecond,
    tableReadUnitsPerSecond: table.tableReadUnitsPerSecond,
    indexWriteUnitsPerSecond: table.indexWriteUnitsPerSecond,
    tableWarmThroughput: table.tableWarmThroughput,
    indexWarmThroughput: table.indexWarmThroughput,
    voteShards: table.voteShards,
    shardWriteUnitsPerSecond: table.shardWriteUnitsPerSecond,
    tallyItemReadUnitsPerSecond: table.tallyItemReadUnitsPerSecond,
    designLimits: designLimitsFor(sized),
    quotaRaises: quotaRaisesFor(sized),
  };
}

/** The storm's traffic: votes, joins and /poll-get, per second. */
interface Traffic {
  averageVotesPerSecond: number;
  peakVotesPerSecond: number;
  joinsPerSecond: number;
  pollGetsPerSecond: number;
  pollGetOriginRequestsPerSecond: number;
  peakRequestsPerSecond: number;
}

function trafficFor(audience: number): Traffic {
  const a = ASSUMPTIONS;
  // Storm curve → votes/s: 60 % of the audience within 8 s, the peak second twice the average.
  const averageVotesPerSecond = up((audience * a.answeringShare) / a.answerWindowSeconds);
  const peakVotesPerSecond = up(averageVotesPerSecond * a.peakToAverage);

  // The rest of the traffic in that second: joiners (token + /poll-current) and /poll-get, of
  // which the API sees only what CloudFront's 1 s cache forwards (one per poll per edge location).
  const joinsPerSecond = audience / a.joinWindowSeconds;
  const pollGetsPerSecond = audience * a.pollGetsPerViewerPerSecond;
  const pollGetOriginRequestsPerSecond = Math.min(
    pollGetsPerSecond,
    a.cdnEdgeLocations * a.pollsViewedAtOnce,
  );
  const peakRequestsPerSecond = up(
    peakVotesPerSecond + joinsPerSecond * a.requestsPerJoin + pollGetOriginRequestsPerSecond,
  );
  return {
    averageVotesPerSecond,
    peakVotesPerSecond,
    joinsPerSecond,
    pollGetsPerSecond,
    pollGetOriginRequestsPerSecond,
    peakRequestsPerSecond,
  };
}

function stageThrottleFor(peakRequestsPerSecond: number): Pick<Sizing, 'stageRateLimit' | 'stageBurstLimit'> {
  const a = ASSUMPTIONS;
  // Stage throttle: the peak with headroom, in hundreds; the bucket half the rate (AWS's own
  // account ratio, 10,000/5,000): votes arrive spread over seconds, not in one instant.
  const stageRateLimit = Math.max(
    a.minStageRateLimit,
    roundUp(peakRequestsPerSecond * a.requestHeadroom, 100),
  );
  const stageBurstLimit = Math.max(a.minStageBurstLimit, roundUp(stageRateLimit / 2, 100));
  return { stageRateLimit, stageBurstLimit };
}

type LambdaSizing = Pick<
  Sizing,
  | 'apiConcurrency'
  | 'lifecycleConcurrency'
  | 'reservesConcurrency'
  | 'apiReservedConcurrency'
  | 'lifecycleReservedConcurrency'
  | 'accountConcurrencyNeeded'
  | 'peakApiEnvironments'
  | 'coldScaleUpSeconds'
  | 'pollCacheMs'
>;

function lambdaSizingFor(stageRateLimit: number, peakRequestsPerSecond: number): LambdaSizing {
  const a = ASSUMPTIONS;
  const L = AWS_LIMITS;
  // Lambda (Little's law): environments in use = requests/s × seconds each. The API Lambda serves
  // everything the stage admits, with headroom for cold starts; the lifecycle's is fixed.
  const apiConcurrency = Math.max(
    a.minApiConcurrency,
    up(stageRateLimit * a.voteP99Seconds * a.concurrencyHeadroom),
  );
  const lifecycleConcurrency =
    a.concurrentShows * (a.lifecycleInvocationsPerShow + a.lifecycleRetryInvocations);
  // Reserve only when AWS's default quota would not hold both with Lambda's 100 unreserved beside
  // them: then the account needs a raise anyway, and the reservations cap the API Lambda and keep the
  // lifecycle's share from a storm. Below that a reservation only adds a way for the deploy to fail
  // (brand-new accounts may have a quota of 10), and the default 1,000 holds both with room to spare.
  const reservesConcurrency =
    apiConcurrency + lifecycleConcurrency + L.lambdaMinUnreservedConcurrency > L.lambdaAccountConcurrency;
  const apiReservedConcurrency = reservesConcurrency ? apiConcurrency : 0;
  const lifecycleReservedConcurrency = reservesConcurrency ? lifecycleConcurrency : 0;
  const accountConcurrencyNeeded =
    apiConcurrency + lifecycleConcurrency + (reservesConcurrency ? L.lambdaMinUnreservedConcurrency : 0);
  const peakApiEnvironments = up(peakRequestsPerSecond * a.voteP99Seconds);
  const coldScaleUpSeconds = 10 * (Math.ceil(peakApiEnvironments / L.lambdaNewEnvironmentsPer10Seconds) - 1);

  // Every API environment re-reads a poll item once per POLL_CACHE_MS: keep one item's reads
  // within the budget (1,000 units/s, a third of a partition's 3,000).
  const pollCacheMs = Math.min(
    a.maxPollCacheMs,
    Math.max(
      a.minPollCacheMs,
      roundUp(((apiConcurrency * a.readUnitsPerItem) / a.pollItemReadBudget) * 1000, 1000),
    ),
  );
  return {
    apiConcurrency,
    lifecycleConcurrency,
    reservesConcurrency,
    apiReservedConcurrency,
    lifecycleReservedConcurrency,
    accountConcurrencyNeeded,
    peakApiEnvironments,
    coldScaleUpSeconds,
    pollCacheMs,
  };
}

type TableSizing = Pick<
  Sizing,
  | 'voteShards'
  | 'tableWriteUnitsPerSecond'
  | 'indexWriteUnitsPerSecond'
  | 'tableReadUnitsPerSecond'
  | 'shardWriteUnitsPerSecond'
  | 'tallyItemReadUnitsPerSecond'
  | 'tableWarmThroughput'
  | 'indexWarmThroughput'
>;

function tableSizingFor(
  traffic: Traffic,
  stageRateLimit: number,
  lambda: Pick<Sizing, 'apiConcurrency' | 'pollCacheMs'>,
): TableSizing {
  const a = ASSUMPTIONS;
  const L = AWS_LIMITS;
  const { joinsPerSecond, pollGetOriginRequestsPerSecond } = traffic;
  // Vote shards: the layout's own rule (each shard key at half a partition at the peak, ≤ 100).
  const voteShards = voteShardsFor(traffic.peakVotesPerSecond);

  // DynamoDB writes: whatever the stage admits, as votes. Reads: the modelled mix, with headroom:
  // the API environments' poll-item reads, per view (a forwarded /poll-get, a /poll-current) the
  // poll item and one counter per shard, and the tally loop's read of every counter each second.
  // (The close recount reads every answer once, strongly consistent, after the storm: about 5,000
  // units for 100,000 answers, inside the same warm throughput.)
  const tableWriteUnitsPerSecond = stageRateLimit * (a.writeUnitsPerVote + a.scoreWriteUnitsPerVote);
  const indexWriteUnitsPerSecond = stageRateLimit * a.indexWriteUnitsPerVote;
  const pollItemReads = lambda.apiConcurrency * a.readUnitsPerItem * (1000 / lambda.pollCacheMs);
  const viewsPerSecond = pollGetOriginRequestsPerSecond + joinsPerSecond;
  const viewReads = (viewsPerSecond * (1 + voteShards) + joinsPerSecond) * a.readUnitsPerItem;
  const tallyLoopReads = a.concurrentShows * a.tallyLoopReadsPerSecond * voteShards * a.readUnitsPerItem;
  const tableReadUnitsPerSecond = up((pollItemReads + viewReads + tallyLoopReads) * a.requestHeadroom);
  // The busiest key is a vote shard (its answers and counter); a score shard takes half of that.
  const shardWriteUnitsPerSecond = up((stageRateLimit * a.writeUnitsPerVote) / voteShards);
  const tallyItemReadUnitsPerSecond = up(
    (viewsPerSecond + a.tallyLoopReadsPerSecond) * a.readUnitsPerItem * a.requestHeadroom,
  );

  // Pre-warm only above what a new on-demand table (or GSI) has anyway, in thousands: nothing is
  // billed or fixed for a small show, and a value once set can only go up.
  const warm = (units: number, fresh: number) => (units > fresh ? roundUp(units, 1000) : undefined);
  const tableWarmThroughput = warmThroughput(
    warm(tableWriteUnitsPerSecond, L.dynamoDbNewTableWarmWriteUnits),
    warm(tableReadUnitsPerSecond, L.dynamoDbNewTableWarmReadUnits),
  );
  const indexWarmThroughput = warmThroughput(
    warm(indexWriteUnitsPerSecond, L.dynamoDbNewTableWarmWriteUnits),
    undefined,
  );
  return {
    voteShards,
    tableWriteUnitsPerSecond,
    indexWriteUnitsPerSecond,
    tableReadUnitsPerSecond,
    shardWriteUnitsPerSecond,
    tallyItemReadUnitsPerSecond,
    tableWarmThroughput,
    indexWarmThroughput,
  };
}

/** The quotas this stack needs above AWS's defaults. */
function quotaRaisesFor(
  s: Pick<Sizing, 'stageRateLimit' | 'accountConcurrencyNeeded'> & TableSizing,
): QuotaRaise[] {
  const L = AWS_LIMITS;
  const quotaRaises: QuotaRaise[] = [];
  const need = (name: string, quota: string, needed: number, defaultValue: number, unit: string) => {
    if (needed > defaultValue) quotaRaises.push({ name, quota, needed, defaultValue, unit });
  };
  need(
    'API Gateway',
    'API Gateway: throttle quota per account, per Region (Service Quotas: Throttle rate)',
    s.stageRateLimit,
    L.apiGatewayAccountRequestsPerSecond,
    'requests/s',
  );
  // Raised exactly when the stack reserves (reservesConcurrency): the reservations plus the 100.
  need(
    'Lambda',
    'Lambda: concurrent executions',
    s.accountConcurrencyNeeded,
    L.lambdaAccountConcurrency,
    'concurrent executions',
  );
  need(
    'DynamoDB writes',
    'DynamoDB: table-level write throughput (per table and per GSI, on-demand)',
    Math.max(
      s.tableWarmThroughput?.writeUnitsPerSecond ?? 0,
      s.indexWarmThroughput?.writeUnitsPerSecond ?? 0,
    ),
    L.dynamoDbTableQuotaWriteUnits,
    'write units/s',
  );
  need(
    'DynamoDB reads',
    'DynamoDB: table-level read throughput (per table and per GSI, on-demand)',
    s.tableWarmThroughput?.readUnitsPerSecond ?? 0,
    L.dynamoDbTableQuotaReadUnits,
    'read units/s',
  );
  return quotaRaises;
}

/** Limits that no quota raise lifts. */
function designLimitsFor(
  s: Pick<Sizing, 'coldScaleUpSeconds' | 'peakApiEnvironments'> & TableSizing,
): DesignLimit[] {
  const L = AWS_LIMITS;
  const designLimits: DesignLimit[] = [];
  if (s.coldScaleUpSeconds > 0) {
    designLimits.push({
      name: 'lambda-scaling',
      text:
        `a cold API Lambda needs ${s.coldScaleUpSeconds} s to reach the peak's ${fmt(s.peakApiEnvironments)} ` +
        `environments (Lambda adds ${fmt(L.lambdaNewEnvironmentsPer10Seconds)} per function every 10 s)`,
    });
  }
  if (s.shardWriteUnitsPerSecond > L.dynamoDbPartitionWriteUnits) {
    designLimits.push({
      name: 'shard-writes',
      text:
        `${fmt(s.voteShards)} vote shards (at most ${MAX_VOTE_SHARDS}) take ${fmt(s.shardWriteUnitsPerSecond)} ` +
        `write units/s each at the stage rate, over a partition's ${fmt(L.dynamoDbPartitionWriteUnits)}`,
    });
  }
  if (s.tallyItemReadUnitsPerSecond > L.dynamoDbPartitionReadUnits) {
    designLimits.push({
      name: 'tally-reads',
      text:
        `poll views (joiners' /poll-current and the /poll-get CloudFront forwards) and the tally loop read each shard counter ` +
        `${fmt(s.tallyItemReadUnitsPerSecond)} units/s, over an item's ` +
        `${fmt(L.dynamoDbPartitionReadUnits)}`,
    });
  }
  return designLimits;
}

/** The largest audience whose stack fits AWS's default quotas (an account running nothing else). */
export function largestAudienceWithinDefaultQuotas(): number {
  return largestAudience((s) => s.quotaRaises.length === 0);
}

/** The largest audience the stack deploys for without reserving Lambda concurrency. */
export function largestAudienceWithoutReservedConcurrency(): number {
  return largestAudience((s) => !s.reservesConcurrency);
}

/** The largest audience the stack deploys for without pre-warming the table or its index. */
export function largestAudienceWithoutWarmThroughput(): number {
  return largestAudience((s) => !s.tableWarmThroughput && !s.indexWarmThroughput);
}

/** The largest audience that does not meet this design limit. */
export function largestAudienceWithin(limit: DesignLimit['name']): number {
  return largestAudience((s) => !s.designLimits.some((d) => d.name === limit));
}

/** The largest audience for which `fits` holds (it holds for the smallest, and stops holding once). */
function largestAudience(fits: (s: Sizing) => boolean): number {
  let low = MIN_AUDIENCE;
  let high = MAX_AUDIENCE + 1;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (fits(sizeFor(mid))) low = mid;
    else high = mid;
  }
  return low;
}

/** The audiences of the README's table. */
export const README_AUDIENCES = [1_000, 10_000, 100_000, 1_000_000] as const;

/** The README's "Sizing and quotas" table, as markdown rows (test/cdk/sizing.test.ts compares them). */
export function sizingTable(audiences: readonly number[] = README_AUDIENCES): string[] {
  const warmText = (w: WarmThroughput | undefined) =>
    w
      ? [
          w.writeUnitsPerSecond ? `${fmt(w.writeUnitsPerSecond)} W` : '',
          w.readUnitsPerSecond ? `${fmt(w.readUnitsPerSecond)} R` : '',
        ]
          .filter(Boolean)
          .join(', ')
      : '—';
  const rows = audiences.map((audience) => {
    const s = sizeFor(audience);
    const raises = s.quotaRaises.length
      ? s.quotaRaises.map((q) => `${q.name} ≥ ${fmt(q.needed)} ${q.unit}`).join('; ')
      : 'none';
    return [
      fmt(audience),
      fmt(s.peakVotesPerSecond),
      `${fmt(s.stageRateLimit)} / ${fmt(s.stageBurstLimit)}`,
      `${fmt(s.apiConcurrency)} / ${fmt(s.lifecycleConcurrency)} ${s.reservesConcurrency ? 'reserved' : 'unreserved'}`,
      fmt(s.voteShards),
      fmt(s.pollCacheMs / 1000),
      warmText(s.tableWarmThroughput),
      warmText(s.indexWarmThroughput),
      raises,
    ];
  });
  const header = [
    'audience',
    'peak votes/s',
    'stage rate / burst (req/s)',
    'Lambda concurrency: API / lifecycle',
    'vote shards',
    'poll cache (s)',
    'table warm throughput',
    'index warm throughput',
    'quota raises needed',
  ];
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`);
}

/** 12,345 */
export function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function warmThroughput(write: number | undefined, read: number | undefined): WarmThroughput | undefined {
  if (write === undefined && read === undefined) return undefined;
  return {
    ...(write !== undefined ? { writeUnitsPerSecond: write } : {}),
    ...(read !== undefined ? { readUnitsPerSecond: read } : {}),
  };
}

/** Up to a whole number, ignoring floating-point dust (0.6 × 100,000 / 8 × 2 is 15,000, not 15,001). */
function up(x: number): number {
  return Math.ceil(x - 1e-9);
}

function roundUp(x: number, step: number): number {
  return up(x / step) * step;
}
