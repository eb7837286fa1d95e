// Local Step Functions: the one state machine (statemachine/show.asl.json) run by
// aws-local-stepfunctions behind the Step Functions API on the edge endpoint. Task states call the
// same Lambda handler modules the cloud runs (in-process) and the local IVS and DynamoDB through
// the AWS SDK, so the definition runs unchanged.
import { join } from 'node:path';
import { LOCAL_POLL_LIFECYCLE_FUNCTION, STATE_MACHINE_NAME } from '../../contract/state-machine.ts';
import type { EdgeService } from '../http.ts';
import { loadDefinition } from './definition.ts';
import { LocalStepFunctionsEngine } from './engine.ts';
import { createLocalIntegrations, type LambdaHandler, type TaskIntegrations } from './integrations.ts';
import { createStepFunctionsService } from './service.ts';
import { ExecutionStore } from './store.ts';

export { LocalStepFunctionsEngine, RESTART_CAUSE, SHUTDOWN_CAUSE } from './engine.ts';
export type { TaskIntegrations } from './integrations.ts';

/** LocalStack's account id: ARNs look real, and nobody mistakes them for a real account. */
export const LOCAL_ACCOUNT = '000000000000';

export interface LocalStepFunctionsOptions {
  /** Executions are kept in <dataDir>/executions/. */
  dataDir: string;
  log?: (line: string) => void;
  env: {
    tableName: string;
    /** The default channel (the definition's ${ChannelArn}); `showrunner start --channel` overrides it. */
    channelArn: string;
    /** Where the SDK clients of Task states send IVS and DynamoDB calls. */
    edgeUrl: string;
    region?: string;
  };
  /** Test seam: replaces the Lambda and AWS SDK calls of Task states. */
  integrations?: TaskIntegrations;
  /** Test seams passed to aws-local-stepfunctions (milliseconds by state name). */
  retryIntervalOverrides?: Record<string, number | number[]>;
  waitTimeOverrides?: Record<string, number>;
}

export interface LocalStepFunctions {
  edge: EdgeService;
  stateMachineArn: string;
  engine: LocalStepFunctionsEngine;
  close(): Promise<void>;
}

/**
 * Call after the SDK environment points at the edge (AWS_ENDPOINT_URL, TABLE_NAME…): the Lambda
 * modules read it when first imported, like a cold start.
 */
export async function createLocalStepFunctions(
  options: LocalStepFunctionsOptions,
): Promise<LocalStepFunctions> {
  const log = options.log ?? (() => {});
  const region = options.env.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const functionArn = `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:${LOCAL_POLL_LIFECYCLE_FUNCTION}`;
  const stateMachineArn = `arn:aws:states:${region}:${LOCAL_ACCOUNT}:stateMachine:${STATE_MACHINE_NAME}`;
  const definition = await loadDefinition({
    PollLifecycleFunctionArn: functionArn,
    ChannelArn: options.env.channelArn,
    TableName: options.env.tableName,
  });
  const local = options.integrations
    ? undefined
    : createLocalIntegrations({
        edgeUrl: options.env.edgeUrl,
        region,
        functions: {
          [LOCAL_POLL_LIFECYCLE_FUNCTION]: async () =>
            ((await import('../../lambdas/poll-lifecycle.ts')) as unknown as { handler: LambdaHandler })
              .handler,
        },
      });
  const store = new ExecutionStore(join(options.dataDir, 'executions'), { log });
  const engine = await LocalStepFunctionsEngine.open({
    definition,
    stateMachineArn,
    roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${STATE_MACHINE_NAME}`,
    region,
    createdAt: new Date(),
    store,
    integrations: options.integrations ?? local!,
    log,
    ...(options.retryIntervalOverrides ? { retryIntervalOverrides: options.retryIntervalOverrides } : {}),
    ...(options.waitTimeOverrides ? { waitTimeOverrides: options.waitTimeOverrides } : {}),
  });
  return {
    edge: createStepFunctionsService(engine),
    stateMachineArn,
    engine,
    async close() {
      await engine.close();
      local?.close();
    },
  };
}
