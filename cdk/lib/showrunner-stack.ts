// The whole cloud system in one stack: IVS channel, DynamoDB table, REST API (API Gateway →
// Middy Lambda) behind a WAF web ACL (cdk/lib/waf.ts), the show state machine
// (statemachine/show.asl.json) with its lifecycle Lambda, the viewer site and the control room on
// S3 + CloudFront with their deploy-time config.json, and the producers' Cognito user pool;
// CloudFront also serves GET /api/poll-get from the API, cached for 1 s. Sized for one audience
// (core/sizing.ts): stage throttle, Lambda concurrency, warm throughput, vote shards, WAF limits.
// The defaults deploy on a brand-new account: no reserved concurrency, no warm throughput, and the
// account's API Gateway CloudWatch Logs role set by the stack.
// Env-agnostic: `cdk synth` runs offline with no credentials (local esbuild, no Docker).
//
// Each concern is a class of its own file: channel.ts, data.ts, site.ts, viewer-api.ts,
// orchestration.ts, producer-sign-in.ts (and the constructs monitoring.ts and waf.ts); this file
// checks the inputs and wires them. The concern classes are not Constructs: they create their
// resources directly in the stack, because a resource's logical id is derived from its construct
// path, and a wrapping construct would change every id, so CloudFormation would replace the deployed
// table (with its answers), the user pool (with its producers) and the channel (with its stream
// key). Overriding each id back instead would miss the children CDK adds itself (policies,
// permissions, deployments). The wiring order below is the order of the template's resources.
import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { STACK_OUTPUTS } from '../../contract/stack-outputs.ts';
import { readAslDefinition } from './asl.ts';
import { checkChannelArn, ShowChannel, type ChannelType } from './channel.ts';
import { ShowData } from './data.ts';
import { ConfigurationError } from './errors.ts';
import {
  DEFAULT_STATE_MACHINE_LOG_LEVEL,
  ShowAlarms,
  parseStateMachineLogLevel,
  type StateMachineLogLevel,
} from './monitoring.ts';
import { ShowOrchestration, pollLifecycleFunction } from './orchestration.ts';
import { DEFAULT_DEFINITION_PATH, DEFAULT_SITE_DIR } from './paths.ts';
import { ProducerSignIn, checkControlDomainPrefix } from './producer-sign-in.ts';
import { SiteContent, ViewerSite, checkSiteBuilt } from './site.ts';
import {
  AWS_LIMITS,
  DEFAULT_AUDIENCE,
  SETS_API_GATEWAY_CLOUDWATCH_ROLE_BY_DEFAULT,
  fmt,
  sizeFor,
  type Sizing,
} from '../../core/sizing.ts';
import { ViewerApi, ViewerApiHandler } from './viewer-api.ts';

// The app entry reports this error's message; the definition's path is the stack's default.
export { ConfigurationError, DEFAULT_DEFINITION_PATH };

export interface ShowrunnerStackProps extends StackProps {
  /** The built viewer site (Vite's output: index.html at its root). Default: site/dist. */
  readonly siteDir?: string;
  /** Use this existing IVS channel instead of creating one (`-c channelArn=…`). Same region as the stack. */
  readonly channelArn?: string;
  /**
   * The control room's sign-in domain prefix (`-c controlDomainPrefix=…`): <prefix>.auth.<region>.amazoncognito.com,
   * unique in the region across all accounts. Default showrunner-<the stack id's UUID>: unique to
   * each stack, so several stacks fit in one account and region.
   */
  readonly controlDomainPrefix?: string;
  /**
   * Further channels the state machine may send cues to (an execution input can name its own
   * `channelArn`, `showrunner start --channel`). PutMetadata is granted on these and the stack's channel only.
   */
  readonly extraChannelArns?: readonly string[];
  /** IVS channel type for a created channel. Default STANDARD (transcoded renditions); BASIC costs less. */
  readonly channelType?: ChannelType;
  /**
   * X-Ray tracing for the state machine, the API stage and the Lambdas (Active tracing, and the
   * Powertools Tracer in them). Default true. Off: none of them traces, and the Lambdas do not load
   * the Tracer (POWERTOOLS_TRACE_ENABLED=false).
   */
  readonly tracing?: boolean;
  /**
   * The viewers one show is sized for (`-c audience=…`, 100 to 10,000,000; default 1,000): the
   * stage throttle, the Lambdas' concurrency (reserved only for large audiences), the table's warm
   * throughput, the vote shards and the API Lambda's poll cache follow from it (core/sizing.ts).
   * Large audiences need quota raises (README: Sizing and quotas).
   */
  readonly audience?: number;
  /**
   * Let this stack set the account's API Gateway CloudWatch Logs role (AWS::ApiGateway::Account, with
   * a role of its own). Default true: a REST API stage with logging fails to create on an account
   * (per region) that has none ("CloudWatch Logs role ARN must be set in account settings to enable
   * logging"), as every brand-new account. The setting is account-wide: false
   * (`-c apiGatewayCloudWatchRole=false`) for accounts that manage it centrally.
   */
  readonly apiGatewayCloudWatchRole?: boolean;
  /** Keep the table (and its answers) when the stack is destroyed. Default false: `cdk destroy` removes everything. */
  readonly retainData?: boolean;
  /** The state machine definition. Default statemachine/show.asl.json. */
  readonly definitionPath?: string;
  /**
   * The state machine's log level (`-c stateMachineLogLevel=ALL` to debug). Default ERROR: failure
   * events only. ALL logs every state transition (cue timing, Plan's output).
   */
  readonly stateMachineLogLevel?: StateMachineLogLevel;
  /**
   * Log state input and output too (`-c stateMachineLogExecutionData=true`). Default false: they
   * hold the show's questions, viewers' answers and the manual-cue task tokens.
   */
  readonly stateMachineLogExecutionData?: boolean;
  /**
   * WAF: POST /requestor-token requests allowed per IP address per 60 s (`-c wafTokenLimit=…`).
   * Default from the audience (cdk/lib/waf.ts wafLimitsFor: 2,000 for 1,000 viewers behind one NAT).
   */
  readonly wafTokenLimit?: number;
  /** WAF: POST /requestor-put requests allowed per IP address per 60 s (`-c wafVoteLimit=…`, default 3,000). */
  readonly wafVoteLimit?: number;
}

