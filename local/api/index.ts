// Local API Gateway (REST, proxy integration): each HTTP request under /api becomes the v1 proxy
// event API Gateway would send, and goes to the same handler module that deploys to Lambda.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Handler } from 'aws-lambda';
import { lambdaContext } from './context.ts';
import { BodyTooLargeError, readBody, sendJson, type AppRoute } from '../http.ts';

/** API Gateway's own payload limit; the Lambda applies its smaller one and answers 413 itself. */
const API_GATEWAY_MAX_BODY = 10 * 1024 * 1024;
/** Past this a too-large body is no longer drained for a polite 413: the connection is cut. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

export type ProxyHandler = Handler<APIGatewayProxyEvent, APIGatewayProxyResult>;

export function toProxyEvent(
  req: IncomingMessage,
  prefix: string,
  body: Buffer,
  stage = 'local',
): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname.slice(prefix.length - 1) || '/';
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
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

export function inProcess(handler: ProxyHandler, functionName = 'showrunner-api'): Invoke {
  return async (event) =>
    (await handler(event, lambdaContext(functionName), () => undefined)) as APIGatewayProxyResult | undefined;
}

export function apiRoute(prefix: string, invoke: Invoke): AppRoute {
  return {
    prefix,
    async handle(req: IncomingMessage, res: ServerResponse) {
      let body: Buffer;
      try {
        body = await readBody(req, API_GATEWAY_MAX_BODY, DRAIN_LIMIT);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          sendJson(
            res,
            413,
            { error: { code: 'payload_too_large', message: `body: ${error.message}` } },
            { connection: 'close' },
          );
          return;
        }
        throw error;
      }
      const result = await invoke(toProxyEvent(req, prefix, body));
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
