// The leaderboard (issue 22): the standings of a run's players, and the `leaderboard` cue sent
// after each quiz question's results. The cue carries the top 10 and the score thresholds of the
// top 1, 5, 10, 25 and 50 %, so that every viewer finds their own place from their own score
// (ownPlace) without asking the API: 100,000 viewers reading a leaderboard at once would be a
// storm, one cue in the stream is not. Like every cue it must fit IVS's 1,024 UTF-8 bytes, names
// included (leaderboardOf trims the longest names when they would not fit).
import {
  MAX_CUE_BYTES,
  THRESHOLD_PERCENTS,
  type LeaderboardCue,
  type LeaderboardEntry,
  type ThresholdPercent,
  type Thresholds,
} from '../contract/cues.ts';
import { CueTooLargeError, utf8Bytes } from './cues.ts';
import { compareStandings, type StandingKey } from './scoring.ts';
import { fnv1a32 } from './shard.ts';

/** One player's standing: who answered at least one quiz question of the run is a player. */
export interface PlayerStanding extends StandingKey {
  /** The name to show, already display-ready (displayName), or null for "Player" + short id. */
  name: string | null;
}

/** How many players the cue lists by name. */
export const LEADERBOARD_TOP = 10;
export { THRESHOLD_PERCENTS };
export type { LeaderboardCue, LeaderboardEntry, ThresholdPercent, Thresholds };

/** The standings, best first, in compareStandings order (a new array). */
export function standings<T extends StandingKey>(players: readonly T[]): T[] {
  return [...players].sort(compareStandings);
}

/**
 * How many places the top p % of n players has: ⌈n × p / 100⌉, so at least one place as soon as
 * there is one player (the best of 30 players is in their top 1 %).
 */
export function placesInTop(players: number, percent: number): number {
  return Math.ceil((players * percent) / 100);
}

/**
 * The thresholds of a score list sorted best first (scores of the standings, in order): for each
 * p, the score of place k = ⌈n × p / 100⌉. A threshold means: a score ≥ threshold is in the top
 * p %. Ties share the bucket: being in the top p % means that fewer than k players scored strictly
 * more, so when place k is tied every player with that score is in, and the top 1 % of 1,000
 * players may be more than 10 players. This is what a viewer can tell from a score alone, whatever
 * the tie-breaks. With no players, every threshold is 0.
 *
 * O(n) (a check that the list is sorted, then five look-ups): at 100,000 players, well under a
 * millisecond after the sort.
 */
export function thresholdsOf(scoresBestFirst: readonly number[]): Thresholds {
  for (let i = 1; i < scoresBestFirst.length; i++) {
    if (scoresBestFirst[i]! > scoresBestFirst[i - 1]!) {
      throw new RangeError(`scores: expected best first, but [${i}] is above [${i - 1}]`);
    }
  }
  return thresholdsBy(scoresBestFirst.length, (place) => scoresBestFirst[place - 1]!);
}

/**
 * The same thresholds from a histogram (score → how many players have it, in any order), for a
 * store that keeps counts rather than every player: O(d log d) in the d distinct scores.
 */
export function thresholdsOfCounts(histogram: Iterable<readonly [score: number, players: number]>): {
  players: number;
  thresholds: Thresholds;
} {
  const merged = new Map<number, number>();
  for (const [score, count] of histogram) merged.set(score, (merged.get(score) ?? 0) + count);
  const rows = [...merged].filter(([, count]) => count > 0).sort(([a], [b]) => b - a);
  const players = rows.reduce((sum, [, count]) => sum + count, 0);
  let row = 0;
  let through = rows[0]?.[1] ?? 0; // the last place the current row's score reaches
  const thresholds = thresholdsBy(players, (place) => {
    while (through < place) through += rows[++row]![1];
    return rows[row]![0];
  });
  return { players, thresholds };
}

/** Each bucket's threshold as the score at place ⌈n × p / 100⌉, asked smallest place first. */
function thresholdsBy(players: number, scoreAt: (place: number) => number): Thresholds {
  const thresholds = {} as Thresholds;
  for (const percent of THRESHOLD_PERCENTS) {
    thresholds[`${percent}`] = players === 0 ? 0 : scoreAt(placesInTop(players, percent));
  }
  return thresholds;
}

