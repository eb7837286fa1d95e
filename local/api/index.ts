// Local API Gateway (REST, proxy integration): each HTTP request under /api becomes the v1 proxy
// event API Gateway would send, and goes to the same handler that deploys to Lambda.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { PayloadTooLargeError } from '../../lambdas/http-errors.ts';
import { BodyTooLargeError, readBody, sendJson, type AppRoute } from '../http.ts';

/**
 * API Gateway's two views of repeated names: the last value, and every value. Built in Maps and
 * turned into objects with own properties only, so names like `constructor`, `__proto__` or
 * `toString` are plain keys, never Object.prototype's members.
 */
function singleAndMultiValue(
  pairs: Iterable<[string, string]>,
): [Record<string, string>, Record<string, string[]>] {
  const single = new Map<string, string>();
  const multi = new Map<string, string[]>();
  for (const [name, value] of pairs) {
    single.set(name, value);
    const values = multi.get(name);
    if (values) values.push(value);
    else multi.set(name, [value]);
  }
  return [Object.fromEntries(single), Object.fromEntries(multi)];
}

export function toProxyEvent(
  req: IncomingMessage,
  prefix: string,
  body: Buffer,
  stage = 'local',
): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname.slice(prefix.length - 1) || '/';
  const rawHeaders: Array<[string, string]> = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    rawHeaders.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  const [headers, multiValueHeaders] = singleAndMultiValue(rawHeaders);
  const [query, multiQuery] = singleAndMultiValue(url.searchParams);
  const hasQuery = url.searchParams.size > 0;
  const isText = body.length === 0 || /json|text|form/.test(String(req.headers['content-type'] ?? ''));
  const now = new Date();
  return {
    resource: '/{proxy+}',
    path,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    body: body.length === 0 ? null : isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !isText,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: req.method ?? 'GET',
      identity: {
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: String(req.headers['user-agent'] ?? ''),
      } as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/${stage}${path}`,
      stage,
      requestId: randomUUID(),
      requestTimeEpoch: now.getTime(),
      resourceId: 'proxy',
      resourcePath: '/{proxy+}',
    },
  };
}

/** How the route reaches the Lambda: in this thread, or a LambdaWorker's thread. */
export type Invoke = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult | undefined>;

/**
 * What API Gateway's Cognito authorizer does before the Lambda runs: the request's claims, or
 * undefined to answer 401 without invoking it. The claims go to requestContext.authorizer.claims.
 */
export type Authorizer = (req: IncomingMessage) => Record<string, string> | undefined;

/**
 * API Gateway would read up to 10 MB before the Lambda refuses a body; locally that is memory for
 * nothing, so the route reads no more than the Lambda takes (`maxBodyBytes`, its MAX_BODY_BYTES).
 */
export function apiRoute(
  prefix: string,
  invoke: Invoke,
  maxBodyBytes: number,
  observe?: (method: string, route: string, status: number) => void,
  authorize?: Authorizer,
): AppRoute {
  return {
    prefix,
    async handle(req: IncomingMessage, res: ServerResponse) {
      if (observe) {
        // The route as API Gateway's access log names it: the path under the stage, no query.
        const route = `/${((req.url ?? '/').split('?')[0] ?? '/').slice(prefix.length)}`;
        res.once('finish', () => observe(req.method ?? 'GET', route, res.statusCode));
      }
      let body: Buffer;
      try {
        body = await readBody(req, maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          // The Lambda's own 413 (readBody has thrown the rest of the body away), then the
          // connection closes.
          const { code, message } = new PayloadTooLargeError(maxBodyBytes);
          sendJson(res, 413, { error: { code, message } }, { connection: 'close' });
          return;
        }
        throw error;
      }
      const event = toProxyEvent(req, prefix, body);
      if (authorize && req.method !== 'OPTIONS') {
        const claims = authorize(req);
        if (!claims) {
          sendJson(res, 401, {
            error: {
              code: 'unauthorized',
              message: 'authorization: sign in to the control room (a producer token is required)',
            },
          });
          return;
        }
        event.requestContext.authorizer = { claims };
      }
      const result = await invoke(event);
      if (!result) throw new Error('the API handler returned nothing');
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
      for (const [name, values] of Object.entries(result.multiValueHeaders ?? {}))
        headers[name] = values.map(String);
      const payload = result.isBase64Encoded
        ? Buffer.from(result.body, 'base64')
        : Buffer.from(result.body ?? '');
      headers['content-length'] = String(payload.length);
      res.writeHead(result.statusCode, headers);
      res.end(payload);
    },
  };
}
