// The stack's alarms and where they go: an encrypted SNS topic whose e-mail subscriber is the
// stack parameter AlarmEmail (none when empty), and one CloudWatch alarm per way a show goes wrong
// that the viewers would notice: API 5xx, API 429 (the stage throttle refusing requests), the WAF
// rate limits refusing a network's tokens or votes, DynamoDB throttling, a failed show execution,
// and IVS refusing cues (PutMetadata throttling, of the state machine's cues and the tally loop's).
// Also the state machine's log level (`-c stateMachineLogLevel`), which the IVS alarm depends on.
import { Aws, CfnCondition, CfnParameter, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
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
import { metricsNamespaceFor } from '../../lambdas/config.ts';
import { ConfigurationError } from './errors.ts';
import { fmt, type Sizing } from '../../core/sizing.ts';
import { WAF_RULES, type ApiFirewall } from './waf.ts';

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
   * PutMetadata attempts IVS throttled per minute, the state machine's cues and the tally loop's
   * together. IVS allows 5 calls/s per channel; the tally loop takes about 1 of them while a poll is
   * open, and the state machine retries a throttled cue with jitter (up to 8 times), so a few are the
   * retry policy working; 5 a minute means cues are contending (several shows on one channel, or
   * another writer), arriving late, and close to giving up.
   */
  ivsThrottledAttempts: 5,
  /**
   * Requests the WAF rate limits refused in a minute (tokens and votes). Any block means one address
   * sent more than a whole planned venue would (cdk/lib/waf.ts); 10 leaves out a single stray client.
   */
  wafRateLimitedRequests: 10,
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
  /** The lifecycle Lambda's log group: its tally loop logs each throttled PutMetadata. */
  readonly lifecycleLogs: ILogGroup;
  readonly firewall: ApiFirewall;
}

/** What each alarm watches, one metric (or metric math) per alarm. */
type AlarmName =
  | 'apiServerErrors'
  | 'apiThrottled'
  | 'wafRateLimited'
  | 'tableThrottled'
  | 'executionsFailed'
  | 'ivsThrottled';

/** The metric `id` as a percentage of `requests` in each period (0 when there were none). */
const percentOfRequests = (label: string, id: string, part: IMetric, requests: IMetric) =>
  new MathExpression({
    label,
    expression: `IF(requests > 0, 100 * FILL(${id}, 0) / requests, 0)`,
    usingMetrics: { [id]: part, requests },
    period: PERIOD,
  });

export class ShowAlarms extends Construct {
  readonly topic: Topic;
  readonly emailParameter: CfnParameter;
  readonly alarms: Record<AlarmName, Alarm>;
  /** Every alarm is named `<stack>-<id>`: the topic and its key let only those publish. */
  readonly #alarmNamePrefix: string;

  constructor(scope: Construct, id: string, props: ShowAlarmsProps) {
    super(scope, id);
    this.#alarmNamePrefix = `${Stack.of(this).stackName}-`;
    this.topic = this.#alarmTopic();
    this.emailParameter = this.#emailSubscription();
    // In this order: the metric filters are created with the metrics, before the alarms.
    const metrics: Record<AlarmName, IMetric> = {
      apiServerErrors: this.#apiServerErrors(props),
      apiThrottled: this.#apiThrottled(props),
      tableThrottled: this.#tableThrottled(props),
      executionsFailed: this.#executionsFailed(props),
      ivsThrottled: this.#ivsThrottled(props),
      wafRateLimited: this.#wafRateLimited(props),
    };
    this.alarms = this.#alarmsOn(metrics, props);
  }

