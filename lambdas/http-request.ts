// Reading API Gateway proxy requests and writing responses the same way in every API Lambda (the
// viewer API, lambdas/api.ts; the producer API, lambdas/producer.ts): JSON bodies only, one value
// per query parameter, zod validation whose error names the field, responses not cached unless said.
import type middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler, { type Route } from '@middy/http-router';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import { CORS_MAX_AGE_SECONDS, VIEWER_TOKEN_HEADER } from '../contract/api.ts';
import { formatPath } from '../core/show.ts';
import {
  ApiError,
  BadRequestError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  jsonErrors,
  type JsonErrorsOptions,
} from './http-errors.ts';
import type { Observability } from './observability.ts';

/**
 * The middlewares every API Lambda wears, in order: Powertools' (when given), header names
 * lowercased, CORS for `origins` (the Authorization header allowed: viewer and producer tokens),
 * security headers, and every error as the contract's JSON body — logged through the Powertools
 * logger when there is one.
 */
export function httpApiMiddlewares(
  origins: string[],
  observability?: Observability,
): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>[] {
  const errors: JsonErrorsOptions = observability
    ? { logger: (error) => observability.logger.error('request failed', error as Error) }
    : {};
  return [
    ...((observability?.middlewares ?? []) as middy.MiddlewareObj<
      APIGatewayProxyEvent,
      APIGatewayProxyResult
    >[]),
    httpHeaderNormalizer(),
    httpCors({
      origins,
      methods: 'GET,POST,PUT,OPTIONS',
      headers: `Content-Type,${VIEWER_TOKEN_HEADER}`,
      maxAge: CORS_MAX_AGE_SECONDS,
      // API Gateway answers preflights in the cloud; the local adapter relies on this.
      disableBeforePreflightResponse: false,
    }),
    httpSecurityHeaders(),
    jsonErrors(errors),
  ] as middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>[];
}

/**
 * Middy's router over `routes`, each answered at exactly one path. @middy/http-router also serves a
 * static route at `path/`, and the WAF's rate rules match the exact path: a second spelling would
 * slip past them. So a path with a trailing slash or an empty segment is a 404 like any unknown route.
 */
export function exactPathRouter(routes: Route<APIGatewayProxyEvent, APIGatewayProxyResult>[]) {
  const router = httpRouterHandler<APIGatewayProxyEvent, APIGatewayProxyResult>({ routes });
  return (event: APIGatewayProxyEvent, context: Parameters<typeof router>[1]) => {
    if (/\/\/|.\/$/.test(event.path ?? ''))
      throw new ApiError(404, 'not_found', `${event.path}: no such route (paths have no trailing slash)`);
    return router(event, context);
  };
}

/** Validates with the contract's error shape: the message names the first bad field. */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where: 'body' | 'query'): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new BadRequestError(`${formatPath([...issue.path, issue.keys[0]!])}: unknown field`);
  }
  const path = issue.path.length > 0 ? formatPath(issue.path) : where;
  const missing = issue.code === 'invalid_type' && valueAt(value, issue.path) === undefined;
  const message = missing ? 'required' : issue.message;
  throw new BadRequestError(`${path}: ${message}`);
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let at = value;
  for (const key of path)
    at = at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined;
  return at;
}

/**
 * The body of a POST, as JSON. Only `application/json` is taken: a cross-site form or `text/plain`
 * post needs no CORS preflight, so accepting it would let any web page make its visitors vote.
 */
export function jsonBody(event: APIGatewayProxyEvent, maxBytes: number): unknown {
  const contentType = event.headers?.['content-type'] ?? undefined; // names lowercased by httpHeaderNormalizer
  if (contentType?.split(';')[0]?.trim().toLowerCase() !== 'application/json')
    throw new UnsupportedMediaTypeError(contentType);
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > maxBytes) throw new PayloadTooLargeError(maxBytes);
  if (text.trim() === '') throw new BadRequestError('body: required (a JSON object)');
  if (nestingDepth(text) > MAX_JSON_DEPTH)
    throw new BadRequestError(`body: nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequestError('body: not valid JSON', { cause: error });
  }
}

/**
 * The deepest any body may nest: a show file is 4 levels deep. Checked on the text before parsing, so
 * no recursive work (schema checks, stringify, logging) ever meets a body that would overflow the stack.
 */
export const MAX_JSON_DEPTH = 32;

/** How deep `[` and `{` nest in JSON text, outside strings (one pass, no recursion). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** Repeated query parameters are an error, not "last one wins". */
export function query(event: APIGatewayProxyEvent): Record<string, string> {
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    if (values && values.length > 1) throw new BadRequestError(`${name}: given more than once`);
  }
  return { ...(event.queryStringParameters as Record<string, string> | null) };
}

export const json = (
  statusCode: number,
  body: unknown,
  cacheControl = 'no-store',
): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': cacheControl },
  body: JSON.stringify(body),
});
