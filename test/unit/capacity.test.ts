// The capacity model (bench/capacity.ts): what the seed's layout and ours cost at an audience, against
// AWS's limits. Figures come from the design's own request pattern here (bench/run.ts feeds it the
// pattern measured on the local stack); the rules below hold for both.
import { describe, expect, it } from '@jest/globals';
import {
  capacityFor,
  hashSkew,
  IVS_LIMITS,
  OURS_PATTERN,
  patternFromStorm,
  SCORE_ITEM_MAX_BYTES,
  SCORING_PATTERN,
  SEED_PATTERN,
  standingsRead,
  stormCurve,
  withinLimits,
  type MeteredStorm,
} from '../../bench/capacity.ts';
import { ASSUMPTIONS, AWS_LIMITS, sizeFor } from '../../core/sizing.ts';
import { DEFAULT_VOTE_SHARDS, MAX_VOTE_SHARDS } from '../../contract/table.ts';

describe('the storm curve', () => {
  it('is 60 % of the audience within 8 s: 7,500 votes/s on average and 15,000/s at the peak for 100,000 viewers', () => {
    const curve = stormCurve(100_000);
    expect(curve.voters).toBe(60_000);
    expect(curve.seconds).toBeCloseTo(ASSUMPTIONS.answerWindowSeconds);
    expect(curve.averageVotesPerSecond).toBe(7_500);
    expect(curve.peakVotesPerSecond).toBe(15_000);
    expect(curve.answered(curve.seconds)).toBeCloseTo(60_000);
    // The rate integrates to the votes so far.
    let sum = 0;
    for (let t = 0.0005; t < curve.seconds; t += 0.001) sum += curve.rate(t) * 0.001;
    expect(sum).toBeCloseTo(60_000, -1);
    expect(curve.answered(curve.seconds / 2)).toBeCloseTo(30_000);
  });

  it('has the same peak as the stack sizing (core/sizing.ts) at every audience', () => {
    for (const audience of [1_000, 10_000, 100_000, 1_000_000])
      expect(capacityFor(audience, 'ours', OURS_PATTERN).peakVotesPerSecond).toBe(
        sizeFor(audience).peakVotesPerSecond,
      );
  });
});

describe("the seed's design: one key per poll, one #tally item, live bars polled every 2 s", () => {
  it('its single tally item takes more than 1,000 write units/s from 10,000 viewers', () => {
    const c = capacityFor(10_000, 'seed', SEED_PATTERN);
    expect(c.voteKeys).toBe(1);
    expect(c.itemWriteUnits.value).toBe(1_500);
    expect(c.itemWriteUnits.verdict).toBe('OVER');
    expect(c.keyWriteUnits.value).toBe(3_000);
    expect(withinLimits(c)).toBe(false);
  });

  it('fits 1,000 viewers: every load under its default limit', () => {
    expect(withinLimits(capacityFor(1_000, 'seed', SEED_PATTERN))).toBe(true);
  });

  it('at 100,000 viewers its live bars read the tally item past 3,000 read units/s and need more API than the README raises', () => {
    const c = capacityFor(100_000, 'seed', SEED_PATTERN);
    expect(c.hotItemReadUnits.verdict).toBe('OVER');
    expect(c.apiRequests.verdict).toBe('quota raise');
    expect(c.apiRequests.documented).toBe(false);
    expect(c.apiRequests.value).toBeGreaterThan(2 * sizeFor(100_000).peakRequestsPerSecond - 1);
  });
});

describe('our design: votes sharded, live counts as tally cues', () => {
  it('keeps every vote key and counter item under 1,000 write units/s at 100,000 viewers (60 shards, the real hash)', () => {
    const c = capacityFor(100_000, 'ours', OURS_PATTERN);
    expect(c.voteKeys).toBe(DEFAULT_VOTE_SHARDS);
    expect(c.skew).toBeGreaterThan(1);
    expect(c.keyWriteUnits.value).toBeLessThanOrEqual(AWS_LIMITS.dynamoDbPartitionWriteUnits);
    expect(c.itemWriteUnits.value).toBeLessThanOrEqual(AWS_LIMITS.dynamoDbPartitionWriteUnits);
  });

  it('is within every limit at 100,000 viewers but the quota raises README "Sizing and quotas" lists', () => {
    const c = capacityFor(100_000, 'ours', OURS_PATTERN);
    expect(withinLimits(c)).toBe(true);
    expect(c.apiRequests).toMatchObject({ verdict: 'quota raise', documented: true });
  });

  it('needs no polling: its API requests at the peak are what the stack sizing plans for', () => {
    expect(capacityFor(100_000, 'ours', OURS_PATTERN).apiRequests.value).toBe(
      sizeFor(100_000).peakRequestsPerSecond,
    );
  });

  it('sends the same PutMetadata rate at every audience, within 5 calls/s per channel', () => {
    const rates = [1_000, 100_000, 1_000_000].map((a) => capacityFor(a, 'ours', OURS_PATTERN).putMetadata);
    expect(new Set(rates.map((r) => r.value)).size).toBe(1);
    expect(rates[0]!.value).toBeLessThanOrEqual(IVS_LIMITS.putMetadataPerChannelPerSecond);
  });

  it('at 1,000,000 viewers uses the most shards one BatchGetItem reads and its keys pass 1,000 write units/s (the layout limit sizing names)', () => {
    const c = capacityFor(1_000_000, 'ours', OURS_PATTERN);
    expect(c.voteKeys).toBe(MAX_VOTE_SHARDS);
    expect(c.keyWriteUnits.verdict).toBe('OVER');
    expect(sizeFor(1_000_000).designLimits.map((d) => d.name)).toContain('shard-writes');
  });
});

