// The alarms, their SNS topic and its AlarmEmail parameter, the stack's metrics namespace, and the
// state machine's log level. Checked on the synthesized template, without AWS.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import nag from 'cdk-nag';
import {
  ALARM_EMAIL_PARAMETER,
  ALARM_THRESHOLDS,
  STATE_MACHINE_LOG_LEVEL_CONTEXT_KEY,
  parseStateMachineLogLevel,
} from '../../cdk/lib/monitoring.ts';
import { DEFAULT_DEFINITION_PATH } from '../../cdk/lib/paths.ts';
import { ConfigurationError } from '../../cdk/lib/errors.ts';
import { metricsNamespaceFor } from '../../lambdas/config.ts';
import { onlyResource, removeTempDirs, render, synth, type Synth } from './support.ts';

afterAll(removeTempDirs);

let created: Synth;
beforeAll(() => {
  created = synth();
});

const loggingOf = (s: Synth) =>
  onlyResource(s.template, 'AWS::StepFunctions::StateMachine')[1].Properties.LoggingConfiguration;
const alarms = (s: Synth) => s.template.findResources('AWS::CloudWatch::Alarm');
const alarm = (s: Synth, name: string) => {
  const found = Object.values(alarms(s)).filter((a) => a.Properties.AlarmName === `Showrunner-${name}`);
  expect(found).toHaveLength(1);
  return found[0]!.Properties;
};
/** The alarm's metric-math query by id (the expression is the one with ReturnData). */
const queries = (props: any): Record<string, any> =>
  Object.fromEntries((props.Metrics as any[]).map((m) => [m.Id, m]));
const expressionOf = (props: any): string =>
  (props.Metrics as any[]).find((m) => m.ReturnData !== false).Expression;
/** The metric filter that feeds a custom metric. */
const filterFor = (s: Synth, metricName: string) => {
  const found = Object.values(s.template.findResources('AWS::Logs::MetricFilter')).filter(
    (f) => f.Properties.MetricTransformations[0].MetricName === metricName,
  );
  expect(found).toHaveLength(1);
  return found[0]!.Properties;
};

describe('state machine logging', () => {
  it('"State-machine logs at ERROR without execution data by default": no state input/output (answers, task tokens) in CloudWatch Logs', () => {
    expect(loggingOf(created)).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
  });

  it('"A context flag turns on more for debugging": stateMachineLogLevel ALL, execution data only when asked separately', () => {
    expect(loggingOf(synth({ stateMachineLogLevel: 'ALL' }))).toMatchObject({
      Level: 'ALL',
      IncludeExecutionData: false,
    });
    expect(loggingOf(synth({ stateMachineLogExecutionData: true }))).toMatchObject({
      Level: 'ERROR',
      IncludeExecutionData: true,
    });
  });

  it('"A bad stateMachineLogLevel fails synth, naming the key": only ERROR and ALL (FATAL/OFF would drop TaskFailed)', () => {
    expect(STATE_MACHINE_LOG_LEVEL_CONTEXT_KEY).toBe('stateMachineLogLevel');
    expect(parseStateMachineLogLevel(undefined)).toBe('ERROR');
    expect(parseStateMachineLogLevel('')).toBe('ERROR');
    expect(parseStateMachineLogLevel('all')).toBe('ALL');
    for (const bad of ['DEBUG', 'FATAL', 'OFF', 'true']) {
      expect(() => parseStateMachineLogLevel(bad)).toThrow(ConfigurationError);
      expect(() => parseStateMachineLogLevel(bad)).toThrow(
        `-c stateMachineLogLevel=${bad}: expected ERROR or ALL (default ERROR`,
      );
    }
    expect(() => synth({ stateMachineLogLevel: 'FATAL' as 'ALL' })).toThrow(/-c stateMachineLogLevel=FATAL/);
  });

  it('"cdk-nag acknowledges SF1 only below ALL, with its reason": ERROR is acknowledged, ALL needs no acknowledgement, both pass', () => {
    const sf1 = (s: Synth) =>
      s.stack.orchestration.stateMachine.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>))
        .filter(([rule]) => rule === 'Annotation::AwsSolutions-SF1');
    const all = synth({ stateMachineLogLevel: 'ALL' });
    expect(sf1(created)).toHaveLength(1);
    expect(sf1(created)[0]![1]).toMatch(/task tokens/);
    expect(sf1(all)).toEqual([]);
    for (const s of [created, all]) {
      expect(new nag.AwsSolutionsChecks().validateScope(s.stack).violations.map((v) => v.ruleName)).toEqual(
        [],
      );
    }
  });
});

