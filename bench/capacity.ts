// The capacity model. Pure: no I/O. It takes a design's request pattern — what one
// vote, one second of an answered viewer and one second of an open poll cost, as counted by the local
// stack's meter during a storm (bench/storm.ts, local/meter.ts) — and the storm curve of
// cdk/lib/sizing.ts's ASSUMPTIONS, and gives, for an audience, the peak load on every AWS limit the
// design meets: write units per partition key and per item, table writes, API requests, Lambda
// concurrency, IVS PutMetadata calls and reads of the hottest item, each against AWS_LIMITS.
//
// Three kinds of figures, kept apart:
//   measured   per-vote and per-viewer-second counts from a metered local storm (RequestPattern.measured
//              names which fields were); scaled by the model, not extrapolated from the local rates.
//   modelled   the storm curve and the other traffic (ASSUMPTIONS), a vote's duration (Lambda's Little's
//              law), the hash skew at the audience's size (core/shard.ts over synthetic viewer ids).
//   limits     AWS's published values: AWS_LIMITS (cdk/lib/sizing.ts, with sources) and IVS_LIMITS below.
import { ASSUMPTIONS, AWS_LIMITS, fmt, sizeFor } from '../cdk/lib/sizing.ts';
import { voteShardsFor } from '../contract/table.ts';
import { shardOf } from '../core/shard.ts';

/**
 * Amazon IVS PutMetadata quotas: "5 TPS per channel", 155 TPS per account and Region
 * (https://docs.aws.amazon.com/ivs/latest/LowLatencyUserGuide/service-quotas.html).
 * Not in AWS_LIMITS because the stack sizes nothing from them: cues do not grow with the audience.
 */
export const IVS_LIMITS = {
  putMetadataPerChannelPerSecond: 5,
  putMetadataPerAccountPerSecond: 155,
} as const;

/** What a design's requests cost, per vote and per second. Each field says one thing the meter counts. */
export interface RequestPattern {
  /** Write units a vote puts on its own partition key (the answer's put and the counter's ADD). */
  keyWriteUnitsPerVote: number;
  /** Write units a vote puts on its counter item (the single item every vote of that key updates). */
  itemWriteUnitsPerVote: number;
  /** Write units on the table per vote, and on the requestor index. */
  tableWriteUnitsPerVote: number;
  indexWriteUnitsPerVote: number;
  /** API requests per vote (the POST, and a client's retries). */
  apiRequestsPerVote: number;
  /** API requests per second from each viewer who has answered (live bars by polling; 0 with tally cues). */
  apiRequestsPerAnsweredViewerSecond: number;
  /** Read units a live-count read (GET /poll-get, /poll-current) takes from the busiest counter item. */
  hotItemReadUnitsPerView: number;
  /** PutMetadata calls on the show's channel in the busiest second of an open poll (ask, tally cues, results). */
  putMetadataPeakPerSecond: number;
  /** Partition keys a poll's votes are spread over: a number, or 'sized' (contract/table.ts voteShardsFor the peak). */
  voteKeys: number | 'sized';
  /** The fields above that come from a metered local run (the others are modelled). */
  measured: Array<keyof Omit<RequestPattern, 'measured'>>;
}

/** The seed's design, from its code: one key per poll, one '#tally' item ADDed per vote, bars polled every 2 s. */
export const SEED_PATTERN: RequestPattern = {
  keyWriteUnitsPerVote: 2,
  itemWriteUnitsPerVote: 1,
  tableWriteUnitsPerVote: 2,
  indexWriteUnitsPerVote: 1,
  apiRequestsPerVote: 1,
  apiRequestsPerAnsweredViewerSecond: 0.5,
  hotItemReadUnitsPerView: ASSUMPTIONS.readUnitsPerItem,
  putMetadataPeakPerSecond: 1,
  voteKeys: 1,
  measured: [],
};

/** Ours, from the design (docs/sharding.md): votes sharded, live counts as ~1 tally cue/s. */
export const OURS_PATTERN: RequestPattern = {
  keyWriteUnitsPerVote: 2,
  itemWriteUnitsPerVote: 1,
  tableWriteUnitsPerVote: 2,
  indexWriteUnitsPerVote: 1,
  apiRequestsPerVote: 1,
  apiRequestsPerAnsweredViewerSecond: 0,
  hotItemReadUnitsPerView: ASSUMPTIONS.readUnitsPerItem,
  putMetadataPeakPerSecond: 2,
  voteKeys: 'sized',
  measured: [],
};

