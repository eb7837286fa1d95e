// The stack's alarms and where they go: an encrypted SNS topic whose e-mail subscriber is the
// stack parameter AlarmEmail (none when empty), and one CloudWatch alarm per way a show goes wrong
// that the viewers would notice: API 5xx, API 429 (the stage throttle refusing requests), DynamoDB
// throttling, a failed show execution, and IVS refusing cues (PutMetadata throttling).
// Also the state machine's log level (`-c stateMachineLogLevel`), which the IVS alarm depends on.
import { CfnCondition, CfnParameter, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { FilterPattern, MetricFilter, type IFilterPattern, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import { CfnSubscription, Topic } from 'aws-cdk-lib/aws-sns';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ConfigurationError } from './errors.ts';
import { fmt, type Sizing } from './sizing.ts';

// ---- State machine logging ---------------------------------------------------------------------

export const STATE_MACHINE_LOG_LEVEL_CONTEXT_KEY = 'stateMachineLogLevel';
/**
 * ERROR (default): failures only (ExecutionFailed/TimedOut/Aborted, TaskFailed, TaskTimedOut, …,
 * https://docs.aws.amazon.com/step-functions/latest/dg/cloudwatch-log-level.html). ALL: every
 * event, for debugging. FATAL and OFF are refused: they drop TaskFailed, which the IVS throttling
 * alarm counts.
 */
export const STATE_MACHINE_LOG_LEVELS = ['ERROR', 'ALL'] as const;
export type StateMachineLogLevel = (typeof STATE_MACHINE_LOG_LEVELS)[number];
export const DEFAULT_STATE_MACHINE_LOG_LEVEL: StateMachineLogLevel = 'ERROR';

/** `-c stateMachineLogLevel=…` (any case). Absent or empty: ERROR. Anything else fails synth naming the key. */
export function parseStateMachineLogLevel(value: unknown): StateMachineLogLevel {
  if (value === undefined || value === null || value === '') return DEFAULT_STATE_MACHINE_LOG_LEVEL;
  const text = String(value).trim();
  const level = STATE_MACHINE_LOG_LEVELS.find((l) => l === text.toUpperCase());
  if (!level) {
    throw new ConfigurationError(
      `-c ${STATE_MACHINE_LOG_LEVEL_CONTEXT_KEY}=${text}: expected ${STATE_MACHINE_LOG_LEVELS.join(' or ')} ` +
        `(default ${DEFAULT_STATE_MACHINE_LOG_LEVEL}; FATAL and OFF would hide the TaskFailed events the IVS throttling alarm counts)`,
    );
  }
  return level;
}

// ---- Alarms ------------------------------------------------------------------------------------

/** The stack parameter that subscribes an e-mail address to the alarm topic (empty: nobody). */
export const ALARM_EMAIL_PARAMETER = 'AlarmEmail';

/**
 * When each alarm fires (one 1-minute period each: a question's storm lasts seconds, so waiting
 * several minutes would report it after the show has moved on).
 */
export const ALARM_THRESHOLDS = {
  /** API Gateway 5xx, % of the minute's requests. Every 5xx is a lost vote or page; 1 % is past noise. */
  apiServerErrorPercent: 1,
  /**
   * API Gateway 429, % of the minute's requests. The stage throttle is sized to admit the modelled
   * peak with headroom (sizing.ts), so at the planned audience no 429 should appear at all.
   */
  apiThrottledPercent: 1,
  /** DynamoDB throttle events (table + index, reads + writes). Warm throughput covers what the stage admits: any is a fault. */
  tableThrottleEvents: 1,
  /** Show executions failed or timed out. A show is one execution: any failure stopped a show. */
  failedExecutions: 1,
  /**
   * PutMetadata attempts IVS throttled per minute. IVS allows 5 calls/s per channel and the
   * state machine retries a throttled cue with jitter (up to 8 times), so a few are the retry
   * policy working; 5 a minute means cues are contending (several shows on one channel, or another
   * writer), arriving late, and close to giving up.
   */
  ivsThrottledAttempts: 5,
} as const;

const PERIOD = Duration.minutes(1);

export interface ShowAlarmsProps {
  readonly sizing: Sizing;
  readonly api: RestApi;
  readonly apiAccessLogs: ILogGroup;
  readonly table: Table;
  readonly indexNames: readonly string[];
  readonly stateMachine: StateMachine;
  readonly stateMachineLogs: ILogGroup;
}

export class ShowAlarms extends Construct {
  readonly topic: Topic;
  readonly emailParameter: CfnParameter;
  readonly alarms: Record<
    'apiServerErrors' | 'apiThrottled' | 'tableThrottled' | 'executionsFailed' | 'ivsThrottled',
    Alarm
  >;

  constructor(scope: Construct, id: string, props: ShowAlarmsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { sizing } = props;

    // ---- Where alarms go -------------------------------------------------------------------
    // CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key (aws/sns):
    // its key policy does not let cloudwatch.amazonaws.com use it, and it cannot be edited. So a
    // customer managed key (rotated) whose policy does.
    const key = new Key(this, 'TopicKey', {
      description: `${stack.stackName} alarm topic encryption`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      displayName: `${stack.stackName} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    // The topic policy (enforceSSL) replaces SNS's default one: let this account's alarms publish.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
          },
        },
      }),
    );

    // `cdk deploy --parameters AlarmEmail=you@example.com`; later deploys keep the value.
    this.emailParameter = new CfnParameter(stack, ALARM_EMAIL_PARAMETER, {
      type: 'String',
      default: '',
      description:
        'E-mail address that receives the alarms (SNS sends a confirmation mail first). Empty: no subscription.',
      allowedPattern: '^$|^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$',
      constraintDescription: 'an e-mail address, or empty for none',
    });
    this.emailParameter.overrideLogicalId(ALARM_EMAIL_PARAMETER);
    const hasEmail = new CfnCondition(stack, 'HasAlarmEmail', {
      expression: Fn.conditionNot(Fn.conditionEquals(this.emailParameter.valueAsString, '')),
    });
    hasEmail.overrideLogicalId('HasAlarmEmail');
    const subscription = new CfnSubscription(this, 'EmailSubscription', {
      topicArn: this.topic.topicArn,
      protocol: 'email',
      endpoint: this.emailParameter.valueAsString,
    });
    subscription.cfnOptions.condition = hasEmail;

    const action = new SnsAction(this.topic);
    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string): Alarm => {
      const a = new Alarm(this, alarmId, {
        alarmName: `${stack.stackName}-${alarmId}`,
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        // No requests, no executions, no throttles: nothing is wrong.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      return a;
    };
    const namespace = `Showrunner/${stack.stackName}`;
    const countFilter = (
      filterId: string,
      logGroup: ILogGroup,
      metricName: string,
      filterPattern: IFilterPattern,
    ) =>
      new MetricFilter(this, filterId, {
        logGroup,
        metricNamespace: namespace,
        metricName,
        filterPattern,
        metricValue: '1',
        defaultValue: 0,
      }).metric({ statistic: 'Sum', period: PERIOD });
    /** The metric `id` as a percentage of `requests` in each period (0 when there were none). */
    const percentOfRequests = (label: string, id: string, part: IMetric, requests: IMetric) =>
      new MathExpression({
        label,
        expression: `IF(requests > 0, 100 * FILL(${id}, 0) / requests, 0)`,
        usingMetrics: { [id]: part, requests },
        period: PERIOD,
      });
    const sizedFor = `The stack is sized for ${fmt(sizing.audience)} viewers (-c audience)`;

    // ---- API Gateway 5xx --------------------------------------------------------------------
    const apiServerErrors = percentOfRequests(
      'API 5xx (% of requests)',
      'errors',
      props.api.metricServerError({ statistic: 'Sum', period: PERIOD }),
      props.api.metricCount({ statistic: 'Sum', period: PERIOD }),
    );

    // ---- API Gateway 429 --------------------------------------------------------------------
    // REST APIs have no 429 metric. 4XXError is no proxy here: it also counts the Lambda's own
    // 400/404/409 answers, and 409 already_answered is routine in a storm (a client retrying a
    // vote that was in). The stage's access log has every request's status (the stack always
    // enables it: jsonWithStandardFields, "status" as a string), so two metric filters count the
    // 429s exactly, and the requests they are a share of, from the same log.
    const apiThrottled = percentOfRequests(
      'API 429 (% of requests)',
      'throttled',
      countFilter(
        'ApiThrottledFilter',
        props.apiAccessLogs,
        'ApiThrottledRequests',
        FilterPattern.stringValue('$.status', '=', '429'),
      ),
      // One access log line per request.
      countFilter('ApiRequestsFilter', props.apiAccessLogs, 'ApiRequests', FilterPattern.allEvents()),
    );

    // ---- DynamoDB throttling ---------------------------------------------------------------
    // Read/WriteThrottleEvents of the table and of its index: an index short of write capacity
    // throttles the table's writes too, and its own events name it.
    const tableName = props.table.tableName;
    const ddb = (metricName: string, indexName?: string) =>
      new Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: indexName
          ? { TableName: tableName, GlobalSecondaryIndexName: indexName }
          : { TableName: tableName },
        statistic: 'Sum',
        period: PERIOD,
      });
    const ddbMetrics: Record<string, IMetric> = {
      tr: ddb('ReadThrottleEvents'),
      tw: ddb('WriteThrottleEvents'),
    };
    props.indexNames.forEach((name, i) => {
      ddbMetrics[`i${i}r`] = ddb('ReadThrottleEvents', name);
      ddbMetrics[`i${i}w`] = ddb('WriteThrottleEvents', name);
    });
    const tableThrottled = new MathExpression({
      label: 'DynamoDB throttle events (table + index)',
      expression: Object.keys(ddbMetrics)
        .map((m) => `FILL(${m}, 0)`)
        .join(' + '),
      usingMetrics: ddbMetrics,
      period: PERIOD,
    });

    // ---- Step Functions ------------------------------------------------------------------------
    // Failed and timed out; not aborted: `showrunner stop` (StopExecution) is how a producer ends a show.
    const executionsFailed = new MathExpression({
      label: 'Show executions failed or timed out',
      expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
      usingMetrics: {
        failed: props.stateMachine.metricFailed({ statistic: 'Sum', period: PERIOD }),
        timedOut: props.stateMachine.metricTimedOut({ statistic: 'Sum', period: PERIOD }),
      },
      period: PERIOD,
    });

    // ---- IVS PutMetadata throttling -----------------------------------------------------------
    // IVS publishes no metric for PutMetadata throttles, and Step Functions' ExecutionThrottled is
    // its own StartExecution/state-transition throttling, not IVS's. What does record them is the
    // execution history: every throttled attempt is a TaskFailed event with error
    // Ivs.ThrottlingException, followed by the retry. TaskFailed is logged at ERROR and ALL (not
    // FATAL/OFF, hence parseStateMachineLogLevel), and its error name is not execution data (that
    // is state input/output), so it is there with includeExecutionData false. Log delivery is best
    // effort: the execution history (`showrunner history`) stays the record.
    const ivsThrottled = countFilter(
      'IvsThrottledFilter',
      props.stateMachineLogs,
      'IvsPutMetadataThrottled',
      FilterPattern.all(
        FilterPattern.stringValue('$.type', '=', 'TaskFailed'),
        FilterPattern.stringValue('$.details.error', '=', 'Ivs.ThrottlingException'),
      ),
    );

    const t = ALARM_THRESHOLDS;
    this.alarms = {
      apiServerErrors: alarm(
        'ApiServerErrors',
        apiServerErrors,
        t.apiServerErrorPercent,
        `${t.apiServerErrorPercent} % or more of the viewer API's requests answered 5xx in a minute. ` +
          'Look at the API Lambda: its log group (errors are logged with the request id) and its Throttles metric ' +
          `(reserved concurrency ${fmt(sizing.apiReservedConcurrency)}: a storm beyond it ends as 5xx). ${sizedFor}.`,
      ),
      apiThrottled: alarm(
        'ApiThrottled',
        apiThrottled,
        t.apiThrottledPercent,
        `${t.apiThrottledPercent} % or more of the viewer API's requests were refused with 429 in a minute ` +
          `(counted from the stage's access log; REST APIs have no 429 metric). The stage throttle ` +
          `(${fmt(sizing.stageRateLimit)} req/s, burst ${fmt(sizing.stageBurstLimit)}) or the account's API Gateway quota ` +
          `is refusing votes. ${sizedFor}: redeploy with a larger -c audience and raise the quotas it lists (README: Sizing and quotas).`,
      ),
      tableThrottled: alarm(
        'TableThrottled',
        tableThrottled,
        t.tableThrottleEvents,
        'DynamoDB throttled reads or writes on the table or its index (votes are failing or retried). ' +
          `Warm throughput is sized for what the stage admits (${fmt(sizing.tableWriteUnitsPerSecond)} write units/s). ` +
          'Check the table-level quota (Service Quotas) and, in CloudWatch Contributor Insights, whether one key is hot. ' +
          `${sizedFor}.`,
      ),
      executionsFailed: alarm(
        'ExecutionsFailed',
        executionsFailed,
        t.failedExecutions,
        'A show execution failed or timed out: its remaining questions will not be asked. ' +
          'Run `npx showrunner status --target aws`, then `npx showrunner history <run> --target aws` for the error; ' +
          'the state machine log group has the failure events.',
      ),
      ivsThrottled: alarm(
        'IvsThrottled',
        ivsThrottled,
        t.ivsThrottledAttempts,
        `IVS throttled ${t.ivsThrottledAttempts} or more PutMetadata calls in a minute (5 calls/s per channel): cues are ` +
          'being retried and arrive late; a cue still throttled when its retries run out fails the show. Check that only one show runs per ' +
          'channel and nothing else sends timed metadata to it.',
      ),
    };
  }
}
