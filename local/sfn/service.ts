// The Step Functions API on the edge endpoint: AWS JSON 1.0 (`X-Amz-Target: AWSStepFunctions.<Op>`),
// answered the way @aws-sdk/client-sfn expects — epoch-second timestamps, `__type` error codes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EXECUTION_STATUSES } from '../../contract/state-machine.ts';
import { BodyTooLargeError, readBody, type EdgeService } from '../http.ts';
import type { LocalStepFunctionsEngine } from './engine.ts';
import { SfnApiError } from './errors.ts';
import type { HistoryEvent } from './history.ts';
import type { ExecutionRecord } from './store.ts';

const TARGET_PREFIX = 'AWSStepFunctions.';
const MAX_BODY_BYTES = 1024 * 1024;

type Params = Record<string, unknown>;

const seconds = (ms: number) => ms / 1000;

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': crypto.randomUUID(),
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, error: SfnApiError, headers: Record<string, string> = {}): void {
  send(
    res,
    error.statusCode,
    { __type: `com.amazonaws.swf.service.v2.model#${error.name}`, message: error.message },
    { 'x-amzn-errortype': error.name, ...headers },
  );
}

function requireString(params: Params, name: string, max = 2048): string {
  const value = params[name];
  if (value === undefined || value === null) {
    throw new SfnApiError(
      'ValidationException',
      `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (typeof value !== 'string' || value.length < 1 || value.length > max) {
    throw new SfnApiError(
      'ValidationException',
      `1 validation error detected: Value at '${name}' failed to satisfy constraint: Member must have length between 1 and ${max}`,
    );
  }
  return value;
}

function optionalString(params: Params, name: string, max = 32768): string | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > max) {
    throw new SfnApiError(
      'ValidationException',
      `1 validation error detected: Value at '${name}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
  return value;
}

function maxResults(params: Params): number {
  const value = params.maxResults ?? 0;
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 1000) {
    throw new SfnApiError(
      'ValidationException',
      `1 validation error detected: Value '${String(value)}' at 'maxResults' failed to satisfy constraint: Member must have value between 0 and 1000`,
    );
  }
  return (value as number) || 100;
}

/** Page tokens are opaque to clients: where the next page starts, and what it is a page of. */
function encodePageToken(scope: string, offset: number): string {
  return Buffer.from(JSON.stringify({ scope, offset })).toString('base64url');
}

function decodePageToken(token: string | undefined, scope: string): number {
  if (token === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      scope?: unknown;
      offset?: unknown;
    };
    if (parsed.scope === scope && Number.isInteger(parsed.offset) && (parsed.offset as number) >= 0)
      return parsed.offset as number;
  } catch {
    // fall through
  }
  throw new SfnApiError('InvalidToken', 'Invalid Token: the nextToken was not returned by this request');
}

function page<T>(items: readonly T[], params: Params, scope: string): { items: T[]; nextToken?: string } {
  const offset = decodePageToken(optionalString(params, 'nextToken', 1024), scope);
  const size = maxResults(params);
  const slice = items.slice(offset, offset + size);
  return offset + size < items.length
    ? { items: slice, nextToken: encodePageToken(scope, offset + size) }
    : { items: slice };
}

function executionListItem(r: ExecutionRecord) {
  return {
    executionArn: r.executionArn,
    stateMachineArn: r.stateMachineArn,
    name: r.name,
    status: r.status,
    startDate: seconds(r.startDate),
    ...(r.stopDate !== undefined ? { stopDate: seconds(r.stopDate) } : {}),
    // A run the local stack resumed after a restart, as Step Functions reports a redriven one.
    ...(r.redriveCount !== undefined ? { redriveCount: r.redriveCount } : {}),
    ...(r.redriveDate !== undefined ? { redriveDate: seconds(r.redriveDate) } : {}),
  };
}

function describeExecution(r: ExecutionRecord) {
  return {
    ...executionListItem(r),
    input: r.input,
    inputDetails: { included: true },
    ...(r.output !== undefined ? { output: r.output, outputDetails: { included: true } } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
    ...(r.cause !== undefined ? { cause: r.cause } : {}),
  };
}

/** Without execution data, GetExecutionHistory leaves out inputs, outputs and parameters. */
function withoutData(event: HistoryEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith('EventDetails') && typeof value === 'object' && value !== null) {
      const { input: _i, output: _o, parameters: _p, ...rest } = value as Record<string, unknown>;
      out[key] = rest;
    } else out[key] = value;
  }
  return out;
}

