// A stand-in for the AWS APIs `showrunner doctor` calls: an HTTP server on 127.0.0.1 that answers
// each request with a recorded AWS response (status line, headers and body as AWS sends them) from
// test/fixtures/doctor/<account>/<service>.<operation>[.<what>].http. The account is the access key
// id the SDK signed with; the service and operation come from the request as each protocol carries
// them (REST path, X-Amz-Target, the Query Action). Anything without a recording is refused and
// listed in `unexpected`, so a test sees any call the doctor was not expected to make.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeServer, listen, readBody } from '../../local/http.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/doctor/', import.meta.url));

interface Recording {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

/** A recorded response: "HTTP/1.1 200 OK", header lines, a blank line, the body. */
function parseRecording(text: string): Recording {
  const [head = '', ...rest] = text.split(/\r?\n\r?\n/);
  const [statusLine = '', ...headerLines] = head.split(/\r?\n/);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
  if (!status) throw new Error(`not a recorded response: ${statusLine}`);
  const headers = headerLines.map((line): [string, string] => {
    const at = line.indexOf(':');
    return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
  });
  return { status, headers, body: rest.join('\n\n').replace(/\n$/, '') };
}

/** How each service carries its errors on the wire. */
const PROTOCOL: Record<string, 'rest-json' | 'json' | 'query' | 'rest-xml'> = {
  lambda: 'rest-json',
  apigateway: 'rest-json',
  ivs: 'rest-json',
  dynamodb: 'json',
  servicequotas: 'json',
  ssm: 'json',
  cloudformation: 'query',
  cloudfront: 'rest-xml',
};

/** The recording's name for a request: `service.Operation[.what]`. */
function requestKey(service: string, req: IncomingMessage, body: string): string {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const target = String(req.headers['x-amz-target'] ?? '');
  const json = () => (body ? (JSON.parse(body) as Record<string, string>) : {});
  const op = (name: string, ...what: Array<string | undefined>) =>
    [service, name, ...what.filter((w) => w !== undefined && w !== '')].join('.');
  switch (service) {
    case 'lambda': {
      if (req.method === 'GET' && url.pathname === '/2016-08-19/account-settings')
        return op('GetAccountSettings');
      const concurrency = /^\/2019-09-30\/functions\/([^/]+)\/concurrency$/.exec(url.pathname);
      if (req.method === 'GET' && concurrency)
        return op('GetFunctionConcurrency', decodeURIComponent(concurrency[1]!));
      break;
    }
    case 'apigateway':
      if (req.method === 'GET' && url.pathname === '/account') return op('GetAccount');
      break;
    case 'ivs':
      if (req.method === 'POST' && url.pathname === '/ListChannels')
        return op('ListChannels', json().nextToken);
      break;
    case 'dynamodb':
    case 'servicequotas':
    case 'ssm': {
      const name = target.split('.')[1] ?? 'unknown';
      const input = json();
      if (service === 'ssm') return op(name, input.Name?.replace(/^\//, '').replace(/\//g, '-'));
      return op(name, input.ServiceCode, input.QuotaCode, input.NextToken);
    }
    case 'cloudformation': {
      const form = new URLSearchParams(body);
      return op(
        form.get('Action') ?? 'unknown',
        form.get('StackName') ?? undefined,
        form.get('NextToken') ?? undefined,
      );
    }
    case 'cloudfront':
      if (req.method === 'GET' && url.pathname === '/2020-05-31/distribution') return op('ListDistributions');
      break;
  }
  return op(`${req.method} ${url.pathname}`);
}

/** An error response in the service's own wire format (the refusals the server makes itself). */
function errorResponse(service: string, status: number, code: string, message: string): Recording {
  const requestId = '00000000-0000-4000-8000-000000000000';
  switch (PROTOCOL[service]) {
    case 'json':
      return {
        status,
        headers: [
          [
            'Content-Type',
            service === 'dynamodb' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1',
          ],
          ['x-amzn-RequestId', requestId],
        ],
        body: JSON.stringify({ __type: `com.amazon.coral.service#${code}`, message }),
      };
    case 'rest-json':
      return {
        status,
        headers: [
          ['Content-Type', 'application/json'],
          ['x-amzn-ErrorType', code],
          ['x-amzn-RequestId', requestId],
        ],
        body: JSON.stringify({ message }),
      };
    default:
      return {
        status,
        headers: [
          ['Content-Type', 'text/xml'],
          ['x-amzn-RequestId', requestId],
        ],
        body: `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
  }
}

export interface Replay {
  endpoint: string;
  /** Requests that had no recording (`account: service.Operation…`). */
  unexpected: string[];
  /** Recordings served (`account/service.Operation…`). */
  served: string[];
  close(): Promise<void>;
}

/**
 * Serves test/fixtures/doctor/<account>/ for requests signed with access key id <account>. The key
 * id `expired` gets ExpiredTokenException from every service, as AWS answers an expired session.
 */
export async function startReplay(): Promise<Replay> {
  const accounts = new Map<string, Map<string, Recording>>();
  for (const account of readdirSync(FIXTURES, { withFileTypes: true })) {
    if (!account.isDirectory()) continue;
    const recordings = new Map<string, Recording>();
    for (const file of readdirSync(join(FIXTURES, account.name)))
      if (file.endsWith('.http'))
        recordings.set(
          file.slice(0, -'.http'.length),
          parseRecording(readFileSync(join(FIXTURES, account.name, file), 'utf8')),
        );
    accounts.set(account.name, recordings);
  }
  const unexpected: string[] = [];
  const served: string[] = [];
  const send = (res: ServerResponse, r: Recording) => {
    res.statusCode = r.status;
    for (const [name, value] of r.headers) res.setHeader(name, value);
    res.setHeader('Content-Length', Buffer.byteLength(r.body));
    res.end(r.body);
  };
  const server: Server = createServer(async (req, res) => {
    const body = (await readBody(req, 1 << 20)).toString('utf8');
    // Credential=<key id>/<date>/<region>/<service>/aws4_request
    const scope = /Credential=([^/]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(
      String(req.headers.authorization),
    );
    if (!scope) {
      res.statusCode = 403;
      res.end('unsigned request');
      unexpected.push(`unsigned ${req.method} ${req.url}`);
      return;
    }
    const [, account = '', service = ''] = scope;
    if (account === 'expired') {
      send(
        res,
        errorResponse(
          service,
          403,
          'ExpiredTokenException',
          'The security token included in the request is expired',
        ),
      );
      return;
    }
    const key = requestKey(service, req, body);
    const recording = accounts.get(account)?.get(key);
    if (!recording) {
      unexpected.push(`${account}: ${key}`);
      send(res, errorResponse(service, 400, 'UnrecordedRequest', `no recording ${account}/${key}.http`));
      return;
    }
    served.push(`${account}/${key}`);
    send(res, recording);
  });
  const port = await listen(server, 0);
  return { endpoint: `http://127.0.0.1:${port}`, unexpected, served, close: () => closeServer(server) };
}
