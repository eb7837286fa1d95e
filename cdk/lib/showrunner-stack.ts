// The whole cloud system in one stack: IVS channel, DynamoDB table, REST API (API Gateway →
// Middy Lambda) behind a WAF web ACL (cdk/lib/waf.ts), the show state machine
// (statemachine/show.asl.json) with its lifecycle Lambda, the viewer site and the control room on
// S3 + CloudFront with their deploy-time config.json, and the producers' Cognito user pool;
// CloudFront also serves GET /api/poll-get from the API, cached for 1 s. Sized for one audience
// (cdk/lib/sizing.ts): stage throttle, Lambda concurrency, warm throughput, vote shards, WAF limits.
// The defaults deploy on a brand-new account: no reserved concurrency, no warm throughput, and the
// account's API Gateway CloudWatch Logs role set by the stack.
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
  Lazy,
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
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
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
  HeadersFrameOption,
  HeadersReferrerPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import {
  PolicyStatement,
  Role,
  ServicePrincipal,
  type AddToPrincipalPolicyResult,
  type RoleProps,
} from 'aws-cdk-lib/aws-iam';
import { Rule } from 'aws-cdk-lib/aws-events';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AccountRecovery, Mfa, OAuthScope, UserPool } from 'aws-cdk-lib/aws-cognito';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { CfnChannel, CfnStreamKey } from 'aws-cdk-lib/aws-ivs';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import {
  API_ROUTES,
  CORS_MAX_AGE_SECONDS,
  VIEWER_TOKEN_HEADER,
  type ApiErrorCode,
} from '../../contract/api.ts';
import type { Substitutions } from '../../contract/state-machine.ts';
import { IVS_PLAYER_ORIGINS, contentSecurityPolicy, type SiteOrigins } from '../../contract/site-headers.ts';
import { TABLE, createTableInput } from '../../contract/table.ts';
import { MAX_RUN_SECONDS } from '../../core/timeline.ts';
import { DEFAULT_TOKEN_WORK_BITS, metricsNamespaceFor } from '../../lambdas/config.ts';
import { DefinitionError, readAslDefinition, selectSubstitutions, type AslDefinition } from './asl.ts';
import { ConfigurationError } from './errors.ts';
import {
  DEFAULT_STATE_MACHINE_LOG_LEVEL,
  ShowAlarms,
  parseStateMachineLogLevel,
  type StateMachineLogLevel,
} from './monitoring.ts';
import {
  AWS_LIMITS,
  DEFAULT_AUDIENCE,
  SETS_API_GATEWAY_CLOUDWATCH_ROLE_BY_DEFAULT,
  fmt,
  sizeFor,
  type Sizing,
} from './sizing.ts';
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
  readonly channelType?: 'STANDARD' | 'BASIC' | 'ADVANCED_SD' | 'ADVANCED_HD';
  /**
   * X-Ray tracing for the state machine, the API stage and the Lambdas (Active tracing, and the
   * Powertools Tracer in them). Default true. Off: none of them traces, and the Lambdas do not load
   * the Tracer (POWERTOOLS_TRACE_ENABLED=false).
   */
  readonly tracing?: boolean;
  /**
   * The viewers one show is sized for (`-c audience=…`, 100 to 10,000,000; default 1,000): the
   * stage throttle, the Lambdas' concurrency (reserved only for large audiences), the table's warm
   * throughput, the vote shards and the API Lambda's poll cache follow from it (cdk/lib/sizing.ts).
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

const CHANNEL_ARN = /^arn:aws[a-z-]*:ivs:[a-z0-9-]+:\d{12}:channel\/[A-Za-z0-9]+$/;
const LOG_RETENTION = RetentionDays.ONE_MONTH;

/**
 * A Cognito domain prefix: lowercase letters, digits and hyphens, 1 to 63, no hyphen at either end
 * (CreateUserPoolDomain's pattern), and none of the words Cognito reserves ("Domain cannot contain
 * reserved word: aws"; amazon and cognito likewise).
 */
const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN_PREFIX_RESERVED_WORDS = ['aws', 'amazon', 'cognito'] as const;

/** Fails synth on a control room domain prefix Cognito would refuse at deploy time. */
export function checkControlDomainPrefix(prefix: string): string {
  const reserved = DOMAIN_PREFIX_RESERVED_WORDS.find((word) => prefix.includes(word));
  if (!DOMAIN_PREFIX.test(prefix) || reserved) {
    throw new ConfigurationError(
      `-c controlDomainPrefix=${prefix}: expected lowercase letters, digits and hyphens (1–63, no hyphen at either end)` +
        (reserved ? `, without the word "${reserved}" (Cognito reserves aws, amazon and cognito)` : ''),
    );
  }
  return prefix;
}

