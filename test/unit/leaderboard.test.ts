// The leaderboard (issue 22, core/leaderboard.ts): each test is named after the rule it checks.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MAX_CUE_BYTES } from '../../contract/cues.ts';
import { CueTooLargeError } from '../../core/cues.ts';
import {
  LEADERBOARD_TOP,
  THRESHOLD_PERCENTS,
  TRIMMED,
  cueBytes,
  displayName,
  isFallbackName,
  leaderboardOf,
  ownPlace,
  placesInTop,
  shortId,
  standings,
  thresholdsOf,
  thresholdsOfCounts,
  trimName,
  type LeaderboardCue,
  type PlayerStanding,
} from '../../core/leaderboard.ts';

const player = (requestorId: string, score: number, over: Partial<PlayerStanding> = {}): PlayerStanding => ({
  requestorId,
  name: requestorId.toUpperCase(),
  score,
  totalAnswerMs: 10_000,
  firstAnsweredAt: 1_000,
  ...over,
});

/** The longest poll id a run can have: an 80-character run id, ':', a 40-character poll id. */
const LONGEST_POLL_ID = `${'r'.repeat(80)}:${'q'.repeat(40)}`;

/** A player's place as the server's standings say it: 1-based position in standings(). */
const positions = (players: readonly PlayerStanding[]) =>
  new Map(standings(players).map((p, i) => [p.requestorId, i + 1]));

describe('standings and the cue: "the top 10, the number of players, and the score thresholds"', () => {
  it('the cue body is {"v":1,"type":"leaderboard","poll_id":…,"players":N,"top":[{rank,name,score}…],"thresholds":{…}}', () => {
    const cue = leaderboardOf([player('a', 500), player('b', 1500), player('c', 1000)], { pollId: 'run:q1' });
    expect(JSON.parse(JSON.stringify(cue))).toEqual({
      v: 1,
      type: 'leaderboard',
      poll_id: 'run:q1',
      players: 3,
      top: [
        { rank: 1, name: 'B', score: 1500 },
        { rank: 2, name: 'C', score: 1000 },
        { rank: 3, name: 'A', score: 500 },
      ],
      thresholds: { '1': 1500, '5': 1500, '10': 1500, '25': 1500, '50': 1000 },
    });
  });

  it('"carries the top 10": ten players listed, however many play', () => {
    const players = Array.from({ length: 30 }, (_, i) => player(`p${i}`, i * 10));
    const cue = leaderboardOf(players, { pollId: 'run:q1' });
    expect(LEADERBOARD_TOP).toBe(10);
    expect(cue.top.map((e) => e.score)).toEqual([290, 280, 270, 260, 250, 240, 230, 220, 210, 200]);
    expect(cue.players).toBe(30);
  });

  it('"After the last quiz question the cue carries "final":true", and only then', () => {
    expect(leaderboardOf([player('a', 1)], { pollId: 'r:q9', final: true }).final).toBe(true);
    expect(leaderboardOf([player('a', 1)], { pollId: 'r:q1' })).not.toHaveProperty('final');
    expect(leaderboardOf([player('a', 1)], { pollId: 'r:q1', final: false })).not.toHaveProperty('final');
  });

  it('ranks are ordinal: the tie-breaks make the order total, so equal scores get 1, 2, 3, not 1, 1, 1', () => {
    const cue = leaderboardOf(
      [
        player('slow', 1000, { totalAnswerMs: 9_000 }),
        player('late', 1000, { totalAnswerMs: 5_000, firstAnsweredAt: 2_000 }),
        player('fast', 1000, { totalAnswerMs: 5_000, firstAnsweredAt: 1_000 }),
      ],
      { pollId: 'r:q1' },
    );
    expect(cue.top).toEqual([
      { rank: 1, name: 'FAST', score: 1000 },
      { rank: 2, name: 'LATE', score: 1000 },
      { rank: 3, name: 'SLOW', score: 1000 },
    ]);
  });

  it('"hidden and unnamed players show as "Player" plus a short id": a null name is displayName(null, …)', () => {
    const cue = leaderboardOf([player('viewer-1', 10, { name: null })], { pollId: 'r:q1' });
    expect(cue.top[0]!.name).toBe(`Player ${shortId('viewer-1')}`);
  });

  it('no players: an empty list, 0 players and every threshold 0', () => {
    expect(leaderboardOf([], { pollId: 'r:q1' })).toMatchObject({
      players: 0,
      top: [],
      thresholds: { '1': 0, '5': 0, '10': 0, '25': 0, '50': 0 },
    });
  });
});

