// The stack's Lambdas: each a Node 24 arm64 ESM bundle with its own log group and a role that may
// write only there and use only the table actions it names. The concerns (viewer-api.ts,
// orchestration.ts, producer-sign-in.ts) create theirs with nodeFunction().
import { join } from 'node:path';
import { Stack, Validations, type Duration } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { LAMBDA_ENV } from '../../contract/lambda-env.ts';
import { metricsNamespaceFor } from '../../lambdas/config.ts';
import type { ShowData } from './data.ts';
import { stackLogGroup } from './logs.ts';
import { REPO_ROOT } from './paths.ts';

/**
 * Lambda bundles: ESM (Middy 7 is ESM-only) for Node 24, built by the local esbuild devDependency.
 * The AWS SDK is bundled too (externalModules: []), so the cloud runs the SDK versions from
 * package-lock.json that the tests ran, not whatever the runtime ships. The banner gives bundled
 * CommonJS dependencies a `require` (esbuild's ESM output has none).
 */
export const LAMBDA_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  externalModules: [],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  banner:
    "import { createRequire as __showrunnerCreateRequire } from 'node:module'; " +
    'const require = __showrunnerCreateRequire(import.meta.url);',
};

export interface NodeFunctionOptions {
  /** The handler file, repo-relative (lambdas/handlers/…). */
  entry: string;
  description: string;
  memorySize: number;
  timeout: Duration;
  environment: Record<string, string>;
  /** Reserved and capped; none for a function with few callers (the producer API), or at small audiences. */
  reservedConcurrentExecutions?: number | undefined;
  /** The table the role may use. */
  data: ShowData;
  /** Granted on the table; Query on its index too (item actions never address an index). */
  tableActions: readonly string[];
  /** False: the table's Query only, not the index's (a role that reads partitions, not viewers' histories). */
  queriesIndex?: boolean;
  /** Further grants beyond logs and the table. */
  extraStatements?: PolicyStatement[];
  roleDescription?: string;
  /** X-Ray Active tracing, and the Powertools Tracer in the function (the stack's `tracing`). */
  tracing: boolean;
}

/** A Node 24 arm64 ESM Lambda with its own log group and a role that can write only there and to the table. */
export function nodeFunction(scope: Construct, id: string, options: NodeFunctionOptions): NodejsFunction {
  const logGroup = stackLogGroup(scope, `${id}Logs`);
  // An explicit role instead of the AWSLambdaBasicExecutionRole managed policy (which may write
  // to every log group in the account).
  const role = new Role(scope, `${id}Role`, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: `${options.description}: ${options.roleDescription ?? 'logs and table access'}`,
  });
  logGroup.grantWrite(role);
  for (const statement of tableGrants(
    [...options.tableActions],
    options.data.table.tableArn,
    options.queriesIndex === false ? [] : options.data.indexArns,
  )) {
    role.addToPrincipalPolicy(statement);
  }
  for (const statement of options.extraStatements ?? []) role.addToPrincipalPolicy(statement);
  return new NodejsFunction(scope, id, {
    entry: join(REPO_ROOT, options.entry),
    handler: 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
    runtime: Runtime.NODEJS_24_X,
    architecture: Architecture.ARM_64,
    description: options.description,
    memorySize: options.memorySize,
    timeout: options.timeout,
    reservedConcurrentExecutions: options.reservedConcurrentExecutions,
    role,
    logGroup,
    // Active: Lambda traces (and lets the Powertools Tracer send segments; CDK grants
    // xray:PutTraceSegments/PutTelemetryRecords). Off: the Tracer is not even loaded.
    tracing: options.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
    environment: {
      ...options.environment,
      [LAMBDA_ENV.NODE_OPTIONS]: '--enable-source-maps',
      [LAMBDA_ENV.POWERTOOLS_TRACE_ENABLED]: String(options.tracing),
      // This stack's own namespace, the one its alarms count into too (cdk/lib/monitoring.ts).
      [LAMBDA_ENV.POWERTOOLS_METRICS_NAMESPACE]: metricsNamespaceFor(Stack.of(scope).stackName),
    },
    bundling: LAMBDA_BUNDLING,
  });
}

/**
 * X-Ray (Active tracing): CDK adds xray:PutTraceSegments and PutTelemetryRecords on "*". Called
 * once the function's own grants are in its role, so the acknowledgement follows them.
 */
export function acknowledgeTracingGrants(fn: NodejsFunction, tracing: boolean): void {
  if (!tracing) return;
  Validations.of(fn.role!.node.findChild('DefaultPolicy')).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'xray:PutTraceSegments and xray:PutTelemetryRecords (Active tracing) do not support resource-level permissions. Everything else the role may do is scoped to its log group, the table, the secret, the channels or the state machine.',
  });
}

/** DynamoDB actions that may address an index (everything else names an item, which lives in the table). */
const INDEX_ACTIONS = new Set(['dynamodb:Query', 'dynamodb:Scan']);

/** A role's table grants: every action on the table, and the index-reading ones on its indexes too. */
export function tableGrants(actions: string[], tableArn: string, indexArns: string[]): PolicyStatement[] {
  const reads = actions.filter((a) => INDEX_ACTIONS.has(a));
  return [
    new PolicyStatement({ actions, resources: [tableArn] }),
    ...(reads.length && indexArns.length
      ? [new PolicyStatement({ actions: reads, resources: indexArns })]
      : []),
  ];
}