export class ShowrunnerStack extends Stack {
  /** X-Ray tracing on (props.tracing, default true): Active tracing on every Lambda, and the Tracer in them. */
  readonly tracing: boolean;
  readonly sizing: Sizing;
  readonly channel: ShowChannel;
  readonly data: ShowData;
  readonly site: ViewerSite;
  readonly viewerApi: ViewerApi;
  readonly orchestration: ShowOrchestration;
  readonly producerSignIn: ProducerSignIn;
  readonly alarms: ShowAlarms;

  constructor(scope: Construct, id: string, props: ShowrunnerStackProps = {}) {
    super(scope, id, props);
    const tracing = (this.tracing = props.tracing ?? true);

    // Inputs that would only fail at deploy time are checked first, with a message that says what to do.
    const siteDir = checkSiteBuilt(props.siteDir ?? DEFAULT_SITE_DIR);
    for (const arn of [props.channelArn, ...(props.extraChannelArns ?? [])]) {
      if (arn !== undefined) checkChannelArn(arn);
    }
    if (props.controlDomainPrefix !== undefined) checkControlDomainPrefix(props.controlDomainPrefix);
    const definition = readAslDefinition(props.definitionPath ?? DEFAULT_DEFINITION_PATH);
    const sizing = (this.sizing = sizeFor(props.audience ?? DEFAULT_AUDIENCE));
    const stateMachineLogLevel = parseStateMachineLogLevel(
      props.stateMachineLogLevel ?? DEFAULT_STATE_MACHINE_LOG_LEVEL,
    );

    const channel = (this.channel = new ShowChannel(this, {
      channelArn: props.channelArn,
      extraChannelArns: props.extraChannelArns,
      channelType: props.channelType,
    }));
    const data = (this.data = new ShowData(this, { sizing, retainData: props.retainData ?? false }));
    // The distribution comes first: its domain is the API's one CORS origin and the control room's base.
    const site = (this.site = new ViewerSite(this));
    const { siteUrl } = site;
    // Both Lambdas before the REST API that fronts one and the state machine that invokes the other.
    const viewerHandler = new ViewerApiHandler(this, {
      data,
      siteUrl,
      sizing,
      tracing,
      channelArn: channel.channelArn,
    });
    const lifecycleFunction = pollLifecycleFunction(this, { data, channel, sizing, tracing });
    const viewerApi = (this.viewerApi = new ViewerApi(this, {
      handler: viewerHandler.function,
      siteUrl,
      sizing,
      tracing,
      setsCloudWatchRole: props.apiGatewayCloudWatchRole ?? SETS_API_GATEWAY_CLOUDWATCH_ROLE_BY_DEFAULT,
      wafTokenLimit: props.wafTokenLimit,
      wafVoteLimit: props.wafVoteLimit,
    }));
    const cachedApiUrl = site.serveCachedApiReads(viewerApi.api);
    const orchestration = (this.orchestration = new ShowOrchestration(this, {
      definition,
      lifecycleFunction,
      channel,
      data,
      tracing,
      logLevel: stateMachineLogLevel,
      logExecutionData: props.stateMachineLogExecutionData ?? false,
    }));
    const producerSignIn = (this.producerSignIn = new ProducerSignIn(this, {
      siteUrl,
      controlDomainPrefix: props.controlDomainPrefix,
      api: viewerApi.api,
      stateMachine: orchestration.stateMachine,
      data,
      channelArn: channel.channelArn,
      tracing,
    }));
    site.setPageOrigins({ apiOrigin: viewerApi.origin, signInOrigin: producerSignIn.signInUrl });

    // ---- Alarms: an SNS topic (stack parameter AlarmEmail subscribes) and what they watch ------
    this.alarms = new ShowAlarms(this, 'Alarms', {
      sizing,
      api: viewerApi.api,
      apiAccessLogs: viewerApi.accessLogs,
      table: data.table,
      indexNames: data.indexNames,
      stateMachine: orchestration.stateMachine,
      stateMachineLogs: orchestration.logs,
      lifecycleLogs: lifecycleFunction.logGroup,
      firewall: viewerApi.firewall,
    });

    new SiteContent(this, {
      siteDir,
      site,
      apiUrl: viewerApi.url,
      cachedApiUrl,
      playbackUrl: channel.playbackUrl,
      channelArn: channel.channelArn,
      signIn: { domainUrl: producerSignIn.signInUrl, clientId: producerSignIn.client.userPoolClientId },
    });

    this.#addOutputs(cachedApiUrl);
    this.#describeSizing();
  }

