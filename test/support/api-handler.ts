// The viewer API's real Lambda handler (lambdas/api.ts) in the test's own process, without a stack:
// API Gateway v1 proxy events in, results out, and a `fetch` that the site's ApiClient can use. For
// the routes that answer before any table read (challenge, token, every refusal before a vote is
// written): the store points at an address nothing listens on.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createApiHandler, type ApiConfig } from '../../lambdas/api.ts';
import { DEFAULT_TOKEN_WORK_BITS } from '../../lambdas/config.ts';
import { viewerTokens } from '../../lambdas/viewer-token.ts';
import { lambdaContext } from '../../local/api/context.ts';
import { tableClient } from '../../store/clients.ts';
import { PollStore } from '../../store/polls.ts';

export const TEST_SECRET = 'test-secret-'.padEnd(40, 'x');

export type ApiHandler = ReturnType<typeof createApiHandler>;

export function apiHandler(config: Partial<ApiConfig> = {}, secret = TEST_SECRET): ApiHandler {
  const full: ApiConfig = {
    tableName: 'showrunner-polls',
    corsOrigins: ['*'],
    maxBodyBytes: 4096,
    pollCacheMs: 0,
    tokenWorkBits: DEFAULT_TOKEN_WORK_BITS,
    ...config,
  };
  const nowhere = tableClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return createApiHandler({
    config: full,
    store: new PollStore(nowhere.db, full.tableName),
    tokens: viewerTokens(async () => secret, { workBits: full.tokenWorkBits }),
  });
}

/**
 * One request as API Gateway (REST, `ANY /{proxy+}`) hands it to the Lambda: `path` without the stage;
 * `claims`: a signed-in producer's, as the Cognito authorizer leaves them.
 */
export async function invoke(
  handler: ApiHandler,
  method: string,
  path: string,
  options: {
    body?: string;
    headers?: Record<string, string>;
    query?: Record<string, string>;
    claims?: Record<string, string>;
  } = {},
): Promise<{ status: number; json: any; headers: Record<string, string> }> {
  const headers = {
    ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...options.headers,
  };
  const query = options.query && Object.keys(options.query).length > 0 ? options.query : null;
  const event = {
    resource: '/{proxy+}',
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query,
    multiValueQueryStringParameters:
      query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    requestContext: {
      httpMethod: method,
      path: `/prod${path}`,
      stage: 'prod',
      resourcePath: '/{proxy+}',
      ...(options.claims ? { authorizer: { claims: options.claims } } : {}),
    },
    body: options.body ?? null,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
  const result = (await handler(event, lambdaContext('showrunner-api-test'))) as APIGatewayProxyResult;
  let json: unknown = null;
  try {
    json = JSON.parse(result.body);
  } catch {
    json = result.body;
  }
  return { status: result.statusCode, json, headers: (result.headers ?? {}) as Record<string, string> };
}

/** A `fetch` for `base` that is answered by `handler`, for code that talks to the API over fetch (the site). */
export function handlerFetch(handler: ApiHandler, base: string): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    if (!url.href.startsWith(base)) throw new TypeError(`fetch failed: ${url.href} is not ${base}`);
    const basePath = new URL(base).pathname.replace(/\/$/, '');
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => (headers[name] = value));
    const got = await invoke(handler, init.method ?? 'GET', url.pathname.slice(basePath.length), {
      body: typeof init.body === 'string' ? init.body : undefined,
      headers,
      query: Object.fromEntries(url.searchParams),
    });
    return new Response(typeof got.json === 'string' ? got.json : JSON.stringify(got.json), {
      status: got.status,
      headers: got.headers,
    });
  }) as typeof fetch;
}