/** The storm: votes/s at time t (s) after the first viewer sees the question, and votes so far. */
export interface StormCurve {
  voters: number;
  averageVotesPerSecond: number;
  peakVotesPerSecond: number;
  /** Seconds from the first vote to the last. */
  seconds: number;
  rate(t: number): number;
  answered(t: number): number;
}

/**
 * ASSUMPTIONS' storm as a curve: `answeringShare` of the audience answer within `answerWindowSeconds`,
 * the peak second `peakToAverage` times the average. A triangle with that peak and area: the sum of
 * two uniform spreads (viewers' stream latencies, and how long each takes to answer); at the default
 * peakToAverage of 2 it spans the whole window (100,000 viewers: 7,500/s on average, 15,000/s at 4 s).
 */
export function stormCurve(audience: number): StormCurve {
  const a = ASSUMPTIONS;
  const voters = audience * a.answeringShare;
  const averageVotesPerSecond = voters / a.answerWindowSeconds;
  const peakVotesPerSecond = averageVotesPerSecond * a.peakToAverage;
  const seconds = (2 * voters) / peakVotesPerSecond;
  const half = seconds / 2;
  const rate = (t: number) =>
    t <= 0 || t >= seconds ? 0 : peakVotesPerSecond * (1 - Math.abs(t - half) / half);
  const answered = (t: number) => {
    if (t <= 0) return 0;
    if (t >= seconds) return voters;
    if (t <= half) return (rate(t) * t) / 2;
    return voters - (rate(t) * (seconds - t)) / 2;
  };
  return { voters, averageVotesPerSecond, peakVotesPerSecond, seconds, rate, answered };
}

/** At most this many synthetic viewer ids are hashed: fewer voters spread less evenly, so this errs high. */
const MAX_SKEW_SAMPLE = 120_000;

/**
 * The busiest shard's votes over the average shard's, for `voters` viewers over `shards` shards, with
 * the real shard function (core/shard.ts) over ids like the site's (`viewer-<n>`).
 */
export function hashSkew(voters: number, shards: number): number {
  if (shards <= 1) return 1;
  const n = Math.max(1, Math.min(Math.round(voters), MAX_SKEW_SAMPLE));
  const counts = new Array<number>(shards).fill(0);
  for (let i = 0; i < n; i++) counts[shardOf(`viewer-${i}`, shards)]!++;
  return Math.max(...counts) / (n / shards);
}

export type Verdict = 'ok' | 'quota raise' | 'OVER';

export interface Load {
  value: number;
  limit: number;
  /** ok: within AWS's default; quota raise: over a raisable default; OVER: over a limit no raise lifts. */
  verdict: Verdict;
  /**
   * For a quota raise: whether README "Sizing and quotas" (cdk/lib/sizing.ts sizeFor, the raises the
   * stack for this audience needs) lists this quota raised at least this far.
   */
  documented?: boolean;
}

export interface Capacity {
  audience: number;
  design: string;
  peakVotesPerSecond: number;
  voteKeys: number;
  /** The busiest shard over the average (1 for one key). */
  skew: number;
  keyWriteUnits: Load;
  itemWriteUnits: Load;
  tableWriteUnits: Load;
  indexWriteUnits: Load;
  apiRequests: Load;
  lambdaConcurrency: Load;
  putMetadata: Load;
  hotItemReadUnits: Load;
}

/** The other requests of the peak second (ASSUMPTIONS: late joiners, results/reconnect reads). */
function background(audience: number): { requests: number; views: number } {
  const a = ASSUMPTIONS;
  const joins = audience / a.joinWindowSeconds;
  const pollGets = audience * a.pollGetsPerViewerPerSecond;
  return { requests: joins * a.requestsPerJoin + pollGets, views: joins + pollGets };
}