  // ---- Where alarms go -------------------------------------------------------------------
  #alarmTopic(): Topic {
    const stack = Stack.of(this);
    // Only this stack's alarms may use the key and publish to the topic: CloudWatch acts on behalf
    // of an alarm, and says which (aws:SourceArn) and whose (aws:SourceAccount), so the service
    // principal cannot be used by another account's alarms (the confused deputy) nor by this
    // account's other alarms. Every alarm below is named `<stack>-<id>`.
    const fromTheseAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:${this.#alarmNamePrefix}*`,
      },
    };
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
        conditions: fromTheseAlarms,
      }),
    );
    const topic = new Topic(this, 'Topic', {
      displayName: `${stack.stackName} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    // The topic policy (enforceSSL) replaces SNS's default one: let this account's alarms publish.
    topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: fromTheseAlarms,
      }),
    );
    return topic;
  }

  /** `cdk deploy --parameters AlarmEmail=you@example.com`; later deploys keep the value. */
  #emailSubscription(): CfnParameter {
    const stack = Stack.of(this);
    const emailParameter = new CfnParameter(stack, ALARM_EMAIL_PARAMETER, {
      type: 'String',
      default: '',
      description:
        'E-mail address that receives the alarms (SNS sends a confirmation mail first). Empty: no subscription.',
      allowedPattern: '^$|^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$',
      constraintDescription: 'an e-mail address, or empty for none',
    });
    emailParameter.overrideLogicalId(ALARM_EMAIL_PARAMETER);
    const hasEmail = new CfnCondition(stack, 'HasAlarmEmail', {
      expression: Fn.conditionNot(Fn.conditionEquals(emailParameter.valueAsString, '')),
    });
    hasEmail.overrideLogicalId('HasAlarmEmail');
    const subscription = new CfnSubscription(this, 'EmailSubscription', {
      topicArn: this.topic.topicArn,
      protocol: 'email',
      endpoint: emailParameter.valueAsString,
    });
    subscription.cfnOptions.condition = hasEmail;
    return emailParameter;
  }

  /** A metric filter that counts the matching lines of a log group, summed per minute. */
  #countFilter(filterId: string, logGroup: ILogGroup, metricName: string, filterPattern: IFilterPattern) {
    return new MetricFilter(this, filterId, {
      logGroup,
      // The stack's own namespace, shared with its Lambdas' Powertools metrics (lambdas/config.ts).
      metricNamespace: metricsNamespaceFor(Stack.of(this).stackName),
      metricName,
      filterPattern,
      metricValue: '1',
      defaultValue: 0,
    }).metric({ statistic: 'Sum', period: PERIOD });
  }

  // ---- API Gateway 5xx --------------------------------------------------------------------
  #apiServerErrors(props: ShowAlarmsProps): IMetric {
    return percentOfRequests(
      'API 5xx (% of requests)',
      'errors',
      props.api.metricServerError({ statistic: 'Sum', period: PERIOD }),
      props.api.metricCount({ statistic: 'Sum', period: PERIOD }),
    );
  }

  // ---- API Gateway 429 --------------------------------------------------------------------
  // REST APIs have no 429 metric. 4XXError is no proxy here: it also counts the Lambda's own
  // 400/404/409 answers, and 409 already_answered is routine in a storm (a client retrying a
  // vote that was in). The stage's access log has every request's status (the stack always
  // enables it: CDK's standard JSON fields, "status" as a string, plus "wafResponseCode"), so two
  // metric filters count the 429s exactly, and the requests they are a share of, from the same
  // log. The WAF rate limits answer 429 too (logged with wafResponseCode WAF_BLOCK): those are
  // left to the WAF alarm below, so this one means the stage throttle.
  #apiThrottled(props: ShowAlarmsProps): IMetric {
    return percentOfRequests(
      'API 429 (% of requests)',
      'throttled',
      this.#countFilter(
        'ApiThrottledFilter',
        props.apiAccessLogs,
        'ApiThrottledRequests',
        FilterPattern.all(
          FilterPattern.stringValue('$.status', '=', '429'),
          FilterPattern.stringValue('$.wafResponseCode', '!=', 'WAF_BLOCK'),
        ),
      ),
      // One access log line per request.
      this.#countFilter('ApiRequestsFilter', props.apiAccessLogs, 'ApiRequests', FilterPattern.allEvents()),
    );
  }

  // ---- DynamoDB throttling ---------------------------------------------------------------
  // Read/WriteThrottleEvents of the table and of its index: an index short of write capacity
  // throttles the table's writes too, and its own events name it.
  #tableThrottled(props: ShowAlarmsProps): IMetric {
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
    return new MathExpression({
      label: 'DynamoDB throttle events (table + index)',
      expression: Object.keys(ddbMetrics)
        .map((m) => `FILL(${m}, 0)`)
        .join(' + '),
      usingMetrics: ddbMetrics,
      period: PERIOD,
    });
  }

  // ---- Step Functions ------------------------------------------------------------------------
  // Failed and timed out; not aborted: `showrunner stop` (StopExecution) is how a producer ends a show.
  #executionsFailed(props: ShowAlarmsProps): IMetric {
    return new MathExpression({
      label: 'Show executions failed or timed out',
      expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
      usingMetrics: {
        failed: props.stateMachine.metricFailed({ statistic: 'Sum', period: PERIOD }),
        timedOut: props.stateMachine.metricTimedOut({ statistic: 'Sum', period: PERIOD }),
      },
      period: PERIOD,
    });
  }

  // ---- IVS PutMetadata throttling -----------------------------------------------------------
  // IVS publishes no metric for PutMetadata throttles, and Step Functions' ExecutionThrottled is
  // its own StartExecution/state-transition throttling, not IVS's. What does record them is the
  // execution history: every throttled attempt is a TaskFailed event with error
  // Ivs.ThrottlingException, followed by the retry. TaskFailed is logged at ERROR and ALL (not
  // FATAL/OFF, hence parseStateMachineLogLevel), and its error name is not execution data (that
  // is state input/output), so it is there with includeExecutionData false. Log delivery is best
  // effort: the execution history (`showrunner history`) stays the record.
  // The tally loop calls PutMetadata from the lifecycle Lambda: a throttled tally is skipped (the
  // next second's count supersedes it) and logged with the SDK error, whose name
  // (ThrottlingException) and message ("Operation: ivs:PutMetadata exceeded call rate…") both
  // appear in the line.
  #ivsThrottled(props: ShowAlarmsProps): IMetric {
    return new MathExpression({
      label: 'IVS PutMetadata throttled (cues + tallies)',
      expression: 'FILL(cues, 0) + FILL(tallies, 0)',
      usingMetrics: {
        cues: this.#countFilter(
          'IvsThrottledFilter',
          props.stateMachineLogs,
          'IvsPutMetadataThrottled',
          FilterPattern.all(
            FilterPattern.stringValue('$.type', '=', 'TaskFailed'),
            FilterPattern.stringValue('$.details.error', '=', 'Ivs.ThrottlingException'),
          ),
        ),
        tallies: this.#countFilter(
          'IvsTallyThrottledFilter',
          props.lifecycleLogs,
          'IvsTallyPutMetadataThrottled',
          FilterPattern.allTerms('ThrottlingException', 'PutMetadata'),
        ),
      },
      period: PERIOD,
    });
  }

  // ---- WAF rate limits ----------------------------------------------------------------------
  // AWS/WAFV2 BlockedRequests of the two rate-based rules (dimension Rule = the rule's metric
  // name). The common rule set's blocks are left out: scanners of any public endpoint trip it, and
  // its metrics (CommonRuleSetBlock, CommonRuleSetBodyTooLarge) are there to look at.
  #wafRateLimited(props: ShowAlarmsProps): IMetric {
    const wafBlocked = (rule: string) =>
      new Metric({
        namespace: 'AWS/WAFV2',
        metricName: 'BlockedRequests',
        dimensionsMap: { WebACL: props.firewall.webAclName, Region: Aws.REGION, Rule: rule },
        statistic: 'Sum',
        period: PERIOD,
      });
    return new MathExpression({
      label: 'WAF rate-limited requests (tokens + votes)',
      expression: 'FILL(tokens, 0) + FILL(votes, 0)',
      usingMetrics: { tokens: wafBlocked(WAF_RULES.tokenRate), votes: wafBlocked(WAF_RULES.voteRate) },
      period: PERIOD,
    });
  }

  /** One alarm per metric, each telling the reader what to look at. */
  #alarmsOn(metrics: Record<AlarmName, IMetric>, props: ShowAlarmsProps): Record<AlarmName, Alarm> {
    const { sizing } = props;
    const action = new SnsAction(this.topic);
    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string): Alarm => {
      const a = new Alarm(this, alarmId, {
        alarmName: `${this.#alarmNamePrefix}${alarmId}`,
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
    const sizedFor = `The stack is sized for ${fmt(sizing.audience)} viewers (-c audience)`;
    const { tokenLimit, voteLimit } = props.firewall.limits;

    const t = ALARM_THRESHOLDS;
    return {
      apiServerErrors: alarm(
        'ApiServerErrors',
        metrics.apiServerErrors,
        t.apiServerErrorPercent,
        `${t.apiServerErrorPercent} % or more of the viewer API's requests answered 5xx in a minute. ` +
          'Look at the API Lambda: its log group (errors are logged with the request id) and its Throttles metric ' +
          (sizing.reservesConcurrency
            ? `(reserved concurrency ${fmt(sizing.apiReservedConcurrency)}: a storm beyond it ends as 5xx). `
            : `(no reserved concurrency: it shares the account's unreserved concurrency, and needs up to ${fmt(sizing.apiConcurrency)}; ` +
              'a quota below that ends a storm as 5xx). ') +
          `${sizedFor}.`,
      ),
      apiThrottled: alarm(
        'ApiThrottled',
        metrics.apiThrottled,
        t.apiThrottledPercent,
        `${t.apiThrottledPercent} % or more of the viewer API's requests were refused with 429 in a minute ` +
          `(counted from the stage's access log; REST APIs have no 429 metric). The stage throttle ` +
          `(${fmt(sizing.stageRateLimit)} req/s, burst ${fmt(sizing.stageBurstLimit)}) or the account's API Gateway quota ` +
          `is refusing votes. ${sizedFor}: redeploy with a larger -c audience and raise the quotas it lists (README: Sizing and quotas).`,
      ),
      wafRateLimited: alarm(
        'WafRateLimited',
        metrics.wafRateLimited,
        t.wafRateLimitedRequests,
        `The WAF refused ${t.wafRateLimitedRequests} or more token or vote requests in a minute with 429: one IP address sent ` +
          `more than ${fmt(tokenLimit)} token requests or ${fmt(voteLimit)} votes within 60 s. Look at the web ACL's sampled ` +
          'requests (rules TokenRateLimit, VoteRateLimit): a script is refused as it should be; a school, office or venue ' +
          'behind one NAT bigger than planned needs higher limits: redeploy with -c wafTokenLimit=… -c wafVoteLimit=… ' +
          '(README: WAF limits).',
      ),
      tableThrottled: alarm(
        'TableThrottled',
        metrics.tableThrottled,
        t.tableThrottleEvents,
        'DynamoDB throttled reads or writes on the table or its index (votes are failing or retried). ' +
          `The table is sized for what the stage admits (${fmt(sizing.tableWriteUnitsPerSecond)} write units/s: ` +
          (sizing.tableWarmThroughput ? 'pre-warmed). ' : "within a new on-demand table's 4,000). ") +
          'Check the table-level quota (Service Quotas) and, in CloudWatch Contributor Insights, whether one key is hot. ' +
          `${sizedFor}.`,
      ),
      executionsFailed: alarm(
        'ExecutionsFailed',
        metrics.executionsFailed,
        t.failedExecutions,
        'A show execution failed or timed out: its remaining questions will not be asked. ' +
          'Run `npx showrunner status --target aws`, then `npx showrunner history <run> --target aws` for the error; ' +
          'the state machine log group has the failure events.',
      ),
      ivsThrottled: alarm(
        'IvsThrottled',
        metrics.ivsThrottled,
        t.ivsThrottledAttempts,
        `IVS throttled ${t.ivsThrottledAttempts} or more PutMetadata calls in a minute (5 calls/s per channel), counted from ` +
          "the state machine's TaskFailed events and the lifecycle Lambda's log (tally cues): cues are being retried and arrive " +
          'late, live counts skip; a cue still throttled when its retries run out fails the show. Check that only one show runs per ' +
          'channel and nothing else sends timed metadata to it.',
      ),
    };
  }
}
