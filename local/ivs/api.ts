// The IVS control-plane subset the project uses, over the same REST-JSON wire protocol as the real service
// (POST /PutMetadata, /GetChannel, /GetStream, /ListChannels), so @aws-sdk/client-ivs pointed at the edge
// endpoint works unchanged and raises the same named exceptions (ValidationException, ThrottlingException,
// ChannelNotBroadcasting, ResourceNotFoundException: the SDK picks the class from x-amzn-ErrorType).
// Like IVS's front door it wants a SigV4 Authorization header and a JSON body: a page in a browser
// cannot forge either without a CORS preflight, which the edge never grants. The signature itself is
// not checked (local credentials are dummies).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody, sendJson, type EdgeService } from '../http.ts';
import type { LocalChannel } from './channel.ts';

const OPERATIONS = new Set(['/PutMetadata', '/GetChannel', '/GetStream', '/ListChannels']);
const CHANNEL_ARN = /^arn:aws:[is]vs:[a-z0-9-]+:[0-9]+:channel\/[a-zA-Z0-9-]+$/;
/** Bodies are tiny JSON documents; 1 KB of metadata is at most ~6 KB once JSON-escaped. */
const MAX_BODY = 64 * 1024;

export type IvsErrorType =
  | 'ValidationException'
  | 'ThrottlingException'
  | 'ChannelNotBroadcasting'
  | 'ResourceNotFoundException'
  | 'AccessDeniedException'
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'UnsupportedMediaTypeException';

const STATUS: Record<IvsErrorType, number> = {
  ValidationException: 400,
  AccessDeniedException: 403,
  // What AWS's REST front door answers for an unsigned or half-signed request.
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 403,
  ChannelNotBroadcasting: 404,
  ResourceNotFoundException: 404,
  // restJson1 servers refuse a body that is not application/json (Smithy's malformed-request tests).
  UnsupportedMediaTypeException: 415,
  ThrottlingException: 429,
};

const SIGV4 = 'AWS4-HMAC-SHA256';
/** The service a SigV4 credential scope names: Credential=<key>/<date>/<region>/<service>/aws4_request. */
const SCOPE_SERVICE = /Credential=[^/,\s]*\/[^/,\s]*\/[^/,\s]*\/([^/,\s]*)\/aws4_request/;

export interface ChannelDirectory {
  get(arn: string): LocalChannel | undefined;
  all(): LocalChannel[];
  playbackUrl(channel: LocalChannel): string;
  ingestEndpoint(channel: LocalChannel): string;
}

function sendError(
  res: ServerResponse,
  type: IvsErrorType,
  message: string,
  headers: Record<string, string> = {},
): void {
  // IVS error shapes carry `exceptionMessage`; `message` is what the SDK puts on error.message.
  sendJson(
    res,
    STATUS[type],
    { exceptionMessage: message, message },
    {
      'x-amzn-errortype': type,
      'x-amzn-requestid': randomUUID(),
      ...headers,
    },
  );
}

