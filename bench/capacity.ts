// The capacity model. Pure: no I/O. It takes a design's request pattern — what one
// vote, one second of an answered viewer and one second of an open poll cost, as counted by the local
// stack's meter during a storm (bench/storm.ts, local/meter.ts) — and the storm curve of
// core/sizing.ts's ASSUMPTIONS, and gives, for an audience, the peak load on every AWS limit the
// design meets: write units per partition key and per item, table writes, API requests, Lambda
// concurrency, IVS PutMetadata calls and reads of the hottest item, each against AWS_LIMITS.
//
// Three kinds of figures, kept apart:
//   measured   per-vote and per-viewer-second counts from a metered local storm (RequestPattern.measured
//              names which fields were); scaled by the model, not extrapolated from the local rates.
//   modelled   the storm curve and the other traffic (ASSUMPTIONS), a vote's duration (Lambda's Little's
//              law), the hash skew at the audience's size (core/shard.ts over synthetic viewer ids).
//   limits     AWS's published values: AWS_LIMITS (core/sizing.ts, with sources) and IVS_LIMITS below.
import { ASSUMPTIONS, AWS_LIMITS, fmt, sizeFor } from '../core/sizing.ts';
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
  /**
   * Quiz scoring (issue 22): write units a quiz vote puts on its player's score key
   * (`#score#<runId>#<shard>`, the score item's ADD of score, total_ms and answered); 0 without scoring.
   */
  scoreWriteUnitsPerVote: number;
  /** Partition keys a run's score items are spread over: a number, or 'votes' (as many as the poll's vote keys). */
  scoreKeys: number | 'votes';
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
  scoreWriteUnitsPerVote: 0,
  scoreKeys: 1,
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
  scoreWriteUnitsPerVote: 0,
  scoreKeys: 'votes',
  measured: [],
};

/**
 * Ours with quiz scoring on (issue 22, store/scores.ts): a quiz vote also ADDs to its player's score
 * item, on the score key `#score#<runId>#<shard>` (shardOf(viewer id, score_shards)), a third write
 * (1 unit: the item stays under 1 KB, SCORE_ITEM_MAX_BYTES). The score items are spread over as many
 * keys as the votes (score_shards is fixed at the run's first question from the same sizing).
 */
export const SCORING_PATTERN: RequestPattern = {
  ...OURS_PATTERN,
  scoreWriteUnitsPerVote: 1,
  scoreKeys: 'votes',
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
   * For a quota raise: whether README "Sizing and quotas" (core/sizing.ts sizeFor, the raises the
   * stack for this audience needs) lists this quota raised at least this far.
   */
  documented?: boolean;
}

/** The busiest partition key of the storm's peak second. */
export interface BusiestKey {
  kind: 'vote shard' | 'score shard';
  /** Its write units/s at the peak (hash skew included). */
  writeUnits: number;
}

/**
 * The standings read at each quiz question's close (store/scores.ts): a strongly consistent Query
 * of every score key, in parallel, reading every player's score item. Strongly consistent reads
 * cost 1 unit per 4 KB read; one Query page holds at most 1 MB.
 */
export interface StandingsRead {
  players: number;
  /** Read units of the whole read (every score key). */
  readUnits: number;
  /** Read units the busiest score key serves for it, in the one second the read takes or less (limit 3,000/s). */
  keyReadUnits: Load;
  /** Query pages the busiest key needs (1 MB each): the sequential round trips of the read. */
  pagesPerKey: number;
}