describe('alarm topic', () => {
  it('"The alarm topic is encrypted with a KMS key CloudWatch may use, and enforces SSL" (aws/sns would refuse CloudWatch)', () => {
    const [topicId, topic] = onlyResource(created.template, 'AWS::SNS::Topic');
    const [keyId, key] = onlyResource(created.template, 'AWS::KMS::Key');
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(key.Properties.EnableKeyRotation).toBe(true);
    // Only this stack's alarms (this account, alarm names `<stack>-…`) may use the key or publish.
    const fromTheseAlarms = {
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: { 'aws:SourceArn': expect.anything() },
    };
    const cloudWatchKeyStatements = (key.Properties.KeyPolicy.Statement as any[]).filter(
      (st) => st.Principal?.Service === 'cloudwatch.amazonaws.com',
    );
    expect(cloudWatchKeyStatements).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Condition: fromTheseAlarms,
      }),
    ]);
    const sourceArn = render(cloudWatchKeyStatements[0].Condition.ArnLike['aws:SourceArn']);
    expect(sourceArn).toBe(
      'arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:Showrunner-*',
    );
    const pattern = new RegExp(`^${sourceArn.split(':alarm:')[1]!.replace('*', '.*')}$`);
    for (const a of Object.values(alarms(created))) expect(a.Properties.AlarmName).toMatch(pattern);
    const [, policy] = onlyResource(created.template, 'AWS::SNS::TopicPolicy');
    expect(policy.Properties.Topics).toEqual([{ Ref: topicId }]);
    const statements = policy.Properties.PolicyDocument.Statement as any[];
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'sns:Publish',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Condition: cloudWatchKeyStatements[0].Condition,
      }),
    );
  });

  it('"The subscriber is a stack parameter": AlarmEmail (default empty) subscribes by e-mail only under the HasAlarmEmail condition', () => {
    const template = created.template.toJSON();
    expect(template.Parameters[ALARM_EMAIL_PARAMETER]).toMatchObject({ Type: 'String', Default: '' });
    const pattern = new RegExp(template.Parameters[ALARM_EMAIL_PARAMETER].AllowedPattern);
    expect(pattern.test('')).toBe(true);
    expect(pattern.test('you@example.com')).toBe(true);
    expect(pattern.test('not an address')).toBe(false);
    expect(template.Conditions.HasAlarmEmail).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: ALARM_EMAIL_PARAMETER }, ''] }],
    });
    const [topicId] = onlyResource(created.template, 'AWS::SNS::Topic');
    const [, subscription] = onlyResource(created.template, 'AWS::SNS::Subscription');
    expect(subscription.Condition).toBe('HasAlarmEmail');
    expect(subscription.Properties).toEqual({
      Protocol: 'email',
      Endpoint: { Ref: ALARM_EMAIL_PARAMETER },
      TopicArn: { Ref: topicId },
    });
  });
});

