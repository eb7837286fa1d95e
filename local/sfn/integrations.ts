// What the local state machine's Task states call: Lambda functions (in-process handlers, built by
// the composition root with the same factories the cloud's entry files use) and AWS SDK
// integrations (SDK clients pointed at the local edge).
// Errors come out named the way Step Functions names them, so the definition's Retry/Catch work.
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import {
  DynamoDBClient,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { GetChannelCommand, GetStreamCommand, IvsClient, PutMetadataCommand } from '@aws-sdk/client-ivs';
import type { Context } from 'aws-lambda';
import { lambdaFunctionError, sdkIntegrationErrorName, TaskFailure } from './errors.ts';

export interface TaskIntegrations {
  /** `arn:aws:states:::lambda:invoke`: the function's result; throws TaskFailure named like its error. */
  invokeLambda(functionName: string, payload: unknown): Promise<unknown>;
  /** `arn:aws:states:::aws-sdk:<service>:<action>`: the response; throws TaskFailure `<Service>.<Name>Exception`. */
  callAws(service: string, action: string, parameters: Record<string, unknown>): Promise<unknown>;
}

/** A Lambda handler as the lambdas/ factories build them (Middy or plain). */
export type LambdaHandler = (event: unknown, context: Context) => unknown;

/** Function name (last ARN segment) — how the local registry finds a function the definition names by ARN. */
export function functionNameOf(nameOrArn: string): string {
  const match = /:function:([^:]+)/.exec(nameOrArn);
  return match ? match[1]! : nameOrArn;
}

interface SdkClientLike {
  send(command: unknown): Promise<Record<string, unknown>>;
  destroy(): void;
}

type CommandClass = new (input: never) => unknown;

interface SdkService {
  /** How Step Functions prefixes this service's errors. */
  title: string;
  /**
   * ASL parameters are PascalCase (`ChannelArn`); SDK v3 inputs use each API's own member names
   * (IVS: `channelArn`; DynamoDB: `TableName`). These map between the two, both ways.
   */
  input?(parameters: Record<string, unknown>): Record<string, unknown>;
  output?(response: Record<string, unknown>): Record<string, unknown>;
  create(config: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    maxAttempts: number;
    requestHandler: { httpAgent: Agent };
  }): SdkClientLike;
  actions: Record<string, CommandClass>;
}

function renameKeys(
  value: Record<string, unknown>,
  rename: (key: string) => string,
  deep: boolean,
): Record<string, unknown> {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return deep ? v.map(walk) : v;
    if (typeof v !== 'object' || v === null || v instanceof Date || v instanceof Uint8Array) return v;
    return Object.fromEntries(Object.entries(v).map(([k, inner]) => [rename(k), deep ? walk(inner) : inner]));
  };
  return walk(value) as Record<string, unknown>;
}

/** The AWS SDK integrations the definition uses (and a few neighbours, for tools and tests). */
const SERVICES: Record<string, SdkService> = {
  ivs: {
    title: 'Ivs',
    input: (parameters) => renameKeys(parameters, (k) => k.charAt(0).toLowerCase() + k.slice(1), false),
    output: (response) =>
      renameKeys(response, (k) => k.charAt(0).toUpperCase() + k.slice(1), true) as Record<string, unknown>,
    create: (config) => new IvsClient(config) as unknown as SdkClientLike,
    actions: { putMetadata: PutMetadataCommand, getChannel: GetChannelCommand, getStream: GetStreamCommand },
  },
  dynamodb: {
    title: 'DynamoDb',
    create: (config) => new DynamoDBClient(config) as unknown as SdkClientLike,
    actions: {
      putItem: PutItemCommand,
      getItem: GetItemCommand,
      updateItem: UpdateItemCommand,
      deleteItem: DeleteItemCommand,
    },
  },
};

export interface LocalIntegrationsOptions {
  /** The local edge endpoint the SDK clients call (http://127.0.0.1:4566). */
  edgeUrl: string;
  region: string;
  /** Function name → its handler (the registry the composition root builds). */
  functions: Readonly<Record<string, LambdaHandler>>;
  /** Lambda timeout given to handlers through context.getRemainingTimeInMillis(). */
  functionTimeoutMs?: number;
}

export function createLocalIntegrations(
  options: LocalIntegrationsOptions,
): TaskIntegrations & { close(): void } {
  const clients = new Map<string, SdkClientLike>();
  const timeoutMs = options.functionTimeoutMs ?? 60_000;

  const clientFor = (service: string, spec: SdkService): SdkClientLike => {
    let client = clients.get(service);
    if (!client) {
      // Dummy credentials: the local emulators ignore signatures, but the SDK will not sign without any.
      client = spec.create({
        endpoint: options.edgeUrl,
        region: options.region,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        // The definition's Retry is the one retry policy: every throttled call shows in the history.
        maxAttempts: 1,
        // Task calls come seconds to minutes apart: a fresh connection each time, so a call never
        // lands on a kept-alive socket the server is closing (ECONNRESET, which no retry would catch).
        requestHandler: { httpAgent: new Agent({ keepAlive: false }) },
      });
      clients.set(service, client);
    }
    return client;
  };

  return {
    async invokeLambda(functionName, payload) {
      const name = functionNameOf(functionName);
      const handler = Object.hasOwn(options.functions, name) ? options.functions[name] : undefined;
      if (!handler) {
        throw new TaskFailure(
          'Lambda.ResourceNotFoundException',
          `Function not found: ${functionName} (local functions: ${Object.keys(options.functions).join(', ')})`,
        );
      }
      const deadline = Date.now() + timeoutMs;
      const context: Context = {
        functionName: name,
        functionVersion: '$LATEST',
        invokedFunctionArn: functionName,
        memoryLimitInMB: '256',
        awsRequestId: randomUUID(),
        logGroupName: `/aws/lambda/${name}`,
        logStreamName: 'local',
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
        done: () => undefined,
        fail: () => undefined,
        succeed: () => undefined,
      };
      try {
        // A round trip through JSON, as over the wire: the function gets plain data, returns plain data.
        const result = await handler(JSON.parse(JSON.stringify(payload ?? null)), context);
        return result === undefined ? null : JSON.parse(JSON.stringify(result));
      } catch (error) {
        throw lambdaFunctionError(error);
      }
    },

    async callAws(service, action, parameters) {
      const spec = SERVICES[service];
      const Command = spec?.actions[action];
      if (!spec || !Command) {
        throw new TaskFailure(
          'States.Runtime',
          `the local stack does not emulate aws-sdk:${service}:${action}`,
        );
      }
      try {
        const input = spec.input ? spec.input(parameters) : parameters;
        const { $metadata: _ignored, ...response } = await clientFor(service, spec).send(
          new Command(input as never),
        );
        return spec.output ? spec.output(response) : response;
      } catch (error) {
        const e = error as Error & { $fault?: unknown };
        // Service errors carry $fault; anything else (connection refused…) is a plain task failure.
        if (e.$fault !== undefined && e.name)
          throw new TaskFailure(sdkIntegrationErrorName(spec.title, e.name), e.message);
        throw new TaskFailure('States.TaskFailed', `${service}:${action}: ${e.message}`);
      }
    },

    close() {
      for (const client of clients.values()) client.destroy();
      clients.clear();
    },
  };
}
