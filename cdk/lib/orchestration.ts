// Orchestration: the show state machine from the shared ASL file (statemachine/show.asl.json), the
// poll lifecycle Lambda its Task states invoke, and the rule that closes the polls of a run that did
// not succeed. Its resources are the stack's own (see showrunner-stack.ts).
import { Aws, Duration, Validations, type Stack } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { LAMBDA_ENV } from '../../contract/lambda-env.ts';
import type { Substitutions } from '../../contract/state-machine.ts';
import { DefinitionError, selectSubstitutions, type AslDefinition } from './asl.ts';
import type { ShowChannel } from './channel.ts';
import { TABLE_DATA_ACTIONS, type ShowData } from './data.ts';
import { acknowledgeTracingGrants, nodeFunction } from './lambda.ts';
import { stackLogGroup } from './logs.ts';
import type { StateMachineLogLevel } from './monitoring.ts';
import type { Sizing } from '../../core/sizing.ts';

/**
 * The lifecycle Lambda's timeout, 15 minutes (Lambda's maximum), set by its longest action: the
 * tally loop (lambdas/poll-lifecycle.ts, action "tally") sends the open poll's tally as a cue about
 * once a second for a slice of at most TALLY_SLICE_MS (14 min), then returns, and the state machine
 * calls it again until closesAt. Long slices keep the execution's history short (7 events a slice,
 * docs/show-limits.md). The loop also ends its slice by context.getRemainingTimeInMillis() minus a
 * margin, so this timeout bounds a slice too, and the definition's LiveTally state waits at least
 * this long. Close is bounded by its own state's TimeoutSeconds (60) instead: VOTE_SETTLE_MS (at
 * most MAX_VOTE_SETTLE_MS, 30 s) plus the recount fit inside it.
 */
export const LIFECYCLE_TIMEOUT_SECONDS = 900;

export interface PollLifecycleFunctionProps {
  readonly data: ShowData;
  /** The channels its tally loop may cue, and Plan may accept from an execution input. */
  readonly channel: ShowChannel;
  /** The vote shards, the poll cache and the reserved concurrency follow the audience. */
  readonly sizing: Sizing;
  readonly tracing: boolean;
}

/** The poll lifecycle Lambda (plan/open/tally/close, lambdas/handlers/poll-lifecycle.ts). */
export function pollLifecycleFunction(stack: Stack, props: PollLifecycleFunctionProps): NodejsFunction {
  const { sizing } = props;
  const fn = nodeFunction(stack, 'PollLifecycleFunction', {
    entry: 'lambdas/handlers/poll-lifecycle.ts',
    description: 'showrunner poll lifecycle (plan/open/tally/close), invoked by the show state machine',
    memorySize: 512,
    // A tally slice (≤ 14 min) with room for its last calls (LIFECYCLE_TIMEOUT_SECONDS). Close does
    // not get this long: its state times out after 60 s, and VOTE_SETTLE_MS (≤ MAX_VOTE_SETTLE_MS,
    // 30 s) plus the recount fit inside that.
    timeout: Duration.seconds(LIFECYCLE_TIMEOUT_SECONDS),
    // Plan refuses an execution input's channelArn outside these (the stack's PutMetadata grants).
    environment: {
      [LAMBDA_ENV.TABLE_NAME]: props.data.table.tableName,
      [LAMBDA_ENV.CUE_CHANNEL_ARNS]: props.channel.cueChannelArns.join(','),
      // Open spreads a poll's votes over this many shard partitions (contract/table.ts).
      [LAMBDA_ENV.VOTE_SHARDS]: String(sizing.voteShards),
      // The API Lambda's: a poll a failed or stopped run ends early is recounted once no API
      // container can still hold its old closing time.
      [LAMBDA_ENV.POLL_CACHE_MS]: String(sizing.pollCacheMs),
    },
    // The show's own work (plan, open, tally, close): where the stack reserves, no storm on the
    // API Lambda can starve it.
    reservedConcurrentExecutions: sizing.reservesConcurrency
      ? sizing.lifecycleReservedConcurrency
      : undefined,
    data: props.data,
    tableActions: TABLE_DATA_ACTIONS,
    // The tally loop sends its cues itself (about once a second while a poll is open), so they
    // stay out of the execution history; the same channels as the state machine's cue states.
    extraStatements: [props.channel.putMetadataOnCueChannels()],
    roleDescription: 'logs, table access and PutMetadata on the cue channels',
    tracing: props.tracing,
  });
  acknowledgeTracingGrants(fn, props.tracing);
  return fn;
}

export interface ShowOrchestrationProps {
  /** The definition, read and checked at synth (cdk/lib/asl.ts). */
  readonly definition: AslDefinition;
  readonly lifecycleFunction: NodejsFunction;
  readonly channel: ShowChannel;
  readonly data: ShowData;
  readonly tracing: boolean;
  readonly logLevel: StateMachineLogLevel;
  /** Log state input and output too (they hold questions, answers and task tokens). */
  readonly logExecutionData: boolean;
}

/** The show state machine, its log group, and the rule that closes the polls of a run that did not succeed. */
export class ShowOrchestration {
  readonly stateMachine: StateMachine;
  /** The state machine's log group (the IVS throttling alarm reads it). */
  readonly logs: LogGroup;

