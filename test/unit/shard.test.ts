// Votes spread over partitions (docs/sharding.md): the shard function, the shard count's
// arithmetic against DynamoDB's per-key limit, and the close step's timing budget.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLOCK_MARGIN_MS, VOTE_CLOSE_DEADLINE_MS, VOTE_DEADLINE_MS } from '../../contract/api.ts';
import {
  DEFAULT_VOTE_SHARDS,
  DESIGN_PEAK_VOTES_PER_SECOND,
  MAX_VOTE_SHARDS,
  PARTITION_WRITE_UNITS_PER_SECOND,
  VOTE_WRITE_UNITS,
  shardPartitionKey,
  voteShardsFor,
} from '../../contract/table.ts';
import { STATES } from '../../contract/state-machine.ts';
import { withinVoteDeadline } from '../../core/poll.ts';
import { fnv1a32, shardOf } from '../../core/shard.ts';
import { MAX_VOTE_SETTLE_MS, pollLifecycleConfigFromEnv } from '../../lambdas/poll-lifecycle.ts';
import { ConfigError } from '../../lambdas/config.ts';
import { ROOT } from '../support/stack.ts';

/** Deterministic v4-shaped UUIDs (the site's viewer ids) from a small PRNG (mulberry32). */
function uuids(count: number, seed = 12): string[] {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0).toString(16).padStart(8, '0');
  };
  return Array.from({ length: count }, () => {
    const h = next() + next() + next() + next();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  });
}

function perShard(ids: readonly string[], shards: number): number[] {
  const counts = Array.from({ length: shards }, () => 0);
  for (const id of ids) counts[shardOf(id, shards)]! += 1;
  return counts;
}

/** Pearson's chi-square statistic against the uniform distribution. */
function chiSquare(counts: readonly number[]): number {
  const expected = counts.reduce((a, b) => a + b, 0) / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

describe('shardOf (FNV-1a of requestor_id, mixed)', () => {
  it('is 32-bit FNV-1a (published test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('is stable: the same viewer always lands on the same shard, within range', () => {
    for (const id of ['viewer-1', 'crowd-999', ...uuids(100)]) {
      const shard = shardOf(id, DEFAULT_VOTE_SHARDS);
      expect(shard).toBe(shardOf(id, DEFAULT_VOTE_SHARDS));
      expect(shard).toBeGreaterThanOrEqual(0);
      expect(shard).toBeLessThan(DEFAULT_VOTE_SHARDS);
    }
    expect(shardOf('anyone', 1)).toBe(0);
    expect(() => shardOf('x', 0)).toThrow(RangeError);
    expect(shardPartitionKey('run:q1', 7)).toBe('run:q1#7');
  });

  it.each([
    ['random UUIDs (the site)', uuids(100_000)],
    ['sequential ids (crowd-0, crowd-1, …)', Array.from({ length: 100_000 }, (_, i) => `crowd-${i}`)],
  ])('spreads 100,000 %s evenly over the shards', (_name, ids) => {
    for (const shards of [DEFAULT_VOTE_SHARDS, 64, 7]) {
      const counts = perShard(ids, shards);
      const mean = ids.length / shards;
      // Uniform: chi-square with shards − 1 degrees of freedom stays below its 99.9th percentile
      // (below df + 4.4·√(2·df) for these df) and no shard is more than 15 % off the mean.
      const df = shards - 1;
      expect(chiSquare(counts)).toBeLessThan(df + 4.4 * Math.sqrt(2 * df));
      expect(Math.max(...counts)).toBeLessThan(mean * 1.15);
      expect(Math.min(...counts)).toBeGreaterThan(mean * 0.85);
    }
  });
});

