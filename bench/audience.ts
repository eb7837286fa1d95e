// Feeds the capacity model (bench/capacity.ts) from storms on the local stack (bench/storm.ts), each
// on a metered stack of its own (local/meter.ts):
//   storm     ours, as `npm start` runs it: figures of the storm itself, and the request pattern.
//   capacity  the seed's layout and live bars measured the same way (VOTE_SHARDS=1: every vote and
//             counter on one key; answered viewers poll GET /poll-get every 2 s), then the model for
//             1k…1M viewers, both designs side by side. Then both designs again with DynamoDB's
//             per-partition limit scaled down as far as the local audience is from 100,000 viewers
//             (local/meter.ts writeCapPerKey), so the seed's hot key fails here as it would in AWS.
import {
  CAPACITY_AUDIENCES,
  OURS_PATTERN,
  SEED_PATTERN,
  capacityFor,
  capacityRows,
  patternFromStorm,
  type Capacity,
  type RequestPattern,
} from './capacity.ts';
import { round } from './lib.ts';
import { STORM_DEFAULTS, stormOnOwnStack, type StormMeasurement, type StormResult } from './storm.ts';

export interface StormSize {
  viewers: number;
  watchers: number;
}

export const STORM_SIZE: StormSize = { viewers: STORM_DEFAULTS.viewers, watchers: STORM_DEFAULTS.watchers };
export const QUICK_STORM_SIZE: StormSize = { viewers: 400, watchers: 5 };

/** The seed's polling doubles the requests of a storm: its measurement runs with at most this many viewers. */
const SEED_MAX_VIEWERS = 1_000;

export async function benchStorm(size: StormSize, log: (line: string) => void): Promise<StormMeasurement> {
  return stormOnOwnStack('ours', { ...size }, log);
}

/**
 * The storm with quiz scoring on (issue 22): the question is a quiz question of a show with the
 * speed bonus, each vote also adds to its player's score item; after the close the standings are
 * checked against every acknowledged vote (StormScoring). Metered, so the score writes per vote and
 * the busiest key are counted.
 */
export async function benchStormScoring(
  size: StormSize,
  log: (line: string) => void,
): Promise<StormMeasurement> {
  return stormOnOwnStack('ours + scoring', { ...size, scoring: true }, log);
}

/** What the meter counted of a storm with scoring: writes per vote by kind of key, and the busiest key. */
export function scoringMeterRow(m: StormMeasurement): Record<string, string | number> {
  const keys = m.meter?.dynamodb.partition_keys ?? [];
  const runId = m.pollId.slice(0, m.pollId.lastIndexOf(':'));
  const votes = Math.max(1, m.result.accepted);
  const sum = (filter: (key: string) => boolean) =>
    keys.filter((k) => filter(k.key)).reduce((n, k) => n + k.total, 0);
  const voteUnits = sum((key) => key.startsWith(`${m.pollId}#`));
  const scoreUnits = sum((key) => key.startsWith(`#score#${runId}#`));
  const busiest = [...keys].sort((a, b) => b.total - a.total)[0];
  return {
    votes: m.result.accepted,
    'vote key WU/vote': round(voteUnits / votes, 3),
    'score key WU/vote': round(scoreUnits / votes, 3),
    'WU/vote': round((voteUnits + scoreUnits) / votes, 3),
    'vote keys': keys.filter((k) => k.key.startsWith(`${m.pollId}#`)).length,
    'score keys': keys.filter((k) => k.key.startsWith(`#score#${runId}#`)).length,
    'busiest key': busiest ? `${busiest.key.replace(runId, '<run>')} (${busiest.total} WU)` : '–',
  };
}

/** The scoring check of a storm as a row (StormScoring). */
export function scoringCheckRow(result: StormResult): Record<string, string | number> {
  const s = result.scoring;
  if (!s) return {};
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v === null ? 'null' : (v as number)]));
}

/** What a metered storm tells the model. */
export function metered(m: StormMeasurement) {
  if (!m.meter) throw new Error('the storm ran on a stack without --meter');
  return {
    pollId: m.pollId,
    votes: m.result.accepted,
    pollingViewerSeconds: m.pollingViewerSeconds,
    meter: m.meter,
  };
}

export interface CapacityResult {
  patterns: { seed: RequestPattern; ours: RequestPattern };
  capacities: Capacity[];
  rows: Array<Record<string, string>>;
  /** The storms whose meter fed the patterns, and the two capped storms. */
  storms: Array<StormResult & { throttled_writes: number }>;
}

export async function benchCapacity(
  size: StormSize,
  ours: StormMeasurement | undefined,
  log: (line: string) => void,
): Promise<CapacityResult> {
  const oursStorm = ours ?? (await benchStorm(size, log));
  const seedSize = { viewers: Math.min(size.viewers, SEED_MAX_VIEWERS), watchers: size.watchers };
  log(
    `capacity: the seed's layout (VOTE_SHARDS=1) and live bars (GET /poll-get every 2 s), ${seedSize.viewers} viewers…`,
  );
  const seedStorm = await stormOnOwnStack('seed', { ...seedSize, voteShards: 1, pollEverySeconds: 2 }, log);

  const patterns = {
    ours: patternFromStorm(OURS_PATTERN, metered(oursStorm)),
    // The seed sent no tally cues: its PutMetadata stays the design's (the ask, then the results).
    seed: patternFromStorm(SEED_PATTERN, metered(seedStorm), { cuesCount: false }),
  };
  const capacities = CAPACITY_AUDIENCES.flatMap((audience) => [
    capacityFor(audience, 'seed', patterns.seed),
    capacityFor(audience, 'ours', patterns.ours),
  ]);

  log(`capacity: both designs again with the per-key write cap scaled to ${seedSize.viewers} viewers…`);
  const cappedSeed = await stormOnOwnStack(
    'seed, capped',
    { ...seedSize, voteShards: 1, pollEverySeconds: 2, capped: true },
    log,
  );
  const cappedOurs = await stormOnOwnStack('ours, capped', { ...seedSize, capped: true }, log);
  const throttled = (m: StormMeasurement) => m.meter?.dynamodb.throttled ?? 0;
  const storms = [oursStorm, seedStorm, cappedSeed, cappedOurs].map((m) => ({
    ...m.result,
    throttled_writes: throttled(m),
  }));
  return { patterns, capacities, rows: capacityRows(capacities), storms };
}

/** The storm's figures for a table (the note goes below it). */
export function stormRow(
  result: StormResult & { throttled_writes?: number },
): Record<string, string | number> {
  const { tally_lag_note: _note, scoring: _scoring, ...rest } = result;
  return Object.fromEntries(
    Object.entries(rest).map(([k, v]) => [k, v === null ? 'null' : typeof v === 'number' ? round(v, 1) : v]),
  );
}

/** The patterns as rows: each field, seed and ours, and whether it was measured. */
export function patternRows(patterns: CapacityResult['patterns']): Array<Record<string, string | number>> {
  const fields = Object.keys(SEED_PATTERN).filter((k) => k !== 'measured') as Array<
    keyof Omit<RequestPattern, 'measured'>
  >;
  const show = (p: RequestPattern, f: (typeof fields)[number]) =>
    `${String(p[f])}${p.measured.includes(f) ? ' (measured)' : ''}`;
  return fields.map((f) => ({ field: f, seed: show(patterns.seed, f), ours: show(patterns.ours, f) }));
}
