// The producer API as both sides see it: routes under /producer/ on the same REST API as
// the viewer routes, each calling one shared operation of ops/ and answering with what it returns,
// as JSON. Every route needs a signed-in producer: in AWS a Cognito user pool's ID token checked by
// API Gateway's Cognito authorizer, locally the token `npm start` prints, checked by the local API
// Gateway, which hands the Lambda the same claims shape. Errors use the viewer API's body
// ({"error":{"code","message"}}, contract/api.ts); a 400 names the field (`polls[1].answers: …`).
import type { ApiErrorCode } from './api.ts';
import type { ExecutionStatus, RunEndReason, ShowPlan } from './state-machine.ts';

export type { ExecutionStatus } from './state-machine.ts';

export const PRODUCER_ROUTES = {
  /** POST {show} → 200 ValidateResponse (a show with issues is a 200 too: the answer is the issues). */
  validate: '/producer/validate',
  /** POST StartBody → 201 Started. */
  start: '/producer/start',
  /** POST {runId, poll?} → 200 Cued: asks the next manual question now. */
  cue: '/producer/cue',
  /** POST {runId, cause?} → 200 Stopped. */
  stop: '/producer/stop',
  /** GET ?status=&limit= → 200 RunList {runs: RunInfo[]}, newest first. */
  list: '/producer/list',
  /** GET ?runId= → 200 RunStatus. */
  status: '/producer/status',
  /** GET ?runId= → 200 RunHistory (the timeline: scheduled, asked, late by, closed, cues). */
  history: '/producer/history',
  /** GET ?runId= → 200 RunResults (the same figures as `showrunner results`). */
  results: '/producer/results',
  /**
   * GET ?runId= → 200 RunState {status, history, results}: what status, history and results answer,
   * from one read of the run (the control room polls it every 2 s while the run runs).
   */
  run: '/producer/run',
  /**
   * GET ?runId=&top= → 200 RunLeaderboard: every player of the run best first, with rank, name,
   * nickname, hidden flag, score and total answer time (the same figures as `showrunner leaderboard`);
   * with `top` (1–100,000) only the best `top` of them (`players` still counts all). A Lambda answers
   * at most 6 MB: about 40,000 players' standings, so a page for a larger audience asks for a top.
   */
  leaderboard: '/producer/leaderboard',
  /**
   * POST HideNameBody {requestorId, hidden} → 200 NameHidden: a player's nickname shown as
   * "Player 7K3Q" (hidden) or as chosen again (not hidden), in every later leaderboard.
   */
  hideName: '/producer/hide-name',
} as const;

export interface ValidateBody {
  /** The show as parsed JSON (the page reads the file or the pasted text). */
  show: unknown;
}
export interface ValidateResponse {
  ok: boolean;
  /** `path: message` per issue; empty when ok. */
  issues: string[];
  /** Each question's `at` as written and its cue's size in bytes (IVS takes at most 1,024); when ok. */
  polls?: Array<{ id: string; at: number | string; cueBytes: number }>;
}

export interface StartBody {
  show: unknown;
  /** ISO 8601 time zero of the show; default now. */
  startAt?: string;
  /** The IVS channel; default the stack's. */
  channelArn?: string;
  /**
   * Another show runs on the channel: stop it (its open question closes and its results go out)
   * and start once it has given the channel back. Without it, such a start is a 409 `channel_busy`.
   */
  replace?: boolean;
}

/**
 * The code of the 409 POST /producer/start answers while another show runs on the channel (one
 * running show per channel); its message names that show. The page offers to replace it.
 */
export const CHANNEL_BUSY_CODE = 'channel_busy' satisfies ApiErrorCode;

export interface CueBody {
  runId: string;
  /** The manual question's id in the show; default the next one waiting. */
  poll?: string;
}

export interface StopBody {
  runId: string;
  cause?: string;
}

/** POST /producer/hide-name: hide (or show again) one player's nickname. */
export interface HideNameBody {
  requestorId: string;
  hidden: boolean;
}

/** POST /producer/hide-name (ops/leaderboard.ts hideName): what is now stored. */
export interface NameHidden {
  requestorId: string;
  hidden: boolean;
}

/** GET /producer/list: the runs, newest first. */
export interface RunList<Run = RunInfo> {
  runs: Run[];
}

/**
 * What the Lambda reads of the signed-in producer: API Gateway's Cognito authorizer puts the ID
 * token's claims at `requestContext.authorizer.claims`; the local API Gateway puts these there.
 */
export interface ProducerClaims {
  sub: string;
  'cognito:username'?: string;
  email?: string;
}

// ---- responses: what the operations (ops/) return, declared once -------------------------------
// The operations return these shapes as they are (times as ISO 8601 strings or epoch ms, never Date),
// the API sends them as JSON, the CLI renders them and the page reads them.

