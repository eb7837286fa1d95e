// The viewer REST API as both sides see it: the routes, the request and response bodies
// (snake_case, as they travel), the error body and its codes, and the CORS max-age. The API
// Lambda (lambdas/api.ts) answers with these shapes; the site (site/src/lib/api.ts) reads them.
import type { RunEndReason } from './state-machine.ts';

export const API_ROUTES = {
  /** GET → 200 TokenChallenge: the work a new viewer does before asking for an identity. */
  challenge: '/requestor-challenge',
  /** POST TokenRequest {challenge, nonce} → 201 ViewerIdentity: a new viewer's id and the token that proves it. */
  token: '/requestor-token',
  /** POST {poll_id, requestor_id, answer} with the requestor's token → 201 VoteResponse. */
  vote: '/requestor-put',
  /** GET ?requestor_id=&limit=&cursor= with the requestor's token → 200 HistoryPage. */
  history: '/requestor-get',
  /** GET ?poll_id= → 200 PollView. */
  poll: '/poll-get',
  /** GET → 200 PollView of the latest opened poll, for viewers who join mid-poll; 404 no_poll before any. */
  currentPoll: '/poll-current',
  /**
   * PUT NameRequest {requestor_id, nickname} with the requestor's token → 200 NameResponse (the
   * stored, normalised name); 400 `bad_request` (`nickname: …`) when core/nickname.ts refuses it;
   * 409 `name_locked` once the run live on the API's channel has closed a quiz question.
   */
  name: '/requestor-name',
} as const;

export type PollState = 'open' | 'closed';

/**
 * 201 from POST /requestor-token. Votes and history reads carry the token as
 * `Authorization: Bearer <token>` (VIEWER_TOKEN_HEADER): 401 `unauthorized` without a valid one,
 * 403 `forbidden` with another viewer's. The site keeps both in localStorage.
 */
export interface ViewerIdentity {
  requestor_id: string;
  token: string;
}

/**
 * 200 from GET /requestor-challenge. A new identity costs a little CPU, so that minting them in bulk
 * costs a lot: find a `nonce` (TOKEN_NONCE; the site counts 0, 1, 2… in decimal) such that SHA-256
 * of the UTF-8 bytes of `challenge + nonce` starts with `difficulty` zero bits (2^difficulty hashes
 * on average), then POST both to /requestor-token before `expires_at`. The challenge is opaque and
 * signed by the API, which keeps no record of it; the identity is derived from it, so answering
 * one challenge twice gives the same identity again, never a second one.
 */
export interface TokenChallenge {
  challenge: string;
  /** Leading zero bits the hash must have: 0 to MAX_TOKEN_WORK_BITS (the API's TOKEN_WORK_BITS). */
  difficulty: number;
  /** ISO time after which POST /requestor-token refuses it (`challenge_expired`). */
  expires_at: string;
}

/** POST /requestor-token. */
export interface TokenRequest {
  challenge: string;
  nonce: string;
}

/** A nonce: 1–32 letters, digits, '-' or '_'. */
export const TOKEN_NONCE = /^[A-Za-z0-9_-]{1,32}$/;
/** The most work TOKEN_WORK_BITS may ask for: 2^24 hashes, several seconds on a desktop, a minute on a phone. */
export const MAX_TOKEN_WORK_BITS = 24;

/** The header a viewer's token travels in (a non-simple header: browsers preflight cross-site requests). */
export const VIEWER_TOKEN_HEADER = 'Authorization';
export const VIEWER_TOKEN_SCHEME = 'Bearer';

/** POST /requestor-put: `answer` is the index of the chosen answer. */
export interface VoteRequest {
  poll_id: string;
  requestor_id: string;
  answer: number;
  /**
   * Quiz questions: the video time from the frame the question appeared on to the tap, in whole ms
   * (0–MAX_ELAPSED_MS), for the speed bonus. The server bounds it (core/scoring.ts boundElapsed).
   */
  elapsed_ms?: number;
}

/** The largest `elapsed_ms` a vote may carry: an hour. */
export const MAX_ELAPSED_MS = 3_600_000;

/** PUT /requestor-name: a viewer's nickname for the leaderboard. */
export interface NameRequest {
  requestor_id: string;
  nickname: string;
}

/** 200 from PUT /requestor-name: the nickname as stored (NFC, trimmed, spaces collapsed). */
export interface NameResponse {
  requestor_id: string;
  nickname: string;
}

/**
 * 201: the stored answer, as the viewer knows it: `poll_id` is the poll's own id, not the shard
 * partition the item is stored under (contract/table.ts AnswerItem).
 */
export interface VoteResponse {
  poll_id: string;
  requestor_id: string;
  answer: number;
  timestamp_created: number;
  timestamp_ttl: number;
}

/**
 * The longest a vote may take from its closing-time check to its written answer. The API does not
 * acknowledge a vote written later than this after its check, nor later than
 * VOTE_CLOSE_DEADLINE_MS after closes_at (it answers 500; the answer may or may not count), and the
 * recount waits both out, so every 201 is in the final result, in the cloud and in the local stack
 * (whose Lambdas have no timeout) alike. Five seconds covers the SDK's retries (3 attempts, ≤ 3 s of
 * backoff when throttled) and a loaded local stack; the API Lambda's timeout (cdk/lib/viewer-api.ts,
 * 10 s) stays longer, so a slow vote gets that answer rather than a gateway timeout. Only a run
 * ended early waits this one out (the lifecycle's endRun): it cannot know which votes were checked
 * against the closes_at it moved.
 */
