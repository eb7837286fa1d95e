// The viewer REST API: one Middy router Lambda behind API Gateway (REST, proxy integration).
//   GET  /requestor-challenge                               → 200 {challenge, difficulty, expires_at}: work for a new viewer
//   POST /requestor-token {challenge, nonce}                → 201 {requestor_id, token}: a new viewer, once the work is done
//   POST /requestor-put   {poll_id, requestor_id, answer}  → 201 the stored answer       (the viewer's token)
//   GET  /requestor-get   ?requestor_id=&limit=&cursor=     → 200 {items, next_cursor}    (the viewer's token)
//   GET  /poll-get        ?poll_id=                          → 200 the poll with its counts
//   GET  /poll-current    ?channel=                          → 200 the channel's latest opened poll (for late joiners)
//   PUT  /requestor-name  {requestor_id, nickname}           → 200 the stored nickname          (the viewer's token)
// Built by createApiHandler from its dependencies; nothing here runs at import. The Lambda entry
// (lambdas/handlers/api.ts) builds them from its environment; locally the same entry runs in a
// worker thread (local/api) with the local stack's environment, and is invoked with API Gateway v1
// proxy events.
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import {
  API_ROUTES,
  MAX_ELAPSED_MS,
  POLL_VIEW_MAX_AGE_SECONDS,
  TOKEN_NONCE,
  type HistoryPage,
  type TokenChallenge,
  type TokenRequest,
  type PollView,
  type ViewerIdentity,
  type NameRequest,
  type NameResponse,
  type VoteRequest,
  type VoteResponse,
} from '../contract/api.ts';
import { checkNickname, type ProfanityCheck } from '../core/nickname.ts';
import type { ScoreStore } from '../store/scores.ts';
import { isProfane } from './profanity.ts';
import { LAMBDA_ENV } from '../contract/lambda-env.ts';
import { CHANNEL_ID, channelIdOf, POLL_ID, REQUESTOR_ID } from '../core/ids.ts';
import { PollCache, PollStore } from '../store/polls.ts';
import { documentClient } from '../store/clients.ts';
import {
  getMaxBodyBytesFromEnv,
  getOriginsFromEnv,
  getPollCacheMsFromEnv,
  getStringFromEnv,
  getTokenWorkBitsFromEnv,
  type Env,
} from './config.ts';
import { ApiError, BadRequestError, ConflictError, NotFoundError, httpErrorFor } from './http-errors.ts';
import { httpApiMiddlewares, json, jsonBody, parse, query, exactPathRouter } from './http-request.ts';
import { isThrottled, type Observability } from './observability.ts';
import {
  viewerTokens,
  viewerTokenSecretFromEnv,
  type SecretSource,
  type ViewerTokens,
} from './viewer-token.ts';
import { RefusedError } from '../core/refusal.ts';

export interface ApiConfig {
  tableName: string;
  corsOrigins: string[];
  /** The largest request body accepted (the local API Gateway reads no more). */
  maxBodyBytes: number;
  /** How long a container reuses a poll item it has read (0 turns the cache off). */
  pollCacheMs: number;
  /** The proof of work a new viewer identity costs, in leading zero bits (0: none). */
  tokenWorkBits: number;
  /**
   * The channel the API serves (CHANNEL_ARN's id: the stack's channel, `local` locally): nicknames
   * lock once the run live on it has closed a quiz question. Undefined: they never lock.
   */
  channelId?: string;
}

/**
 * The API Lambda's settings, read and checked once: TABLE_NAME, CORS_ORIGINS, MAX_BODY_BYTES,
 * POLL_CACHE_MS, TOKEN_WORK_BITS.
 */
export function apiConfigFromEnv(env: Env): ApiConfig {
  return {
    tableName: getStringFromEnv(env, LAMBDA_ENV.TABLE_NAME),
    corsOrigins: getOriginsFromEnv(env, LAMBDA_ENV.CORS_ORIGINS),
    maxBodyBytes: getMaxBodyBytesFromEnv(env),
    pollCacheMs: getPollCacheMsFromEnv(env),
    tokenWorkBits: getTokenWorkBitsFromEnv(env),
    ...channelOf(getStringFromEnv(env, LAMBDA_ENV.CHANNEL_ARN, '')),
  };
}

function channelOf(channelArn: string): { channelId?: string } {
  if (channelArn === '') return {};
  try {
    return { channelId: channelIdOf(channelArn) };
  } catch (error) {
    throw new Error(`${LAMBDA_ENV.CHANNEL_ARN}: ${(error as Error).message}`, { cause: error });
  }
}

/** What the routes read and write of the table: the store's (store/polls.ts, store/scores.ts), or a test's fake. */
export type ApiStore = Pick<
  PollStore,
  'requirePoll' | 'recordVote' | 'history' | 'view' | 'getCurrentPoll'
> & {
  scores: Pick<ScoreStore, 'setNickname' | 'namesLocked'>;
};

