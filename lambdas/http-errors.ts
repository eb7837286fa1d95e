// The APIs' errors over HTTP, for the viewer API and the producer API alike. ApiError and its
// subclasses are what the handlers throw; like Middy's http errors they carry `statusCode` and
// `expose` (the message is safe to show), and a stable machine-readable `code` for clients
// (contract/api.ts). Refusals — a viewer's from core and the store, a producer's from the operations
// (core/refusal.ts, ops/errors.ts) — become ApiErrors here, in one table, and the jsonErrors
// middleware turns every error into the contract's JSON body {"error":{"code","message"}}: anything
// not exposed is logged and answered with a bare 500 — never a stack trace.
import type middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ApiErrorBody, ApiErrorCode } from '../contract/api.ts';
import { CHANNEL_BUSY_CODE } from '../contract/producer.ts';
import { RefusedError, type Refusal, type RefusalReason } from '../core/refusal.ts';
import { ChannelBusyError } from '../ops/errors.ts';

export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  readonly expose = true;
  readonly statusCode: number;
  readonly code: ApiErrorCode;
  constructor(statusCode: number, code: ApiErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.statusCode = statusCode;
    this.code = code;
  }
}

/** 400: the request is malformed; the message starts with the field it names (`answer: …`). */
export class BadRequestError extends ApiError {
  override readonly name = 'BadRequestError';
  constructor(message: string, options?: ErrorOptions) {
    super(400, 'bad_request', message, options);
  }
}

/** 401: no valid viewer token for the request (contract/api.ts ViewerIdentity). */
export class UnauthorizedError extends ApiError {
  override readonly name = 'UnauthorizedError';
  constructor(message: string) {
    super(401, 'unauthorized', message);
  }
}

/** 403: a valid token, but for another viewer. */
export class ForbiddenError extends ApiError {
  override readonly name = 'ForbiddenError';
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

export class NotFoundError extends ApiError {
  override readonly name = 'NotFoundError';
  constructor(code: 'unknown_poll' | 'no_poll' | 'not_found', message: string, options?: ErrorOptions) {
    super(404, code, message, options);
  }
}

/**
 * 409: a valid request the state of things refuses: the poll's (`already_answered`, `poll_closed`),
 * a run's (`conflict`), a channel's (`channel_busy`, `name_locked`).
 */
export class ConflictError extends ApiError {
  override readonly name = 'ConflictError';
  constructor(
    code: 'already_answered' | 'poll_closed' | 'conflict' | 'name_locked' | typeof CHANNEL_BUSY_CODE,
    message: string,
    options?: ErrorOptions,
  ) {
    super(409, code, message, options);
  }
}

/** 415: a POST body that is not JSON. Browsers preflight JSON posts, so other sites cannot send them. */
export class UnsupportedMediaTypeError extends ApiError {
  override readonly name = 'UnsupportedMediaTypeError';
  constructor(got: string | undefined) {
    super(
      415,
      'unsupported_media_type',
      `content-type: expected application/json, got ${got ? JSON.stringify(got) : 'none'}`,
    );
  }
}

export class PayloadTooLargeError extends ApiError {
  override readonly name = 'PayloadTooLargeError';
  constructor(limit: number) {
    super(413, 'payload_too_large', `body: larger than ${limit} bytes`);
  }
}

/**
 * 409 channel_busy: another show runs on the channel. The message names it and the two ways on:
 * stop it, or start again with `replace` (the control room's "Replace the running show"); a show
 * still ending says to try again in a few seconds.
 */
function channelBusyMessage(refusal: Refusal): string {
  if (!(refusal instanceof ChannelBusyError)) return refusal.message;
  const { holder, ending, message } = refusal;
  return ending
    ? message.replace(/^channelArn: /, '')
    : `channel ${holder.channelId} is running ${holder.runId} (${holder.title}): stop it first, or start with replace to stop it and start this show`;
}

/**
 * Each reason a request is refused for, as both APIs answer it: a viewer's refusals (core, the
 * store) and a producer's (the operations: invalid 400, not_found 404, conflict 409, the field named).
 */
const BY_REASON: Record<RefusalReason, (refusal: Refusal, options: ErrorOptions) => ApiError> = {
  unknown_poll: ({ message }, options) => new NotFoundError('unknown_poll', message, options),
  answer_out_of_range: ({ message }, options) => new BadRequestError(message, options),
  invalid_cursor: ({ message }, options) => new BadRequestError(message, options),
  poll_closed: ({ message }, options) => new ConflictError('poll_closed', message, options),
  already_answered: ({ message }, options) => new ConflictError('already_answered', message, options),
  invalid: ({ message }, options) => new BadRequestError(message, options),
  not_found: ({ message }, options) => new NotFoundError('not_found', message, options),
  conflict: ({ message }, options) => new ConflictError('conflict', message, options),
  channel_busy: (refusal, options) =>
    new ConflictError(CHANNEL_BUSY_CODE, channelBusyMessage(refusal), options),
};

/** The ApiError a refusal is answered with (caused by the refusal, when it was thrown). */
export function httpErrorFor(refusal: Refusal): ApiError {
  return BY_REASON[refusal.reason](refusal, refusal instanceof Error ? { cause: refusal } : {});
}

interface HttpErrorLike {
  statusCode?: number;
  status?: number;
  expose?: boolean;
  code?: ApiErrorCode;
  message?: string;
}

/** The code for errors that carry a status but no code of ours (Middy's own http errors). */
const CODE_BY_STATUS: Record<number, ApiErrorCode> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'bad_request',
};

export interface JsonErrorsOptions {
  logger?: (error: unknown) => void;
}

export function jsonErrors(
  options: JsonErrorsOptions = {},
): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const logger = options.logger ?? ((error: unknown) => console.error(error));
  return {
    onError: async (request) => {
      const raised = request.error instanceof RefusedError ? httpErrorFor(request.error) : request.error;
      const error = (raised ?? {}) as HttpErrorLike;
      const status = error.statusCode ?? error.status;
      const exposed = error.expose === true && status !== undefined && status < 500;
      if (!exposed) logger(request.error);
      const statusCode = exposed ? status : 500;
      const code = exposed ? (error.code ?? CODE_BY_STATUS[status] ?? 'error') : 'internal_error';
      const message = exposed ? (error.message ?? 'error') : 'internal error';
      const body: ApiErrorBody = { error: { code, message } };
      request.response = {
        ...request.response,
        statusCode,
        headers: {
          ...request.response?.headers,
          'Content-Type': 'application/json',
          'Cache-Control': 'no-store',
        },
        body: JSON.stringify(body),
      };
    },
  };
}
