// The viewer API's web application firewall: a REGIONAL AWS WAF web ACL on the
// API Gateway stage with
//   - a per-IP rate limit on viewer token issuance (POST /requestor-token) and one on votes
//     (POST /requestor-put), each over a 60 s window, answered 429 rate_limited, counting every
//     spelling of the route's path (see ROUTE_PATH_TRANSFORMATIONS);
//   - AWS's common rule set (AWSManagedRulesCommonRuleSet), its matches answered 403 forbidden, and
//     its body-size rule answered 413 payload_too_large like the API itself;
// every block in the API's JSON error shape with the site's CORS origin, so the page can say why.
// CloudWatch metrics (and sampled requests) per rule; the alarm on rate-limited viewers is in
// monitoring.ts.
//
// Offices, schools and venues put many viewers behind one public address (NAT), so the per-IP
// limits are sized from the largest such group the show plans for, not from one person: see
// WAF_ASSUMPTIONS and wafLimitsFor(). `-c wafTokenLimit=…` / `-c wafVoteLimit=…` override them.
import { Aws } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { API_ROUTES } from '../../contract/api.ts';
import { ConfigurationError } from './errors.ts';
import { fmt } from '../../core/sizing.ts';

export const WAF_TOKEN_LIMIT_CONTEXT_KEY = 'wafTokenLimit';
export const WAF_VOTE_LIMIT_CONTEXT_KEY = 'wafVoteLimit';

/** The route that issues a viewer `{requestor_id, token}` for solved work (lambdas/viewer-token.ts). */
export const TOKEN_ROUTE = API_ROUTES.token;
/** The vote route (contract/api.ts). */
export const VOTE_ROUTE = API_ROUTES.vote;

/**
 * AWS WAF's own bounds for a rate-based rule: the window may be 60, 120, 300 or 600 s, and the limit
 * 10 to 2,000,000,000 requests per window
 * (https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html).
 */
export const WAF_LIMITS = {
  evaluationWindowSeconds: 60,
  minRateLimit: 10,
  maxRateLimit: 2_000_000_000,
} as const;

/**
 * How the per-IP limits follow from the audience. A rate-based rule counts per public IP address, and
 * a school, an office, a venue's Wi-Fi or a mobile carrier's NAT puts a whole room behind one.
 */
export const WAF_ASSUMPTIONS = {
  /**
   * The most viewers of one show behind one public address that the limits let through untouched: a
   * school assembly, a company all-hands, a conference hall (never more than the whole audience).
   */
  viewersPerAddress: 1_000,
  /**
   * Token requests per such viewer within one 60 s window: the first load (the token is kept in
   * localStorage after that) and a reload in a private window or on a second device. Everyone may
   * arrive within the same minute (doors open at the start of the show).
   */
  tokensPerViewer: 2,
  /**
   * Votes per such viewer within one 60 s window: one per question, and two questions' storms can
   * fall into one window (a 20 s question, its results, the next question)…
   */
  questionsPerWindow: 2,
  /** …plus a page re-sending a vote whose answer it did not get (answered 409 already_answered). */
  voteRetryHeadroom: 1.5,
} as const;

export interface WafLimits {
  /** POST /requestor-token requests per IP address per 60 s. */
  tokenLimit: number;
  /** POST /requestor-put requests per IP address per 60 s. */
  voteLimit: number;
}

/**
 * The default limits for an audience: the largest group behind one address (1,000 viewers, or the
 * whole audience if smaller) each getting 2 tokens, and voting on 2 questions with 1.5 for retries,
 * within one 60 s window. 100,000 viewers: 2,000 tokens and 3,000 votes per IP address per minute.
 */
export function wafLimitsFor(audience: number): WafLimits {
  const a = WAF_ASSUMPTIONS;
  const group = Math.min(a.viewersPerAddress, audience);
  const clamp = (n: number) =>
    Math.min(WAF_LIMITS.maxRateLimit, Math.max(WAF_LIMITS.minRateLimit, Math.ceil(n)));
  return {
    tokenLimit: clamp(group * a.tokensPerViewer),
    voteLimit: clamp(group * a.questionsPerWindow * a.voteRetryHeadroom),
  };
}

