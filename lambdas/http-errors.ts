// Middy middleware: every error becomes the contract's JSON body {"error":{"code","message"}}.
// Errors that carry `expose` (ours, Middy's own http errors) keep their status and message;
// anything else is logged and answered with a bare 500 — never a stack trace.
import type middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

interface HttpErrorLike {
  statusCode?: number;
  status?: number;
  expose?: boolean;
  code?: string;
  message?: string;
}

const CODE_BY_STATUS: Record<number, string> = {
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
      const error = (request.error ?? {}) as HttpErrorLike;
      const status = error.statusCode ?? error.status;
      const exposed = error.expose === true && status !== undefined && status < 500;
      if (!exposed) logger(request.error);
      const statusCode = exposed ? status : 500;
      const code = exposed ? (error.code ?? CODE_BY_STATUS[status] ?? 'error') : 'internal_error';
      const message = exposed ? (error.message ?? 'error') : 'internal error';
      request.response = {
        ...request.response,
        statusCode,
        headers: { ...request.response?.headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ error: { code, message } }),
      };
    },
  };
}