describe('thresholds: "the score thresholds for the top 1, 5, 10, 25 and 50 %"', () => {
  it('the threshold of the top p % is the score at place ⌈n × p / 100⌉: a score ≥ it is in the top p %', () => {
    const scores = Array.from({ length: 200 }, (_, i) => 2000 - i * 10); // 2000, 1990, …, 10
    expect(placesInTop(200, 1)).toBe(2);
    expect(thresholdsOf(scores)).toEqual({ '1': 1990, '5': 1910, '10': 1810, '25': 1510, '50': 1010 });
  });

  it('at least one place as soon as there is a player: the best of 30 is their top 1 %', () => {
    expect(placesInTop(30, 1)).toBe(1);
    expect(thresholdsOf([70, 60, 50])).toEqual({ '1': 70, '5': 70, '10': 70, '25': 70, '50': 60 });
  });

  it('ties share the bucket: with place k tied, every player with that score is in (the top 1 % of 1,000 may be more than 10)', () => {
    const scores = [...Array.from({ length: 9 }, () => 900), ...Array.from({ length: 991 }, () => 800)];
    const { '1': top1 } = thresholdsOf(scores);
    expect(top1).toBe(800);
    expect(scores.filter((s) => s >= top1)).toHaveLength(1000);
  });

  it('refuses a list that is not sorted best first', () => {
    expect(() => thresholdsOf([1, 2])).toThrow('scores: expected best first, but [1] is above [0]');
  });

  it('"at 100k players": O(n) after sorting, 100,000 scores in milliseconds', () => {
    const scores = Array.from({ length: 100_000 }, (_, i) => 40_000 - Math.floor(i / 3));
    const started = performance.now();
    const thresholds = thresholdsOf(scores);
    expect(performance.now() - started).toBeLessThan(50);
    expect(thresholds['1']).toBe(scores[999]);
    expect(thresholds['50']).toBe(scores[49_999]);
  });

  it('a histogram (score → players) gives the same thresholds as the sorted list (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 300 }), (scores) => {
        const counts = new Map<number, number>();
        for (const s of scores) counts.set(s, (counts.get(s) ?? 0) + 1);
        // Split into shards with repeated keys, as a per-shard histogram would be read back.
        const rows = [...counts].flatMap(([s, c]) => [
          [s, Math.floor(c / 2)] as const,
          [s, c - Math.floor(c / 2)] as const,
        ]);
        expect(thresholdsOfCounts(rows)).toEqual({
          players: scores.length,
          thresholds: thresholdsOf([...scores].sort((a, b) => b - a)),
        });
      }),
    );
  });
});