const LIMIT_RANGE = `a whole number of requests per IP address per ${WAF_LIMITS.evaluationWindowSeconds} s from ${fmt(WAF_LIMITS.minRateLimit)} to ${fmt(WAF_LIMITS.maxRateLimit)}`;

/**
 * A rate limit from CDK context (`-c wafVoteLimit=5000`, also `5_000` or `5,000`; a number in
 * cdk.json). Absent or empty: undefined (the audience's default). Anything else fails synth naming the key.
 */
export function parseWafLimit(key: string, value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const text = String(value).trim();
  const digits = /^\d+$/.test(text) || /^\d{1,3}(?:([,_])\d{3})(?:\1\d{3})*$/.test(text);
  const n = typeof value === 'number' ? value : digits ? Number(text.replace(/[,_]/g, '')) : Number.NaN;
  if (!isRateLimit(n)) throw new ConfigurationError(`-c ${key}=${text}: expected ${LIMIT_RANGE}`);
  return n;
}

/** Fails synth when a limit given to the stack is outside what WAF accepts, naming its context key. */
export function checkWafLimit(key: string, n: number): number {
  if (!isRateLimit(n)) {
    throw new ConfigurationError(`${key} ${n}: expected ${LIMIT_RANGE} (CDK context -c ${key}=…)`);
  }
  return n;
}

function isRateLimit(n: number): boolean {
  return Number.isSafeInteger(n) && n >= WAF_LIMITS.minRateLimit && n <= WAF_LIMITS.maxRateLimit;
}

/**
 * How a rate rule reads the URI path before it looks for its route. WAF inspects the path exactly as
 * the client sent it, stage prefix included (`/prod/requestor-put`), so a rule matching that text
 * alone would miss `/prod/%72equestor-put`, `/prod//requestor-put` or `/prod/x/../requestor-put`. In
 * order: percent-escapes decoded, then the path normalized (no `//`, `/./` or `/x/..`), then lower
 * case; and the route looked for anywhere in the result (CONTAINS), so a suffix such as `;x` or `/`
 * does not hide it either. API Gateway (REST) hands the Lambda the path as sent, without the stage
 * and still percent-encoded, and the router answers only the exact route (lambdas/http-request.ts
 * exactPathRouter): every other spelling is a 404 there, and is counted here all the same, so no
 * spelling is both served and uncounted, even if API Gateway decoded or normalized paths itself.
 * test/cdk/waf.test.ts evaluates the synthesized statements against those spellings.
 */
export const ROUTE_PATH_TRANSFORMATIONS = ['URL_DECODE', 'NORMALIZE_PATH', 'LOWERCASE'] as const;

/** The label namespace AWSManagedRulesCommonRuleSet writes its matches under, and its body-size rule's label. */
export const COMMON_RULE_SET_LABELS = 'awswaf:managed:aws:core-rule-set:';
export const COMMON_RULE_SET_BODY_SIZE_LABEL = `${COMMON_RULE_SET_LABELS}SizeRestrictions_Body`;

/** Each rule's name, which is also its CloudWatch metric name (dimension `Rule` in AWS/WAFV2). */
export const WAF_RULES = {
  tokenRate: 'TokenRateLimit',
  voteRate: 'VoteRateLimit',
  commonRuleSet: 'CommonRuleSet',
  bodyTooLarge: 'CommonRuleSetBodyTooLarge',
  commonRuleSetBlock: 'CommonRuleSetBlock',
} as const;

