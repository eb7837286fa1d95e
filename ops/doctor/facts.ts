// doctor, the I/O half: reads the account settings and quotas the stack depends on, one function per
// service, each with its clients passed in. A refused call (AccessDenied, a throttle, a region
// without the service) becomes that fact's ReadError, never an exception: the other facts still come.
import { GetAccountCommand, type APIGatewayClient } from '@aws-sdk/client-api-gateway';
import {
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type CloudFormationClient,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import {
  ListDistributionsCommand,
  type CloudFrontClient,
  type ListDistributionsCommandOutput,
} from '@aws-sdk/client-cloudfront';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListChannelsCommand, type IvsClient } from '@aws-sdk/client-ivs';
import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ListServiceQuotasCommand,
  NoSuchResourceException,
  type ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { TargetError } from '../errors.ts';
import {
  accountOf,
  CDK_BOOTSTRAP,
  read,
  unread,
  type AccountFacts,
  type DeployedStack,
  type QuotaRef,
  type QuotaValue,
  type Reading,
  type ReadError,
} from './evaluate.ts';
import { tableLimits } from '../../store/limits.ts';

export interface DoctorClients {
  lambda: LambdaClient;
  apiGateway: APIGatewayClient;
  dynamoDb: DynamoDBClient;
  serviceQuotas: ServiceQuotasClient;
  ssm: SSMClient;
  ivs: IvsClient;
  cloudFormation: CloudFormationClient;
  cloudFront: CloudFrontClient;
}

/** The IAM action each call needs (what an AccessDenied line names). */
export const ACTIONS = {
  lambdaSettings: 'lambda:GetAccountSettings',
  lambdaConcurrency: 'lambda:GetFunctionConcurrency',
  apiGatewayAccount: 'apigateway:GET on arn:aws:apigateway:REGION::/account',
  dynamoDbLimits: 'dynamodb:DescribeLimits',
  ivsChannels: 'ivs:ListChannels',
  quotas: 'servicequotas:GetServiceQuota and servicequotas:GetAWSDefaultServiceQuota',
  listQuotas: 'servicequotas:ListServiceQuotas',
  bootstrap: 'ssm:GetParameter (or cloudformation:DescribeStacks on CDKToolkit)',
  describeStacks: 'cloudformation:DescribeStacks',
  stackResources: 'cloudformation:ListStackResources',
  cloudFront: 'cloudfront:ListDistributions',
} as const;

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'TokenRefreshRequired',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidAccessKeyId',
  'AuthFailure',
]);
const NETWORK_ERRORS = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT/;
/** Pages of a list call read at most (a runaway NextToken stops here). */
const MAX_PAGES = 50;

/** What went wrong with one call, in the doctor's terms. */
export function readError(error: unknown, action: string): ReadError {
  const e = error as Error & {
    code?: string;
    cause?: { code?: string };
    $metadata?: { httpStatusCode?: number };
  };
  const name = e.name || 'Error';
  const message = (e.message || String(error)).replace(/\s+/g, ' ').trim();
  const code = `${e.code ?? ''} ${e.cause?.code ?? ''} ${message}`;
  if (CREDENTIAL_ERRORS.has(name)) return { kind: 'credentials', name, message };
  if (
    /AccessDenied|UnauthorizedOperation|AuthorizationError/.test(name) ||
    e.$metadata?.httpStatusCode === 403
  )
    return { kind: 'access-denied', name, message, action };
  if (NETWORK_ERRORS.test(code) || name === 'TimeoutError') return { kind: 'unreachable', name, message };
  return { kind: 'other', name, message };
}

/** Runs `call`; its failure becomes a ReadError naming `action` (or the action a nested step set). */
async function attempt<T>(action: string, call: () => Promise<T>): Promise<Reading<T>> {
  try {
    return read(await call());
  } catch (error) {
    return unread(readError(error, (error as { doctorAction?: string }).doctorAction ?? action));
  }
}

/** Tags a nested call's failure with its own action. */
async function step<T>(action: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error && typeof error === 'object') Object.assign(error, { doctorAction: action });
    throw error;
  }
}

const notDeployed = (error: unknown) =>
  (error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message);

export function readLambda(lambda: LambdaClient): Promise<AccountFacts['lambda']> {
  return attempt(ACTIONS.lambdaSettings, async () => {
    const { AccountLimit: limit } = await lambda.send(new GetAccountSettingsCommand({}));
    return {
      concurrentExecutions: limit?.ConcurrentExecutions ?? 0,
      unreservedConcurrentExecutions: limit?.UnreservedConcurrentExecutions ?? 0,
    };
  });
}