export const VOTE_DEADLINE_MS = 5000;
/**
 * A vote must also be written by closes_at + this: the normal close recounts then (plus the clock
 * margin), so the wait for results after each question is short (docs/sharding.md, "Closing
 * exactly"; bench/dead-air.ts). Only votes checked in the last moments before closes_at meet it
 * rather than VOTE_DEADLINE_MS. A PutItem takes milliseconds in DynamoDB; a second leaves room for
 * the SDK's retries of a failed write (≤ 100 ms, then ≤ 200 ms of backoff) and one of a throttled
 * one (≤ 500 ms).
 */
export const VOTE_CLOSE_DEADLINE_MS = 1000;
/**
 * Room for the clocks of the API Lambda (which checks a vote against closes_at) and of the lifecycle
 * Lambda (which waits past closes_at before the recount) to disagree. Lambda's clocks are synced by
 * NTP to the Amazon Time Sync Service (errors of milliseconds), so half a second is ample.
 */
export const CLOCK_MARGIN_MS = 500;
/**
 * How long after closes_at the recount waits by default (VOTE_SETTLE_MS): every vote checked before
 * closes_at has then been written or can no longer be acknowledged. The viewer page estimates its
 * "results in N s" from it.
 */
export const DEFAULT_VOTE_SETTLE_MS = VOTE_CLOSE_DEADLINE_MS + CLOCK_MARGIN_MS;
/**
 * How long after a run's end moves an open question's closes_at to now the recount waits (plus the
 * API's poll cache): votes checked against the old closes_at have until VOTE_DEADLINE_MS after
 * their check.
 */
export const EARLY_END_SETTLE_MS = VOTE_DEADLINE_MS + CLOCK_MARGIN_MS;

/** What a viewer may see of a poll: `correct` only once the poll is closed and recounted. */
export interface PollView {
  poll_id: string;
  question: string;
  answers: string[];
  state: PollState;
  counts: number[];
  total: number;
  correct?: number;
  closes_at: string;
  /** Why it closed before its time: the run was stopped, timed out or failed. */
  closed_by?: RunEndReason;
  /** The show's title, as the poll cue carries it. */
  title?: string;
  /** Quiz questions only: what a right answer is worth, as the poll cue says. */
  points?: number;
  /** Set when the show's speed bonus is on (quiz questions only). */
  speed?: true;
}

/** One answer in a viewer's history (GET /requestor-get), with the question it answered. */
export interface HistoryEntry {
  poll_id: string;
  answer: number;
  answered_at: string;
  question?: string;
  answers?: string[];
  state?: PollState;
  correct?: number;
  /** Why it closed before its time, as GET /poll-get says. */
  closed_by?: RunEndReason;
  /** Quiz questions only, once closed (revealed): what this answer earned. */
  points?: number;
}

/** A page of history, newest first; `next_cursor` is null on the last page. */
export interface HistoryPage {
  items: HistoryEntry[];
  next_cursor: string | null;
}

/** Every `error.code` the API answers with. */
export const API_ERROR_CODES = [
  /** 400: the message starts with the field at fault (`answer: …`). */
  'bad_request',
  /** 404: no poll with this poll_id has been opened. */
  'unknown_poll',
  /** 404 from /poll-current before the first question. */
  'no_poll',
  /** 404: no such route. */
  'not_found',
  'method_not_allowed',
  /** 409: this viewer already answered this poll. */
  'already_answered',
  /** 409: the poll is past its closing time. */
  'poll_closed',
  /** 409 without a more specific code. */
  'conflict',
  /** 409 from a producer start: another show runs on the channel (the message names it). */
  'channel_busy',
  /** 409 from PUT /requestor-name: the show live on the channel has closed its first quiz question; names are fixed until it ends. */
  'name_locked',
  'payload_too_large',
  'unsupported_media_type',
  /** 429: too many requests from one network (the WAF's per-IP limits in the cloud). */
  'rate_limited',
  /** 428 from POST /requestor-token without `challenge` or `nonce`: do the work of GET /requestor-challenge first. */
  'work_required',
  /** 400 from POST /requestor-token: `challenge` is not one this API issued. */
  'challenge_invalid',
  /** 400 from POST /requestor-token: `challenge` is past its `expires_at`; get a new one. */
  'challenge_expired',
  /** 400 from POST /requestor-token: SHA-256(challenge + nonce) has fewer leading zero bits than `difficulty`. */
  'work_insufficient',
  /** 401: a vote, name or history request without a valid viewer token. */
  'unauthorized',
  /** 403: another viewer's token, or refused by the firewall (AWS's common rule set in the cloud). */
  'forbidden',
  /** 500: never with details. */
  'internal_error',
  /** Any other status without a code. */
  'error',
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** Every error response: `{"error":{"code":"poll_closed","message":"…"}}`. */
export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string };
}

/**
 * GET /poll-get is public and the same for every viewer: shared caches (CloudFront in the cloud)
 * may serve it for this long, so a crowd of late joiners costs the API one read per poll per second.
 */
export const POLL_VIEW_MAX_AGE_SECONDS = 1;

/**
 * How long a browser may reuse a preflight answer, for both places that answer a preflight: API
 * Gateway in the cloud (cdk/lib/viewer-api.ts) and the API Lambdas' httpCors locally
 * (lambdas/http-request.ts). Browsers cap it (Chromium at 2 h), and every reuse spares API Gateway a
 * request when a whole audience votes at once.
 */
export const CORS_MAX_AGE_SECONDS = 3600;