export interface ApiDeps {
  store: ApiStore;
  config: ApiConfig;
  /** Issues and checks viewer tokens (lambdas/viewer-token.ts). */
  tokens: ViewerTokens;
  /** Logs, metrics and traces (lambdas/observability.ts): the entry passes them; tests may not. */
  observability?: Observability;
  /** The nickname profanity filter (default: obscenity's English preset, lambdas/profanity.ts). */
  isProfane?: ProfanityCheck;
}

/**
 * What the Lambda entry runs on: the settings from `env`, the table through the SDK's default client,
 * the viewer-token secret from `secretSource` (default: Powertools Parameters, lambdas/viewer-token.ts)
 * or from VIEWER_TOKEN_SECRET itself (what the local stack's Lambda thread gets).
 */
export function apiDepsFromEnv(env: Env, secretSource?: SecretSource): ApiDeps {
  const config = apiConfigFromEnv(env);
  return {
    config,
    store: new PollStore(documentClient(), config.tableName),
    tokens: viewerTokens(viewerTokenSecretFromEnv(env, secretSource), { workBits: config.tokenWorkBits }),
  };
}

const pollId = z
  .string({ error: 'expected a string' })
  .regex(POLL_ID, { error: 'expected "<runId>:<pollId>"' });
const requestorId = z
  .string({ error: 'expected a string' })
  .regex(REQUESTOR_ID, { error: "expected 1–64 letters, digits, '-' or '_' (a UUID)" });

const VoteBody = z.strictObject(
  {
    poll_id: pollId,
    requestor_id: requestorId,
    answer: z
      .number({ error: 'expected the index of an answer (number)' })
      .int({ error: 'expected a whole number' })
      .min(0, { error: 'expected an index ≥ 0' }),
    elapsed_ms: z
      .number({ error: 'expected milliseconds (number)' })
      .int({ error: 'expected whole milliseconds' })
      .min(0, { error: 'expected ≥ 0' })
      .max(MAX_ELAPSED_MS, { error: `expected at most ${MAX_ELAPSED_MS}` })
      .optional(),
  },
  { error: 'expected a JSON object' },
);

const NameBody = z.strictObject(
  {
    requestor_id: requestorId,
    // The rules are checkNickname's; this bound only keeps a huge string from reaching them.
    nickname: z.string({ error: 'expected a string' }).max(400, { error: 'too long' }),
  },
  { error: 'expected a JSON object' },
);

const HistoryQuery = z.strictObject({
  requestor_id: requestorId,
  limit: z
    .string()
    .regex(/^\d{1,3}$/, { error: 'expected a whole number from 1 to 100' })
    .transform(Number)
    .pipe(z.number().min(1, { error: 'expected 1 to 100' }).max(100, { error: 'expected 1 to 100' }))
    .default(20),
  cursor: z.string().max(2048, { error: 'too long' }).optional(),
});

const NoQuery = z.strictObject({});
const TokenBody = z.strictObject(
  {
    challenge: z
      .string({ error: `expected a string (from GET ${API_ROUTES.challenge})` })
      .max(256, { error: 'too long' }),
    nonce: z
      .string({ error: 'expected a string' })
      .regex(TOKEN_NONCE, { error: "expected 1–32 letters, digits, '-' or '_'" }),
  },
  { error: 'expected a JSON object' },
);

const PollQuery = z.strictObject({ poll_id: pollId });
const CurrentPollQuery = z.strictObject({
  channel: z.string({ error: 'required (the IVS channel id, the last part of its ARN)' }).regex(CHANNEL_ID, {
    error: "expected 1–64 letters, digits, '-' or '_' (the last part of the channel ARN)",
  }),
});

