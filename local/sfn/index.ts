// Local Step Functions: the one state machine (statemachine/show.asl.json) run by
// aws-local-stepfunctions behind the Step Functions API on the edge endpoint. Task states call the
// Lambda handlers the composition root registers (built by the same factories the cloud's entry
// files use, run in-process) and the local IVS and DynamoDB through the AWS SDK, so the definition
// runs unchanged. Executions outlive the process: stopping the stack leaves them RUNNING on disk and
// the next start resumes them (engine.ts).
import { join } from 'node:path';
import { LOCAL_POLL_LIFECYCLE_FUNCTION, STATE_MACHINE_NAME } from '../../contract/state-machine.ts';
import type { EdgeService } from '../http.ts';
import { DEFINITION_FILE, loadDefinition } from './definition.ts';
import { LocalStepFunctionsEngine, type EngineOptions } from './engine.ts';
import { createLocalIntegrations, type LambdaHandler, type TaskIntegrations } from './integrations.ts';
import { createStepFunctionsService } from './service.ts';
import { ExecutionStore } from './store.ts';

export { CANNOT_RESUME_CAUSE, LocalStepFunctionsEngine } from './engine.ts';
export type { ExecutionStatusChangeEvent } from './engine.ts';
export type { LambdaHandler, TaskIntegrations } from './integrations.ts';

/** LocalStack's account id: ARNs look real, and nobody mistakes them for a real account. */
export const LOCAL_ACCOUNT = '000000000000';

/** What Task states call: the local functions and AWS services, or a test's stand-ins for both. */
export type LocalTaskTargets =
  | {
      /** Lambda functions by name (the definition names them by ARN), e.g. LOCAL_POLL_LIFECYCLE_FUNCTION. */
      functions: Readonly<Record<string, LambdaHandler>>;
      integrations?: never;
    }
  | {
      /** Test seam: replaces the Lambda and AWS SDK calls of Task states. */
      integrations: TaskIntegrations;
      functions?: never;
    };

export type LocalStepFunctionsOptions = LocalTaskTargets & {
  /** Executions are kept in <dataDir>/executions/. */
  dataDir: string;
  log?: (line: string) => void;
  env: {
    tableName: string;
    /** The default channel (the definition's ${ChannelArn}); `showrunner start --channel` overrides it. */
    channelArn: string;
    /** Where the SDK clients of Task states send IVS and DynamoDB calls. */
    edgeUrl: string;
    /** Of the ARNs and the SDK clients (default us-east-1). */
    region?: string;
  };
  /** Test seams passed to aws-local-stepfunctions (milliseconds by state name). */
  retryIntervalOverrides?: Record<string, number | number[]>;
  waitTimeOverrides?: Record<string, number>;
  /** Test seam: another definition file (default statemachine/show.asl.json). */
  definitionFile?: string;
  /**
   * The stack's EventBridge rule locally: this function (of `functions`, or of the test's
   * `integrations`) gets the status-change event of every execution that ended FAILED, ABORTED or
   * TIMED_OUT, invoked asynchronously as EventBridge invokes its targets.
   */
  executionEndedFunction?: string;
};

export interface LocalStepFunctions {
  edge: EdgeService;
  stateMachineArn: string;
  engine: LocalStepFunctionsEngine;
  close(): Promise<void>;
}

/** Delivers the event to the function as EventBridge does: asynchronously, failures only logged. */
function executionEndedTarget(
  integrations: TaskIntegrations,
  functionName: string,
  log: (line: string) => void,
): NonNullable<EngineOptions['onExecutionEnded']> {
  return (event) => {
    integrations.invokeLambda(functionName, event).catch((error: unknown) => {
      log(
        `local EventBridge: ${functionName} failed on ${event.detail.name} ${event.detail.status}: ${String(error)}`,
      );
    });
  };
}

export async function createLocalStepFunctions(
  options: LocalStepFunctionsOptions,
): Promise<LocalStepFunctions> {
  const log = options.log ?? (() => {});
  const region = options.env.region ?? 'us-east-1';
  const functionArn = `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:${LOCAL_POLL_LIFECYCLE_FUNCTION}`;
  const stateMachineArn = `arn:aws:states:${region}:${LOCAL_ACCOUNT}:stateMachine:${STATE_MACHINE_NAME}`;
  const definition = await loadDefinition(
    {
      PollLifecycleFunctionArn: functionArn,
      ChannelArn: options.env.channelArn,
      TableName: options.env.tableName,
    },
    options.definitionFile ?? DEFINITION_FILE,
  );
  const local = options.integrations
    ? undefined
    : createLocalIntegrations({ edgeUrl: options.env.edgeUrl, region, functions: options.functions });
  const store = new ExecutionStore(join(options.dataDir, 'executions'), { log });
  const integrations = options.integrations ?? local!;
  // Resumes the executions a stop or crash left RUNNING: their Task states call the integrations now.
  const engine = await LocalStepFunctionsEngine.open({
    definition,
    stateMachineArn,
    roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${STATE_MACHINE_NAME}`,
    region,
    createdAt: new Date(),
    store,
    integrations,
    log,
    ...(options.retryIntervalOverrides ? { retryIntervalOverrides: options.retryIntervalOverrides } : {}),
    ...(options.waitTimeOverrides ? { waitTimeOverrides: options.waitTimeOverrides } : {}),
    ...(options.executionEndedFunction
      ? { onExecutionEnded: executionEndedTarget(integrations, options.executionEndedFunction, log) }
      : {}),
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