/** The stack as deployed now (undefined: not deployed), with its functions' reserved concurrency. */
export function readStack(
  cloudFormation: CloudFormationClient,
  lambda: LambdaClient,
  stackName: string,
): Promise<Reading<(DeployedStack & { stackId?: string }) | undefined>> {
  return attempt(ACTIONS.describeStacks, async () => {
    let stack: Stack | undefined;
    try {
      const out = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
      stack = out.Stacks?.[0];
    } catch (error) {
      if (notDeployed(error)) return undefined;
      throw error;
    }
    if (!stack) return undefined;
    const audience = Number(stack.Outputs?.find((o) => o.OutputKey === 'Audience')?.OutputValue);
    const names: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await step(
        ACTIONS.stackResources,
        cloudFormation.send(new ListStackResourcesCommand({ StackName: stackName, NextToken: token })),
      );
      for (const r of out.StackResourceSummaries ?? [])
        if (r.ResourceType === 'AWS::Lambda::Function' && r.PhysicalResourceId)
          names.push(r.PhysicalResourceId);
      token = out.NextToken;
      if (!token) break;
    }
    const functions = await Promise.all(
      names.map(async (name) => {
        const out = await step(
          ACTIONS.lambdaConcurrency,
          lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name })),
        );
        return {
          name,
          ...(out.ReservedConcurrentExecutions !== undefined
            ? { reservedConcurrency: out.ReservedConcurrentExecutions }
            : {}),
        };
      }),
    );
    return {
      status: stack.StackStatus ?? 'UNKNOWN',
      ...(Number.isFinite(audience) ? { audience } : {}),
      functions,
      ...(stack.StackId ? { stackId: stack.StackId } : {}),
    };
  });
}

export async function readApiGateway(apiGateway: APIGatewayClient): Promise<AccountFacts['apiGateway']> {
  const region = await apiGateway.config.region().catch(() => 'REGION');
  return attempt(ACTIONS.apiGatewayAccount.replace('REGION', region), async () => {
    const out = await apiGateway.send(new GetAccountCommand({}));
    return {
      ...(out.cloudwatchRoleArn ? { cloudWatchRoleArn: out.cloudwatchRoleArn } : {}),
      ...(out.throttleSettings?.rateLimit !== undefined ? { rateLimit: out.throttleSettings.rateLimit } : {}),
      ...(out.throttleSettings?.burstLimit !== undefined
        ? { burstLimit: out.throttleSettings.burstLimit }
        : {}),
    };
  });
}

export function readDynamoDb(dynamoDb: DynamoDBClient): Promise<AccountFacts['dynamoDb']> {
  return attempt(ACTIONS.dynamoDbLimits, () => tableLimits(dynamoDb));
}

/** How many IVS channels the region has. */
export function readIvsChannels(ivs: IvsClient): Promise<AccountFacts['ivsChannels']> {
  return attempt(ACTIONS.ivsChannels, async () => {
    let count = 0;
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await ivs.send(new ListChannelsCommand({ maxResults: 100, nextToken }));
      count += out.channels?.length ?? 0;
      nextToken = out.nextToken;
      if (!nextToken) break;
    }
    return count;
  });
}

/** The IVS quotas Service Quotas lists for the account (those with an applied value). */
export function readIvsQuotas(serviceQuotas: ServiceQuotasClient): Promise<AccountFacts['ivsQuotas']> {
  return attempt(ACTIONS.listQuotas, async () => {
    const quotas: Array<{ name: string; code: string; value: number }> = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await serviceQuotas.send(
        new ListServiceQuotasCommand({ ServiceCode: 'ivs', NextToken: token }),
      );
      for (const q of out.Quotas ?? [])
        if (q.QuotaName && q.QuotaCode && q.Value !== undefined)
          quotas.push({ name: q.QuotaName, code: q.QuotaCode, value: q.Value });
      token = out.NextToken;
      if (!token) break;
    }
    return quotas;
  });
}

/** The quota's applied value (none when Service Quotas has only AWS's default) and AWS's default. */
export function readQuota(serviceQuotas: ServiceQuotasClient, ref: QuotaRef): Promise<Reading<QuotaValue>> {
  return attempt(ACTIONS.quotas, async () => {
    const request = { ServiceCode: ref.serviceCode, QuotaCode: ref.quotaCode };
    const [applied, defaults] = await Promise.all([
      serviceQuotas.send(new GetServiceQuotaCommand(request)).catch((error: unknown) => {
        if (error instanceof NoSuchResourceException) return undefined;
        throw error;
      }),
      serviceQuotas.send(new GetAWSDefaultServiceQuotaCommand(request)),
    ]);
    return {
      ...(applied?.Quota?.Value !== undefined ? { applied: applied.Quota.Value } : {}),
      ...(defaults.Quota?.Value !== undefined ? { defaultValue: defaults.Quota.Value } : {}),
      ...(applied?.Quota?.QuotaArn ? { arn: applied.Quota.QuotaArn } : {}),
    };
  });
}

/**
 * The CDK bootstrap version: the SSM parameter the stack's template checks, or (when SSM is refused)
 * the CDKToolkit stack's BootstrapVersion output.
 */