/** Why the Authorization header is not a SigV4 one, in AWS's words; undefined when it is. */
function authorizationProblem(req: IncomingMessage): [IvsErrorType, string] | undefined {
  const auth = req.headers.authorization?.trim();
  if (!auth) return ['MissingAuthenticationTokenException', 'Missing Authentication Token'];
  const space = auth.indexOf(' ');
  const algorithm = space < 0 ? auth : auth.slice(0, space);
  const params = new Map<string, string>();
  for (const part of space < 0 ? [] : auth.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const problems: string[] = [];
  if (algorithm !== SIGV4) problems.push(`Unsupported AWS 'algorithm': '${algorithm}' (only ${SIGV4}).`);
  for (const name of ['Credential', 'Signature', 'SignedHeaders'])
    if (!params.get(name)) problems.push(`Authorization header requires '${name}' parameter.`);
  if (!req.headers['x-amz-date'] && !req.headers.date)
    problems.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  return problems.length > 0 ? ['IncompleteSignatureException', problems.join(' ')] : undefined;
}

function isJson(req: IncomingMessage): boolean {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json';
}

function validationMessage(value: string, member: string, constraint: string): string {
  return `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`;
}

function channelShape(channel: LocalChannel, directory: ChannelDirectory) {
  const c = channel.config;
  return {
    arn: c.arn,
    name: c.name,
    latencyMode: c.latencyMode,
    type: c.type,
    authorized: false,
    insecureIngest: true,
    preset: '',
    recordingConfigurationArn: '',
    playbackRestrictionPolicyArn: '',
    containerFormat: 'TS',
    ingestEndpoint: directory.ingestEndpoint(channel),
    playbackUrl: directory.playbackUrl(channel),
    tags: {},
  };
}

export function createIvsService(directory: ChannelDirectory, log: (line: string) => void): EdgeService {
  const pathOf = (req: IncomingMessage) => (req.url ?? '/').split('?')[0] ?? '/';
  return {
    name: 'ivs',
    matches(req) {
      if (req.method !== 'POST' || !OPERATIONS.has(pathOf(req))) return false;
      // Signed requests name their service in the credential scope; leave other services' paths
      // alone. Unsigned ones are IVS's to refuse.
      const service = SCOPE_SERVICE.exec(req.headers.authorization ?? '')?.[1];
      return service === undefined || service === 'ivs';
    },
    async handle(req, res) {
      const refusal: [IvsErrorType, string] | undefined =
        authorizationProblem(req) ??
        (isJson(req)
          ? undefined
          : [
              'UnsupportedMediaTypeException',
              `Content-Type: expected application/json, got ${JSON.stringify(req.headers['content-type'] ?? null)}`,
            ]);
      if (refusal) {
        sendError(res, ...refusal);
        return;
      }
      let input: Record<string, unknown>;
      try {
        const body = await readBody(req, MAX_BODY);
        const parsed: unknown = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new SyntaxError('not an object');
        input = parsed as Record<string, unknown>;
      } catch (error) {
        if (error instanceof BodyTooLargeError)
          // readBody has thrown the rest of the body away: answer, then close the connection.
          sendError(res, 'ValidationException', 'Request body too large', { connection: 'close' });
        else sendError(res, 'ValidationException', 'Malformed JSON body');
        return;
      }
      const operation = pathOf(req).slice(1);
      switch (operation) {
        case 'PutMetadata':
          return putMetadata(input, res);
        case 'GetChannel':
          return getChannel(input, res);
        case 'GetStream':
          return getStream(input, res);
        case 'ListChannels':
          return listChannels(input, res);
      }
    },
  };

  /** Shape check, then lookup; returns the channel or answers the error itself. */
  function lookup(value: unknown, member: string, res: ServerResponse): LocalChannel | undefined {
    if (typeof value !== 'string' || value.length < 1 || value.length > 128 || !CHANNEL_ARN.test(value)) {
      sendError(
        res,
        'ValidationException',
        validationMessage(
          String(value ?? ''),
          member,
          `Member must satisfy regular expression pattern: ${CHANNEL_ARN.source}`,
        ),
      );
      return undefined;
    }
    const channel = directory.get(value);
    if (!channel) sendError(res, 'ResourceNotFoundException', `Channel not found: ${value}`);
    return channel;
  }

  function putMetadata(input: Record<string, unknown>, res: ServerResponse): void {
    const { channelArn, metadata } = input;
    if (typeof metadata !== 'string') {
      sendError(res, 'ValidationException', validationMessage('null', 'metadata', 'Member must not be null'));
      return;
    }
    const channel = lookup(channelArn, 'channelArn', res);
    if (!channel) return;
    const result = channel.putMetadata(metadata);
    if (!result.ok) {
      if (result.error !== 'ThrottlingException')
        log(`[ivs ${channel.config.name}] PutMetadata: ${result.error}`);
      sendError(res, result.error, result.message);
      return;
    }
    res.writeHead(204, { 'x-amzn-requestid': randomUUID() });
    res.end();
  }

  function getChannel(input: Record<string, unknown>, res: ServerResponse): void {
    const channel = lookup(input.arn, 'arn', res);
    if (channel) sendJson(res, 200, { channel: channelShape(channel, directory) });
  }

  function getStream(input: Record<string, unknown>, res: ServerResponse): void {
    const channel = lookup(input.channelArn, 'channelArn', res);
    if (!channel) return;
    if (!channel.live || !channel.startTime) {
      sendError(res, 'ChannelNotBroadcasting', `Channel is not broadcasting: ${channel.config.arn}`);
      return;
    }
    sendJson(res, 200, {
      stream: {
        channelArn: channel.config.arn,
        streamId: channel.streamId,
        playbackUrl: directory.playbackUrl(channel),
        // The IVS model marks this timestamp date-time (RFC 3339), not restJson1's default epoch seconds.
        startTime: channel.startTime.toISOString(),
        state: 'LIVE',
        // STARVING while its segments cannot be written: live, but viewers get nothing new.
        health: channel.health,
        viewerCount: channel.viewerCount,
      },
    });
  }

  function listChannels(input: Record<string, unknown>, res: ServerResponse): void {
    const maxResults = input.maxResults ?? 100;
    if (
      typeof maxResults !== 'number' ||
      !Number.isInteger(maxResults) ||
      maxResults < 1 ||
      maxResults > 100
    ) {
      sendError(
        res,
        'ValidationException',
        validationMessage(String(maxResults), 'maxResults', 'Member must have value between 1 and 100'),
      );
      return;
    }
    const start = typeof input.nextToken === 'string' && input.nextToken !== '' ? Number(input.nextToken) : 0;
    if (!Number.isInteger(start) || start < 0) {
      sendError(res, 'ValidationException', 'The nextToken is not valid');
      return;
    }
    const name = typeof input.filterByName === 'string' ? input.filterByName : undefined;
    const matching = directory.all().filter((c) => name === undefined || c.config.name.includes(name));
    const page = matching.slice(start, start + maxResults);
    sendJson(res, 200, {
      // ChannelSummary: the channel without its URLs and container format.
      channels: page.map((c) => {
        const {
          playbackUrl: _url,
          ingestEndpoint: _ingest,
          containerFormat: _format,
          ...summary
        } = channelShape(c, directory);
        return summary;
      }),
      ...(start + maxResults < matching.length ? { nextToken: String(start + maxResults) } : {}),
    });
  }
}
