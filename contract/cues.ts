// The payloads carried in the video stream as IVS timed metadata (docs/ARCHITECTURE.md, "Cues through IVS PutMetadata"):
// their shapes, the size limit and the reader. core/cues.ts builds them; the CLI and the site read
// them back with decodeCue.

/** IVS refuses PutMetadata payloads over 1 KB, counted in UTF-8 bytes, not characters. */
export const MAX_CUE_BYTES = 1024;
export const CUE_VERSION = 1;

export interface PollCue {
  v: 1;
  type: 'poll';
  poll_id: string;
  question: string;
  answers: string[];
  /** Seconds of video time viewers have to answer. */
  duration: number;
  /** The show's title, so the card can show it. */
  title?: string;
  /** Quiz questions only: what a right answer is worth (never which answer is right). */
  points?: number;
  /** Set when the show's speed bonus is on: half the points fall with the time taken to answer. */
  speed?: true;
}

/**
 * The live count of an open poll, sent about once a second while it changes (lambdas/poll-lifecycle.ts
 * `tally`), so viewers draw live bars from the stream and never poll the API for them.
 */
export interface TallyCue {
  v: 1;
  type: 'tally';
  poll_id: string;
  counts: number[];
  total: number;
}

export interface ResultsCue {
  v: 1;
  type: 'results';
  poll_id: string;
  counts: number[];
  total: number;
  /** Present for quiz questions only: revealed here, never in the poll cue. */
  correct?: number;
}

/** One listed player of a leaderboard cue. */
export interface LeaderboardEntry {
  rank: number;
  name: string;
  score: number;
}

/** The "top p %" buckets a leaderboard cue carries a threshold for, smallest first. */
export const THRESHOLD_PERCENTS = [1, 5, 10, 25, 50] as const;
export type ThresholdPercent = (typeof THRESHOLD_PERCENTS)[number];
/** The lowest score inside each top p %, keyed by p as a string, as in the cue. */
export type Thresholds = Record<`${ThresholdPercent}`, number>;

/**
 * `{"v":1,"type":"leaderboard","poll_id":…,"players":N,"top":[{"rank":1,"name":"…","score":…},…],
 * "thresholds":{"1":…,"5":…,"10":…,"25":…,"50":…},"final":true}`, sent right after a quiz
 * question's results (core/leaderboard.ts leaderboardOf builds it); `final` once every quiz question
 * of the run has closed, or the run has ended.
 */
export interface LeaderboardCue {
  v: 1;
  type: 'leaderboard';
  /** The quiz question whose results this follows. */
  poll_id: string;
  /** How many players the standings hold. */
  players: number;
  top: LeaderboardEntry[];
  thresholds: Thresholds;
  final?: true;
}

export type Cue = PollCue | TallyCue | ResultsCue | LeaderboardCue;

const isCount = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;

/** Reads a cue from the stream; anything that is not one of ours (or a newer version) gives undefined. */
export function decodeCue(text: string): Cue | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const cue = value as Record<string, unknown>;
  if (cue.v !== CUE_VERSION || typeof cue.poll_id !== 'string') return undefined;
  if (cue.type === 'poll') {
    const ok =
      typeof cue.question === 'string' &&
      Array.isArray(cue.answers) &&
      cue.answers.every((a) => typeof a === 'string') &&
      typeof cue.duration === 'number' &&
      cue.duration > 0 &&
      (cue.title === undefined || typeof cue.title === 'string') &&
      (cue.points === undefined || isCount(cue.points)) &&
      (cue.speed === undefined || cue.speed === true);
    return ok ? (cue as unknown as PollCue) : undefined;
  }
  if (cue.type === 'tally' || cue.type === 'results') {
    const ok =
      Array.isArray(cue.counts) &&
      cue.counts.every(isCount) &&
      isCount(cue.total) &&
      (cue.type === 'tally' ? cue.correct === undefined : cue.correct === undefined || isCount(cue.correct));
    return ok ? (cue as unknown as TallyCue | ResultsCue) : undefined;
  }
  if (cue.type === 'leaderboard') return isLeaderboard(cue) ? (cue as unknown as LeaderboardCue) : undefined;
  return undefined;
}

const isScore = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

function isLeaderboard(cue: Record<string, unknown>): boolean {
  const { players, top, thresholds } = cue;
  if (!isCount(players) || !Array.isArray(top) || top.length > players) return false;
  const entriesOk = top.every((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) return false;
    const e = entry as Record<string, unknown>;
    return e.rank === i + 1 && typeof e.name === 'string' && isScore(e.score);
  });
  if (!entriesOk) return false;
  if (typeof thresholds !== 'object' || thresholds === null || Array.isArray(thresholds)) return false;
  const t = thresholds as Record<string, unknown>;
  if (!THRESHOLD_PERCENTS.every((p) => isScore(t[`${p}`]))) return false;
  return cue.final === undefined || cue.final === true;
}