describe('names: "hidden and unnamed players show as "Player" plus a short id"', () => {
  it('a nickname shows as itself; hidden or absent, as "Player XXXX"', () => {
    expect(displayName('Ada', false, 'id-1')).toBe('Ada');
    expect(displayName('Ada', true, 'id-1')).toBe(`Player ${shortId('id-1')}`);
    expect(displayName(null, false, 'id-1')).toMatch(/^Player [0-9A-HJKMNP-TV-Z]{4}$/);
  });

  it('the short id is stable (a pure function of the id) and not a piece of the id', () => {
    const id = 'c0ffee00-1234-8abc-9def-0123456789ab';
    expect(shortId(id)).toBe(shortId(id));
    expect(shortId(id)).toBe('ZGNR'); // pinned: a change would rename every unnamed player
    expect(id.toUpperCase()).not.toContain(shortId(id));
  });

  it('"unambiguous enough": 100,000 ids give as many distinct short ids as random 20-bit values would', () => {
    const ids = new Set(Array.from({ length: 100_000 }, (_, i) => shortId(`crowd-${i}`)));
    // Expected distinct values of 100,000 draws from 2^20: 2^20 × (1 − e^(−100,000 / 2^20)) ≈ 95,365.
    expect(ids.size).toBeGreaterThan(94_500);
    expect(ids.size).toBeLessThan(96_200);
  });

  it('a name shaped like "Player" + short id, in any case or spacing, is a fallback name', () => {
    expect(isFallbackName(displayName(null, true, 'x'))).toBe(true);
    expect(isFallbackName('player 7k3q')).toBe(true);
    expect(isFallbackName('Player7K3Q')).toBe(true);
    expect(isFallbackName('Player Bill')).toBe(false); // I and L are not in the alphabet
    expect(isFallbackName('Player One')).toBe(false);
  });
});