  /** The stack's outputs: the CLI's `--target aws` reads these keys from DescribeStacks (contract/stack-outputs.ts). */
  #addOutputs(cachedApiUrl: string): void {
    const { channel, site, viewerApi, orchestration, producerSignIn, data, sizing } = this;
    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { value, description });
    output(STACK_OUTPUTS.SiteUrl, site.siteUrl, 'The viewer site (CloudFront)');
    output(STACK_OUTPUTS.ApiUrl, viewerApi.url, 'The viewer REST API base URL (no trailing slash)');
    output(
      STACK_OUTPUTS.CachedApiUrl,
      cachedApiUrl,
      'GET /poll-get through CloudFront, cached 1 s (the site reads it from config.json)',
    );
    output(STACK_OUTPUTS.PlaybackUrl, channel.playbackUrl, 'IVS playback URL (HLS)');
    output(STACK_OUTPUTS.IngestEndpoint, channel.ingestEndpoint, 'IVS ingest endpoint (host name)');
    output(
      STACK_OUTPUTS.IngestServer,
      `rtmps://${channel.ingestEndpoint}:443/app/`,
      'Server URL for OBS (Stream → Custom)',
    );
    if (channel.streamKeyArn) {
      output(
        STACK_OUTPUTS.StreamKeyArn,
        channel.streamKeyArn,
        'Read the key with: aws ivs get-stream-key --arn <this>',
      );
    }
    output(
      STACK_OUTPUTS.StateMachineArn,
      orchestration.stateMachine.stateMachineArn,
      'The show state machine',
    );
    output(
      STACK_OUTPUTS.ControlRoomUrl,
      producerSignIn.controlUrl,
      "The producer's control room (sign in with a user of ProducerPoolId)",
    );
    output(
      STACK_OUTPUTS.ProducerPoolId,
      producerSignIn.userPool.userPoolId,
      'Cognito user pool of the producers (add one: README)',
    );
    output(STACK_OUTPUTS.ChannelArn, channel.channelArn, 'The IVS channel the cues are sent to');
    output(STACK_OUTPUTS.TableName, data.table.tableName, 'The DynamoDB table');
    output(
      STACK_OUTPUTS.Audience,
      String(sizing.audience),
      'The viewers per show this stack is sized for (-c audience)',
    );
  }

  /** What the account must allow for this audience, said at synth (README: "Sizing and quotas"). */
  #describeSizing(): void {
    const { sizing } = this;
    Annotations.of(this).addInfo(
      `Sized for ${fmt(sizing.audience)} viewers: ` +
        (sizing.quotaRaises.length
          ? 'needs ' +
            sizing.quotaRaises
              .map((q) => `${q.quota} ≥ ${fmt(q.needed)} ${q.unit} (default ${fmt(q.defaultValue)})`)
              .join('; ')
          : "fits AWS's default quotas") +
        '. ' +
        (sizing.reservesConcurrency
          ? `Reserves ${fmt(sizing.apiReservedConcurrency)} (API) + ${fmt(sizing.lifecycleReservedConcurrency)} (lifecycle) ` +
            `Lambda concurrent executions: the account needs ${fmt(sizing.accountConcurrencyNeeded)}, ` +
            `keeping the ${fmt(AWS_LIMITS.lambdaMinUnreservedConcurrency)} Lambda leaves unreserved.`
          : `No reserved concurrency: the Lambdas share the account's, and use up to ` +
            `${fmt(sizing.accountConcurrencyNeeded)} concurrent executions at the planned peak.`) +
        (sizing.tableWarmThroughput || sizing.indexWarmThroughput
          ? ' Pre-warms the table (billed; DynamoDB never lowers it).'
          : ' No warm throughput.'),
    );
    for (const limit of sizing.designLimits) {
      Annotations.of(this).addWarningV2(
        `showrunner:sizing-${limit.name}`,
        `Sized for ${fmt(sizing.audience)} viewers, beyond what a quota raise fixes: ${limit.text}.`,
      );
    }
  }
}
