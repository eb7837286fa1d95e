// The producer API (contract/producer.ts): one Middy router Lambda under /producer/ on the same REST
// API as the viewer routes, each route one shared operation of ops/ — the CLI, the demo and this
// API do the same things the same way. Every request must come from a signed-in producer: API
// Gateway's Cognito authorizer (AWS) or the local API Gateway's token check put the claims at
// requestContext.authorizer.claims; without them the Lambda answers 401 itself too.
// Built by createProducerHandler from its dependencies; the entry (lambdas/handlers/producer.ts)
// builds them from its environment, the local stack from its own clients.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import {
  CHANNEL_BUSY_CODE,
  PRODUCER_ROUTES,
  type ProducerClaims,
  type RunList,
  type ValidateResponse,
} from '../contract/producer.ts';
import { RUN_ID } from '../contract/state-machine.ts';
import { LOCAL_ID } from '../core/ids.ts';
import { cue } from '../ops/cue.ts';
import { ChannelBusyError, OpError } from '../ops/errors.ts';
import { history } from '../ops/history.ts';
import { list } from '../ops/list.ts';
import { results } from '../ops/results.ts';
import { startShow } from '../ops/start.ts';
import { runStatus } from '../ops/status.ts';
import { stop } from '../ops/stop.ts';
import type { Target } from '../ops/target.ts';
import { checkShowText } from '../ops/validate.ts';
import { documentClient } from './clients.ts';
import { getOriginsFromEnv, getStringFromEnv, type Env } from './config.ts';
import { ApiError, BadRequestError, UnauthorizedError } from './http-errors.ts';
import { httpApiMiddlewares, json, jsonBody, parse, query, exactPathRouter } from './http-request.ts';
import type { Observability } from './observability.ts';

/** Shows travel whole in start and validate bodies: as much as an execution input may be (256 KB). */
export const PRODUCER_MAX_BODY_BYTES = 256 * 1024;

export interface ProducerConfig {
  corsOrigins: string[];
  maxBodyBytes: number;
}

export interface ProducerDeps {
  /** The stack the operations act on: its state machine and table, through SDK clients. */
  target: Target;
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
  const dynamo = new DynamoDBClient({});
  return {
    config: {
      corsOrigins: getOriginsFromEnv(env, 'CORS_ORIGINS'),
      maxBodyBytes: PRODUCER_MAX_BODY_BYTES,
    },
    target: {
      kind: 'aws',
      description: 'this stack',
      sfn,
      db: documentClient(dynamo),
      stateMachineArn: getStringFromEnv(env, 'STATE_MACHINE_ARN'),
      tableName: getStringFromEnv(env, 'TABLE_NAME'),
      channelArn: getStringFromEnv(env, 'CHANNEL_ARN'),
      close: () => {
        sfn.destroy();
        dynamo.destroy();
      },
    },
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
const RunQuery = z.strictObject({ runId });
const ListQuery = z.strictObject({
  status: z.string().max(20).optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, { error: 'expected a whole number' })
    .transform(Number)
    .optional(),
});

/** The signed-in producer, as the authorizer left them; nobody else gets past this. */
function producerOf(event: APIGatewayProxyEvent): ProducerClaims {
  const claims = (event.requestContext?.authorizer as { claims?: Partial<ProducerClaims> } | null | undefined)
    ?.claims;
  if (!claims || typeof claims.sub !== 'string' || claims.sub === '') {
    throw new UnauthorizedError('authorization: sign in to the control room (a producer token is required)');
  }
  return claims as ProducerClaims;
}

/**
 * 409 channel_busy: another show runs on the channel. The message names it and the two ways on:
 * stop it, or start again with `replace` (the control room's "Replace the running show").
 */
function channelBusy({ holder, ending, message }: ChannelBusyError): ApiError {
  return new ApiError(
    409,
    CHANNEL_BUSY_CODE,
    ending
      ? message.replace(/^channelArn: /, '')
      : `channel ${holder.channelId} is running ${holder.runId} (${holder.title}): stop it first, or start with replace to stop it and start this show`,
  );
}

/**
 * How long a start waits for a replaced (or just-ended) show to give the channel back: the route
 * answers within API Gateway's 29 s, so past this it says "still ending, try again".
 */
export const START_WAIT_MS = 15_000;

/** The operations' refusals as HTTP: invalid 400, not_found 404, conflict 409, the field named. */
async function op<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ChannelBusyError) throw channelBusy(error);
    if (!(error instanceof OpError)) throw error;
    if (error.kind === 'not_found') throw new ApiError(404, 'not_found', error.message);
    if (error.kind === 'conflict') throw new ApiError(409, 'conflict', error.message);
    throw new BadRequestError(error.message);
  }
}

