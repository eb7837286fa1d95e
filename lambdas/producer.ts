// The producer API (contract/producer.ts): one Middy router Lambda under /producer/ on the same REST
// API as the viewer routes, each route one shared operation of ops/ — the CLI, the demo and this
// API do the same things the same way. Every request must come from a signed-in producer: API
// Gateway's Cognito authorizer (AWS) or the local API Gateway's token check put the claims at
// requestContext.authorizer.claims; without them the Lambda answers 401 itself too (signedIn, a
// Middy `before` middleware on every route). The operations' refusals are answered as the viewer
// API answers its own (lambdas/http-errors.ts).
// Built by createProducerHandler from its dependencies; the entry (lambdas/handlers/producer.ts)
// builds them from its environment, the local stack from its own clients.
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { LAMBDA_ENV } from '../contract/lambda-env.ts';
import {
  PRODUCER_ROUTES,
  type Cued,
  type NameHidden,
  type ProducerClaims,
  type RunHistory,
  type RunInfo,
  type RunLeaderboard,
  type RunList,
  type RunResults,
  type RunState,
  type RunStatus,
  type Started,
  type Stopped,
  type ValidateResponse,
} from '../contract/producer.ts';
import { RUN_ID } from '../contract/state-machine.ts';
import { LOCAL_ID, REQUESTOR_ID } from '../core/ids.ts';
import { cue, type CueRequest } from '../ops/cue.ts';
import { history } from '../ops/history.ts';
import { hideName, leaderboard, type HideNameRequest, type LeaderboardOptions } from '../ops/leaderboard.ts';
import { list, type ListRequest } from '../ops/list.ts';
import { results } from '../ops/results.ts';
import { startShow, type StartOptions, type StartRequest } from '../ops/start.ts';
import { runState } from '../ops/state.ts';
import { runStatus } from '../ops/status.ts';
import { stop, type StopRequest } from '../ops/stop.ts';
import type { Target } from '../ops/target.ts';
import { checkShow } from '../ops/validate.ts';
import { tableClient } from '../store/clients.ts';
import { getOriginsFromEnv, getStringFromEnv, type Env } from './config.ts';
import { UnauthorizedError } from './http-errors.ts';
import { httpApiMiddlewares, json, jsonBody, parse, query, exactPathRouter } from './http-request.ts';
import type { Observability } from './observability.ts';

/** Shows travel whole in start and validate bodies: as much as an execution input may be (256 KB). */
export const PRODUCER_MAX_BODY_BYTES = 256 * 1024;

export interface ProducerConfig {
  corsOrigins: string[];
  maxBodyBytes: number;
}

/** What the routes do, one operation each: ops/ on a target (targetOperations), or a test's fake. */
export interface ProducerOperations {
  start(request: StartRequest, options: StartOptions): Promise<Started>;
  cue(request: CueRequest): Promise<Cued>;
  stop(request: StopRequest): Promise<Stopped>;
  list(request: ListRequest): Promise<RunInfo[]>;
  status(run: string): Promise<RunStatus>;
  history(run: string): Promise<RunHistory>;
  results(run: string): Promise<RunResults>;
  /** status, history and results from one read of the run. */
  state(run: string): Promise<RunState>;
  /** The run's standings, every player best first (the best `top` when given). */
  leaderboard(run: string, options: LeaderboardOptions): Promise<RunLeaderboard>;
  /** Hides (or shows again) a player's nickname. */
  hideName(request: HideNameRequest): Promise<NameHidden>;
}

/** The operations of ops/ on the stack `target` names (its state machine and table). */
export function targetOperations(target: Target): ProducerOperations {
  return {
    start: (request, options) => startShow(target, request, new Date(), options),
    cue: (request) => cue(target, request),
    stop: (request) => stop(target, request),
    list: (request) => list(target, request),
    status: (run) => runStatus(target, run),
    history: (run) => history(target, run),
    results: (run) => results(target, run),
    state: (run) => runState(target, run),
    leaderboard: (run, options) => leaderboard(target, run, options),
    hideName: (request) => hideName(target, request),
  };
}