/** A run as Step Functions describes it (its execution). */
export interface RunInfo {
  runId: string;
  executionArn: string;
  status?: ExecutionStatus;
  /** ISO 8601. */
  startDate?: string;
  /** ISO 8601; once the run has ended. */
  stopDate?: string;
  error?: string;
  cause?: string;
}

/** One question of a run, as its execution history tells it (ops/timeline.ts); times are epoch ms. */
export interface PollTimeline {
  id: string;
  pollId: string;
  question: string;
  answers: string[];
  correct?: number;
  manual: boolean;
  /** Absolute ask time from the plan (epoch ms); undefined for manual polls. */
  scheduledAt?: number;
  /** Manual polls: when the producer's cue arrived. */
  cuedAt?: number;
  waitingForCue: boolean;
  /** When IVS accepted the question cue. */
  askedAt?: number;
  /** askedAt − scheduledAt (timed polls). */
  lateMs?: number;
  closesAt?: number;
  closedAt?: number;
  /** What a quiz question is worth (its `points`, the show's default when it names none); absent for polls. */
  points?: number;
  /** The points its answers earned, summed over every player, once it closed; absent for polls. */
  pointsGiven?: number;
  /**
   * The run's end closed it (a stop, a failure, a timeout), not its Close step: it was open when the
   * run ended. Its close, counts and results cue (`resultsAt`) are then read from the table.
   */
  closedBy?: RunEndReason;
  resultsAt?: number;
  counts?: number[];
  total?: number;
  /** PutMetadata calls IVS throttled (each was retried). */
  throttled: number;
}

/** Where a run is: its questions asked so far, the one open now, the next ones. */
export interface Progress {
  /** Questions asked so far, of `total`. */
  asked: number;
  total: number;
  /** The question open now. */
  open?: PollTimeline;
  /** The next timed question. */
  next?: PollTimeline;
  /** Manual questions waiting for their cue. */
  waiting: PollTimeline[];
  /** Questions the run's end closed while they were open (stopped, failed, timed out), with their counts. */
  closedByEnd?: PollTimeline[];
}

/** GET /producer/status (ops/status.ts runStatus). */
export interface RunStatus {
  run: RunInfo;
  /** The show's plan (from the run's Plan step, or its input before that); its questions are in `progress`. */
  plan?: Pick<ShowPlan, 'runId' | 'showId' | 'title' | 'startAt'>;
  progress: Progress;
}

/** GET /producer/history (ops/history.ts): the run as it happened. */
export interface RunHistory {
  run: RunInfo;
  polls: PollTimeline[];
  /** PutMetadata calls IVS accepted (the state machine's, and the results cues the end of a stopped or failed run sent). */
  cuesSent: number;
  /** PutMetadata calls IVS throttled (each was retried). */
  throttled: number;
}

/** A question's result (ops/results.ts, `showrunner results`, the control room). */
export interface PollResult {
  poll: string;
  pollId: string;
  question: string;
  answers: string[];
  state: 'not asked' | 'open' | 'closed';
  /** Closed by the run's end (stopped, failed, timed out) while it was open. */
  closedBy?: RunEndReason;
  counts: number[];
  total: number;
  correct?: number;
  /** Answers with the most votes (several on a tie, none without votes). */
  winner: string[];
  /** What a quiz question is worth; absent for polls. */
  points?: number;
  /** The points its answers earned, summed over every player, once it is closed; absent for polls. */
  points_given?: number;
}

/** GET /producer/results (ops/results.ts): a run's results. */
export interface RunResults {
  runId: string;
  polls: PollResult[];
}

/**
 * GET /producer/run (ops/state.ts runState): what the control room shows of a run, read in one
 * go — the execution and its history once, the table once — where status, history and results
 * would each read them again.
 */
export interface RunState {
  status: RunStatus;
  history: RunHistory;
  results: RunResults;
}

/** One player's place in a run's leaderboard (RunLeaderboard). */
export interface LeaderboardStanding {
  /** 1, 2, 3…: the tie-breaks (total answer time, first answer, id) make the order total, so no two share a rank. */
  rank: number;
  requestor_id: string;
  /** The name viewers see: the nickname, or "Player 7K3Q" when hidden or none (core/leaderboard.ts displayName). */
  name: string;
  /** The nickname the player chose (shown to the producer even when hidden), or null. */
  nickname: string | null;
  /** The producer (or the player) hid the nickname. */
  hidden: boolean;
  score: number;
  /** The sum of the accepted answer times over the quiz questions the player answered, ms. */
  total_answer_ms: number;
}

/** GET /producer/leaderboard (ops/leaderboard.ts): a run's standings, best first. */
export interface RunLeaderboard {
  runId: string;
  /** Who answered at least one quiz question of the run. */
  players: number;
  /** Every quiz question of the run is closed: the standings will not change. */
  final: boolean;
  /** Best first: every player, or the best `top` when the request asked for a top. */
  standings: LeaderboardStanding[];
}