/** The bodies of WAF's answers: the API's error shape (contract/api.ts ApiErrorBody). */
export const WAF_RESPONSE_BODIES = {
  tokenRateLimited: {
    error: {
      code: 'rate_limited',
      message: 'Too many viewers joined from your network in the last minute; try again in a minute.',
    },
  },
  voteRateLimited: {
    error: {
      code: 'rate_limited',
      message: 'Too many votes came from your network in the last minute; try again in a minute.',
    },
  },
  forbidden: {
    error: { code: 'forbidden', message: 'The request was refused by the firewall.' },
  },
  payloadTooLarge: {
    error: { code: 'payload_too_large', message: 'body: larger than the API accepts' },
  },
} as const;

export interface ApiFirewallProps {
  /** The API stage to protect. */
  readonly stage: Stage;
  /** The site's origin (https://…): WAF's answers carry it as Access-Control-Allow-Origin. */
  readonly siteOrigin: string;
  readonly limits: WafLimits;
}

export class ApiFirewall extends Construct {
  readonly webAcl: CfnWebACL;
  /** The web ACL's name and metric name (dimension `WebACL` in AWS/WAFV2). */
  readonly webAclName: string;
  readonly limits: WafLimits;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    this.limits = {
      tokenLimit: checkWafLimit(WAF_TOKEN_LIMIT_CONTEXT_KEY, props.limits.tokenLimit),
      voteLimit: checkWafLimit(WAF_VOTE_LIMIT_CONTEXT_KEY, props.limits.voteLimit),
    };
    this.webAclName = `${Aws.STACK_NAME}-api`;

    const block = blockAction(props.siteOrigin);
    const retryAfter = [{ name: 'Retry-After', value: String(WAF_LIMITS.evaluationWindowSeconds) }];
    const perIpRate = (
      name: string,
      limit: number,
      route: string,
      bodyKey: keyof typeof WAF_RESPONSE_BODIES,
      priority: number,
    ): CfnWebACL.RuleProperty => ({
      name,
      priority,
      statement: {
        rateBasedStatement: {
          aggregateKeyType: 'IP',
          evaluationWindowSec: WAF_LIMITS.evaluationWindowSeconds,
          limit,
          scopeDownStatement: postTo(route),
        },
      },
      action: block(429, bodyKey, retryAfter),
      visibilityConfig: visibility(name),
    });

    const R = WAF_RULES;
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      name: this.webAclName,
      description: 'showrunner viewer API: per-IP limits on tokens and votes, AWS common rule set',
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(this.webAclName),
      customResponseBodies: Object.fromEntries(
        Object.entries(WAF_RESPONSE_BODIES).map(([key, body]) => [
          key,
          { contentType: 'APPLICATION_JSON', content: JSON.stringify(body) },
        ]),
      ),
      rules: [
        perIpRate(R.tokenRate, this.limits.tokenLimit, TOKEN_ROUTE, 'tokenRateLimited', 0),
        perIpRate(R.voteRate, this.limits.voteLimit, VOTE_ROUTE, 'voteRateLimited', 1),
        // AWS's common rule set (OWASP-style: bad bots, LFI/RFI, XSS, SSRF to the metadata address,
        // oversized parts), counted only: every match adds a label under core-rule-set:, and the two
        // rules below block on those labels with the API's own answers. (Overriding the group to
        // count keeps any rule AWS adds later covered by the namespace rule, without listing them.)
        // Checked against this API's legitimate traffic: JSON bodies are ≤ 4 KB (the API Lambda's
        // MAX_BODY_BYTES) and hold ids, a UUID and an answer index; query strings hold ids and a
        // cursor; browsers and the CLI send a User-Agent, and CloudFront sends "Amazon CloudFront"
        // for the cached GET /poll-get. No rule needs to be turned off.
        {
          name: R.commonRuleSet,
          priority: 2,
          statement: {
            managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesCommonRuleSet' },
          },
          overrideAction: { count: {} },
          visibilityConfig: visibility(R.commonRuleSet),
        },
        // Neither block applies to /producer/…: a show file is often over 8 KB and its questions
        // may quote HTML or code, and API Gateway's Cognito authorizer refuses every request there
        // without a producer's token before any Lambda runs.
        // SizeRestrictions_BODY (> 8 KB) would answer 403 where the API answers 413 (it refuses
        // bodies over 4 KB itself): keep the API's contract.
        {
          name: R.bodyTooLarge,
          priority: 3,
          statement: notOnProducerRoutes({
            labelMatchStatement: { scope: 'LABEL', key: COMMON_RULE_SET_BODY_SIZE_LABEL },
          }),
          action: block(413, 'payloadTooLarge'),
          visibilityConfig: visibility(R.bodyTooLarge),
        },
        {
          name: R.commonRuleSetBlock,
          priority: 4,
          statement: notOnProducerRoutes({
            labelMatchStatement: { scope: 'NAMESPACE', key: COMMON_RULE_SET_LABELS },
          }),
          action: block(403, 'forbidden'),
          visibilityConfig: visibility(R.commonRuleSetBlock),
        },
      ],
    });

    new CfnWebACLAssociation(this, 'StageAssociation', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}