export async function readBootstrap(
  ssm: SSMClient,
  cloudFormation: CloudFormationClient,
): Promise<Reading<{ version?: number; source: 'ssm' | 'cloudformation'; arn?: string }>> {
  const fromSsm = await attempt(ACTIONS.bootstrap, async () => {
    try {
      const { Parameter } = await ssm.send(new GetParameterCommand({ Name: CDK_BOOTSTRAP.parameter }));
      const version = Number(Parameter?.Value);
      return {
        source: 'ssm' as const,
        ...(Number.isFinite(version) ? { version } : {}),
        ...(Parameter?.ARN ? { arn: Parameter.ARN } : {}),
      };
    } catch (error) {
      if (error instanceof ParameterNotFound) return { source: 'ssm' as const };
      throw error;
    }
  });
  if (fromSsm.ok || fromSsm.error.kind !== 'access-denied') return fromSsm;
  const fromStack = await attempt(ACTIONS.bootstrap, async () => {
    try {
      const { Stacks = [] } = await cloudFormation.send(
        new DescribeStacksCommand({ StackName: CDK_BOOTSTRAP.toolkitStack }),
      );
      const version = Number(
        Stacks[0]?.Outputs?.find((o) => o.OutputKey === 'BootstrapVersion')?.OutputValue,
      );
      return {
        source: 'cloudformation' as const,
        ...(Number.isFinite(version) ? { version } : {}),
        ...(Stacks[0]?.StackId ? { arn: Stacks[0].StackId } : {}),
      };
    } catch (error) {
      if (notDeployed(error)) return { source: 'cloudformation' as const };
      throw error;
    }
  });
  return fromStack.ok ? fromStack : fromSsm;
}

/** How many distributions the first page lists (an account with none answers an empty list). */
const distributionCount = (out: ListDistributionsCommandOutput) =>
  out.DistributionList?.Items?.length ?? out.DistributionList?.Quantity ?? 0;

export function readCloudFront(cloudFront: DoctorClients['cloudFront']): Promise<AccountFacts['cloudFront']> {
  return attempt(ACTIONS.cloudFront, async () => ({
    distributions: distributionCount(await cloudFront.send(new ListDistributionsCommand({ MaxItems: 1 }))),
  }));
}

export interface GatherRequest {
  clients: DoctorClients;
  region: string;
  stackName: string;
  /** The Service Quotas quotas to read (evaluate.ts quotasToRead). */
  quotas: readonly QuotaRef[];
}

/**
 * Every fact, read in parallel. Throws TargetError only when no call got through for want of valid
 * credentials (then every line would say the same).
 */
export async function gatherFacts(request: GatherRequest): Promise<AccountFacts> {
  const { clients, region, stackName } = request;
  const [facts, quotaReadings] = await Promise.all([
    awaitEach({
      lambda: readLambda(clients.lambda),
      stack: readStack(clients.cloudFormation, clients.lambda, stackName),
      apiGateway: readApiGateway(clients.apiGateway),
      dynamoDb: readDynamoDb(clients.dynamoDb),
      ivsChannels: readIvsChannels(clients.ivs),
      ivsQuotas: readIvsQuotas(clients.serviceQuotas),
      bootstrap: readBootstrap(clients.ssm, clients.cloudFormation),
      cloudFront: readCloudFront(clients.cloudFront),
    }),
    Promise.all(request.quotas.map((q) => readQuota(clients.serviceQuotas, q))),
  ]);
  // The credentials verdict rests on the reads that decide the deploy; CloudFront's line is information only.
  const { cloudFront: _global, ...regional } = facts;
  const readings: Array<Reading<unknown>> = [...Object.values(regional), ...quotaReadings];
  const failures = readings.flatMap((r) => (r.ok ? [] : [r.error]));
  if (failures.length === readings.length && failures.every((e) => e.kind === 'credentials'))
    throw credentialsError(failures[0]!);
  const quotas = Object.fromEntries(request.quotas.map((q, i) => [q.quotaCode, quotaReadings[i]!]));
  const { stack, bootstrap } = facts;
  const arns = [
    ...quotaReadings.map((r) => (r.ok ? r.value.arn : undefined)),
    stack.ok ? stack.value?.stackId : undefined,
    bootstrap.ok ? bootstrap.value.arn : undefined,
  ];
  const account = arns.map(accountOf).find((a) => a !== undefined);
  return { region, ...(account ? { account } : {}), ...facts, quotas };
}

/** Each promise of `pending` awaited, in parallel, under its own key. */
async function awaitEach<T extends Record<string, Promise<unknown>>>(
  pending: T,
): Promise<{ [K in keyof T]: Awaited<T[K]> }> {
  const entries = await Promise.all(
    Object.entries(pending).map(async ([key, promise]) => [key, await promise] as const),
  );
  return Object.fromEntries(entries) as { [K in keyof T]: Awaited<T[K]> };
}

/** No credentials, expired ones or rejected ones: what to do about each. */
export function credentialsError(error: ReadError): TargetError {
  if (/expired/i.test(`${error.name} ${error.message}`))
    return new TargetError(
      `the AWS credentials have expired (${error.name}: ${error.message}): sign in again (aws sso login, or new keys) and rerun`,
    );
  if (error.name === 'CredentialsProviderError')
    return new TargetError(
      `no AWS credentials (${error.message}): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run aws configure`,
    );
  return new TargetError(
    `AWS refused the credentials (${error.name}: ${error.message}): check AWS_PROFILE or the access key`,
  );
}