/**
 * The producers' sign-in session (Cognito app client ControlRoom). The control room signs in with the
 * authorization code flow and PKCE, keeps the refresh token and renews its ID token silently before
 * it expires; signing out revokes the refresh token (/oauth2/revoke).
 */
export const CONTROL_ROOM_TOKENS = {
  /**
   * ID and access tokens: 1 hour. API Gateway's Cognito authorizer checks only a token's signature
   * and expiry, so a revoked session's ID token still works until it expires: short tokens bound
   * that, and the silent renewal makes the hour invisible to the producer.
   */
  idTokenHours: 1,
  accessTokenHours: 1,
  /**
   * Refresh token: as long as the longest run a show allows (core/timeline.ts MAX_RUN_SECONDS, a
   * year) and a day, so no producer is signed out in the middle of a run. The trade-off: a stolen
   * refresh token works that long unless revoked. Sign-out revokes it, producers are few, added by an
   * administrator and sign in with MFA, and `aws cognito-idp admin-user-global-sign-out` ends every
   * session of one producer.
   */
  refreshTokenDays: Math.ceil(MAX_RUN_SECONDS / 86_400) + 1,
} as const;

/**
 * API Gateway's own errors (stage throttle, authorizer, timeouts…) in the API's error shape
 * (contract/api.ts), so the site reads every error the same way. The message is API Gateway's
 * ($context.error.messageString is already a quoted JSON string).
 */
export const GATEWAY_ERROR_CODES = {
  /** 429 from the stage throttle (or the account's quota): the site shows "busy" and retries. */
  THROTTLED: 'rate_limited',
  /** 401 from the Cognito authorizer on /producer/…: the control room signs in again. */
  UNAUTHORIZED: 'unauthorized',
  DEFAULT_4XX: 'error',
  DEFAULT_5XX: 'internal_error',
} as const satisfies Record<string, ApiErrorCode>;

export function gatewayErrorTemplate(code: ApiErrorCode): string {
  return `{"error":{"code":"${code}","message":$context.error.messageString}}`;
}

/**
 * Every page of the site is a folder with an index.html (/, /control/). CloudFront serves its
 * DefaultRootObject only at `/`, and S3 behind origin access control answers 403 for the key
 * `control/`, so this viewer-request function on the site's (default) behavior asks S3 for
 * `<folder>/index.html`. A folder named without its slash (/control) is redirected to it (301, query
 * string kept), so each page has one URL: the one the Cognito callback and logout URLs name.
 * Files (a dot in the last segment: /config.json, /assets/x-1a2b.js) pass unchanged.
 */
const SITE_PATHS_FUNCTION = [
  'function handler(event) {',
  '  var request = event.request;',
  '  var uri = request.uri;',
  "  if (uri.charAt(uri.length - 1) === '/') {",
  "    request.uri = uri + 'index.html';",
  '    return request;',
  '  }',
  "  if (uri.lastIndexOf('.') < uri.lastIndexOf('/')) {",
  '    var query = [];',
  '    for (var name in request.querystring) {',
  '      var field = request.querystring[name];',
  '      var values = field.multiValue || [field];',
  "      for (var i = 0; i < values.length; i++) query.push(name + '=' + values[i].value);",
  '    }',
  '    return {',
  '      statusCode: 301,',
  "      statusDescription: 'Moved Permanently',",
  "      headers: { location: { value: uri + '/' + (query.length ? '?' + query.join('&') : '') } },",
  '    };',
  '  }',
  '  return request;',
  '}',
].join('\n');

/**
 * How long CloudFront keeps an origin's 5xx (default 10 s): as long as a good /poll-get answer. Long
 * enough that a failing API sees one request per poll per second per edge location, short enough
 * that a recovered one is seen at once. No response page: the origin's own error body (the API's
 * JSON error) reaches the viewer.
 */
