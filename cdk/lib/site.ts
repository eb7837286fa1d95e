// Site and CDN: the viewer site and the control room in a private S3 bucket behind CloudFront
// (origin access control), the API's cacheable read (GET /poll-get) through the same distribution,
// and the site's content with its deploy-time config.json. Its resources are the stack's own (see
// showrunner-stack.ts).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, Duration, Fn, Lazy, RemovalPolicy, Validations, type Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
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
  HeadersFrameOption,
  HeadersReferrerPolicy,
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
import {
  PolicyStatement,
  Role,
  ServicePrincipal,
  type AddToPrincipalPolicyResult,
  type RoleProps,
} from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';
import { API_ROUTES } from '../../contract/api.ts';
import { IVS_PLAYER_ORIGINS, contentSecurityPolicy, type SiteOrigins } from '../../contract/site-headers.ts';
import { ConfigurationError } from './errors.ts';
import { stackLogGroup } from './logs.ts';
import { API_STAGE_NAME } from './viewer-api.ts';

/** Where Vite writes content-hashed files (its build.assetsDir): a new build never reuses a name. */
export const SITE_HASHED_ASSETS_DIR = 'assets';
/** index.html, config.json and other unhashed files: revalidated on every load, so a redeploy shows at once. */
export const SITE_PAGE_CACHE_CONTROL = 'no-cache';
/** Hashed assets never change under their name. */
export const SITE_ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';
/**
 * Where the site distribution serves the API's cacheable read: `cachedApiUrl` is the distribution's
 * https://<domain>/api, and the site asks `${cachedApiUrl}/poll-get?poll_id=…` (contract/api.ts).
 */
export const CACHED_API_PREFIX = '/api';
export const CACHED_API_PATH = `${CACHED_API_PREFIX}${API_ROUTES.poll}`;
/** How long CloudFront keeps a /poll-get answer: the API sends Cache-Control public, max-age=1. */
export const POLL_GET_CACHE_SECONDS = 1;

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

/** Fails synth when the site is not built, instead of deploying a site without pages. */
export function checkSiteBuilt(siteDir: string): string {
  if (!existsSync(join(siteDir, 'index.html'))) {
    throw new ConfigurationError(
      `The viewer site is not built: ${join(siteDir, 'index.html')} is missing. ` +
        'Build it first with `npm run build` (writes site/dist), ' +
        'or point `-c siteDir=<dir>` at a directory that holds the built site.',
    );
  }
  return siteDir;
}

/** Policy and function names are account-wide (CloudFront is global): stack name and region in each. */
const cloudFrontName = (what: string) => `${Aws.STACK_NAME}-${Aws.REGION}-${what}`;

/** The private site bucket and the distribution in front of it: the site's pages and assets, and GET /api/poll-get. */
export class ViewerSite {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  /** https://<distribution domain>: the site, the API's allowed CORS origin, the control room's base. */
  readonly siteUrl: string;
  readonly #stack: Stack;
  #pageOrigins: SiteOrigins | undefined;