export interface Capacity {
  audience: number;
  design: string;
  peakVotesPerSecond: number;
  voteKeys: number;
  /** The busiest shard over the average (1 for one key). */
  skew: number;
  /** Score keys of a run (0 without scoring). */
  scoreKeys: number;
  /** Write units per vote on the table (all keys): 2 without scoring, 3 with it. */
  writeUnitsPerVote: number;
  busiestKey: BusiestKey;
  /** Write units/s on the busiest score key (0 without scoring). */
  scoreKeyWriteUnits: Load;
  /** The close's read of the standings (undefined without scoring). */
  standingsRead?: StandingsRead;
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
  const scoring = pattern.scoreWriteUnitsPerVote > 0;
  const scoreKeys = !scoring ? 0 : pattern.scoreKeys === 'votes' ? voteKeys : pattern.scoreKeys;
  const scoreSkew = scoring ? hashSkew(curve.voters, scoreKeys) : 1;

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

  const voteKeyUnits = (peak * pattern.keyWriteUnitsPerVote * skew) / voteKeys;
  const scoreKeyUnits = scoring ? (peak * pattern.scoreWriteUnitsPerVote * scoreSkew) / scoreKeys : 0;
  const busiestKey: BusiestKey =
    scoreKeyUnits > voteKeyUnits
      ? { kind: 'score shard', writeUnits: Math.ceil(scoreKeyUnits - 1e-9) }
      : { kind: 'vote shard', writeUnits: Math.ceil(voteKeyUnits - 1e-9) };
  const writeUnitsPerVote = pattern.tableWriteUnitsPerVote + pattern.scoreWriteUnitsPerVote;