type Route = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

export function producerRoutes({
  target,
  config,
}: ProducerDeps): Record<keyof typeof PRODUCER_ROUTES, Route> {
  return {
    async validate(event) {
      producerOf(event);
      const { show } = parse(ValidateBody, jsonBody(event, config.maxBodyBytes), 'body');
      const checked = checkShowText('show', JSON.stringify(show ?? null));
      const response: ValidateResponse = { ok: checked.ok, issues: checked.issues };
      if (checked.polls) response.polls = checked.polls;
      return json(200, response);
    },
    async start(event) {
      producerOf(event);
      const b = parse(StartBody, jsonBody(event, config.maxBodyBytes), 'body');
      const started = await op(() =>
        startShow(
          target,
          {
            show: b.show,
            ...(b.startAt ? { startAt: new Date(b.startAt) } : {}),
            ...(b.channelArn ? { channelArn: b.channelArn } : {}),
          },
          new Date(),
          { replace: b.replace === true, waitMs: START_WAIT_MS },
        ),
      );
      return json(201, started);
    },
    async cue(event) {
      const producer = producerOf(event);
      const b = parse(CueBody, jsonBody(event, config.maxBodyBytes), 'body');
      const cuedBy = producer['cognito:username'] ?? producer.email ?? producer.sub;
      return json(
        200,
        await op(() => cue(target, { run: b.runId, cuedBy, ...(b.poll ? { poll: b.poll } : {}) })),
      );
    },
    async stop(event) {
      producerOf(event);
      const b = parse(StopBody, jsonBody(event, config.maxBodyBytes), 'body');
      return json(
        200,
        await op(() => stop(target, { run: b.runId, ...(b.cause ? { cause: b.cause } : {}) })),
      );
    },
    async list(event) {
      producerOf(event);
      const q = parse(ListQuery, query(event), 'query');
      const runs: RunList = {
        runs: await op(() =>
          list(target, { ...(q.status ? { status: q.status } : {}), ...(q.limit ? { limit: q.limit } : {}) }),
        ),
      };
      return json(200, runs);
    },
    async status(event) {
      producerOf(event);
      const q = parse(RunQuery, query(event), 'query');
      return json(200, await op(() => runStatus(target, q.runId)));
    },
    async history(event) {
      producerOf(event);
      const q = parse(RunQuery, query(event), 'query');
      return json(200, await op(() => history(target, q.runId)));
    },
    async results(event) {
      producerOf(event);
      const q = parse(RunQuery, query(event), 'query');
      return json(200, await op(() => results(target, q.runId)));
    },
  };
}

/** The producer Lambda's handler: Middy's router over producerRoutes, with CORS and the contract's errors. */
export function createProducerHandler(deps: ProducerDeps) {
  const routes = producerRoutes(deps);
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(httpApiMiddlewares(deps.config.corsOrigins, deps.observability))
    .handler(
      exactPathRouter([
        { method: 'POST', path: PRODUCER_ROUTES.validate, handler: routes.validate },
        { method: 'POST', path: PRODUCER_ROUTES.start, handler: routes.start },
        { method: 'POST', path: PRODUCER_ROUTES.cue, handler: routes.cue },
        { method: 'POST', path: PRODUCER_ROUTES.stop, handler: routes.stop },
        { method: 'GET', path: PRODUCER_ROUTES.list, handler: routes.list },
        { method: 'GET', path: PRODUCER_ROUTES.status, handler: routes.status },
        { method: 'GET', path: PRODUCER_ROUTES.history, handler: routes.history },
        { method: 'GET', path: PRODUCER_ROUTES.results, handler: routes.results },
      ]),
    );
}