export const ERROR_CACHING_SECONDS = 1;

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
  /** X-Ray tracing on (props.tracing, default true): Active tracing on every Lambda, and the Tracer in them. */
  readonly tracing: boolean;
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
    const tracing = (this.tracing = props.tracing ?? true);
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
    if (props.controlDomainPrefix !== undefined) checkControlDomainPrefix(props.controlDomainPrefix);
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
      // Pre-warmed for the storm only when a new table's 4,000 writes/s would not do (sizing.ts):
      // none at the default audience. DynamoDB never lowers warm throughput, and bills it.
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
    const tableResources = [this.table.tableArn, ...this.indexArns()];
    // What the poll store does (store/polls.ts): get/batch-get/query, conditional put, update.
    // No Scan, DeleteItem or BatchWriteItem: nothing in the app needs them. Item actions are granted
    // on the table only and Query on the table and its index (tableGrants).
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
    // Policy and function names are account-wide (CloudFront is global): stack name and region in each.
    const cloudFrontName = (what: string) => `${Aws.STACK_NAME}-${Aws.REGION}-${what}`;
    const sitePaths = new CloudFrontFunction(this, 'SitePaths', {
      functionName: cloudFrontName('site-paths'),
      comment: 'showrunner: /folder/ -> /folder/index.html, /folder -> 301 /folder/',
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(SITE_PATHS_FUNCTION),
    });
    // Both pages' headers (contract/site-headers.ts). One policy on the default behavior serves `/`,
    // `/control/` and the hashed assets, where the IVS player's worker lives (a worker runs under its own
    // response's policy): the control room's, which is the viewer's plus the Cognito origin. Its
    // origins exist only once the API and the Cognito domain do, hence Lazy.
    const site: { origins?: SiteOrigins } = {};
    const siteHeaders = new ResponseHeadersPolicy(this, 'SiteHeaders', {
      responseHeadersPolicyName: cloudFrontName('site-headers'),
      comment: 'showrunner site: the Content-Security-Policy of both pages, no referrer, no framing',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: Lazy.string({
            produce: () => {
              if (!site.origins) throw new Error('the site origins are set before synthesis');
              return contentSecurityPolicy({ page: 'control', ...site.origins });
            },
          }),
          override: true,
        },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        contentTypeOptions: { override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: false,
          override: true,
        },
      },
    });
    this.distribution = new Distribution(this, 'SiteDistribution', {
      comment: 'showrunner viewer site',
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(siteBucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: siteHeaders,
        functionAssociations: [{ function: sitePaths, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
      errorResponses: [500, 502, 503, 504].map((httpStatus) => ({
        httpStatus,
        ttl: Duration.seconds(ERROR_CACHING_SECONDS),
      })),
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
        // The proof of work a new viewer identity costs (lambdas/viewer-token.ts): on by default.
        TOKEN_WORK_BITS: String(DEFAULT_TOKEN_WORK_BITS),
      },
      // Reserved only for audiences that need a Lambda quota raise anyway (sizing.ts): then it is
      // its cap (a storm takes at most this much of the account's concurrency, sized to serve what
      // the stage throttle admits) and keeps it for itself.
      reservedConcurrentExecutions: sizing.reservesConcurrency ? sizing.apiReservedConcurrency : undefined,
      tableActions: tableDataActions,
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
      // The show's own work (plan, open, tally, close): where the stack reserves, no storm on the
      // API Lambda can starve it.
      reservedConcurrentExecutions: sizing.reservesConcurrency
        ? sizing.lifecycleReservedConcurrency
        : undefined,
      tableActions: tableDataActions,
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
      // Behind our own CloudFront distribution (and called from the site's): an edge-optimized API
      // would put a second, hidden distribution in the path.
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      defaultIntegration: new LambdaIntegration(this.apiFunction, { allowTestInvoke: false }),
      // The account's CloudWatch Logs role, without which the stage (it logs) fails to create. An
      // account-wide setting shared by every REST API in the region: set by default (a brand-new
      // account has none), `-c apiGatewayCloudWatchRole=false` where it is managed centrally. The
      // role and the setting stay after `cdk destroy` (CDK's default cloudWatchRoleRemovalPolicy,
      // RETAIN): other APIs of the account may log through them by then.
      cloudWatchRole: props.apiGatewayCloudWatchRole ?? SETS_API_GATEWAY_CLOUDWATCH_ROLE_BY_DEFAULT,
      deployOptions: {
        stageName: API_STAGE_NAME,
        // Execution logs of errors only (no bodies): what API Gateway itself refused or failed on,
        // e.g. a Lambda it could not invoke. Same requirement as the access log (the account's role).
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
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
    // API Gateway writes its execution logs to a group it names and creates itself, kept forever and
    // left behind by `cdk destroy`: created here first, with the stack's retention.
    const executionLogs = new LogGroup(this, 'ApiExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${API_STAGE_NAME}`,
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api.deploymentStage.node.addDependency(executionLogs);
    // ANY /{proxy+} → the router (API Gateway mounts the same ANY on `/` too, where the router answers 404).
    this.api.root.addProxy({ anyMethod: true });
    // API Gateway's own errors in the API's shape, with the CORS header too, or the browser reports a
    // CORS failure instead of the status. THROTTLED is the stage throttle's 429.
    for (const [type, code] of Object.entries(GATEWAY_ERROR_CODES)) {
      // Construct ids Default4xx, Default5xx, Throttled, Unauthorized.
      const id = type.toLowerCase().replace(/(^|_)(\w)/g, (_match, _sep, c: string) => c.toUpperCase());
      this.api.addGatewayResponse(id, {
        type: ResponseType.of(type),
        responseHeaders: { 'Access-Control-Allow-Origin': `'${siteUrl}'`, Vary: "'Origin'" },
        templates: { 'application/json': gatewayErrorTemplate(code) },
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

    // ---- GET /poll-get through CloudFront, cached 1 s ------------------------------------------
    // Late joiners and result views ask for the same poll at once: each edge location asks the API
    // at most once a second per poll_id, and serves everyone else from its cache. The site reaches it
    // at cachedApiUrl (same origin as the page, so no CORS). Only poll_id makes the cache key, and
    // nothing else from the viewer (headers, cookies, other query strings) reaches the API, so no
    // answer depends on who asked. The origin is named by the API id, region and the literal stage
    // name, not by the stage resource: the stage's deployment depends on the CORS methods, which
    // name this distribution.
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

    // ---- The producer's control room: Cognito sign-in, the producer API ---------------------------
    // No self sign-up: an administrator adds producers (README). The page signs in through the user
    // pool's classic hosted UI (the domain has no managed login version; authorization code + PKCE)
    // and sends the ID token; API Gateway's Cognito authorizer checks it before the producer Lambda runs.
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
      // No sign-in through the user pools API: without ExplicitAuthFlows Cognito would allow SRP and
      // custom auth. An explicit choice of none leaves ALLOW_REFRESH_TOKEN_AUTH, which CDK always
      // adds. (Refreshing at the token endpoint after the code flow needs no flow of its own.)
      authFlows: { userSrp: false },
      oAuth: {
        // The code grant returns a refresh token with the ID and access tokens: Cognito has no
        // offline_access scope to ask for one.
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL],
        callbackUrls: [controlUrl],
        logoutUrls: [controlUrl],
      },
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(CONTROL_ROOM_TOKENS.idTokenHours),
      accessTokenValidity: Duration.hours(CONTROL_ROOM_TOKENS.accessTokenHours),
      refreshTokenValidity: Duration.days(CONTROL_ROOM_TOKENS.refreshTokenDays),
      preventUserExistenceErrors: true,
    });
    // Prefixes are unique per region across every account: the default names the stack by its id
    // (a UUID: lowercase hex and hyphens, none of Cognito's reserved words), so two stacks of one
    // account and region do not collide. 47 characters of the 63 allowed.
    const producersDomain = this.producers.addDomain('ControlRoomDomain', {
      cognitoDomain: {
        domainPrefix: props.controlDomainPrefix ?? `showrunner-${Fn.select(2, Fn.split('/', Aws.STACK_ID))}`,
      },
    });
    site.origins = {
      player: 'ivs',
      apiOrigin: `https://${this.api.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`,
      streamOrigins: IVS_PLAYER_ORIGINS,
      signInOrigin: `https://${producersDomain.domainName}.auth.${Aws.REGION}.amazoncognito.com`,
    };
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
    // The deployments' Lambda (one CDK singleton for both) runs with this role: CDK grants
    // CloudFront invalidation on "*", which the role narrows to this distribution, and its logs go to
    // a group of the stack's (CDK's own would attach AWSLambdaBasicExecutionRole and keep logs 2 years).
    const deploymentLogs = new LogGroup(this, 'SiteDeploymentLogs', {
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const deploymentRole = new DistributionScopedRole(this, 'SiteDeploymentRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description:
        'showrunner site deployment: copy the build to the site bucket, invalidate the distribution',
      distributionArn: this.distribution.distributionArn,
    });
    deploymentLogs.grantWrite(deploymentRole);
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
            role: deploymentRole,
            logGroup: deploymentLogs,
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
      role: deploymentRole,
      logGroup: deploymentLogs,
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
      /** Reserved and capped; none for a function with few callers (the producer API), or at small audiences. */
      reservedConcurrentExecutions?: number | undefined;
      /** Granted on the table; Query on its index too (item actions never address an index). */
      tableActions: string[];
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
    for (const statement of tableGrants(options.tableActions, this.table.tableArn, this.indexArns())) {
      role.addToPrincipalPolicy(statement);
    }
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
      // Active: Lambda traces (and lets the Powertools Tracer send segments; CDK grants
      // xray:PutTraceSegments/PutTelemetryRecords). Off: the Tracer is not even loaded.
      tracing: this.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      environment: {
        ...options.environment,
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_TRACE_ENABLED: String(this.tracing),
        // This stack's own namespace, the one its alarms count into too (cdk/lib/monitoring.ts).
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespaceFor(this.stackName),
      },
      bundling: LAMBDA_BUNDLING,
    });
  }

  /** The ARNs of the table's indexes (contract/table.ts). */
  private indexArns(): string[] {
    return createTableInput('unused').GlobalSecondaryIndexes.map(
      (i) => `${this.table.tableArn}/index/${i.IndexName}`,
    );
  }

  /** Every AwsSolutions finding that stays, with its reason. Everything else is fixed, not acknowledged. */
  private acknowledgeNagFindings(tracing: boolean, stateMachineLogLevel: StateMachineLogLevel): void {
    const ack = (scope: Construct, id: string, reason: string) =>
      Validations.of(scope).acknowledge({ id, reason });

    // API Gateway: a public, anonymous viewer API by design (viewers are identified by a random
    // requestor_id in a signed viewer token). Protection: the WAF web ACL on the stage (per-IP limits,
    // AWS's common rule set), stage throttling, body size limit and input validation in the Lambda.
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
    // (APIG6, execution logging, is on: errors only, without bodies.)

    const accountRole = this.api.node.tryFindChild('CloudWatchRole');
    if (accountRole) {
      ack(
        accountRole,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'The role API Gateway itself assumes to write the access and execution logs of every REST API in the account and region (any log group it creates); AWS provides this managed policy for exactly that purpose.',
      );
    }

    // X-Ray (Active tracing): CDK adds xray:PutTraceSegments and PutTelemetryRecords on "*".
    if (tracing) {
      for (const fn of [this.apiFunction, this.lifecycleFunction, this.producerFunction]) {
        ack(
          fn.role!.node.findChild('DefaultPolicy'),
          'AwsSolutions-IAM5[Resource::*]',
          'xray:PutTraceSegments and xray:PutTelemetryRecords (Active tracing) do not support resource-level permissions. Everything else the role may do is scoped to its log group, the table, the secret, the channels or the state machine.',
        );
      }
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
    // whose id carries the memory size), run with SiteDeploymentRole. Its grants are CDK's: read the
    // asset from the CDK bootstrap bucket, write/prune the site bucket, invalidate the distribution
    // (narrowed to it by the role).
    for (const provider of this.node.children.filter((c) =>
      c.node.id.startsWith('Custom::CDKBucketDeployment'),
    )) {
      ack(
        provider,
        'AwsSolutions-L1',
        'CDK-managed custom resource Lambda: CDK chooses and updates its runtime.',
      );
    }
    {
      const policy = this.node.findChild('SiteDeploymentRole').node.findChild('DefaultPolicy');
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
    }
  }
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

/**
 * A role that narrows CloudFront invalidation grants on "*" to one distribution. CDK's
 * BucketDeployment grants cloudfront:CreateInvalidation and GetInvalidation on "*" (hard-coded in
 * aws-cdk-lib 2.x) although both act on a distribution ARN (CDK's own Distribution grants scope
 * them so); given this role, the deployment's Lambda may invalidate this stack's distribution only.
 */
class DistributionScopedRole extends Role {
  readonly #distributionArn: string;

  constructor(scope: Construct, id: string, props: RoleProps & { distributionArn: string }) {
    const { distributionArn, ...roleProps } = props;
    super(scope, id, roleProps);
    this.#distributionArn = distributionArn;
  }

  override addToPrincipalPolicy(statement: PolicyStatement): AddToPrincipalPolicyResult {
    const json = statement.toStatementJson() as { Action?: string | string[]; Resource?: string | string[] };
    const actions = [json.Action ?? []].flat();
    const invalidation =
      actions.length > 0 &&
      actions.every((a) => a.startsWith('cloudfront:') && a.endsWith('Invalidation')) &&
      [json.Resource].flat().includes('*');
    return super.addToPrincipalPolicy(
      invalidation ? new PolicyStatement({ actions, resources: [this.#distributionArn] }) : statement,
    );
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