type Route = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** The route handlers over a store: plain functions, one per route. */
export function apiRoutes({
  store,
  config,
  tokens,
  observability,
  isProfane: profane = isProfane,
}: ApiDeps): Record<keyof typeof API_ROUTES, Route> {
  const polls = new PollCache(store, config.pollCacheMs);
  const locks = new NameLockCache(store.scores, config.channelId, NAME_LOCK_CACHE_MS);
  return {
    async challenge(event) {
      parse(NoQuery, query(event), 'query');
      const challenge: TokenChallenge = await tokens.challenge(new Date());
      return json(200, challenge);
    },

    async token(event) {
      const body = jsonBody(event, config.maxBodyBytes);
      // No work at all (a page from before challenges, or a script): 428 says what to do first.
      for (const field of ['challenge', 'nonce'] as const) {
        if (body !== null && typeof body === 'object' && !Array.isArray(body) && !(field in body)) {
          throw new ApiError(
            428,
            'work_required',
            `${field}: required: GET ${API_ROUTES.challenge}, find the nonce it asks for, then POST {challenge, nonce}`,
          );
        }
      }
      const request: TokenRequest = parse(TokenBody, body, 'body');
      const identity: ViewerIdentity = await tokens.issue(request, new Date());
      return json(201, identity);
    },

    async vote(event) {
      let pollId: string | undefined;
      try {
        const vote: VoteRequest = parse(VoteBody, jsonBody(event, config.maxBodyBytes), 'body');
        await tokens.verify(vote.requestor_id, event.headers.authorization);
        pollId = vote.poll_id;
        observability?.appendPollKeys({ pollId });
        const poll = await polls.require(vote.poll_id);
        // Checked against closes_at now; written into the viewer's shard (the poll item's vote_shards).
        // A write later than VOTE_DEADLINE_MS after this check is not acknowledged (500): the close
        // recount may not include it.
        const stored: VoteResponse = await store.recordVote(
          poll,
          vote.requestor_id,
          vote.answer,
          new Date(),
          vote.elapsed_ms,
        );
        observability?.voteAccepted(pollId);
        return json(201, stored);
      } catch (error) {
        if (observability) countVoteFailure(observability, pollId, error);
        throw error;
      }
    },

    async name(event) {
      const request: NameRequest = parse(NameBody, jsonBody(event, config.maxBodyBytes), 'body');
      await tokens.verify(request.requestor_id, event.headers.authorization);
      const checked = checkNickname(request.nickname, profane);
      if (!checked.ok) throw new BadRequestError(checked.message);
      if (await locks.locked()) {
        throw new ConflictError(
          'name_locked',
          'nickname: the show has closed its first quiz question; names are fixed until it ends',
        );
      }
      const nickname = await store.scores.setNickname(request.requestor_id, checked.nickname, new Date());
      const stored: NameResponse = { requestor_id: request.requestor_id, nickname };
      return json(200, stored);
    },

    async history(event) {
      const q = parse(HistoryQuery, query(event), 'query');
      await tokens.verify(q.requestor_id, event.headers.authorization);
      const page: HistoryPage = await store.history(q.requestor_id, q.limit, q.cursor);
      return json(200, page);
    },

    async poll(event) {
      const q = parse(PollQuery, query(event), 'query');
      const view: PollView = await store.view(await store.requirePoll(q.poll_id), new Date());
      return json(200, view, `public, max-age=${POLL_VIEW_MAX_AGE_SECONDS}`);
    },

    async currentPoll(event) {
      const q = parse(CurrentPollQuery, query(event), 'query');
      const poll = await store.getCurrentPoll(q.channel);
      if (!poll) throw new NotFoundError('no_poll', 'no poll has been asked yet');
      const view: PollView = await store.view(poll, new Date());
      return json(200, view);
    },
  };
}

/**
 * How long a container trusts what it read of the name lock: a name request arriving this long after
 * the first quiz question closed may still be taken. A second keeps a crowd choosing names at once
 * from reading the channel's claim and run items more than once a second per container.
 */
export const NAME_LOCK_CACHE_MS = 1000;

/** Whether names are locked on the API's channel (ScoreStore.namesLocked), read at most once per `ttlMs`. */
class NameLockCache {
  readonly #scores: Pick<ScoreStore, 'namesLocked'>;
  readonly #channelId: string | undefined;
  readonly #ttlMs: number;
  #read: { locked: boolean; until: number } | undefined;

  constructor(scores: Pick<ScoreStore, 'namesLocked'>, channelId: string | undefined, ttlMs: number) {
    this.#scores = scores;
    this.#channelId = channelId;
    this.#ttlMs = ttlMs;
  }

  async locked(now = Date.now()): Promise<boolean> {
    if (this.#channelId === undefined) return false;
    if (this.#read && this.#read.until > now) return this.#read.locked;
    const locked = await this.#scores.namesLocked(this.#channelId);
    this.#read = { locked, until: now + this.#ttlMs };
    return locked;
  }
}

/** A vote not taken: refused (4xx, by its API error code) or throttled by DynamoDB; other failures are 5xx errors, not refusals. */
function countVoteFailure(observability: Observability, pollId: string | undefined, error: unknown): void {
  if (isThrottled(error)) return observability.voteThrottled(pollId);
  const refusal = error instanceof RefusedError ? httpErrorFor(error) : error;
  if (refusal instanceof ApiError) observability.voteRefused(pollId, refusal.code);
}

/** The API Lambda's handler: Middy's router over apiRoutes, with CORS, security headers and the contract's errors. */
export function createApiHandler(deps: ApiDeps) {
  const routes = apiRoutes(deps);
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(httpApiMiddlewares(deps.config.corsOrigins, deps.observability))
    .handler(
      exactPathRouter([
        { method: 'GET', path: API_ROUTES.challenge, handler: routes.challenge },
        { method: 'POST', path: API_ROUTES.token, handler: routes.token },
        { method: 'POST', path: API_ROUTES.vote, handler: routes.vote },
        { method: 'GET', path: API_ROUTES.history, handler: routes.history },
        { method: 'PUT', path: API_ROUTES.name, handler: routes.name },
        { method: 'GET', path: API_ROUTES.poll, handler: routes.poll },
        { method: 'GET', path: API_ROUTES.currentPoll, handler: routes.currentPoll },
      ]),
    );
}
