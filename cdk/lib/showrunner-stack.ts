// The whole cloud system in one stack: IVS channel, DynamoDB table, REST API (API Gateway →
// Middy Lambda) behind a WAF web ACL (cdk/lib/waf.ts), the show state machine
// (statemachine/show.asl.json) with its lifecycle Lambda, and the viewer site on S3 + CloudFront
// with its deploy-time config.json; CloudFront also serves GET /api/poll-get from the API, cached
// for 1 s. Sized for one audience (cdk/lib/sizing.ts): stage throttle, reserved concurrency, warm
// throughput, vote shards, WAF limits.
// Env-agnostic: `cdk synth` runs offline with no credentials (local esbuild, no Docker).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Annotations,
  Aws,
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  Validations,
  type StackProps,
} from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  CognitoUserPoolsAuthorizer,
  LambdaIntegration,
  LogGroupLogDestination,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import {
  AllowedMethods,
  CacheCookieBehavior,
  CachedMethods,
  CacheHeaderBehavior,
  CachePolicy,
  CacheQueryStringBehavior,
  Distribution,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  Function as CloudFrontFunction,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestCookieBehavior,
  OriginRequestHeaderBehavior,
  OriginRequestPolicy,
  OriginRequestQueryStringBehavior,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Rule } from 'aws-cdk-lib/aws-events';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AccountRecovery, Mfa, OAuthScope, UserPool } from 'aws-cdk-lib/aws-cognito';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { CfnChannel, CfnStreamKey } from 'aws-cdk-lib/aws-ivs';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { API_ROUTES, CORS_MAX_AGE_SECONDS, VIEWER_TOKEN_HEADER } from '../../contract/api.ts';
import type { Substitutions } from '../../contract/state-machine.ts';
import { TABLE, createTableInput } from '../../contract/table.ts';
import { DefinitionError, readAslDefinition, selectSubstitutions, type AslDefinition } from './asl.ts';
import { ConfigurationError } from './errors.ts';
import {
  DEFAULT_STATE_MACHINE_LOG_LEVEL,
  ShowAlarms,
  parseStateMachineLogLevel,
  type StateMachineLogLevel,
} from './monitoring.ts';
import { DEFAULT_AUDIENCE, fmt, sizeFor, type Sizing } from './sizing.ts';
import { ApiFirewall, wafLimitsFor } from './waf.ts';

export { ConfigurationError };

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_DEFINITION_PATH = join(REPO_ROOT, 'statemachine', 'show.asl.json');
export const DEFAULT_SITE_DIR = join(REPO_ROOT, 'site', 'dist');
/** Where Vite writes content-hashed files (its build.assetsDir): a new build never reuses a name. */
export const SITE_HASHED_ASSETS_DIR = 'assets';
/** index.html, config.json and other unhashed files: revalidated on every load, so a redeploy shows at once. */
export const SITE_PAGE_CACHE_CONTROL = 'no-cache';
/** Hashed assets never change under their name. */
export const SITE_ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';
/** The API Gateway stage: the last segment of apiUrl, and the origin path CloudFront prefixes. */
export const API_STAGE_NAME = 'prod';
/**
 * Where the site distribution serves the API's cacheable read: `cachedApiUrl` is the distribution's
 * https://<domain>/api, and the site asks `${cachedApiUrl}/poll-get?poll_id=…` (contract/api.ts).
 */
export const CACHED_API_PREFIX = '/api';
export const CACHED_API_PATH = `${CACHED_API_PREFIX}${API_ROUTES.poll}`;
/** How long CloudFront keeps a /poll-get answer: the API sends Cache-Control public, max-age=1. */
export const POLL_GET_CACHE_SECONDS = 1;
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

export interface ShowrunnerStackProps extends StackProps {
  /** The built viewer site (Vite's output: index.html at its root). Default: site/dist. */
  readonly siteDir?: string;
  /** Use this existing IVS channel instead of creating one (`-c channelArn=…`). Same region as the stack. */
  readonly channelArn?: string;
  /**
   * The control room's sign-in domain prefix (`-c controlDomainPrefix=…`): <prefix>.auth.<region>.amazoncognito.com,
   * unique in the region. Default showrunner-<account>-<region> (one stack per account and region).
   */
  readonly controlDomainPrefix?: string;
  /**
   * Further channels the state machine may send cues to (an execution input can name its own
   * `channelArn`, `showrunner start --channel`). PutMetadata is granted on these and the stack's channel only.
   */
  readonly extraChannelArns?: readonly string[];
  /** IVS channel type for a created channel. Default STANDARD (transcoded renditions); BASIC costs less. */
  readonly channelType?: 'STANDARD' | 'BASIC' | 'ADVANCED_SD' | 'ADVANCED_HD';
  /** X-Ray tracing for the state machine and the API stage. Default true. */
  readonly tracing?: boolean;
  /**
   * The viewers one show is sized for (`-c audience=…`, 100 to 10,000,000; default 100,000): the
   * stage throttle, reserved concurrency, the table's warm throughput, the vote shards and the API
   * Lambda's poll cache follow from it (cdk/lib/sizing.ts). Large audiences need quota raises
   * (README: Sizing and quotas).
   */
  readonly audience?: number;
  /**
   * Let this stack set the account's API Gateway CloudWatch Logs role (AWS::ApiGateway::Account).
   * REST API stages refuse access logging until the account (per region) has one; it is a
   * shared account setting, so the default is false and the README shows the one-time setup.
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

const CHANNEL_ARN = /^arn:aws[a-z-]*:ivs:[a-z0-9-]+:\d{12}:channel\/[A-Za-z0-9]+$/;
const LOG_RETENTION = RetentionDays.ONE_MONTH;

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

export class ShowrunnerStack extends Stack {
  readonly table: Table;
  readonly apiFunction: NodejsFunction;
  readonly lifecycleFunction: NodejsFunction;
  readonly viewerTokenSecret: Secret;
  readonly producers: UserPool;
  readonly producerFunction: NodejsFunction;
  readonly stateMachine: StateMachine;
  readonly api: RestApi;
  readonly distribution: Distribution;
  readonly siteBucket: Bucket;
  readonly channelArn: string;
  readonly sizing: Sizing;
  readonly alarms: ShowAlarms;
  readonly firewall: ApiFirewall;
  /** The IVS channels cues may go to: the stack's channel and extraChannelArns (PutMetadata is granted on these only). */
  readonly cueChannelArns: readonly string[];