  constructor(stack: Stack) {
    this.#stack = stack;
    // ---- Site: private bucket behind CloudFront (origin access control) ---------------------
    this.bucket = new Bucket(stack, 'SiteBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Emptied by the deployment's custom resource (retainOnDelete: false) before it is deleted.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const sitePaths = new CloudFrontFunction(stack, 'SitePaths', {
      functionName: cloudFrontName('site-paths'),
      comment: 'showrunner: /folder/ -> /folder/index.html, /folder -> 301 /folder/',
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(SITE_PATHS_FUNCTION),
    });
    // Both pages' headers (contract/site-headers.ts). One policy on the default behavior serves `/`,
    // `/control/` and the hashed assets, where the IVS player's worker lives (a worker runs under its own
    // response's policy): the control room's, which is the viewer's plus the Cognito origin. Its
    // origins exist only once the API and the Cognito domain do, hence Lazy (setPageOrigins).
    const siteHeaders = new ResponseHeadersPolicy(stack, 'SiteHeaders', {
      responseHeadersPolicyName: cloudFrontName('site-headers'),
      comment: 'showrunner site: the Content-Security-Policy of both pages, no referrer, no framing',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: Lazy.string({
            produce: () => {
              if (!this.#pageOrigins) throw new Error('the site origins are set before synthesis');
              return contentSecurityPolicy({ page: 'control', ...this.#pageOrigins });
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
    this.distribution = new Distribution(stack, 'SiteDistribution', {
      comment: 'showrunner viewer site',
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: siteHeaders,
        functionAssociations: [{ function: sitePaths, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
      errorResponses: [500, 502, 503, 504].map((httpStatus) => ({
        httpStatus,
        ttl: Duration.seconds(ERROR_CACHING_SECONDS),
      })),
    });
    this.siteUrl = `https://${this.distribution.distributionDomainName}`;
    this.#acknowledgeNagFindings();
  }

  /**
   * The origins the pages' Content-Security-Policy allows beyond their own: the API's and the
   * control room's sign-in. The pages play the stream with the IVS player.
   */
  setPageOrigins(origins: { apiOrigin: string; signInOrigin: string }): void {
    this.#pageOrigins = {
      player: 'ivs',
      apiOrigin: origins.apiOrigin,
      streamOrigins: IVS_PLAYER_ORIGINS,
      signInOrigin: origins.signInOrigin,
    };
  }

  /**
   * GET /poll-get through CloudFront, cached 1 s. Returns cachedApiUrl, where the site asks for it.
   *
   * Late joiners and result views ask for the same poll at once: each edge location asks the API
   * at most once a second per poll_id, and serves everyone else from its cache. The site reaches it
   * at cachedApiUrl (same origin as the page, so no CORS). Only poll_id makes the cache key, and
   * nothing else from the viewer (headers, cookies, other query strings) reaches the API, so no
   * answer depends on who asked. The origin is named by the API id, region and the literal stage
   * name, not by the stage resource: the stage's deployment depends on the CORS methods, which
   * name this distribution.
   */
  serveCachedApiReads(api: RestApi): string {
    const stack = this.#stack;
    const pollGetCachePolicy = new CachePolicy(stack, 'PollGetCachePolicy', {
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
    const pollGetOriginRequestPolicy = new OriginRequestPolicy(stack, 'PollGetOriginRequestPolicy', {
      originRequestPolicyName: cloudFrontName('poll-get'),
      comment: 'showrunner GET /poll-get: nothing beyond the cache key (poll_id)',
      queryStringBehavior: OriginRequestQueryStringBehavior.none(),
      headerBehavior: OriginRequestHeaderBehavior.none(),
      cookieBehavior: OriginRequestCookieBehavior.none(),
    });
    // The API serves the route at the stage's root (/prod/poll-get): strip /api before CloudFront
    // adds the origin path.
    const stripApiPrefix = new CloudFrontFunction(stack, 'CachedApiPathRewrite', {
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
      new HttpOrigin(`${api.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`, {
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
    return `${this.siteUrl}${CACHED_API_PREFIX}`;
  }

  #acknowledgeNagFindings(): void {
    const ack = (scope: Construct, id: string, reason: string) =>
      Validations.of(scope).acknowledge({ id, reason });
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
      this.bucket,
      'AwsSolutions-S1',
      'Holds only the public build of the viewer site, readable solely through CloudFront (OAC); server access logs add a log bucket with nothing to audit.',
    );
  }
}

/** The built site, and what its config.json tells the pages of this stack (site/src/lib/config.ts reads it). */
export interface SiteContentProps {
  /** The built site (Vite's output). */
  readonly siteDir: string;
  readonly site: ViewerSite;
  /** The viewer API's stage URL (no trailing slash). */
  readonly apiUrl: string;
  /** GET /poll-get through the distribution (ViewerSite.serveCachedApiReads). */
  readonly cachedApiUrl: string;
  /** The IVS playback URL the player loads. */
  readonly playbackUrl: string;
  /** The stack's channel, whose id GET /poll-current takes. */
  readonly channelArn: string;
  /** The control room's sign-in: the Cognito domain's URL and the app client. */
  readonly signIn: { readonly domainUrl: string; readonly clientId: string };
}

/** The site's files in the bucket, with the deploy-time config.json. */
export class SiteContent {
  constructor(stack: Stack, props: SiteContentProps) {
    const { siteDir, site } = props;
    // ---- Site content and its deploy-time config ---------------------------------------------
    // Two deployments, because Cache-Control is set per deployment: hashed assets are immutable;
    // index.html and config.json are revalidated on every load, so after a redeploy no browser keeps
    // an index.html that names assets of the previous build.
    // The deployments' Lambda (one CDK singleton for both) runs with this role: CDK grants
    // CloudFront invalidation on "*", which the role narrows to this distribution, and its logs go to
    // a group of the stack's (CDK's own would attach AWSLambdaBasicExecutionRole and keep logs 2 years).
    const deploymentLogs = stackLogGroup(stack, 'SiteDeploymentLogs');
    const deploymentRole = new DistributionScopedRole(stack, 'SiteDeploymentRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description:
        'showrunner site deployment: copy the build to the site bucket, invalidate the distribution',
      distributionArn: site.distribution.distributionArn,
    });
    deploymentLogs.grantWrite(deploymentRole);
    const hashedDir = join(siteDir, SITE_HASHED_ASSETS_DIR);
    const assetsDeployment =
      existsSync(hashedDir) && statSync(hashedDir).isDirectory()
        ? new BucketDeployment(stack, 'SiteAssetsDeployment', {
            sources: [Source.asset(hashedDir)],
            destinationBucket: site.bucket,
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
    const pageDeployment = new BucketDeployment(stack, 'SiteDeployment', {
      sources: [
        Source.asset(siteDir, { exclude: ['config.json', SITE_HASHED_ASSETS_DIR] }),
        // channel: the id GET /poll-current takes (core/ids.ts channelIdOf), the ARN's last part.
        Source.jsonData('config.json', {
          apiUrl: props.apiUrl,
          cachedApiUrl: props.cachedApiUrl,
          playbackUrl: props.playbackUrl,
          player: 'ivs',
          channel: Fn.select(1, Fn.split('/', props.channelArn)),
          control: {
            signIn: 'cognito',
            domain: props.signIn.domainUrl,
            clientId: props.signIn.clientId,
          },
        }),
      ],
      destinationBucket: site.bucket,
      // Its sync (and prune) leaves the hashed assets to the other deployment.
      exclude: [`${SITE_HASHED_ASSETS_DIR}/*`],
      cacheControl: [CacheControl.fromString(SITE_PAGE_CACHE_CONTROL)],
      distribution: site.distribution,
      distributionPaths: ['/*'],
      retainOnDelete: false,
      memoryLimit: 256,
      role: deploymentRole,
      logGroup: deploymentLogs,
    });
    // The new index.html goes up (and the cache is invalidated) only once the assets it names are there.
    if (assetsDeployment) pageDeployment.node.addDependency(assetsDeployment);
    acknowledgeDeploymentFindings(stack, site.bucket, deploymentRole);
  }
}

/**
 * Site deployment: CDK's BucketDeployment custom resource (a CDK-managed singleton Lambda
 * whose id carries the memory size), run with SiteDeploymentRole. Its grants are CDK's: read the
 * asset from the CDK bootstrap bucket, write/prune the site bucket, invalidate the distribution
 * (narrowed to it by the role).
 */
function acknowledgeDeploymentFindings(stack: Stack, bucket: Bucket, deploymentRole: Role): void {
  for (const provider of stack.node.children.filter((c) =>
    c.node.id.startsWith('Custom::CDKBucketDeployment'),
  )) {
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'CDK-managed custom resource Lambda: CDK chooses and updates its runtime.',
    });
  }
  const policy = deploymentRole.node.findChild('DefaultPolicy');
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
    `Resource::<${stack.resolve(stack.getLogicalId(bucket.node.defaultChild as CfnBucket))}.Arn>/*`,
  ]) {
    Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: copyReason });
  }
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
