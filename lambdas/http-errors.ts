// The API's errors over HTTP. ApiError and its subclasses are what the handlers throw; like Middy's
// http errors they carry `statusCode` and `expose` (the message is safe to show), and a stable
// machine-readable `code` for clients (contract/api.ts). Refusals from core and the store
// (core/refusal.ts) become ApiErrors here, and the jsonErrors middleware turns every error into
// the contract's JSON body {"error":{"code","message"}}: anything not exposed is logged and
// answered with a bare 500 — never a stack trace.
import type middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ApiErrorBody, ApiErrorCode } from '../contract/api.ts';
import { RefusedError, type Refusal, type RefusalReason } from '../core/refusal.ts';

export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  readonly expose = true;
  readonly statusCode: number;
  readonly code: ApiErrorCode;
  constructor(statusCode: number, code: ApiErrorCode, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
  }
}

/** 400: the request is malformed; the message starts with the field it names (`answer: …`). */
export class BadRequestError extends ApiError {
  override readonly name = 'BadRequestError';
  constructor(message: string) {
    super(400, 'bad_request', message);
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
  constructor(code: 'unknown_poll' | 'no_poll', message: string) {
    super(404, code, message);
  }
}

/** 409: valid request the poll's state refuses (`already_answered`, `poll_closed`). */
export class ConflictError extends ApiError {
  override readonly name = 'ConflictError';
  constructor(code: 'already_answered' | 'poll_closed', message: string) {
    super(409, code, message);
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

/** Each reason core or the store refuses a request for, as the API answers it. */
const BY_REASON: Record<RefusalReason, (message: string) => ApiError> = {
  unknown_poll: (message) => new NotFoundError('unknown_poll', message),
  answer_out_of_range: (message) => new BadRequestError(message),
  invalid_cursor: (message) => new BadRequestError(message),
  poll_closed: (message) => new ConflictError('poll_closed', message),
  already_answered: (message) => new ConflictError('already_answered', message),
};

export function httpErrorFor(refusal: Refusal): ApiError {
  return BY_REASON[refusal.reason](refusal.message);
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