  constructor(scope: Construct, id: string, props: ShowrunnerStackProps = {}) {
    super(scope, id, props);
    const tracing = props.tracing ?? true;
    const removalPolicy = props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // Inputs that would only fail at deploy time are checked first, with a message that says what to do.
    const siteDir = props.siteDir ?? DEFAULT_SITE_DIR;
    if (!existsSync(join(siteDir, 'index.html'))) {
      throw new ConfigurationError(
        `The viewer site is not built: ${join(siteDir, 'index.html')} is missing. ` +
          'Build it first with `npm run build` (writes site/dist), ' +
          'or point `-c siteDir=<dir>` at a directory that holds the built site.',
      );
    }
    for (const arn of [props.channelArn, ...(props.extraChannelArns ?? [])]) {
      if (arn !== undefined && !CHANNEL_ARN.test(arn)) {
        throw new ConfigurationError(
          `"${arn}" is not an IVS channel ARN (arn:aws:ivs:<region>:<account>:channel/<id>).`,
        );
      }
    }
    const definition = readAslDefinition(props.definitionPath ?? DEFAULT_DEFINITION_PATH);
    const sizing = (this.sizing = sizeFor(props.audience ?? DEFAULT_AUDIENCE));
    const stateMachineLogLevel = parseStateMachineLogLevel(
      props.stateMachineLogLevel ?? DEFAULT_STATE_MACHINE_LOG_LEVEL,
    );

    // ---- Video: the IVS channel the cues travel in -------------------------------------------
    let playbackUrl: string;
    let ingestEndpoint: string;
    let streamKeyArn: string | undefined;
    if (props.channelArn) {
      this.channelArn = props.channelArn;
      // No IVS context provider exists; a custom resource reads the existing channel at deploy time.
      const existing = new AwsCustomResource(this, 'ExistingChannel', {
        onUpdate: {
          service: 'ivs',
          action: 'GetChannel',
          parameters: { arn: props.channelArn },
          physicalResourceId: PhysicalResourceId.of(props.channelArn),
          outputPaths: ['channel.playbackUrl', 'channel.ingestEndpoint'],
        },
        policy: AwsCustomResourcePolicy.fromStatements([
          new PolicyStatement({ actions: ['ivs:GetChannel'], resources: [props.channelArn] }),
        ]),
        installLatestAwsSdk: false,
      });
      playbackUrl = existing.getResponseField('channel.playbackUrl');
      ingestEndpoint = existing.getResponseField('channel.ingestEndpoint');
      const provider = this.node.tryFindChild(
        `AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
      );
      if (provider) acknowledgeCustomResourceProvider(provider);
    } else {
      const channel = new CfnChannel(this, 'Channel', {
        name: Aws.STACK_NAME,
        latencyMode: 'LOW',
        type: props.channelType ?? 'STANDARD',
        insecureIngest: false,
      });
      const streamKey = new CfnStreamKey(this, 'StreamKey', { channelArn: channel.attrArn });
      this.channelArn = channel.attrArn;
      playbackUrl = channel.attrPlaybackUrl;
      ingestEndpoint = channel.attrIngestEndpoint;
      streamKeyArn = streamKey.attrArn;
    }
    // The one list of channels cues may go to: the state machine's PutMetadata grant, the lifecycle
    // Lambda's (its tally loop cues itself) and its CUE_CHANNEL_ARNS all come from here.
    const cueChannelArns = [this.channelArn, ...(props.extraChannelArns ?? [])];
    this.cueChannelArns = cueChannelArns;
    const putMetadataOnCueChannels = () =>
      new PolicyStatement({ actions: ['ivs:PutMetadata'], resources: [...cueChannelArns] });

    // ---- Data: the one table, from the shared spec in contract/table.ts --------------------------
    const spec = createTableInput('unused');
    const attribute = (name: string) => {
      const type = spec.AttributeDefinitions.find((a) => a.AttributeName === name)?.AttributeType;
      return { name, type: type === 'N' ? AttributeType.NUMBER : AttributeType.STRING };
    };
    this.table = new Table(this, 'Table', {
      partitionKey: attribute(TABLE.partitionKey),
      sortKey: attribute(TABLE.sortKey),
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TABLE.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Pre-warmed for the storm when a new table's 4,000 writes/s would not do (sizing.ts).
      // DynamoDB never lowers warm throughput: a redeploy that asks for less is refused.
      ...(sizing.tableWarmThroughput ? { warmThroughput: sizing.tableWarmThroughput } : {}),
      removalPolicy,
    });
    for (const index of spec.GlobalSecondaryIndexes) {
      const [hash, range] = index.KeySchema;
      this.table.addGlobalSecondaryIndex({
        indexName: index.IndexName,
        partitionKey: attribute(hash!.AttributeName),
        ...(range ? { sortKey: attribute(range.AttributeName) } : {}),
        projectionType: ProjectionType.ALL,
        // Every answer item is written to the index too; a GSI short of write capacity throttles
        // the table's writes (back-pressure), so it is warmed alongside.
        ...(sizing.indexWarmThroughput ? { warmThroughput: sizing.indexWarmThroughput } : {}),
      });
    }
    const tableResources = [
      this.table.tableArn,
      ...spec.GlobalSecondaryIndexes.map((i) => `${this.table.tableArn}/index/${i.IndexName}`),
    ];
    // What the poll store does (store/polls.ts): get/batch-get/query, conditional put, update.
    // No Scan, DeleteItem or BatchWriteItem: nothing in the app needs them.
    const tableDataActions = [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:ConditionCheckItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ];

    // ---- Site: private bucket behind CloudFront (origin access control) ---------------------
    const siteBucket = (this.siteBucket = new Bucket(this, 'SiteBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Emptied by the deployment's custom resource (retainOnDelete: false) before it is deleted.
      removalPolicy: RemovalPolicy.DESTROY,
    }));
    this.distribution = new Distribution(this, 'SiteDistribution', {
      comment: 'showrunner viewer site',
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(siteBucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: ResponseHeadersPolicy.SECURITY_HEADERS,
      },
    });
    const siteUrl = `https://${this.distribution.distributionDomainName}`;

    // ---- Lambdas ----------------------------------------------------------------------------
    // The key the API signs viewer tokens with (lambdas/viewer-token.ts): generated by Secrets
    // Manager, read once per API container, never in the template or the function's settings.
    this.viewerTokenSecret = new Secret(this, 'ViewerTokenSecret', {
      description:
        'showrunner: signs viewer tokens (POST /requestor-token); replacing it gives every viewer a new identity',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.apiFunction = this.nodeFunction('ApiFunction', {
      entry: 'lambdas/handlers/api.ts',
      description: 'showrunner viewer REST API (Middy router)',
      memorySize: 512,
      timeout: Duration.seconds(10),
      environment: {
        TABLE_NAME: this.table.tableName,
        CORS_ORIGINS: siteUrl,
        // Longer for large audiences: all environments together re-read a poll item ≤ 1,000 units/s.
        POLL_CACHE_MS: String(sizing.pollCacheMs),
        VIEWER_TOKEN_SECRET_ARN: this.viewerTokenSecret.secretArn,
      },
      // Its cap: a storm takes at most this much of the account's concurrency (sized to serve
      // whatever the stage throttle admits), and keeps it for itself.
      reservedConcurrentExecutions: sizing.apiReservedConcurrency,
      tableActions: tableDataActions,
      tableResources,
    });
    // secretsmanager:GetSecretValue (and DescribeSecret) on this secret only.
    this.viewerTokenSecret.grantRead(this.apiFunction);
    this.lifecycleFunction = this.nodeFunction('PollLifecycleFunction', {
      entry: 'lambdas/handlers/poll-lifecycle.ts',
      description: 'showrunner poll lifecycle (plan/open/tally/close), invoked by the show state machine',
      memorySize: 512,
      // A tally slice (≤ 14 min) with room for its last calls (LIFECYCLE_TIMEOUT_SECONDS). Close does
      // not get this long: its state times out after 60 s, and VOTE_SETTLE_MS (≤ MAX_VOTE_SETTLE_MS,
      // 30 s) plus the recount fit inside that.
      timeout: Duration.seconds(LIFECYCLE_TIMEOUT_SECONDS),
      // Plan refuses an execution input's channelArn outside these (the stack's PutMetadata grants).
      environment: {
        TABLE_NAME: this.table.tableName,
        CUE_CHANNEL_ARNS: cueChannelArns.join(','),
        // Open spreads a poll's votes over this many shard partitions (contract/table.ts).
        VOTE_SHARDS: String(sizing.voteShards),
        // The API Lambda's: a poll a failed or stopped run ends early is recounted once no API
        // container can still hold its old closing time.
        POLL_CACHE_MS: String(sizing.pollCacheMs),
      },
      // The show's own work (plan, open, tally, close): no storm on the API Lambda can starve it.
      reservedConcurrentExecutions: sizing.lifecycleReservedConcurrency,
      tableActions: tableDataActions,
      tableResources,
      // The tally loop sends its cues itself (about once a second while a poll is open), so they
      // stay out of the execution history; the same channels as the state machine's cue states.
      extraStatements: [putMetadataOnCueChannels()],
      roleDescription: 'logs, table access and PutMetadata on the cue channels',
    });

    // ---- API: API Gateway REST, proxy to the Middy router -------------------------------------
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new RestApi(this, 'Api', {
      description: 'showrunner viewer API',
      defaultIntegration: new LambdaIntegration(this.apiFunction, { allowTestInvoke: false }),
      // The CloudWatch Logs role is an account-wide setting shared by every REST API in the region:
      // not managed here unless asked (-c apiGatewayCloudWatchRole=true); CDK retains it when the stack goes.
      cloudWatchRole: props.apiGatewayCloudWatchRole ?? false,
      deployOptions: {
        stageName: API_STAGE_NAME,
        // One throttle for the stage: every route is the one ANY /{proxy+} method, so a method
        // throttle could not tell votes from reads. Above it API Gateway answers 429 itself.
        throttlingRateLimit: sizing.stageRateLimit,
        throttlingBurstLimit: sizing.stageBurstLimit,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        // CDK's standard JSON fields plus WAF's verdict, so the 429 alarm can tell the stage throttle
        // (API Gateway's 429) from the WAF rate limits (wafResponseCode WAF_BLOCK).
        accessLogFormat: AccessLogFormat.custom(
          JSON.stringify({
            requestId: AccessLogField.contextRequestId(),
            ip: AccessLogField.contextIdentitySourceIp(),
            user: AccessLogField.contextIdentityUser(),
            caller: AccessLogField.contextIdentityCaller(),
            requestTime: AccessLogField.contextRequestTime(),
            httpMethod: AccessLogField.contextHttpMethod(),
            resourcePath: AccessLogField.contextResourcePath(),
            status: AccessLogField.contextStatus(),
            protocol: AccessLogField.contextProtocol(),
            responseLength: AccessLogField.contextResponseLength(),
            wafResponseCode: AccessLogField.contextWafResponseCode(),
          }),
        ),
        tracingEnabled: tracing,
      },
      // Preflight is answered by API Gateway (the Lambda's httpCors handles the actual responses).
      defaultCorsPreflightOptions: {
        allowOrigins: [siteUrl],
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        // Authorization: the viewer token (contract/api.ts VIEWER_TOKEN_HEADER).
        allowHeaders: ['Content-Type', VIEWER_TOKEN_HEADER],
        maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
      },
    });
    // ANY /{proxy+} → the router (API Gateway mounts the same ANY on `/` too, where the router answers 404).
    this.api.root.addProxy({ anyMethod: true });
    // API Gateway's own errors (throttling 429, payload limits) need the CORS header too, or the
    // browser reports a CORS failure instead of the status.
    for (const [name, type] of [
      ['Default4xx', ResponseType.DEFAULT_4XX],
      ['Default5xx', ResponseType.DEFAULT_5XX],
    ] as const) {
      this.api.addGatewayResponse(name, {
        type,
        responseHeaders: { 'Access-Control-Allow-Origin': `'${siteUrl}'`, Vary: "'Origin'" },
      });
    }
    // Same shape as the local stack's apiUrl (no trailing slash): the site appends `/poll-get` etc.
    const apiUrl = `https://${this.api.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}/${this.api.deploymentStage.stageName}`;

    // ---- WAF on the API stage: per-IP limits on tokens and votes, AWS's common rule set ----------
    const wafDefaults = wafLimitsFor(sizing.audience);
    this.firewall = new ApiFirewall(this, 'ApiFirewall', {
      stage: this.api.deploymentStage,
      siteOrigin: siteUrl,
      limits: {
        tokenLimit: props.wafTokenLimit ?? wafDefaults.tokenLimit,
        voteLimit: props.wafVoteLimit ?? wafDefaults.voteLimit,
      },
    });

    // ---- GET /poll-get through CloudFront, cached 1 s (issue 12 item 1) -----------------------
    // Late joiners and result views ask for the same poll at once: each edge location asks the API
    // at most once a second per poll_id, and serves everyone else from its cache. The site reaches it
    // at cachedApiUrl (same origin as the page, so no CORS). Only poll_id makes the cache key, and
    // nothing else from the viewer (headers, cookies, other query strings) reaches the API, so no
    // answer depends on who asked. The origin is named by the API id, region and the literal stage
    // name, not by the stage resource: the stage's deployment depends on the CORS methods, which
    // name this distribution.
    // Policy and function names are account-wide (CloudFront is global): stack name and region in each.
    const cloudFrontName = (what: string) => `${Aws.STACK_NAME}-${Aws.REGION}-${what}`;
    const pollGetCachePolicy = new CachePolicy(this, 'PollGetCachePolicy', {
      cachePolicyName: cloudFrontName('poll-get'),
      comment: 'showrunner GET /poll-get: 1 s, keyed on poll_id only',
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(POLL_GET_CACHE_SECONDS),
      maxTtl: Duration.seconds(POLL_GET_CACHE_SECONDS),
      queryStringBehavior: CacheQueryStringBehavior.allowList('poll_id'),
      headerBehavior: CacheHeaderBehavior.none(),
      cookieBehavior: CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });
    const pollGetOriginRequestPolicy = new OriginRequestPolicy(this, 'PollGetOriginRequestPolicy', {
      originRequestPolicyName: cloudFrontName('poll-get'),
      comment: 'showrunner GET /poll-get: nothing beyond the cache key (poll_id)',
      queryStringBehavior: OriginRequestQueryStringBehavior.none(),
      headerBehavior: OriginRequestHeaderBehavior.none(),
      cookieBehavior: OriginRequestCookieBehavior.none(),
    });
    // The API serves the route at the stage's root (/prod/poll-get): strip /api before CloudFront
    // adds the origin path.
    const stripApiPrefix = new CloudFrontFunction(this, 'CachedApiPathRewrite', {
      functionName: cloudFrontName('cached-api-path'),
      comment: `showrunner: ${CACHED_API_PREFIX}/x -> /x on the API origin`,
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(
        [
          'function handler(event) {',
          '  var request = event.request;',
          `  if (request.uri.indexOf('${CACHED_API_PREFIX}/') === 0) request.uri = request.uri.substring(${CACHED_API_PREFIX.length});`,
          '  return request;',
          '}',
        ].join('\n'),
      ),
    });
    this.distribution.addBehavior(
      CACHED_API_PATH,
      new HttpOrigin(`${this.api.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`, {
        originPath: `/${API_STAGE_NAME}`,
        protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
      }),
      {
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: CachedMethods.CACHE_GET_HEAD,
        cachePolicy: pollGetCachePolicy,
        originRequestPolicy: pollGetOriginRequestPolicy,
        responseHeadersPolicy: ResponseHeadersPolicy.SECURITY_HEADERS,
        compress: false,
        functionAssociations: [{ function: stripApiPrefix, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
    );
    const cachedApiUrl = `${siteUrl}${CACHED_API_PREFIX}`;

    // ---- Orchestration: the show state machine from the shared ASL file ----------------------
    const functionsBySubstitution: Record<string, NodejsFunction> = {
      PollLifecycleFunctionArn: this.lifecycleFunction,
    };
    const substitutions = selectSubstitutions(definition, {
      PollLifecycleFunctionArn: this.lifecycleFunction.functionArn,
      ChannelArn: this.channelArn,
      TableName: this.table.tableName,
    } satisfies Substitutions);
    const stateMachineLogs = new LogGroup(this, 'StateMachineLogs', {
      // The /aws/vendedlogs/ prefix keeps the log delivery resource policy small (AWS recommendation).
      logGroupName: `/aws/vendedlogs/states/${Aws.STACK_NAME}-show`,
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'ShowStateMachine', {
      comment: 'showrunner: runs one show (statemachine/show.asl.json)',
      definitionBody: DefinitionBody.fromFile(definition.path),
      definitionSubstitutions: substitutions,
      stateMachineType: StateMachineType.STANDARD,
      // ERROR by default, without execution data: ALL with data would put every state's input and
      // output in CloudWatch Logs (questions, answers, the manual cue's task token). The execution
      // history keeps every event for 90 days (`showrunner history`); the log feeds the IVS alarm.
      logs: {
        destination: stateMachineLogs,
        level: LogLevel[stateMachineLogLevel],
        includeExecutionData: props.stateMachineLogExecutionData ?? false,
      },
      tracingEnabled: tracing,
    });
    for (const statement of taskPolicy(definition, {
      functionsBySubstitution,
      channelArns: cueChannelArns,
      tableResources,
    })) {
      this.stateMachine.addToRolePolicy(statement);
    }
    // Honest state for runs no Catch sees: a stopped or timed-out run (and, again, a failed one)
    // closes its polls still open — the lifecycle Lambda reads the poll ids from the run's input.
    new Rule(this, 'RunEndedRule', {
      description: 'showrunner: a show run that did not succeed closes its open polls',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [this.stateMachine.stateMachineArn],
          status: ['FAILED', 'ABORTED', 'TIMED_OUT'],
        },
      },
      targets: [new LambdaFunction(this.lifecycleFunction, { retryAttempts: 3 })],
    });

    // ---- The producer's control room: Cognito sign-in, the producer API (issue 14) -------------
    // No self sign-up: an administrator adds producers (README). The page signs in through the
    // user pool's managed login (authorization code + PKCE) and sends the ID token; API Gateway's
    // Cognito authorizer checks it before the producer Lambda runs.
    this.producers = new UserPool(this, 'Producers', {
      userPoolName: `${Aws.STACK_NAME}-producers`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireSymbols: true,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const controlUrl = `${siteUrl}/control/`;
    const producersClient = this.producers.addClient('ControlRoom', {
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL],
        callbackUrls: [controlUrl],
        logoutUrls: [controlUrl],
      },
      preventUserExistenceErrors: true,
    });
    const producersDomain = this.producers.addDomain('ControlRoomDomain', {
      cognitoDomain: {
        domainPrefix: props.controlDomainPrefix ?? `showrunner-${this.account}-${this.region}`,
      },
    });
    const producerFunction = (this.producerFunction = this.nodeFunction('ProducerFunction', {
      entry: 'lambdas/handlers/producer.ts',
      description: 'showrunner producer API (control room): start, cue, stop, status, history, results',
      memorySize: 512,
      timeout: Duration.seconds(29),
      environment: {
        STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
        TABLE_NAME: this.table.tableName,
        CHANNEL_ARN: this.channelArn,
        CORS_ORIGINS: siteUrl,
      },
      // What the operations read and write: poll items and shard counters (results), the '#cue'
      // item a manual question waits on (cue claims it).
      tableActions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
      tableResources: [this.table.tableArn],
      roleDescription: 'logs, the poll table, and the show state machine and its executions',
    }));
    // Least privilege through CDK's grants: StartExecution and ListExecutions on this state machine,
    // Describe/Stop/GetExecutionHistory on its executions, SendTaskSuccess/Failure for the cue.
    this.stateMachine.grantStartExecution(producerFunction);
    this.stateMachine.grant(producerFunction, 'states:ListExecutions');
    this.stateMachine.grantExecution(
      producerFunction,
      'states:DescribeExecution',
      'states:GetExecutionHistory',
      'states:StopExecution',
    );
    this.stateMachine.grantTaskResponse(producerFunction);
    const producerAuthorizer = new CognitoUserPoolsAuthorizer(this, 'ProducerAuthorizer', {
      cognitoUserPools: [this.producers],
    });
    this.api.root
      .addResource('producer')
      .addProxy({
        anyMethod: false,
        defaultIntegration: new LambdaIntegration(producerFunction),
      })
      .addMethod('ANY', undefined, {
        authorizer: producerAuthorizer,
        authorizationType: AuthorizationType.COGNITO,
      });

    // ---- Alarms: an SNS topic (stack parameter AlarmEmail subscribes) and what they watch ------
    this.alarms = new ShowAlarms(this, 'Alarms', {
      sizing,
      api: this.api,
      apiAccessLogs: accessLogs,
      table: this.table,
      indexNames: spec.GlobalSecondaryIndexes.map((i) => i.IndexName),
      stateMachine: this.stateMachine,
      stateMachineLogs,
      lifecycleLogs: this.lifecycleFunction.logGroup,
      firewall: this.firewall,
    });

    // ---- Site content and its deploy-time config ---------------------------------------------
    // Two deployments, because Cache-Control is set per deployment: hashed assets are immutable;
    // index.html and config.json are revalidated on every load, so after a redeploy no browser keeps
    // an index.html that names assets of the previous build.
    const hashedDir = join(siteDir, SITE_HASHED_ASSETS_DIR);
    const assetsDeployment =
      existsSync(hashedDir) && statSync(hashedDir).isDirectory()
        ? new BucketDeployment(this, 'SiteAssetsDeployment', {
            sources: [Source.asset(hashedDir)],
            destinationBucket: siteBucket,
            destinationKeyPrefix: `${SITE_HASHED_ASSETS_DIR}/`,
            cacheControl: [CacheControl.fromString(SITE_ASSET_CACHE_CONTROL)],
            // Earlier builds' assets stay: a page opened before the redeploy still loads its lazy chunks.
            prune: false,
            retainOnDelete: false,
            memoryLimit: 256,
          })
        : undefined;
    const pageDeployment = new BucketDeployment(this, 'SiteDeployment', {
      sources: [
        Source.asset(siteDir, { exclude: ['config.json', SITE_HASHED_ASSETS_DIR] }),
        // channel: the id GET /poll-current takes (core/ids.ts channelIdOf), the ARN's last part.
        Source.jsonData('config.json', {
          apiUrl,
          cachedApiUrl,
          playbackUrl,
          player: 'ivs',
          channel: Fn.select(1, Fn.split('/', this.channelArn)),
          control: {
            signIn: 'cognito',
            domain: `https://${producersDomain.domainName}.auth.${Aws.REGION}.amazoncognito.com`,
            clientId: producersClient.userPoolClientId,
          },
        }),
      ],
      destinationBucket: siteBucket,
      // Its sync (and prune) leaves the hashed assets to the other deployment.
      exclude: [`${SITE_HASHED_ASSETS_DIR}/*`],
      cacheControl: [CacheControl.fromString(SITE_PAGE_CACHE_CONTROL)],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      retainOnDelete: false,
      memoryLimit: 256,
    });
    // The new index.html goes up (and the cache is invalidated) only once the assets it names are there.
    if (assetsDeployment) pageDeployment.node.addDependency(assetsDeployment);

    // ---- Outputs (the CLI's `--target aws` reads these keys from DescribeStacks) --------------
    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { value, description });
    output('SiteUrl', siteUrl, 'The viewer site (CloudFront)');
    output('ApiUrl', apiUrl, 'The viewer REST API base URL (no trailing slash)');
    output(
      'CachedApiUrl',
      cachedApiUrl,
      'GET /poll-get through CloudFront, cached 1 s (the site reads it from config.json)',
    );
    output('PlaybackUrl', playbackUrl, 'IVS playback URL (HLS)');
    output('IngestEndpoint', ingestEndpoint, 'IVS ingest endpoint (host name)');
    output('IngestServer', `rtmps://${ingestEndpoint}:443/app/`, 'Server URL for OBS (Stream → Custom)');
    if (streamKeyArn) {
      output('StreamKeyArn', streamKeyArn, 'Read the key with: aws ivs get-stream-key --arn <this>');
    }
    output('StateMachineArn', this.stateMachine.stateMachineArn, 'The show state machine');
    output(
      'ControlRoomUrl',
      controlUrl,
      "The producer's control room (sign in with a user of ProducerPoolId)",
    );
    output(
      'ProducerPoolId',
      this.producers.userPoolId,
      'Cognito user pool of the producers (add one: README)',
    );
    output('ChannelArn', this.channelArn, 'The IVS channel the cues are sent to');
    output('TableName', this.table.tableName, 'The DynamoDB table');
    output('Audience', String(sizing.audience), 'The viewers per show this stack is sized for (-c audience)');

    // What the account must allow for this audience, said at synth (README: "Sizing and quotas").
    Annotations.of(this).addInfo(
      `Sized for ${fmt(sizing.audience)} viewers: ` +
        (sizing.quotaRaises.length
          ? 'needs ' +
            sizing.quotaRaises
              .map((q) => `${q.quota} ≥ ${fmt(q.needed)} ${q.unit} (default ${fmt(q.defaultValue)})`)
              .join('; ')
          : "fits AWS's default quotas") +
        '.',
    );
    for (const limit of sizing.designLimits) {
      Annotations.of(this).addWarningV2(
        `showrunner:sizing-${limit.name}`,
        `Sized for ${fmt(sizing.audience)} viewers, beyond what a quota raise fixes: ${limit.text}.`,
      );
    }

    this.acknowledgeNagFindings(tracing, stateMachineLogLevel);
  }

  /** A Node 24 arm64 ESM Lambda with its own log group and a role that can write only there and to the table. */
  private nodeFunction(
    id: string,
    options: {
      entry: string;
      description: string;
      memorySize: number;
      timeout: Duration;
      environment: Record<string, string>;
      /** Reserved and capped; none for a function with few callers (the producer API). */
      reservedConcurrentExecutions?: number;
      tableActions: string[];
      tableResources: string[];
      /** Further grants beyond logs and the table. */
      extraStatements?: PolicyStatement[];
      roleDescription?: string;
    },
  ): NodejsFunction {
    const logGroup = new LogGroup(this, `${id}Logs`, {
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An explicit role instead of the AWSLambdaBasicExecutionRole managed policy (which may write
    // to every log group in the account).
    const role = new Role(this, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${options.description}: ${options.roleDescription ?? 'logs and table access'}`,
    });
    logGroup.grantWrite(role);
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: options.tableActions, resources: options.tableResources }),
    );
    for (const statement of options.extraStatements ?? []) role.addToPrincipalPolicy(statement);
    return new NodejsFunction(this, id, {
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
      environment: { ...options.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: LAMBDA_BUNDLING,
    });
  }

  /** Every AwsSolutions finding that stays, with its reason. Everything else is fixed, not acknowledged. */
  private acknowledgeNagFindings(tracing: boolean, stateMachineLogLevel: StateMachineLogLevel): void {
    const ack = (scope: Construct, id: string, reason: string) =>
      Validations.of(scope).acknowledge({ id, reason });

    // API Gateway: a public, anonymous viewer API by design (viewers are identified by a random
    // requestor_id, DESIGN.md). Protection: the WAF web ACL on the stage (per-IP limits, AWS's common
    // rule set), stage throttling, body size limit and input validation in the Lambda.
    ack(
      this.api,
      'AwsSolutions-APIG2',
      'Every request is validated by the Lambda (zod schemas) so errors keep the API contract shape ({"error":{code,message}}); an API Gateway validator would answer in its own format.',
    );
    ack(
      this.api,
      'AwsSolutions-APIG4',
      'The viewer API is anonymous by design: viewers have no accounts (identity is a random requestor_id kept in localStorage).',
    );
    ack(
      this.api,
      'AwsSolutions-COG4',
      'The viewer API is anonymous by design: there is no Cognito user pool (viewers have no accounts).',
    );
    ack(
      this.api,
      'AwsSolutions-APIG6',
      'Execution logging needs the account-wide API Gateway CloudWatch role, which this stack deliberately does not manage (cloudWatchRole: false). Access logs are on, and the Lambda logs every error.',
    );

    const accountRole = this.api.node.tryFindChild('CloudWatchRole');
    if (accountRole) {
      ack(
        accountRole,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'The role API Gateway itself assumes to write the access logs of every REST API in the account; AWS provides this managed policy for exactly that purpose.',
      );
    }

    ack(
      this.viewerTokenSecret,
      'AwsSolutions-SMG4',
      'No automatic rotation: replacing the key invalidates every viewer token at once, and during a show 100,000 pages would then ask for new identities together (the site renews on 401). Replace it between shows with `aws secretsmanager put-secret-value` if it leaks.',
    );

    // CloudFront with the default *.cloudfront.net certificate.
    ack(this.distribution, 'AwsSolutions-CFR1', 'A live show is for viewers anywhere: no geo restriction.');
    ack(
      this.distribution,
      'AwsSolutions-CFR2',
      'No CloudFront-scope web ACL: those exist only in us-east-1, and this stack deploys to any IVS region. The distribution serves static files from a private bucket, and GET /api/poll-get (cached 1 s, GET/HEAD only) from the API stage, whose REGIONAL web ACL inspects every request CloudFront forwards.',
    );
    ack(
      this.distribution,
      'AwsSolutions-CFR3',
      'Static files and one cached read (GET /api/poll-get): CloudFront standard logs would need a separate ACL-enabled log bucket. CloudFront metrics cover the site; every request CloudFront forwards to the API is in the stage access log and the WAF metrics.',
    );
    ack(
      this.distribution,
      'AwsSolutions-CFR4',
      'Uses the default *.cloudfront.net certificate, whose security policy CloudFront fixes (TLSv1); a custom domain with its own certificate would allow TLSv1.2_2021.',
    );
    ack(
      this.siteBucket,
      'AwsSolutions-S1',
      'Holds only the public build of the viewer site, readable solely through CloudFront (OAC); server access logs add a log bucket with nothing to audit.',
    );

    // The producer API acts on this state machine's executions, whose names (run ids) are chosen at
    // start time: the ARN pattern execution:<state machine name>:* is as narrow as IAM allows.
    ack(
      this.producerFunction.role!.node.findChild('DefaultPolicy'),
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"ShowStateMachine7612D96E"}]}]}:*]',
      "DescribeExecution, GetExecutionHistory and StopExecution on the executions of the show state machine only: each run's name is chosen when it starts, so the ARN ends in a wildcard.",
    );
    ack(
      this.producers,
      'AwsSolutions-COG8',
      'Threat protection needs the Plus feature plan, billed per user; the pool holds a handful of producers added by an administrator (no self sign-up), each with a strong password and TOTP MFA required.',
    );

    // The state machine's logging and tracing statements are account-level APIs CDK adds with
    // Resource "*": CloudWatch Logs vended log delivery and X-Ray do not support resource-level permissions.
    const stateMachinePolicy = this.stateMachine.role.node.findChild('DefaultPolicy');
    ack(
      stateMachinePolicy,
      'AwsSolutions-IAM5[Resource::*]',
      'logs:*LogDelivery*/PutResourcePolicy/Describe* (logging to CloudWatch Logs) and xray:Put*/GetSampling* (tracing) do not support resource-level permissions. Everything else the role may do is scoped to the function, the table and the channel.',
    );
    if (!tracing) {
      ack(
        this.stateMachine,
        'AwsSolutions-SF2',
        'X-Ray tracing was turned off for this deployment (-c tracing=false); execution history and the error logs remain.',
      );
    }
    if (stateMachineLogLevel !== 'ALL') {
      ack(
        this.stateMachine,
        'AwsSolutions-SF1',
        'Logs at ERROR on purpose: ALL-level logs carry every state transition of a show, and with execution data its questions, answers and task tokens. A Standard workflow keeps its full execution history 90 days anyway (showrunner history); -c stateMachineLogLevel=ALL turns ALL on for debugging.',
      );
    }

    // Site deployment: CDK's BucketDeployment custom resource (a CDK-managed singleton Lambda
    // whose id carries the memory size). Its grants are CDK's: read the asset from the CDK
    // bootstrap bucket, write/prune the site bucket, invalidate the distribution.
    for (const provider of this.node.children.filter((c) =>
      c.node.id.startsWith('Custom::CDKBucketDeployment'),
    )) {
      acknowledgeCustomResourceProvider(provider);
      const policy = provider.node.findChild('ServiceRole').node.findChild('DefaultPolicy');
      const copyReason =
        'CDK BucketDeployment grants (s3 read of the site asset in the CDK bootstrap bucket; s3 write, ' +
        'delete and list of the site bucket, to copy and prune the build): actions and object paths ' +
        'are limited to those two buckets.';
      for (const finding of [
        'Action::s3:GetBucket*',
        'Action::s3:GetObject*',
        'Action::s3:List*',
        'Action::s3:Abort*',
        'Action::s3:DeleteObject*',
        'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
        `Resource::<${this.resolve(this.getLogicalId(this.siteBucket.node.defaultChild as CfnBucket))}.Arn>/*`,
      ]) {
        ack(policy, `AwsSolutions-IAM5[${finding}]`, copyReason);
      }
      ack(
        policy,
        'AwsSolutions-IAM5[Resource::*]',
        'cloudfront:CreateInvalidation/GetInvalidation after the copy (so viewers get the new index.html and config.json): CDK grants them on "*".',
      );
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
          'the state machine only Lambda, IVS and DynamoDB calls on its own resources. Add the grant in taskPolicy() (cdk/lib/showrunner-stack.ts).',
      );
    }
  }
  return [...byAction].map(
    ([action, resources]) => new PolicyStatement({ actions: [action], resources: [...resources] }),
  );
}

/**
 * CDK-managed singleton Lambdas behind custom resources (BucketDeployment, AwsCustomResource):
 * their code, runtime and role are CDK's, not ours.
 */
function acknowledgeCustomResourceProvider(provider: Construct): void {
  const ack = (id: string, reason: string) => Validations.of(provider).acknowledge({ id, reason });
  ack(
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'CDK-managed custom resource Lambda: CDK attaches the basic execution role for its own logs.',
  );
  ack('AwsSolutions-L1', 'CDK-managed custom resource Lambda: CDK chooses and updates its runtime.');
}