  return {
    audience,
    design,
    peakVotesPerSecond: Math.ceil(peak - 1e-9),
    voteKeys,
    skew,
    scoreKeys,
    writeUnitsPerVote,
    busiestKey,
    scoreKeyWriteUnits: hard(scoreKeyUnits, L.dynamoDbPartitionWriteUnits),
    ...(scoring ? { standingsRead: standingsRead(curve.voters, scoreKeys, scoreSkew) } : {}),
    keyWriteUnits: hard(
      (peak * pattern.keyWriteUnitsPerVote * skew) / voteKeys,
      L.dynamoDbPartitionWriteUnits,
    ),
    itemWriteUnits: hard(
      (peak * pattern.itemWriteUnitsPerVote * skew) / voteKeys,
      L.dynamoDbPartitionWriteUnits,
    ),
    tableWriteUnits: raisable(peak * writeUnitsPerVote, L.dynamoDbTableQuotaWriteUnits, 'DynamoDB writes'),
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

/**
 * The largest a score item gets, in DynamoDB's item size (attribute names + values): partition key
 * `#score#<runId>#<shard>` with the longest run id (80), the longest viewer id (64), score, total_ms,
 * first_at and timestamp_ttl (numbers of up to 21 bytes each) and `answered`, the local ids of the
 * quiz questions answered (up to 40 questions of up to 32 characters, say): under 1 KB, so its ADD
 * is 1 write unit however long the show.
 */
export const SCORE_ITEM_MAX_BYTES =
  'poll_id'.length +
  '#score#'.length +
  80 +
  1 +
  2 +
  'requestor_id'.length +
  64 +
  'score'.length +
  21 +
  'total_ms'.length +
  21 +
  'first_at'.length +
  21 +
  'timestamp_ttl'.length +
  21 +
  'answered'.length +
  40 * 8;
/** A typical score item: a 34-character run id, a 36-character viewer id, a few questions answered. */
export const SCORE_ITEM_TYPICAL_BYTES = 7 + 7 + 34 + 3 + 12 + 36 + 5 + 4 + 8 + 5 + 8 + 8 + 13 + 6 + 8 + 6;
const QUERY_PAGE_BYTES = 1024 * 1024;
const STRONG_READ_BYTES_PER_UNIT = 4096;

/** The close's standings read for `players` players over `keys` score keys (the busiest `skew` × the average). */
export function standingsRead(players: number, keys: number, skew = 1): StandingsRead {
  const p = Math.round(players);
  const bytes = (n: number) => n * SCORE_ITEM_TYPICAL_BYTES;
  const perKey = (p / Math.max(1, keys)) * skew;
  const readUnits = Math.ceil(bytes(p) / STRONG_READ_BYTES_PER_UNIT);
  const keyUnits = Math.ceil(bytes(perKey) / STRONG_READ_BYTES_PER_UNIT);
  return {
    players: p,
    readUnits,
    keyReadUnits: {
      value: keyUnits,
      limit: AWS_LIMITS.dynamoDbPartitionReadUnits,
      verdict: keyUnits <= AWS_LIMITS.dynamoDbPartitionReadUnits ? 'ok' : 'OVER',
    },
    pagesPerKey: Math.max(1, Math.ceil(bytes(perKey) / QUERY_PAGE_BYTES)),
  };
}

/** Within every limit but the quota raises README "Sizing and quotas" documents for this audience. */
export function withinLimits(c: Capacity): boolean {
  const loads = [
    c.scoreKeyWriteUnits,
    ...(c.standingsRead ? [c.standingsRead.keyReadUnits] : []),
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
    'WU/vote': fmt(c.writeUnitsPerVote),
    'key WU/s ≤1,000': cell(c.keyWriteUnits),
    'score key WU/s ≤1,000': c.scoreKeys ? cell(c.scoreKeyWriteUnits) : '–',
    'busiest key': `${c.busiestKey.kind} ${fmt(c.busiestKey.writeUnits)}`,
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
  const set = <K extends keyof Omit<RequestPattern, 'measured' | 'voteKeys' | 'scoreKeys'>>(
    key: K,
    value: number,
  ) => {
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
  // Quiz scoring: the writes on the run's score keys (`#score#<runId>#<shard>`), per vote.
  const runId = storm.pollId.slice(0, storm.pollId.lastIndexOf(':'));
  const scoreKeys = meter.dynamodb.partition_keys.filter((k) => k.key.startsWith(`#score#${runId}#`));
  if (scoreKeys.length > 0 || base.scoreWriteUnitsPerVote > 0)
    set(
      'scoreWriteUnitsPerVote',
      perVote(
        scoreKeys.reduce((n, k) => n + k.total, 0),
        votes,
      ),
    );
  pattern.voteKeys = base.voteKeys;
  pattern.scoreKeys = base.scoreKeys;
  return pattern;
}

// ---- Scoring on: before and after ---------------------------------------------------------------------

/**
 * Quiz scoring's cost at each audience, before (ours, a vote = the answer's put and the shard
 * counter's ADD) and after (the score item's ADD too): write units per vote, the table's write units
 * at the peak, the busiest key and what it takes, and the close's standings read.
 */
export function scoringRows(
  audiences: readonly number[],
  before: RequestPattern = OURS_PATTERN,
  after: RequestPattern = SCORING_PATTERN,
): Array<Record<string, string>> {
  return audiences.map((audience) => {
    const b = capacityFor(audience, 'ours', before);
    const a = capacityFor(audience, 'ours + scoring', after);
    const read = a.standingsRead!;
    return {
      audience: fmt(audience),
      'votes/s': fmt(a.peakVotesPerSecond),
      'WU/vote before→after': `${fmt(b.writeUnitsPerVote)} → ${fmt(a.writeUnitsPerVote)}`,
      'table WU/s before→after': `${fmt(b.tableWriteUnits.value)} → ${fmt(a.tableWriteUnits.value)}`,
      'busiest key before': `${b.busiestKey.kind} ${fmt(b.busiestKey.writeUnits)} WU/s`,
      'busiest key after': `${a.busiestKey.kind} ${fmt(a.busiestKey.writeUnits)} WU/s`,
      'score key WU/s ≤1,000': cell(a.scoreKeyWriteUnits),
      'score keys': fmt(a.scoreKeys),
      'standings read RU': fmt(read.readUnits),
      'per key RU ≤3,000': cell(read.keyReadUnits),
      'pages/key': fmt(read.pagesPerKey),
      within: withinLimits(a) ? 'yes' : 'no',
    };
  });
}
