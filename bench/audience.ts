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

/** What a metered storm tells the model. */
function metered(m: StormMeasurement) {
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
  const { tally_lag_note: _note, ...rest } = result;
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