export interface ProducerDeps {
  /** What the routes do: the operations on the stack's state machine and table. */
  operations: ProducerOperations;
  config: ProducerConfig;
  /** Logs, metrics and traces (lambdas/observability.ts): the entry passes them; tests may not. */
  observability?: Observability;
}

/**
 * The producer Lambda's settings and target, read once: STATE_MACHINE_ARN, TABLE_NAME, CHANNEL_ARN
 * (the stack's channel, the default of `start`), CORS_ORIGINS.
 */
export function producerDepsFromEnv(env: Env): ProducerDeps {
  const sfn = new SFNClient({});
  const table = tableClient();
  return {
    config: {
      corsOrigins: getOriginsFromEnv(env, LAMBDA_ENV.CORS_ORIGINS),
      maxBodyBytes: PRODUCER_MAX_BODY_BYTES,
    },
    operations: targetOperations({
      kind: 'aws',
      description: 'this stack',
      sfn,
      db: table.db,
      stateMachineArn: getStringFromEnv(env, LAMBDA_ENV.STATE_MACHINE_ARN),
      tableName: getStringFromEnv(env, LAMBDA_ENV.TABLE_NAME),
      channelArn: getStringFromEnv(env, LAMBDA_ENV.CHANNEL_ARN),
      close: () => {
        sfn.destroy();
        table.destroy();
      },
    }),
  };
}

const runId = z.string({ error: 'required (a run id)' }).regex(RUN_ID, { error: 'expected a run id' });

const ValidateBody = z.strictObject({ show: z.unknown() }, { error: 'expected a JSON object' });
const StartBody = z.strictObject(
  {
    show: z.unknown(),
    startAt: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time' }).optional(),
    channelArn: z.string().startsWith('arn:', { error: 'expected an IVS channel ARN' }).optional(),
    replace: z.boolean({ error: 'expected true or false' }).optional(),
  },
  { error: 'expected a JSON object' },
);
const CueBody = z.strictObject(
  { runId, poll: z.string().regex(LOCAL_ID, { error: 'expected a question id' }).optional() },
  { error: 'expected a JSON object' },
);
const StopBody = z.strictObject(
  { runId, cause: z.string().max(256, { error: 'at most 256 characters' }).optional() },
  { error: 'expected a JSON object' },
);
const HideNameBody = z.strictObject(
  {
    requestorId: z
      .string({ error: 'required (a viewer id)' })
      .regex(REQUESTOR_ID, { error: 'expected a viewer id (letters, digits, - and _, at most 64)' }),
    hidden: z.boolean({ error: 'required (true or false)' }),
  },
  { error: 'expected a JSON object' },
);
const RunQuery = z.strictObject({ runId });
/** The most players one leaderboard answer lists (`top`). */
export const LEADERBOARD_MAX_TOP = 100_000;
const LeaderboardQuery = z.strictObject({
  runId,
  top: z
    .string()
    .regex(/^\d{1,6}$/, { error: 'expected a whole number' })
    .transform(Number)
    .refine((n) => n >= 1 && n <= LEADERBOARD_MAX_TOP, {
      error: `expected a whole number from 1 to ${LEADERBOARD_MAX_TOP}`,
    })
    .optional(),
});
const ListQuery = z.strictObject({
  status: z.string().max(20).optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, { error: 'expected a whole number' })
    .transform(Number)
    .optional(),
});

/** The signed-in producer, as the authorizer left them; undefined when nobody signed in. */
function producerOf(event: APIGatewayProxyEvent): ProducerClaims | undefined {
  const claims = (event.requestContext?.authorizer as { claims?: Partial<ProducerClaims> } | null | undefined)
    ?.claims;
  return claims && typeof claims.sub === 'string' && claims.sub !== ''
    ? (claims as ProducerClaims)
    : undefined;
}

/** Before every route: nobody but a signed-in producer gets past it (401). */
export function signedIn(): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    before: ({ event }) => {
      if (!producerOf(event))
        throw new UnauthorizedError(
          'authorization: sign in to the control room (a producer token is required)',
        );
    },
  };
}

/**
 * How long a start waits for a replaced (or just-ended) show to give the channel back: the route
 * answers within API Gateway's 29 s, so past this it says "still ending, try again".
 */
export const START_WAIT_MS = 15_000;