export function createStepFunctionsService(engine: LocalStepFunctionsEngine): EdgeService {
  const operations: Record<string, (params: Params) => unknown> = {
    async StartExecution(params) {
      const record = engine.start(
        optionalString(params, 'name', 80),
        optionalString(params, 'input', 262144),
        requireString(params, 'stateMachineArn'),
      );
      await engine.persist(record.executionArn);
      return { executionArn: record.executionArn, startDate: seconds(record.startDate) };
    },
    async DescribeExecution(params) {
      const arn = requireString(params, 'executionArn');
      await engine.persist(arn);
      return describeExecution(engine.describe(arn));
    },
    ListExecutions(params) {
      const arn = requireString(params, 'stateMachineArn');
      const status = optionalString(params, 'statusFilter');
      if (status !== undefined && !(EXECUTION_STATUSES as readonly string[]).includes(status)) {
        throw new SfnApiError(
          'ValidationException',
          `1 validation error detected: Value '${status}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${EXECUTION_STATUSES.join(', ')}]`,
        );
      }
      const { items, nextToken } = page(engine.list(arn, status), params, `list:${arn}:${status ?? ''}`);
      return { executions: items.map(executionListItem), ...(nextToken ? { nextToken } : {}) };
    },
    async GetExecutionHistory(params) {
      const arn = requireString(params, 'executionArn');
      await engine.persist(arn);
      const reverse = params.reverseOrder === true;
      const events = engine.history(arn);
      const ordered = reverse ? [...events].reverse() : events;
      const { items, nextToken } = page(ordered, params, `history:${arn}:${reverse}`);
      const includeData = params.includeExecutionData !== false;
      return {
        events: items.map((e) => ({
          ...(includeData ? e : withoutData(e)),
          timestamp: seconds(e.timestamp),
        })),
        ...(nextToken ? { nextToken } : {}),
      };
    },
    async StopExecution(params) {
      const record = engine.stop(
        requireString(params, 'executionArn'),
        optionalString(params, 'error', 256),
        optionalString(params, 'cause', 32768),
      );
      await engine.persist(record.executionArn);
      return { stopDate: seconds(record.stopDate ?? Date.now()) };
    },
    async SendTaskSuccess(params) {
      await engine.sendTaskSuccess(
        requireString(params, 'taskToken', 2048),
        requireString(params, 'output', 262144),
      );
      return {};
    },
    async SendTaskFailure(params) {
      await engine.sendTaskFailure(
        requireString(params, 'taskToken', 2048),
        optionalString(params, 'error', 256),
        optionalString(params, 'cause', 32768),
      );
      return {};
    },
    SendTaskHeartbeat(params) {
      engine.sendTaskHeartbeat(requireString(params, 'taskToken', 2048));
      return {};
    },
    ListStateMachines(params) {
      const all = [
        {
          stateMachineArn: engine.stateMachineArn,
          name: engine.stateMachineName,
          type: 'STANDARD',
          creationDate: seconds(engine.createdAt.getTime()),
        },
      ];
      const { items, nextToken } = page(all, params, 'state-machines');
      return { stateMachines: items, ...(nextToken ? { nextToken } : {}) };
    },
    DescribeStateMachine(params) {
      const arn = requireString(params, 'stateMachineArn');
      engine.list(arn); // validates the ARN and that it is ours
      return {
        stateMachineArn: engine.stateMachineArn,
        name: engine.stateMachineName,
        status: 'ACTIVE',
        definition: engine.definition.text,
        roleArn: engine.roleArn,
        type: 'STANDARD',
        creationDate: seconds(engine.createdAt.getTime()),
        loggingConfiguration: { level: 'OFF', includeExecutionData: false },
        tracingConfiguration: { enabled: false },
      };
    },
    DescribeStateMachineForExecution(params) {
      const arn = requireString(params, 'executionArn');
      return {
        stateMachineArn: engine.stateMachineArn,
        name: engine.stateMachineName,
        // The one it runs on: a run resumed after a restart keeps the definition it started with.
        definition: engine.definitionOf(arn),
        roleArn: engine.roleArn,
        updateDate: seconds(engine.createdAt.getTime()),
      };
    },
  };

  return {
    name: 'stepfunctions',
    matches: (req: IncomingMessage) => String(req.headers['x-amz-target'] ?? '').startsWith(TARGET_PREFIX),
    async handle(req: IncomingMessage, res: ServerResponse) {
      const operation = String(req.headers['x-amz-target']).slice(TARGET_PREFIX.length);
      // Own keys only: `AWSStepFunctions.constructor` or `.__proto__` name no operation.
      const run = Object.hasOwn(operations, operation) ? operations[operation] : undefined;
      try {
        if (!run)
          throw new SfnApiError(
            'UnknownOperationException',
            `The local Step Functions does not support ${operation}`,
          );
        let params: Params;
        try {
          const body = (await readBody(req, MAX_BODY_BYTES)).toString('utf8');
          params = (body.trim() === '' ? {} : JSON.parse(body)) as Params;
        } catch (error) {
          if (error instanceof BodyTooLargeError)
            throw new SfnApiError('ValidationException', error.message, 413);
          throw new SfnApiError('SerializationException', 'Request body is not valid JSON');
        }
        if (typeof params !== 'object' || params === null || Array.isArray(params)) {
          throw new SfnApiError('SerializationException', 'Request body must be a JSON object');
        }
        send(res, 200, await run(params));
      } catch (error) {
        if (!(error instanceof SfnApiError)) throw error;
        // readBody has thrown the rest of a too-large body away: answer, then close the connection.
        sendError(res, error, error.statusCode === 413 ? { connection: 'close' } : {});
      }
    },
  };
}