/** The design's peak load on each limit for this audience. */
export function capacityFor(audience: number, design: string, pattern: RequestPattern): Capacity {
  const L = AWS_LIMITS;
  const curve = stormCurve(audience);
  const peak = curve.peakVotesPerSecond;
  const voteKeys = pattern.voteKeys === 'sized' ? voteShardsFor(Math.ceil(peak - 1e-9)) : pattern.voteKeys;
  const skew = hashSkew(curve.voters, voteKeys);
  const raises = sizeFor(audience).quotaRaises;

  const hard = (value: number, limit: number): Load => ({
    value: Math.ceil(value - 1e-9),
    limit,
    verdict: value <= limit ? 'ok' : 'OVER',
  });
  const raisable = (value: number, limit: number, quota: string): Load => {
    const v = Math.ceil(value - 1e-9);
    if (v <= limit) return { value: v, limit, verdict: 'ok' };
    const documented = raises.some((q) => q.name === quota && q.needed >= v);
    return { value: v, limit, verdict: 'quota raise', documented };
  };

  // The peak second of requests: votes plus the live bars of everyone who has answered so far, plus the
  // background; sampled along the curve (with polling the peak comes after the votes' peak).
  const bg = background(audience);
  let peakRequests = 0;
  let peakViews = 0;
  for (let i = 0; i <= 400; i++) {
    const t = (curve.seconds * i) / 400;
    const polling = curve.answered(t) * pattern.apiRequestsPerAnsweredViewerSecond;
    peakRequests = Math.max(peakRequests, curve.rate(t) * pattern.apiRequestsPerVote + polling);
    peakViews = Math.max(peakViews, polling);
  }
  peakRequests += bg.requests;
  peakViews += bg.views;

  return {
    audience,
    design,
    peakVotesPerSecond: Math.ceil(peak - 1e-9),
    voteKeys,
    skew,
    keyWriteUnits: hard(
      (peak * pattern.keyWriteUnitsPerVote * skew) / voteKeys,
      L.dynamoDbPartitionWriteUnits,
    ),
    itemWriteUnits: hard(
      (peak * pattern.itemWriteUnitsPerVote * skew) / voteKeys,
      L.dynamoDbPartitionWriteUnits,
    ),
    tableWriteUnits: raisable(
      peak * pattern.tableWriteUnitsPerVote,
      L.dynamoDbTableQuotaWriteUnits,
      'DynamoDB writes',
    ),
    indexWriteUnits: raisable(
      peak * pattern.indexWriteUnitsPerVote,
      L.dynamoDbTableQuotaWriteUnits,
      'DynamoDB writes',
    ),
    apiRequests: raisable(peakRequests, L.apiGatewayAccountRequestsPerSecond, 'API Gateway'),
    // Little's law: environments busy = requests/s × seconds each (ASSUMPTIONS.voteP99Seconds).
    lambdaConcurrency: raisable(
      peakRequests * ASSUMPTIONS.voteP99Seconds,
      L.lambdaAccountConcurrency,
      'Lambda',
    ),
    // One channel, one open poll: whatever the audience, the same calls.
    putMetadata: hard(pattern.putMetadataPeakPerSecond, IVS_LIMITS.putMetadataPerChannelPerSecond),
    hotItemReadUnits: hard(peakViews * pattern.hotItemReadUnitsPerView, L.dynamoDbPartitionReadUnits),
  };
}

/** Within every limit but the quota raises README "Sizing and quotas" documents for this audience. */
export function withinLimits(c: Capacity): boolean {
  const loads = [
    c.keyWriteUnits,
    c.itemWriteUnits,
    c.tableWriteUnits,
    c.indexWriteUnits,
    c.apiRequests,
    c.lambdaConcurrency,
    c.putMetadata,
    c.hotItemReadUnits,
  ];
  return loads.every((l) => l.verdict === 'ok' || (l.verdict === 'quota raise' && l.documented === true));
}

export const CAPACITY_AUDIENCES = [1_000, 10_000, 100_000, 1_000_000] as const;

const cell = (l: Load) =>
  `${fmt(l.value)} ${l.verdict === 'ok' ? 'ok' : l.verdict === 'OVER' ? 'OVER' : l.documented ? 'raise*' : 'raise'}`;

