// Where the operations send their calls: a Target holds the Step Functions and DynamoDB clients, the
// state machine and the table. Local (the CLI's default): the local stack's edge endpoint with dummy
// credentials, the state machine found by name. AWS: the default credential chain and the outputs
// of the CloudFormation stack the CDK app deploys. `withTarget` owns a target's lifetime.
import type { CloudFormationClientConfig } from '@aws-sdk/client-cloudformation';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { LAMBDA_ENV } from '../contract/lambda-env.ts';
import { STACK_OUTPUTS } from '../contract/stack-outputs.ts';
import { STATE_MACHINE_NAME } from '../contract/state-machine.ts';
import { TABLE } from '../contract/table.ts';
import { tableClient } from '../store/clients.ts';
import { TargetError } from './errors.ts';

export const DEFAULT_EDGE_URL = 'http://127.0.0.1:4566';
export const DEFAULT_STACK_NAME = 'Showrunner';

// Defined with the other errors (ops/errors.ts), so the CLI can tell it apart without loading the SDK.
export { TargetError } from './errors.ts';

export interface Target {
  kind: 'local' | 'aws';
  /** Human-readable: "local stack at http://127.0.0.1:4566" / "stack Showrunner (eu-west-1)". */
  description: string;
  sfn: SFNClient;
  db: DynamoDBDocumentClient;
  stateMachineArn: string;
  tableName: string;
  /** The stack's channel (aws); undefined locally, where the state machine has its own default. */
  channelArn?: string;
  close(): void;
}

export interface TargetOptions {
  target: 'local' | 'aws';
  env: NodeJS.ProcessEnv;
  stackName?: string;
  /** Extra config for the CloudFormation client that reads the stack's outputs (a test's endpoint). */
  cloudFormationConfig?: CloudFormationClientConfig;
}

/** Connection failures say where the producer's tools looked and how to fix it, instead of an SDK stack trace. */
export function explainConnectionError(error: unknown, target: Pick<Target, 'kind' | 'description'>): Error {
  const e = error as Error & { code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  if (
    target.kind === 'local' &&
    /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND/.test(`${code} ${e.message}`)
  ) {
    return new TargetError(
      `cannot reach the ${target.description}: is \`npm start\` running? (set EDGE_URL for another address, or use --target aws)`,
      { cause: error },
    );
  }
  return e;
}

export interface LocalTargetOptions {
  /** The local stack's edge endpoint (http://127.0.0.1:4566). */
  edgeUrl: string;
  region: string;
  /** Default: the state machine named STATE_MACHINE_NAME. */
  stateMachineArn?: string;
  /** Default: TABLE.defaultName. */
  tableName?: string;
}

/** The local stack at `edgeUrl` (dummy credentials: the emulators check only their shape). */
export async function connectLocal(options: LocalTargetOptions): Promise<Target> {
  const config = {
    endpoint: options.edgeUrl,
    region: options.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const sfn = new SFNClient(config);
  const table = tableClient(config);
  const description = `local stack at ${options.edgeUrl}`;
  const close = () => {
    sfn.destroy();
    table.destroy();
  };
  try {
    let stateMachineArn = options.stateMachineArn;
    if (!stateMachineArn) {
      const { stateMachines = [] } = await sfn.send(new ListStateMachinesCommand({}));
      stateMachineArn = stateMachines.find((m) => m.name === STATE_MACHINE_NAME)?.stateMachineArn;
      if (!stateMachineArn)
        throw new TargetError(`the ${description} has no state machine named ${STATE_MACHINE_NAME}`);
    }
    return {
      kind: 'local',
      description,
      sfn,
      db: table.db,
      stateMachineArn,
      tableName: options.tableName ?? TABLE.defaultName,
      close,
    };
  } catch (error) {
    close();
    throw explainConnectionError(error, { kind: 'local', description });
  }
}

/**
 * Resolves a target, runs `use` with it and closes it however `use` ends; a connection failure
 * comes out explained (explainConnectionError).
 */
export async function withTarget<T>(
  resolve: () => Promise<Target>,
  use: (target: Target) => Promise<T>,
): Promise<T> {
  const target = await resolve();
  try {
    return await use(target);
  } catch (error) {
    throw explainConnectionError(error, target);
  } finally {
    target.close();
  }
}

export async function resolveTarget(options: TargetOptions): Promise<Target> {
  const region =
    options.env.AWS_REGION?.trim() ||
    options.env.AWS_DEFAULT_REGION?.trim() ||
    (options.target === 'local' ? 'us-east-1' : undefined);
  if (options.target === 'local') {
    const endpoint = options.env.EDGE_URL?.trim() || DEFAULT_EDGE_URL;
    if (!/^https?:\/\/[^\s/]+\/?$/.test(endpoint))
      throw new TargetError(`EDGE_URL: expected http://host:port, got "${endpoint}"`);
    // The names the producer Lambda reads its own target from.
    const stateMachineArn = options.env[LAMBDA_ENV.STATE_MACHINE_ARN]?.trim();
    const tableName = options.env[LAMBDA_ENV.TABLE_NAME]?.trim();
    return connectLocal({
      edgeUrl: endpoint,
      region: region!,
      ...(stateMachineArn ? { stateMachineArn } : {}),
      ...(tableName ? { tableName } : {}),
    });
  }

  const stackName = options.stackName ?? (options.env.SHOWRUNNER_STACK?.trim() || DEFAULT_STACK_NAME);
  const config = region ? { region } : {};
  // Only --target aws reads a stack: the local target does not load this client.
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cloudFormation = new CloudFormationClient({ ...config, ...options.cloudFormationConfig });
  let outputs: Record<string, string>;
  try {
    const { Stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Object.fromEntries(
      (Stacks[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
    );
  } catch (error) {
    const e = error as Error;
    // By name: CloudFormation's ValidationError has no class in the SDK (it is modelled as the
    // service's generic exception), and CredentialsProviderError's is not the SDK's own package.
    if (e.name === 'ValidationError' || /does not exist/.test(e.message)) {
      throw new TargetError(
        `not deployed: no CloudFormation stack ${stackName}${region ? ` in ${region}` : ''} (deploy it with \`npx cdk deploy\`, or pass --stack NAME)`,
        { cause: error },
      );
    }
    if (e.name === 'CredentialsProviderError' || /credential/i.test(e.message)) {
      throw new TargetError(`--target aws: no AWS credentials (${e.message})`, { cause: error });
    }
    throw e;
  } finally {
    cloudFormation.destroy();
  }
  const need = (key: string) => {
    const value = outputs[key];
    if (!value)
      throw new TargetError(
        `stack ${stackName} has no output ${key}: redeploy it with this version (\`npx cdk deploy\`)`,
      );
    return value;
  };
  const stateMachineArn = need(STACK_OUTPUTS.StateMachineArn);
  const tableName = need(STACK_OUTPUTS.TableName);
  const channelArn = need(STACK_OUTPUTS.ChannelArn);
  // The stack's region is in its ARNs, so a default region elsewhere still reaches the right place.
  const stackRegion = stateMachineArn.split(':')[3] || region;
  const sfn = new SFNClient(stackRegion ? { region: stackRegion } : {});
  const table = tableClient(stackRegion ? { region: stackRegion } : {});
  return {
    kind: 'aws',
    description: `stack ${stackName}${stackRegion ? ` (${stackRegion})` : ''}`,
    sfn,
    db: table.db,
    stateMachineArn,
    tableName,
    channelArn,
    close() {
      sfn.destroy();
      table.destroy();
    },
  };
}