function visibility(metricName: string): CfnWebACL.VisibilityConfigProperty {
  return {
    cloudWatchMetricsEnabled: true,
    metricName,
    sampledRequestsEnabled: true,
  };
}

/**
 * Blocked requests never reach the Lambda, so WAF answers for it: the API's JSON error shape, the
 * site's origin (or the browser reports a CORS failure instead of the status), never cached.
 */
function blockAction(siteOrigin: string) {
  const corsHeaders = [
    { name: 'Access-Control-Allow-Origin', value: siteOrigin },
    { name: 'Vary', value: 'Origin' },
    { name: 'Cache-Control', value: 'no-store' },
  ];
  return (
    responseCode: number,
    bodyKey: keyof typeof WAF_RESPONSE_BODIES,
    extraHeaders: { name: string; value: string }[] = [],
  ): CfnWebACL.RuleActionProperty => ({
    block: {
      customResponse: {
        responseCode,
        customResponseBodyKey: bodyKey,
        responseHeaders: [...corsHeaders, ...extraHeaders],
      },
    },
  });
}

/** POST requests to a route, however its path is spelled (ROUTE_PATH_TRANSFORMATIONS). */
function postTo(route: string): CfnWebACL.StatementProperty {
  return {
    andStatement: {
      statements: [
        {
          byteMatchStatement: {
            fieldToMatch: { method: {} },
            positionalConstraint: 'EXACTLY',
            searchString: 'POST',
            textTransformations: [{ priority: 0, type: 'NONE' }],
          },
        },
        {
          byteMatchStatement: {
            fieldToMatch: { uriPath: {} },
            positionalConstraint: 'CONTAINS',
            // Lower case, as the path it is compared with (contract/api.ts spells routes so).
            searchString: route.toLowerCase(),
            textTransformations: ROUTE_PATH_TRANSFORMATIONS.map((type, priority) => ({ priority, type })),
          },
        },
      ],
    },
  };
}

/** The producer API's paths (contract/producer.ts), under any stage: /prod/producer/start. */
export const PRODUCER_PATH = '/producer/';

/**
 * `statement`, except on the producer API's paths: those that still name /producer/ once decoded and
 * normalized, so `/prod/producer/../requestor-put` (a viewer route, if API Gateway resolved the
 * `..`) is not spared. Not lower-cased: API Gateway routes only `/producer/` itself to the producer
 * API, and every other spelling to the viewer router, which answers it 404.
 */
function notOnProducerRoutes(statement: CfnWebACL.StatementProperty): CfnWebACL.StatementProperty {
  return {
    andStatement: {
      statements: [
        statement,
        {
          notStatement: {
            statement: {
              byteMatchStatement: {
                searchString: PRODUCER_PATH,
                fieldToMatch: { uriPath: {} },
                textTransformations: [
                  { priority: 0, type: 'URL_DECODE' },
                  { priority: 1, type: 'NORMALIZE_PATH' },
                ],
                positionalConstraint: 'CONTAINS',
              },
            },
          },
        },
      ],
    },
  };
}