/** Where the leaderboard cue is for. */
export interface LeaderboardOptions {
  pollId: string;
  /** True after the run's last quiz question. */
  final?: boolean;
  /** How many players to list; LEADERBOARD_TOP unless a test says otherwise. */
  top?: number;
}

/**
 * The leaderboard cue of these players: the top `top` of the standings with ordinal ranks (1, 2,
 * 3…: the tie-breaks make the order total, so no two players share a rank), the number of players
 * and the thresholds (thresholdsOf). A player without a name shows as displayName(null, …).
 *
 * It always fits MAX_CUE_BYTES for any poll id a run can have and any safe-integer scores: when it
 * would not, names are trimmed, longest first — every name is cut to the largest common byte
 * length at which the cue fits, at a grapheme boundary, ending in "…" (an emoji is never split).
 * Names that already fit that length are untouched. Only an impossible poll id (hundreds of
 * bytes) throws CueTooLargeError.
 */
export function leaderboardOf(
  players: readonly PlayerStanding[],
  options: LeaderboardOptions,
): LeaderboardCue {
  const sorted = standings(players);
  const cue: LeaderboardCue = {
    v: 1,
    type: 'leaderboard',
    poll_id: options.pollId,
    players: sorted.length,
    top: sorted.slice(0, options.top ?? LEADERBOARD_TOP).map((player, i) => ({
      rank: i + 1,
      name: player.name ?? displayName(null, false, player.requestorId),
      score: player.score,
    })),
    thresholds: thresholdsOf(sorted.map((player) => player.score)),
  };
  if (options.final) cue.final = true;
  return fitNames(cue);
}

/** The cue's size as IVS counts it: UTF-8 bytes of its JSON. */
export function cueBytes(cue: LeaderboardCue): number {
  return utf8Bytes(JSON.stringify(cue));
}

/** The mark a trimmed name ends with. */
export const TRIMMED = '…';
const TRIMMED_BYTES = utf8Bytes(TRIMMED);

/** A name's cost inside the cue's JSON (escapes included), in UTF-8 bytes. */
const jsonBytes = (text: string) => utf8Bytes(JSON.stringify(text)) - 2;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The name cut to at most `cap` bytes (escaped), at a grapheme boundary, ending in "…"; whole if it fits. */
export function trimName(name: string, cap: number): string {
  if (jsonBytes(name) <= cap) return name;
  let kept = '';
  let used = TRIMMED_BYTES;
  for (const { segment } of graphemes.segment(name)) {
    const cost = jsonBytes(segment);
    if (used + cost > cap) break;
    kept += segment;
    used += cost;
  }
  return kept + TRIMMED;
}

/** The cue with its names cut to the largest common cap at which it fits (binary search: a larger cap never makes a smaller cue). */
function fitNames(cue: LeaderboardCue): LeaderboardCue {
  if (cueBytes(cue) <= MAX_CUE_BYTES) return cue;
  const withCap = (cap: number): LeaderboardCue => ({
    ...cue,
    top: cue.top.map((entry) => ({ ...entry, name: trimName(entry.name, cap) })),
  });
  let low = TRIMMED_BYTES; // every name is at least "…"
  const smallest = withCap(low);
  if (cueBytes(smallest) > MAX_CUE_BYTES) throw new CueTooLargeError(cueBytes(smallest));
  let high = Math.max(...cue.top.map((entry) => jsonBytes(entry.name))); // no name is cut at this cap: the cue as it was, too large
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (cueBytes(withCap(middle)) <= MAX_CUE_BYTES) low = middle;
    else high = middle;
  }
  return withCap(low);
}

// ---- Names --------------------------------------------------------------------------------------

const PLAYER = 'Player';
/** Crockford's base 32: no I, L, O or U, so a short id read aloud or copied is not misread. */
const SHORT_ID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const SHORT_ID_LENGTH = 4;

/**
 * A short id for a player without a name: 4 characters of Crockford base 32 (20 bits, about a
 * million values) from a hash of the requestor id. Stable (a pure function of the id), never a
 * piece of the id itself (the id is a viewer's handle with the API; the stream is public), and
 * unambiguous enough where names are seen together: ten names in a top 10 share one with odds of
 * about 1 in 23,000.
 */