describe('size: "a `leaderboard` cue (≤ 1 KB)"', () => {
  const fourByte = '𝒜'.repeat(20); // 20 code points of 4 UTF-8 bytes
  const worst = (name: string, score = Number.MAX_SAFE_INTEGER): PlayerStanding[] =>
    Array.from({ length: 10 }, (_, i) => player(`p${i}`, score - i, { name }));

  it('"even with 10 names of 20 characters of 4-byte code points": the longest poll id, huge scores, final', () => {
    const untrimmed = 10 * (80 + 40) + 400; // the names alone are 800 bytes
    expect(untrimmed).toBeGreaterThan(MAX_CUE_BYTES);
    const cue = leaderboardOf(worst(fourByte), { pollId: LONGEST_POLL_ID, final: true });
    expect(cueBytes(cue)).toBeLessThanOrEqual(MAX_CUE_BYTES);
    expect(Buffer.byteLength(JSON.stringify(cue))).toBe(cueBytes(cue));
  });

  it('what gets trimmed: names, longest first, cut at a grapheme boundary and ending in "…"; short names stay whole', () => {
    const players = [
      ...worst(fourByte).slice(0, 9),
      player('short', 1, { name: 'Ada' }), // last place, short name
    ];
    const cue = leaderboardOf(players, { pollId: LONGEST_POLL_ID, final: true });
    const trimmed = cue.top.slice(0, 9).map((e) => e.name);
    for (const name of trimmed) {
      expect(name.endsWith(TRIMMED)).toBe(true);
      expect(fourByte.startsWith(name.slice(0, -1))).toBe(true);
    }
    expect(new Set(trimmed).size).toBe(1); // one common cap
    expect(cue.top[9]!.name).toBe('Ada');
    // The cap is the largest that fits: one more grapheme on each would not.
    const longer = { ...cue, top: cue.top.map((e, i) => (i < 9 ? { ...e, name: `${e.name}𝒜` } : e)) };
    expect(cueBytes(longer)).toBeGreaterThan(MAX_CUE_BYTES);
  });

  it('a trim never splits a grapheme cluster (an emoji with a skin tone stays whole or goes)', () => {
    expect(trimName('👍🏽👍🏽👍🏽', 11)).toBe('👍🏽…'); // each cluster is 8 bytes; "…" is 3
    expect(trimName('👍🏽👍🏽👍🏽', 10)).toBe(TRIMMED);
    expect(trimName('Ada', 3)).toBe('Ada');
  });

  it('an impossible poll id is refused with CueTooLargeError, not sent', () => {
    expect(() => leaderboardOf(worst(fourByte), { pollId: 'x'.repeat(1000) })).toThrow(CueTooLargeError);
  });

  it('"≤ 1 KB" for any names, scores and player count (fast-check)', () => {
    const name = fc.option(
      fc.string({ unit: fc.constantFrom('a', '"', '\\', 'é', '猫', '𝒜', '👍🏽'), minLength: 1, maxLength: 20 }),
      { nil: null },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(name, fc.nat({ max: Number.MAX_SAFE_INTEGER })), { minLength: 0, maxLength: 25 }),
        fc.boolean(),
        (rows, final) => {
          const players = rows.map(([n, score], i) => player(`viewer-${i}`, score, { name: n }));
          const cue = leaderboardOf(players, { pollId: LONGEST_POLL_ID, final });
          expect(cueBytes(cue)).toBeLessThanOrEqual(MAX_CUE_BYTES);
          expect(cue.top).toHaveLength(Math.min(10, players.length));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('ownPlace: "the player\'s own place ("#4" inside the top 10, else "top 5 %"), computed from its own score"', () => {
  const field = (scores: number[]) => scores.map((s, i) => player(`p${String(i).padStart(3, '0')}`, s));

  it('"#4" inside the top 10: the rank of the listed entry with that score', () => {
    const players = field([100, 90, 80, 70, 60, 50, 40, 30, 20, 10, 5, 1]);
    const cue = leaderboardOf(players, { pollId: 'r:q' });
    expect(ownPlace(70, cue)).toEqual({ kind: 'rank', rank: 4 });
    expect(ownPlace(70, cue, 'P003')).toEqual({ kind: 'rank', rank: 4 });
  });

  it('"else "top 5 %"": the smallest bucket whose threshold the score reaches', () => {
    const players = field(Array.from({ length: 400 }, (_, i) => 4000 - i * 10));
    const cue = leaderboardOf(players, { pollId: 'r:q' });
    // 400 players: top 1 % = 4 places, 5 % = 20, 10 % = 40, 25 % = 100, 50 % = 200.
    expect(ownPlace(3890, cue)).toEqual({ kind: 'top', percent: 5 }); // 12th
    expect(ownPlace(3810, cue)).toEqual({ kind: 'top', percent: 5 }); // 20th
    expect(ownPlace(3800, cue)).toEqual({ kind: 'top', percent: 10 }); // 21st
    expect(ownPlace(2010, cue)).toEqual({ kind: 'top', percent: 50 }); // 200th
    expect(ownPlace(2000, cue)).toEqual({ kind: 'none' }); // 201st
  });

  it('a score of 0 reaches no bucket, even where most players scored 0', () => {
    const cue = leaderboardOf(field([...Array.from({ length: 20 }, () => 0), 500]), { pollId: 'r:q' });
    expect(cue.thresholds['50']).toBe(0);
    expect(ownPlace(0, cue, 'NOT LISTED')).toEqual({ kind: 'none' });
  });

  it('before anyone played there is no place', () => {
    expect(ownPlace(0, leaderboardOf([], { pollId: 'r:q' }))).toEqual({ kind: 'none' });
  });

  it('equal scores in the list: the own name picks the entry; without it, the best rank, marked tied', () => {
    const players = [
      player('a', 900, { name: 'Ada', totalAnswerMs: 1 }),
      player('b', 900, { name: 'Bo', totalAnswerMs: 2 }),
      player('c', 100, { name: 'Cy' }),
    ];
    const cue = leaderboardOf(players, { pollId: 'r:q' });
    expect(ownPlace(900, cue, 'Bo')).toEqual({ kind: 'rank', rank: 2 });
    expect(ownPlace(900, cue)).toEqual({ kind: 'rank', rank: 1, tied: true });
  });

  it("a score equal to the 10th's, with more players: without the name no rank is claimed (the player may have lost the tie-break)", () => {
    const players = field([100, 90, 80, 70, 60, 50, 40, 30, 20, 10, 10, 10, ...Array(21).fill(1)]);
    const cue = leaderboardOf(players, { pollId: 'r:q' });
    expect(cue.top[9]).toEqual({ rank: 10, name: 'P009', score: 10 });
    // P009 is 10th; P010 and P011 have the same score and lost the tie-break (requestor id here).
    // 33 players: the top 50 % is 17 places, the 17th scored 1; the top 25 % (9 places) starts at 20.
    expect(ownPlace(10, cue, 'P009')).toEqual({ kind: 'rank', rank: 10 });
    expect(ownPlace(10, cue, 'P010')).toEqual({ kind: 'top', percent: 50 });
    expect(ownPlace(10, cue)).toEqual({ kind: 'top', percent: 50 });
  });

  it('a trimmed name still finds its entry', () => {
    const long = '𝒜'.repeat(20);
    const players = Array.from({ length: 10 }, (_, i) =>
      player(`p${i}`, Number.MAX_SAFE_INTEGER - i, { name: i === 3 ? `${long.slice(0, -2)}𝒝` : long }),
    );
    const cue = leaderboardOf(players, { pollId: LONGEST_POLL_ID, final: true });
    expect(cue.top[3]!.name.endsWith(TRIMMED)).toBe(true);
    expect(ownPlace(Number.MAX_SAFE_INTEGER - 3, cue, players[3]!.name!)).toEqual({ kind: 'rank', rank: 4 });
  });

  it('"own place from their own score agrees with the server\'s standings" for random score sets (fast-check)', () => {
    const arbitraryPlayers = fc
      .array(
        fc.record({
          score: fc.integer({ min: 0, max: 8 }).map((s) => s * 250), // few values: many ties
          name: fc.constantFrom('Ada', 'Bo', 'Cy', 'Di', 'Ed'), // few names: namesakes
          totalAnswerMs: fc.integer({ min: 0, max: 5 }),
          firstAnsweredAt: fc.integer({ min: 0, max: 5 }),
        }),
        { minLength: 1, maxLength: 150 },
      )
      .map((rows) => rows.map((row, i): PlayerStanding => ({ requestorId: `v${i}`, ...row })));

    fc.assert(
      fc.property(arbitraryPlayers, (players) => {
        const cue = leaderboardOf(players, { pollId: 'r:q' });
        const position = positions(players);
        const n = players.length;
        for (const p of players) {
          const pos = position.get(p.requestorId)!;
          for (const place of [ownPlace(p.score, cue, p.name!), ownPlace(p.score, cue)]) {
            checkAgreement(place, p, pos, n, players, cue);
          }
          // With the own name, a listed player always finds their rank.
          if (pos <= LEADERBOARD_TOP) expect(ownPlace(p.score, cue, p.name!).kind).toBe('rank');
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** The server's answer for one player, against ownPlace's; the namesake case is the documented exception. */
function checkAgreement(
  place: ReturnType<typeof ownPlace>,
  p: PlayerStanding,
  pos: number,
  n: number,
  players: readonly PlayerStanding[],
  cue: LeaderboardCue,
): void {
  if (place.kind === 'rank') {
    const listed = cue.top.filter((e) => e.score === p.score);
    if (pos <= LEADERBOARD_TOP) {
      if (place.tied) expect(listed.map((e) => e.rank)).toContain(pos);
      else expect(place.rank).toBe(pos);
    } else {
      // Outside the list yet given a rank: only at the 10th's score, and only through a namesake.
      expect(p.score).toBe(cue.top.at(-1)!.score);
      expect(listed.some((e) => e.name === p.name)).toBe(true);
    }
    return;
  }
  const strictlyAbove = players.filter((q) => q.score > p.score).length;
  const inBucket = (percent: number) => strictlyAbove < placesInTop(n, percent);
  const reached = THRESHOLD_PERCENTS.find(inBucket);
  if (place.kind === 'top') {
    expect(p.score).toBeGreaterThan(0);
    expect(place.percent).toBe(reached);
  } else {
    expect(p.score === 0 || reached === undefined).toBe(true);
  }
}