describe('hash skew', () => {
  it('is 1 for one key and a few percent for 60 shards of 60,000 voters', () => {
    expect(hashSkew(60_000, 1)).toBe(1);
    const skew = hashSkew(60_000, 60);
    expect(skew).toBeGreaterThan(1);
    expect(skew).toBeLessThan(1.1);
  });
});

describe('a pattern from a metered storm', () => {
  const storm = (polling: number): MeteredStorm => ({
    pollId: 'run:q',
    votes: 100,
    pollingViewerSeconds: polling,
    meter: {
      dynamodb: {
        partition_keys: [
          { key: 'run:q#0', total: 120 },
          { key: 'run:q#1', total: 80 },
          { key: 'run:q', total: 3 },
          { key: '#current', total: 1 },
        ],
        items_by_kind: { '#tally': { items: 2, write_units: 100 }, other: { items: 100, write_units: 100 } },
        index_write_units: { total: 100 },
        hottest_read_items: [
          { key: 'run:q #poll', total: 40 },
          { key: 'run:q#0 #tally', total: 25 },
        ],
      },
      api: { requests: { 'POST /requestor-put': 100, ...(polling ? { 'GET /poll-get': 50 } : {}) } },
      edge: { put_metadata: { peak_per_s: 2 } },
    },
  });

  it("counts only the poll's vote keys as vote writes, per acknowledged vote", () => {
    const p = patternFromStorm(OURS_PATTERN, storm(0));
    expect(p.keyWriteUnitsPerVote).toBe(2);
    expect(p.itemWriteUnitsPerVote).toBe(1);
    expect(p.indexWriteUnitsPerVote).toBe(1);
    expect(p.apiRequestsPerVote).toBe(1);
    expect(p.apiRequestsPerAnsweredViewerSecond).toBe(0);
    expect(p.putMetadataPeakPerSecond).toBe(2);
    expect(p.measured).toContain('keyWriteUnitsPerVote');
    expect(p.measured).not.toContain('hotItemReadUnitsPerView');
  });

  it('reads the live bars per answered viewer-second and the counter reads per poll view when viewers polled', () => {
    const p = patternFromStorm(SEED_PATTERN, storm(100), { cuesCount: false });
    expect(p.apiRequestsPerAnsweredViewerSecond).toBe(0.5);
    expect(p.hotItemReadUnitsPerView).toBe(0.5);
    // The seed sent no tally cues: its PutMetadata stays the design's.
    expect(p.putMetadataPeakPerSecond).toBe(SEED_PATTERN.putMetadataPeakPerSecond);
    expect(p.measured).not.toContain('putMetadataPeakPerSecond');
  });
});

describe('quiz scoring on (issue 22): a third write per quiz vote, on the score keys', () => {
  it('costs 3 write units per vote instead of 2, on as many score keys as vote keys, none busier than a vote key', () => {
    for (const audience of [1_000, 10_000, 100_000]) {
      const before = capacityFor(audience, 'ours', OURS_PATTERN);
      const after = capacityFor(audience, 'ours + scoring', SCORING_PATTERN);
      expect([before.writeUnitsPerVote, after.writeUnitsPerVote]).toEqual([2, 3]);
      expect(before.scoreKeys).toBe(0);
      expect(after.scoreKeys).toBe(after.voteKeys);
      expect(after.busiestKey).toEqual(before.busiestKey);
      expect(after.busiestKey.kind).toBe('vote shard');
      expect(after.scoreKeyWriteUnits.value).toBeLessThanOrEqual(AWS_LIMITS.dynamoDbPartitionWriteUnits);
      expect(after.tableWriteUnits.value).toBe(Math.ceil(after.peakVotesPerSecond * 3 - 1e-9));
    }
  });

  it('at 100,000 viewers the table takes 45,000 write units/s at the peak: past the 40,000 default, a raise sizing must list', () => {
    const after = capacityFor(100_000, 'ours + scoring', SCORING_PATTERN);
    expect(after.tableWriteUnits.value).toBe(45_000);
    expect(after.tableWriteUnits.verdict).toBe('quota raise');
    expect(after.scoreKeyWriteUnits.verdict).toBe('ok');
  });

  it("reads the standings at close within a score key's 3,000 read units/s, in one Query page per key, up to 1,000,000 viewers", () => {
    for (const audience of [1_000, 10_000, 100_000, 1_000_000]) {
      const read = capacityFor(audience, 'ours + scoring', SCORING_PATTERN).standingsRead!;
      expect(read.players).toBe(audience * ASSUMPTIONS.answeringShare);
      expect(read.keyReadUnits.verdict).toBe('ok');
    }
    expect(standingsRead(60_000, 60).pagesPerKey).toBe(1);
    expect(SCORE_ITEM_MAX_BYTES).toBeLessThan(1024);
    expect(capacityFor(100_000, 'ours', OURS_PATTERN).standingsRead).toBeUndefined();
  });

  it('measures the score writes per vote from a metered storm', () => {
    const p = patternFromStorm(SCORING_PATTERN, {
      pollId: 'run-1:q',
      votes: 100,
      pollingViewerSeconds: 0,
      meter: {
        dynamodb: {
          partition_keys: [
            { key: 'run-1:q#0', total: 200 },
            { key: '#score#run-1#0', total: 60 },
            { key: '#score#run-1#1', total: 40 },
          ],
          items_by_kind: { '#tally': { items: 1, write_units: 100 } },
          index_write_units: { total: 100 },
          hottest_read_items: [],
        },
        api: { requests: { 'POST /requestor-put': 100 } },
        edge: { put_metadata: { peak_per_s: 2 } },
      },
    });
    expect(p.scoreWriteUnitsPerVote).toBe(1);
    expect(p.measured).toContain('scoreWriteUnitsPerVote');
    expect(p.scoreKeys).toBe('votes');
  });
});