export function shortId(requestorId: string): string {
  // Fibonacci hashing: the top 20 bits of the product mix every bit of FNV-1a's hash.
  let bits = Math.imul(fnv1a32(`player-name:${requestorId}`), 0x9e3779b1) >>> (32 - 5 * SHORT_ID_LENGTH);
  let id = '';
  for (let i = 0; i < SHORT_ID_LENGTH; i++) {
    id = SHORT_ID_ALPHABET[bits & 31]! + id;
    bits >>>= 5;
  }
  return id;
}

/**
 * The name a player shows as: their nickname (checked by checkNickname), or "Player 7K3Q" (the
 * short id) when they chose to hide it or have none.
 */
export function displayName(nickname: string | null, hidden: boolean, requestorId: string): string {
  return nickname !== null && !hidden ? nickname : `${PLAYER} ${shortId(requestorId)}`;
}

/**
 * Whether a name looks like one displayName gives a player without a nickname, in any case and
 * spacing ("player 7k3q"): checkNickname refuses those, so no one can pass for another player.
 */
export function isFallbackName(name: string): boolean {
  return new RegExp(`^${PLAYER}\\s*[${SHORT_ID_ALPHABET}]{${SHORT_ID_LENGTH}}$`, 'i').test(name);
}

// ---- A viewer's own place -----------------------------------------------------------------------

/** Where a viewer stands, as the page shows it: "#4", "top 5 %", or nothing. */
export type OwnPlace =
  | {
      kind: 'rank';
      rank: number;
      /** Several listed players have this score and name: `rank` is the best of their ranks. */
      tied?: true;
    }
  | { kind: 'top'; percent: ThresholdPercent }
  | { kind: 'none' };

/** Whether a listed name is `own`, allowing for the trim (a trimmed name matches what it was cut from). */
function isOwnName(listed: string, own: string): boolean {
  if (listed === own) return true;
  return listed.endsWith(TRIMMED) && own.startsWith(listed.slice(0, -TRIMMED.length));
}

/**
 * A player's place from their own score (and, to tell apart players with equal scores, their own
 * display name: displayName of their own nickname, hidden flag and id, as the page knows them),
 * agreeing with the server's standings. For players only: a viewer who has answered no quiz
 * question has no place, whatever their score of 0 would match.
 *
 * - **rank** when the player is in the list. With `ownName`, their entry is the listed one with
 *   their score and name (a trimmed name matches what it was cut from). Without it, a score above
 *   the last listed score (or any listed score when the list holds every player) is listed for
 *   certain, and the entry is the one with that score. When several listed players share the
 *   score (and name), `rank` is the best of theirs and `tied` is set.
 * - **A score equal to the last listed (10th) score** while more players exist: the viewer may be
 *   that entry or have lost the tie-break (total answer time, then first answer) to it and be
 *   11th or below; score alone cannot say. With `ownName`, a listed entry with that score and
 *   name is taken as the viewer (the one case left wrong: a namesake with the same score is listed
 *   and the viewer is not); without it, no rank is claimed.
 * - **top p %** otherwise, for the smallest p whose threshold the score reaches: fewer than
 *   ⌈n × p / 100⌉ players scored strictly more (thresholdsOf), exactly as the server's standings
 *   say. A score of 0 reaches no bucket (where most players scored 0, "top 50 %" would say nothing).
 * - **none** below every threshold, before anyone played, or with a score of 0 outside the list.
 */
export function ownPlace(score: number, cue: LeaderboardCue, ownName?: string): OwnPlace {
  if (cue.players === 0) return { kind: 'none' };
  const last = cue.top.at(-1);
  const sameScore = cue.top.filter((entry) => entry.score === score);
  const named = ownName === undefined ? [] : sameScore.filter((entry) => isOwnName(entry.name, ownName));
  const certainlyListed = last !== undefined && (cue.players <= cue.top.length || score > last.score);
  const mine = ownName !== undefined ? named : certainlyListed ? sameScore : [];
  if (mine.length > 0) {
    const rank = Math.min(...mine.map((entry) => entry.rank));
    return mine.length > 1 ? { kind: 'rank', rank, tied: true } : { kind: 'rank', rank };
  }
  if (score <= 0) return { kind: 'none' };
  const percent = THRESHOLD_PERCENTS.find((p) => score >= cue.thresholds[`${p}`]);
  return percent === undefined ? { kind: 'none' } : { kind: 'top', percent };
}