  constructor(stack: Stack, props: ShowOrchestrationProps) {
    const { definition, lifecycleFunction, channel, data } = props;
    const functionsBySubstitution: Record<string, NodejsFunction> = {
      PollLifecycleFunctionArn: lifecycleFunction,
    };
    const substitutions = selectSubstitutions(definition, {
      PollLifecycleFunctionArn: lifecycleFunction.functionArn,
      ChannelArn: channel.channelArn,
      TableName: data.table.tableName,
    } satisfies Substitutions);
    this.logs = stackLogGroup(stack, 'StateMachineLogs', {
      // The /aws/vendedlogs/ prefix keeps the log delivery resource policy small (AWS recommendation).
      logGroupName: `/aws/vendedlogs/states/${Aws.STACK_NAME}-show`,
    });
    this.stateMachine = new StateMachine(stack, 'ShowStateMachine', {
      comment: 'showrunner: runs one show (statemachine/show.asl.json)',
      definitionBody: DefinitionBody.fromFile(definition.path),
      definitionSubstitutions: substitutions,
      stateMachineType: StateMachineType.STANDARD,
      // ERROR by default, without execution data: ALL with data would put every state's input and
      // output in CloudWatch Logs (questions, answers, the manual cue's task token). The execution
      // history keeps every event for 90 days (`showrunner history`); the log feeds the IVS alarm.
      logs: {
        destination: this.logs,
        level: LogLevel[props.logLevel],
        includeExecutionData: props.logExecutionData,
      },
      tracingEnabled: props.tracing,
    });
    for (const statement of taskPolicy(definition, {
      functionsBySubstitution,
      channelArns: [...channel.cueChannelArns],
      tableResources: data.tableResources,
    })) {
      this.stateMachine.addToRolePolicy(statement);
    }
    // Honest state for runs no Catch sees: a stopped or timed-out run (and, again, a failed one)
    // closes its polls still open — the lifecycle Lambda reads the poll ids from the run's input.
    new Rule(stack, 'RunEndedRule', {
      description: 'showrunner: a show run that did not succeed closes its open polls',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [this.stateMachine.stateMachineArn],
          status: ['FAILED', 'ABORTED', 'TIMED_OUT'],
        },
      },
      targets: [new LambdaFunction(lifecycleFunction, { retryAttempts: 3 })],
    });
    this.#acknowledgeNagFindings(props);
  }

  #acknowledgeNagFindings(props: ShowOrchestrationProps): void {
    // The state machine's logging and tracing statements are account-level APIs CDK adds with
    // Resource "*": CloudWatch Logs vended log delivery and X-Ray do not support resource-level permissions.
    Validations.of(this.stateMachine.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'logs:*LogDelivery*/PutResourcePolicy/Describe* (logging to CloudWatch Logs) and xray:Put*/GetSampling* (tracing) do not support resource-level permissions. Everything else the role may do is scoped to the function, the table and the channel.',
    });
    if (!props.tracing) {
      Validations.of(this.stateMachine).acknowledge({
        id: 'AwsSolutions-SF2',
        reason:
          'X-Ray tracing was turned off for this deployment (-c tracing=false); execution history and the error logs remain.',
      });
    }
    if (props.logLevel !== 'ALL') {
      Validations.of(this.stateMachine).acknowledge({
        id: 'AwsSolutions-SF1',
        reason:
          'Logs at ERROR on purpose: ALL-level logs carry every state transition of a show, and with execution data its questions, answers and task tokens. A Standard workflow keeps its full execution history 90 days anyway (showrunner history); -c stateMachineLogLevel=ALL turns ALL on for debugging.',
      });
    }
  }
}

/** Grants the state machine exactly the service calls its Task states make, on this stack's resources. */
export function taskPolicy(
  definition: AslDefinition,
  targets: {
    functionsBySubstitution: Record<string, NodejsFunction>;
    channelArns: string[];
    /** The table ARN first, then its index ARNs (only Query and Scan can address an index). */
    tableResources: string[];
  },
): PolicyStatement[] {
  const byAction = new Map<string, Set<string>>();
  const grant = (action: string, ...resources: string[]) => {
    const set = byAction.get(action) ?? new Set<string>();
    for (const r of resources) set.add(r);
    byAction.set(action, set);
  };
  for (const task of definition.tasks) {
    const [service] = task.iamAction.split(':');
    if (service === 'lambda') {
      const name = task.resource.startsWith('arn:aws:states:')
        ? task.parameters['FunctionName']
        : task.resource;
      const placeholder = typeof name === 'string' ? /^\$\{([A-Za-z0-9_]+)\}$/.exec(name)?.[1] : undefined;
      const fn = placeholder ? targets.functionsBySubstitution[placeholder] : undefined;
      if (!fn) {
        throw new DefinitionError(
          `${definition.path}: state "${task.state}" invokes FunctionName ${JSON.stringify(name)}; the stack can grant ` +
            `lambda:InvokeFunction only for a function named by a substitution (${Object.keys(
              targets.functionsBySubstitution,
            )
              .map((n) => '${' + n + '}')
              .join(', ')}).`,
        );
      }
      // The unqualified ARN, exactly as the definition names it: no `:*` version wildcard.
      grant(task.iamAction, fn.functionArn);
    } else if (service === 'ivs') {
      grant(task.iamAction, ...targets.channelArns);
    } else if (service === 'dynamodb') {
      const readsIndex = task.iamAction === 'dynamodb:Query' || task.iamAction === 'dynamodb:Scan';
      grant(task.iamAction, ...(readsIndex ? targets.tableResources : targets.tableResources.slice(0, 1)));
    } else {
      throw new DefinitionError(
        `${definition.path}: state "${task.state}" calls ${task.iamAction} (${task.resource}); the stack grants ` +
          'the state machine only Lambda, IVS and DynamoDB calls on its own resources. Add the grant in taskPolicy() (cdk/lib/orchestration.ts).',
      );
    }
  }
  return [...byAction].map(
    ([action, resources]) => new PolicyStatement({ actions: [action], resources: [...resources] }),
  );
}