type Route = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** The route handlers over the operations: plain functions, one per route (signedIn checks who calls them). */
export function producerRoutes({
  operations,
  config,
}: Pick<ProducerDeps, 'operations' | 'config'>): Record<keyof typeof PRODUCER_ROUTES, Route> {
  return {
    async validate(event) {
      const { show } = parse(ValidateBody, jsonBody(event, config.maxBodyBytes), 'body');
      const checked = checkShow('show', show ?? null);
      const response: ValidateResponse = { ok: checked.ok, issues: checked.issues };
      if (checked.polls) response.polls = checked.polls;
      return json(200, response);
    },
    async start(event) {
      const b = parse(StartBody, jsonBody(event, config.maxBodyBytes), 'body');
      const started = await operations.start(
        {
          show: b.show,
          ...(b.startAt ? { startAt: new Date(b.startAt) } : {}),
          ...(b.channelArn ? { channelArn: b.channelArn } : {}),
        },
        { replace: b.replace === true, waitMs: START_WAIT_MS },
      );
      return json(201, started);
    },
    async cue(event) {
      const producer = producerOf(event)!;
      const b = parse(CueBody, jsonBody(event, config.maxBodyBytes), 'body');
      const cuedBy = producer['cognito:username'] ?? producer.email ?? producer.sub;
      return json(200, await operations.cue({ run: b.runId, cuedBy, ...(b.poll ? { poll: b.poll } : {}) }));
    },
    async stop(event) {
      const b = parse(StopBody, jsonBody(event, config.maxBodyBytes), 'body');
      return json(200, await operations.stop({ run: b.runId, ...(b.cause ? { cause: b.cause } : {}) }));
    },
    async list(event) {
      const q = parse(ListQuery, query(event), 'query');
      const runs: RunList = {
        runs: await operations.list({
          ...(q.status ? { status: q.status } : {}),
          ...(q.limit ? { limit: q.limit } : {}),
        }),
      };
      return json(200, runs);
    },
    async status(event) {
      const q = parse(RunQuery, query(event), 'query');
      return json(200, await operations.status(q.runId));
    },
    async history(event) {
      const q = parse(RunQuery, query(event), 'query');
      return json(200, await operations.history(q.runId));
    },
    async results(event) {
      const q = parse(RunQuery, query(event), 'query');
      return json(200, await operations.results(q.runId));
    },
    async run(event) {
      const q = parse(RunQuery, query(event), 'query');
      return json(200, await operations.state(q.runId));
    },
    async leaderboard(event) {
      const q = parse(LeaderboardQuery, query(event), 'query');
      return json(200, await operations.leaderboard(q.runId, q.top !== undefined ? { top: q.top } : {}));
    },
    async hideName(event) {
      const b = parse(HideNameBody, jsonBody(event, config.maxBodyBytes), 'body');
      return json(200, await operations.hideName({ requestorId: b.requestorId, hidden: b.hidden }));
    },
  };
}

/** Each route's method (the paths are PRODUCER_ROUTES'). */
const METHODS: Record<keyof typeof PRODUCER_ROUTES, 'GET' | 'POST'> = {
  validate: 'POST',
  start: 'POST',
  cue: 'POST',
  stop: 'POST',
  list: 'GET',
  status: 'GET',
  history: 'GET',
  results: 'GET',
  run: 'GET',
  leaderboard: 'GET',
  hideName: 'POST',
};

/**
 * The producer Lambda's handler: Middy's router over producerRoutes, with CORS and the contract's
 * errors; each route behind signedIn (so an unknown path is still a 404, a known one without a
 * producer a 401).
 */
export function createProducerHandler(deps: ProducerDeps) {
  const routes = producerRoutes(deps);
  // The outer handler keeps Lambda's early timeout; the route's own needs none.
  const guarded = (route: Route) =>
    middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 0 })
      .use(signedIn())
      .handler(route);
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(httpApiMiddlewares(deps.config.corsOrigins, deps.observability))
    .handler(
      exactPathRouter(
        (Object.keys(PRODUCER_ROUTES) as Array<keyof typeof PRODUCER_ROUTES>).map((name) => ({
          method: METHODS[name],
          path: PRODUCER_ROUTES[name],
          handler: guarded(routes[name]),
        })),
      ),
    );
}