/** Rows for bench/lib.ts `table`: each load with its verdict against the limit in the header. */
export function capacityRows(capacities: readonly Capacity[]): Array<Record<string, string>> {
  return capacities.map((c) => ({
    audience: fmt(c.audience),
    design: c.design,
    'votes/s': fmt(c.peakVotesPerSecond),
    keys: fmt(c.voteKeys),
    'key WU/s ≤1,000': cell(c.keyWriteUnits),
    'item WU/s ≤1,000': cell(c.itemWriteUnits),
    'table WU/s ≤40,000': cell(c.tableWriteUnits),
    'API req/s ≤10,000': cell(c.apiRequests),
    'Lambda ≤1,000': cell(c.lambdaConcurrency),
    'PutMetadata/s ≤5': cell(c.putMetadata),
    'item RU/s ≤3,000': cell(c.hotItemReadUnits),
    within: withinLimits(c) ? 'yes' : 'no',
  }));
}

// ---- From a metered storm to a pattern ---------------------------------------------------------------

/** The parts of a meter snapshot (local/meter.ts MeterSnapshot) the pattern reads. */
export interface MeteredStorm {
  pollId: string;
  /** Votes acknowledged with 201. */
  votes: number;
  /** Viewer-seconds of live-bar polling (0 when viewers did not poll). */
  pollingViewerSeconds: number;
  meter: {
    dynamodb: {
      partition_keys: Array<{ key: string; total: number }>;
      items_by_kind: Record<string, { items: number; write_units: number }>;
      index_write_units: { total: number };
      hottest_read_items: Array<{ key: string; total: number }>;
    };
    api: { requests: Record<string, number> };
    edge: { put_metadata: { peak_per_s: number } };
  };
}

const perVote = (n: number, votes: number) => Math.round((n / votes) * 1000) / 1000;

/**
 * A design's pattern with what the storm measured in place of the design's figures: writes per vote on
 * its key, its counter item, the table and the index; API requests per vote and per answered
 * viewer-second; counter reads per live-count read (when viewers polled); PutMetadata calls in the
 * busiest second (when `cuesCount`: the seed sent no tally cues, whatever our lifecycle does on its run).
 */
export function patternFromStorm(
  base: RequestPattern,
  storm: MeteredStorm,
  options: { cuesCount: boolean } = { cuesCount: true },
): RequestPattern {
  const { votes, meter } = storm;
  if (votes <= 0) return base;
  const voteKeys = meter.dynamodb.partition_keys.filter((k) => k.key.startsWith(`${storm.pollId}#`));
  const keyUnits = voteKeys.reduce((n, k) => n + k.total, 0);
  const counterUnits = meter.dynamodb.items_by_kind['#tally']?.write_units ?? 0;
  const pattern: RequestPattern = { ...base, measured: [] };
  const set = <K extends keyof Omit<RequestPattern, 'measured' | 'voteKeys'>>(key: K, value: number) => {
    pattern[key] = value;
    pattern.measured.push(key);
  };
  set('keyWriteUnitsPerVote', perVote(keyUnits, votes));
  set('itemWriteUnitsPerVote', perVote(counterUnits, votes));
  set('tableWriteUnitsPerVote', perVote(keyUnits, votes));
  set('indexWriteUnitsPerVote', perVote(meter.dynamodb.index_write_units.total, votes));
  set('apiRequestsPerVote', perVote(meter.api.requests['POST /requestor-put'] ?? 0, votes));
  const pollGets = meter.api.requests['GET /poll-get'] ?? 0;
  if (storm.pollingViewerSeconds > 0) {
    set('apiRequestsPerAnsweredViewerSecond', perVote(pollGets, storm.pollingViewerSeconds));
    const counterReads = Math.max(
      0,
      ...meter.dynamodb.hottest_read_items.filter((i) => i.key.endsWith(' #tally')).map((i) => i.total),
    );
    if (pollGets > 0) set('hotItemReadUnitsPerView', perVote(counterReads, pollGets));
  } else if (pollGets === 0) set('apiRequestsPerAnsweredViewerSecond', 0);
  if (options.cuesCount) set('putMetadataPeakPerSecond', meter.edge.put_metadata.peak_per_s);
  pattern.voteKeys = base.voteKeys;
  return pattern;
}