/** POST /producer/start (ops/start.ts). */
export interface Started {
  runId: string;
  executionArn: string;
  /** ISO 8601. */
  startAt: string;
  /** The request's channel, else the stack's. */
  channelArn?: string;
  plan: ShowPlan;
  /** The show `replace` stopped to make room (it had ended and given the channel back before this one started). */
  replaced?: { runId: string; title: string };
}

/** POST /producer/cue (ops/cue.ts). */
export interface Cued {
  runId: string;
  /** The show's id of the question (q2). */
  poll: string;
  pollId: string;
  /** ISO 8601. */
  cuedAt: string;
  question: string;
}

/** POST /producer/stop (ops/stop.ts). */
export interface Stopped {
  runId: string;
  /** After the stop (ABORTED), or the status that made it a no-op. */
  status?: ExecutionStatus;
  /** False when the run had already ended. */
  stopped: boolean;
  /** ISO 8601. */
  stopDate?: string;
}

// ---- the results export: what `showrunner results --csv/--json` print and the control room downloads

/**
 * Text a spreadsheet would run as a formula: a cell starting with = + - @, a tab, a carriage return
 * or NUL (OWASP's CSV injection guidance, and ASVS 1.2.10).
 */
const FORMULA_START = /^[=+\-@\t\r\0]/;

/**
 * RFC 4180: fields with commas, quotes or line breaks quoted; CRLF line ends. Text cells that a
 * spreadsheet would read as a formula (a question or answer is the producer's text, and may be
 * pasted from anywhere) get a leading `'` and quotes, as OWASP advises; numbers are written as they are.
 */
export function csv(rows: readonly (readonly (string | number)[])[]): string {
  const field = (v: string | number) => {
    const text = typeof v === 'string' && FORMULA_START.test(v) ? `'${v}` : String(v);
    return /[",\r\n]/.test(text) || text !== String(v) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return rows.map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}

export const RESULTS_CSV_COLUMNS = [
  'run_id',
  'poll',
  'question',
  'state',
  'answer_index',
  'answer',
  'votes',
  'total',
  'share',
  'correct',
  'winner',
  'closed_by',
  'points',
  'points_given',
] as const;

/** One row per answer, as `showrunner results --csv` prints it. */
export function resultsCsv({ runId, polls }: RunResults): string {
  const rows: (string | number)[][] = [[...RESULTS_CSV_COLUMNS]];
  for (const r of polls) {
    r.answers.forEach((answer, i) => {
      const votes = r.counts[i] ?? 0;
      rows.push([
        runId,
        r.poll,
        r.question,
        r.state,
        i,
        answer,
        votes,
        r.total,
        r.total ? (votes / r.total).toFixed(4) : '0',
        r.correct === undefined ? '' : r.correct === i ? 'yes' : 'no',
        r.winner.includes(answer) ? 'yes' : 'no',
        r.closedBy ?? '',
        r.points ?? '',
        r.points_given ?? '',
      ]);
    });
  }
  return csv(rows);
}

/** As `showrunner results --json` prints it. */
export function resultsJson({ runId, polls }: RunResults): string {
  return JSON.stringify({ runId, polls }, null, 2) + '\n';
}

// ---- the leaderboard export: what `showrunner leaderboard --csv/--json` print and the control room downloads

export const LEADERBOARD_CSV_COLUMNS = [
  'run_id',
  'rank',
  'requestor_id',
  'name',
  'nickname',
  'hidden',
  'score',
  'total_answer_ms',
  'final',
] as const;

/**
 * One row per player, best first, as `showrunner leaderboard --csv` prints it. Names and nicknames
 * are viewers' text: a cell a spreadsheet would run as a formula is neutralised as in resultsCsv.
 */
export function leaderboardCsv({ runId, final, standings }: RunLeaderboard): string {
  const rows: (string | number)[][] = [[...LEADERBOARD_CSV_COLUMNS]];
  for (const s of standings) {
    rows.push([
      runId,
      s.rank,
      s.requestor_id,
      s.name,
      s.nickname ?? '',
      s.hidden ? 'yes' : 'no',
      s.score,
      s.total_answer_ms,
      final ? 'yes' : 'no',
    ]);
  }
  return csv(rows);
}

/** As `showrunner leaderboard --json` prints it. */
export function leaderboardJson({ runId, players, final, standings }: RunLeaderboard): string {
  // Each player's fields in the contract's order, whatever object the standings came as.
  const rows = standings.map((s) => ({
    rank: s.rank,
    requestor_id: s.requestor_id,
    name: s.name,
    nickname: s.nickname,
    hidden: s.hidden,
    score: s.score,
    total_answer_ms: s.total_answer_ms,
  }));
  return JSON.stringify({ runId, players, final, standings: rows }, null, 2) + '\n';
}