describe('alarms', () => {
  const names = [
    'ApiServerErrors',
    'ApiThrottled',
    'WafRateLimited',
    'TableThrottled',
    'ExecutionsFailed',
    'IvsThrottled',
  ];

  it('"Every alarm notifies the topic": the six alarms each alarm and recover to the SNS topic, 1-minute, missing data not breaching, with a description', () => {
    const [topicId] = onlyResource(created.template, 'AWS::SNS::Topic');
    expect(
      Object.values(alarms(created))
        .map((a) => a.Properties.AlarmName)
        .sort(),
    ).toEqual(names.map((n) => `Showrunner-${n}`).sort());
    for (const name of names) {
      const a = alarm(created, name);
      expect(a.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.OKActions).toEqual([{ Ref: topicId }]);
      expect(a.TreatMissingData).toBe('notBreaching');
      expect(a.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      expect(a.EvaluationPeriods).toBe(1);
      expect(a.AlarmDescription.length).toBeGreaterThan(100);
      const periods = a.Metrics
        ? (a.Metrics as any[]).filter((m) => m.MetricStat).map((m) => m.MetricStat.Period)
        : [a.Period];
      expect(new Set(periods)).toEqual(new Set([60]));
    }
  });

  it('"API 5xx rate": 5XXError / Count of the API, ≥ 1 %', () => {
    const a = alarm(created, 'ApiServerErrors');
    const q = queries(a);
    expect(q.errors.MetricStat).toMatchObject({
      Metric: { Namespace: 'AWS/ApiGateway', MetricName: '5XXError' },
      Stat: 'Sum',
    });
    expect(q.requests.MetricStat).toMatchObject({
      Metric: { Namespace: 'AWS/ApiGateway', MetricName: 'Count' },
      Stat: 'Sum',
    });
    expect(expressionOf(a)).toBe('IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)');
    expect(a.Threshold).toBe(ALARM_THRESHOLDS.apiServerErrorPercent);
    expect(a.Threshold).toBe(1);
  });

  it('"API 429 rate": status 429 counted from the stage access log (REST APIs have no 429 metric; 4XXError also counts 409 already_answered), not the WAF\'s, ≥ 1 %, naming the sized stage throttle', () => {
    const a = alarm(created, 'ApiThrottled');
    const stage = onlyResource(created.template, 'AWS::ApiGateway::Stage')[1].Properties;
    // arn:…:log-group:<ApiAccessLogs>
    const accessLogGroup = render(stage.AccessLogSetting.DestinationArn).match(/:log-group:<(\w+)>$/)![1];
    const throttled = filterFor(created, 'ApiThrottledRequests');
    const requests = filterFor(created, 'ApiRequests');
    expect(JSON.parse(stage.AccessLogSetting.Format)).toMatchObject({
      status: '$context.status',
      wafResponseCode: '$context.wafResponseCode',
    });
    // The WAF's rate limits answer 429 too: those are the WafRateLimited alarm's.
    expect(throttled.FilterPattern).toBe('{ ($.status = "429") && ($.wafResponseCode != "WAF_BLOCK") }');
    expect(requests.FilterPattern).toBe('');
    for (const f of [throttled, requests]) expect(f.LogGroupName).toEqual({ Ref: accessLogGroup });
    const q = queries(a);
    expect(q.throttled.MetricStat.Metric.MetricName).toBe('ApiThrottledRequests');
    expect(q.requests.MetricStat.Metric.MetricName).toBe('ApiRequests');
    expect(q.throttled.MetricStat.Metric.Namespace).toBe(throttled.MetricTransformations[0].MetricNamespace);
    // One namespace per stack, the one its Lambdas' Powertools metrics use too.
    expect(throttled.MetricTransformations[0].MetricNamespace).toBe(metricsNamespaceFor('Showrunner'));
    for (const fn of Object.values(
      created.template.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs24.x' } }),
    )) {
      expect(fn.Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBe(
        throttled.MetricTransformations[0].MetricNamespace,
      );
    }
    expect(expressionOf(a)).toBe('IF(requests > 0, 100 * FILL(throttled, 0) / requests, 0)');
    expect(a.Threshold).toBe(ALARM_THRESHOLDS.apiThrottledPercent);
    expect(a.AlarmDescription).toContain(
      `${created.stack.sizing.stageRateLimit.toLocaleString('en-US')} req/s`,
    );
  });

  it('"DynamoDB throttled requests": read and write throttle events of the table and its GSI, sum ≥ 1 a minute', () => {
    const a = alarm(created, 'TableThrottled');
    const [tableId, table] = onlyResource(created.template, 'AWS::DynamoDB::Table');
    const metrics = (a.Metrics as any[]).filter((m) => m.MetricStat).map((m) => m.MetricStat);
    const seen = metrics.map((m) => {
      expect(m.Stat).toBe('Sum');
      const dims = Object.fromEntries((m.Metric.Dimensions as any[]).map((d) => [d.Name, d.Value]));
      expect(dims.TableName).toEqual({ Ref: tableId });
      return `${m.Metric.MetricName} ${dims.GlobalSecondaryIndexName ?? 'table'}`;
    });
    const index = table.Properties.GlobalSecondaryIndexes[0].IndexName;
    expect(seen.sort()).toEqual(
      [
        'ReadThrottleEvents table',
        'WriteThrottleEvents table',
        `ReadThrottleEvents ${index}`,
        `WriteThrottleEvents ${index}`,
      ].sort(),
    );
    expect(expressionOf(a)).toMatch(/^FILL\(\w+, 0\)( \+ FILL\(\w+, 0\)){3}$/);
    expect(a.Threshold).toBe(1);
  });

  it('"Step Functions failed executions": ExecutionsFailed + ExecutionsTimedOut of the show state machine ≥ 1 (not Aborted: that is `showrunner stop`)', () => {
    const a = alarm(created, 'ExecutionsFailed');
    const [machineId] = onlyResource(created.template, 'AWS::StepFunctions::StateMachine');
    const metrics = (a.Metrics as any[]).filter((m) => m.MetricStat).map((m) => m.MetricStat);
    expect(metrics.map((m) => m.Metric.MetricName).sort()).toEqual([
      'ExecutionsFailed',
      'ExecutionsTimedOut',
    ]);
    for (const m of metrics) {
      expect(m.Metric.Namespace).toBe('AWS/States');
      expect(m.Metric.Dimensions).toEqual([{ Name: 'StateMachineArn', Value: { Ref: machineId } }]);
      expect(m.Stat).toBe('Sum');
    }
    expect(a.Threshold).toBe(1);
  });

  it('"IVS throttling": TaskFailed Ivs.ThrottlingException events in the state machine log (the error its cue states retry) plus the tally loop\'s throttled PutMetadata in the lifecycle Lambda\'s log, ≥ 5 a minute', () => {
    const a = alarm(created, 'IvsThrottled');
    const filter = filterFor(created, 'IvsPutMetadataThrottled');
    const destination =
      loggingOf(created).Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    expect(filter.LogGroupName).toEqual({ Ref: destination });
    expect(filter.FilterPattern).toBe(
      '{ ($.type = "TaskFailed") && ($.details.error = "Ivs.ThrottlingException") }',
    );
    const tallies = filterFor(created, 'IvsTallyPutMetadataThrottled');
    const [, lifecycle] = onlyResource(created.template, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('lifecycle'),
    });
    expect(tallies.LogGroupName).toEqual(lifecycle.Properties.LoggingConfig.LogGroup);
    // Matches a log line that names both, e.g. "tally cue skipped: ThrottlingException: Operation: ivs:PutMetadata exceeded call rate…".
    expect(tallies.FilterPattern).toBe('"ThrottlingException" "PutMetadata"');
    const q = queries(a);
    expect(q.cues.MetricStat).toMatchObject({
      Metric: {
        Namespace: filter.MetricTransformations[0].MetricNamespace,
        MetricName: 'IvsPutMetadataThrottled',
      },
      Stat: 'Sum',
    });
    expect(q.tallies.MetricStat).toMatchObject({
      Metric: { MetricName: 'IvsTallyPutMetadataThrottled' },
      Stat: 'Sum',
    });
    expect(expressionOf(a)).toBe('FILL(cues, 0) + FILL(tallies, 0)');
    expect(a.Threshold).toBe(ALARM_THRESHOLDS.ivsThrottledAttempts);
    // The error name the filter counts is the one the definition's PutMetadata states retry.
    const asl = readFileSync(DEFAULT_DEFINITION_PATH, 'utf8');
    expect(asl).toContain('"ErrorEquals": ["Ivs.ThrottlingException"]');
    expect(render(a.AlarmDescription)).toMatch(/PutMetadata/);
  });

  it('"WAF blocked requests": BlockedRequests of the two rate-based rules of the stack\'s web ACL, ≥ 10 a minute, naming the limits and the context keys', () => {
    const a = alarm(created, 'WafRateLimited');
    const [, acl] = onlyResource(created.template, 'AWS::WAFv2::WebACL');
    const q = queries(a);
    for (const [id, rule] of [
      ['tokens', 'TokenRateLimit'],
      ['votes', 'VoteRateLimit'],
    ] as const) {
      expect(q[id].MetricStat).toMatchObject({
        Metric: { Namespace: 'AWS/WAFV2', MetricName: 'BlockedRequests' },
        Stat: 'Sum',
      });
      const dims = Object.fromEntries(
        (q[id].MetricStat.Metric.Dimensions as any[]).map((d) => [d.Name, render(d.Value)]),
      );
      expect(dims).toEqual({
        WebACL: render(acl.Properties.VisibilityConfig.MetricName),
        Region: '<AWS::Region>',
        Rule: rule,
      });
      expect((acl.Properties.Rules as any[]).find((r) => r.Name === rule).VisibilityConfig.MetricName).toBe(
        rule,
      );
    }
    expect(expressionOf(a)).toBe('FILL(tokens, 0) + FILL(votes, 0)');
    expect(a.Threshold).toBe(ALARM_THRESHOLDS.wafRateLimitedRequests);
    expect(a.AlarmDescription).toContain('2,000 token requests or 3,000 votes');
    expect(a.AlarmDescription).toContain('-c wafTokenLimit=… -c wafVoteLimit=…');
  });
});