describe('shard count (contract/table.ts)', () => {
  it('keeps every shard key at half the per-partition write limit at the design peak', () => {
    expect(DEFAULT_VOTE_SHARDS).toBe(60);
    // 15,000 votes/s × 2 write units (answer put + counter ADD) / 60 shards = 500 units/s a key.
    const perKey = (DESIGN_PEAK_VOTES_PER_SECOND * VOTE_WRITE_UNITS) / DEFAULT_VOTE_SHARDS;
    expect(perKey).toBe(500);
    // With the real hash over 100,000 viewers, the busiest shard's share of the peak still fits.
    const counts = perShard(uuids(100_000), DEFAULT_VOTE_SHARDS);
    const busiest = (Math.max(...counts) / 100_000) * DESIGN_PEAK_VOTES_PER_SECOND * VOTE_WRITE_UNITS;
    expect(busiest).toBeLessThan(0.6 * PARTITION_WRITE_UNITS_PER_SECOND);
    // Its counter item takes one ADD a vote: half of that.
    expect(busiest / VOTE_WRITE_UNITS).toBeLessThan(0.3 * PARTITION_WRITE_UNITS_PER_SECOND);
  });

  it('grows with the peak, within 1 and one BatchGetItem (100 keys)', () => {
    expect(voteShardsFor(0)).toBe(1);
    expect(voteShardsFor(100)).toBe(1);
    expect(voteShardsFor(1_000)).toBe(4);
    expect(voteShardsFor(DESIGN_PEAK_VOTES_PER_SECOND)).toBe(60);
    expect(voteShardsFor(1_000_000)).toBe(MAX_VOTE_SHARDS);
    expect(MAX_VOTE_SHARDS).toBeLessThanOrEqual(100);
  });

  it('VOTE_SHARDS sets the count a poll opens with, 1 to 100', () => {
    expect(pollLifecycleConfigFromEnv({ TABLE_NAME: 't' }).voteShards).toBe(DEFAULT_VOTE_SHARDS);
    expect(pollLifecycleConfigFromEnv({ TABLE_NAME: 't', VOTE_SHARDS: '8' }).voteShards).toBe(8);
    expect(() => pollLifecycleConfigFromEnv({ TABLE_NAME: 't', VOTE_SHARDS: '0' })).toThrow(ConfigError);
    expect(() => pollLifecycleConfigFromEnv({ TABLE_NAME: 't', VOTE_SHARDS: '101' })).toThrow(ConfigError);
  });
});

describe('close waits out the vote deadline', () => {
  it('a vote is acknowledged only if written within VOTE_DEADLINE_MS of its check', () => {
    const checked = new Date('2026-11-25T10:00:00.000Z');
    const later = new Date(checked.getTime() + 60_000);
    expect(withinVoteDeadline(checked, new Date(checked.getTime() + VOTE_DEADLINE_MS), later)).toBe(true);
    expect(withinVoteDeadline(checked, new Date(checked.getTime() + VOTE_DEADLINE_MS + 1), later)).toBe(
      false,
    );
  });

  it('and within VOTE_CLOSE_DEADLINE_MS of closes_at, which the normal close waits out', () => {
    const closesAt = new Date('2026-11-25T10:00:00.000Z');
    const checked = new Date(closesAt.getTime() - 1);
    const by = closesAt.getTime() + VOTE_CLOSE_DEADLINE_MS;
    expect(withinVoteDeadline(checked, new Date(by), closesAt)).toBe(true);
    expect(withinVoteDeadline(checked, new Date(by + 1), closesAt)).toBe(false);
    expect(VOTE_CLOSE_DEADLINE_MS).toBeLessThan(VOTE_DEADLINE_MS);
  });

  it('the recount waits the close deadline and a clock margin by default, and never less than the deadline', () => {
    expect(pollLifecycleConfigFromEnv({ TABLE_NAME: 't' }).voteSettleMs).toBe(
      VOTE_CLOSE_DEADLINE_MS + CLOCK_MARGIN_MS,
    );
    expect(() =>
      pollLifecycleConfigFromEnv({ TABLE_NAME: 't', VOTE_SETTLE_MS: String(VOTE_CLOSE_DEADLINE_MS - 1) }),
    ).toThrow(ConfigError);
  });

  it("the longest wait leaves Close's task timeout room for the recount", () => {
    const machine = JSON.parse(readFileSync(join(ROOT, 'statemachine/show.asl.json'), 'utf8'));
    const close = machine.States[STATES.RunPolls].ItemProcessor.States[STATES.Close] as {
      TimeoutSeconds: number;
    };
    // The Wait before Close may end up to 1 s early (Timestamp truncated to seconds).
    const worstWaitMs = MAX_VOTE_SETTLE_MS + 1000;
    expect(close.TimeoutSeconds * 1000 - worstWaitMs).toBeGreaterThanOrEqual(20_000);
  });
});
