// The WAF web ACL on the API stage (cdk/lib/waf.ts): per-IP limits on token
// issuance and votes over 60 s, AWS's common rule set, blocks answered in the API's JSON error shape
// with the site's CORS origin, the limits from the audience or from context. Checked on the template,
// and by evaluating its statements (WAF's text transformations as AWS documents them) against the
// spellings of a route's path an attacker would try, next to what the API's real router answers.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { App, Validations } from 'aws-cdk-lib';
import nag from 'cdk-nag';
import { API_ROUTES } from '../../contract/api.ts';
import { propsFromContext } from '../../cdk/bin/showrunner.ts';
import { ConfigurationError } from '../../cdk/lib/errors.ts';
import {
  COMMON_RULE_SET_BODY_SIZE_LABEL,
  COMMON_RULE_SET_LABELS,
  TOKEN_ROUTE,
  WAF_ASSUMPTIONS,
  parseWafLimit,
  wafLimitsFor,
} from '../../cdk/lib/waf.ts';
import { API_STAGE_NAME } from '../../cdk/lib/viewer-api.ts';
import { apiHandler, invoke } from '../support/api-handler.ts';
import { onlyResource, removeTempDirs, render, synth, type Synth } from './support.ts';

afterAll(removeTempDirs);

let created: Synth;
beforeAll(() => {
  created = synth();
});

const webAcl = (s: Synth) => onlyResource(s.template, 'AWS::WAFv2::WebACL');
const rules = (s: Synth): Record<string, any> =>
  Object.fromEntries((webAcl(s)[1].Properties.Rules as any[]).map((r) => [r.Name, r]));
const siteOrigin = (s: Synth) =>
  `https://<${onlyResource(s.template, 'AWS::CloudFront::Distribution')[0]}.DomainName>`;
/** The custom response a rule blocks with, its body parsed and its headers rendered. */
const blockOf = (s: Synth, rule: any) => {
  const response = rule.Action.Block.CustomResponse;
  const body = webAcl(s)[1].Properties.CustomResponseBodies[response.CustomResponseBodyKey];
  expect(body.ContentType).toBe('APPLICATION_JSON');
  return {
    status: response.ResponseCode as number,
    body: JSON.parse(body.Content),
    headers: Object.fromEntries(
      (response.ResponseHeaders as any[]).map((h) => [h.Name, render(h.Value)]),
    ) as Record<string, string>,
  };
};

describe('web ACL', () => {
  it('"A REGIONAL web ACL on the API stage": allows by default, associated with the stage of the REST API', () => {
    const [aclId, acl] = webAcl(created);
    expect(acl.Properties.Scope).toBe('REGIONAL');
    expect(acl.Properties.DefaultAction).toEqual({ Allow: {} });
    const [, association] = onlyResource(created.template, 'AWS::WAFv2::WebACLAssociation');
    expect(association.Properties.WebACLArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
    const api = onlyResource(created.template, 'AWS::ApiGateway::RestApi')[0];
    const stage = onlyResource(created.template, 'AWS::ApiGateway::Stage')[0];
    expect(render(association.Properties.ResourceArn)).toBe(
      `arn:<AWS::Partition>:apigateway:<AWS::Region>::/restapis/<${api}>/stages/<${stage}>`,
    );
  });

  it('"Per-IP limits on tokens and votes over 60 s": POST /requestor-token and POST /requestor-put, by source IP, 2,000 and 3,000 per minute for 1,000 viewers or more (the default audience)', () => {
    const r = rules(created);
    for (const [name, route, limit] of [
      ['TokenRateLimit', TOKEN_ROUTE, 2_000],
      ['VoteRateLimit', API_ROUTES.vote, 3_000],
    ] as const) {
      const statement = r[name].Statement.RateBasedStatement;
      expect(statement).toMatchObject({ AggregateKeyType: 'IP', EvaluationWindowSec: 60, Limit: limit });
      const [method, path] = statement.ScopeDownStatement.AndStatement.Statements.map(
        (s: any) => s.ByteMatchStatement,
      );
      expect(method).toMatchObject({
        FieldToMatch: { Method: {} },
        PositionalConstraint: 'EXACTLY',
        SearchString: 'POST',
      });
      // The stage name is part of the URI path WAF sees (/prod/requestor-put): the route is looked
      // for anywhere in the decoded, normalized, lower-cased path ("every spelling", below).
      expect(path).toEqual({
        FieldToMatch: { UriPath: {} },
        PositionalConstraint: 'CONTAINS',
        SearchString: route,
        TextTransformations: [
          { Priority: 0, Type: 'URL_DECODE' },
          { Priority: 1, Type: 'NORMALIZE_PATH' },
          { Priority: 2, Type: 'LOWERCASE' },
        ],
      });
    }
    expect(TOKEN_ROUTE).toBe('/requestor-token');
    expect(TOKEN_ROUTE).toBe(API_ROUTES.token);
    expect(API_ROUTES.vote).toBe('/requestor-put');
  });

  it('"The page can say why": rate limits answer 429 rate_limited with Retry-After, in the API\'s error shape, with the site\'s origin for CORS', () => {
    const r = rules(created);
    for (const name of ['TokenRateLimit', 'VoteRateLimit']) {
      const block = blockOf(created, r[name]);
      expect(block.status).toBe(429);
      expect(block.body).toEqual({
        error: { code: 'rate_limited', message: expect.stringMatching(/minute/) },
      });
      expect(block.headers).toEqual({
        'Access-Control-Allow-Origin': siteOrigin(created),
        Vary: 'Origin',
        'Cache-Control': 'no-store',
        'Retry-After': '60',
      });
    }
  });

  it('"AWS\'s common rule set, its blocks answered by the stack": the group only counts (labels); 413 payload_too_large for its body-size rule (the API\'s own answer), 403 forbidden for every other match', () => {
    const r = rules(created);
    const byPriority = (Object.values(r) as any[]).sort((a, b) => a.Priority - b.Priority).map((x) => x.Name);
    expect(byPriority).toEqual([
      'TokenRateLimit',
      'VoteRateLimit',
      'CommonRuleSet',
      'CommonRuleSetBodyTooLarge',
      'CommonRuleSetBlock',
    ]);
    expect(r['CommonRuleSet'].Statement.ManagedRuleGroupStatement).toEqual({
      VendorName: 'AWS',
      Name: 'AWSManagedRulesCommonRuleSet',
    });
    expect(r['CommonRuleSet'].OverrideAction).toEqual({ Count: {} });
    // Both blocks spare the producer API (signed-in producers' show files: often over 8 KB, may
    // quote HTML); its Cognito authorizer refuses everyone else before any Lambda runs.
    const [tooLargeLabel, tooLargeExcept] = r['CommonRuleSetBodyTooLarge'].Statement.AndStatement.Statements;
    expect(tooLargeLabel.LabelMatchStatement).toEqual({
      Scope: 'LABEL',
      Key: 'awswaf:managed:aws:core-rule-set:SizeRestrictions_Body',
    });
    expect(COMMON_RULE_SET_BODY_SIZE_LABEL.startsWith(COMMON_RULE_SET_LABELS)).toBe(true);
    const [blockLabel, blockExcept] = r['CommonRuleSetBlock'].Statement.AndStatement.Statements;
    expect(blockLabel.LabelMatchStatement).toEqual({
      Scope: 'NAMESPACE',
      Key: 'awswaf:managed:aws:core-rule-set:',
    });
    for (const except of [tooLargeExcept, blockExcept]) {
      expect(except.NotStatement.Statement.ByteMatchStatement).toEqual({
        SearchString: '/producer/',
        FieldToMatch: { UriPath: {} },
        PositionalConstraint: 'CONTAINS',
        TextTransformations: [
          { Priority: 0, Type: 'URL_DECODE' },
          { Priority: 1, Type: 'NORMALIZE_PATH' },
        ],
      });
    }
    const tooLarge = blockOf(created, r['CommonRuleSetBodyTooLarge']);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error.code).toBe('payload_too_large');
    const forbidden = blockOf(created, r['CommonRuleSetBlock']);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('forbidden');
    for (const block of [tooLarge, forbidden]) {
      expect(block.headers['Access-Control-Allow-Origin']).toBe(siteOrigin(created));
    }
  });

  it('"CloudWatch metrics per rule": every rule and the web ACL publish metrics (named as the rule) and sample requests', () => {
    const [, acl] = webAcl(created);
    expect(acl.Properties.VisibilityConfig).toMatchObject({
      CloudWatchMetricsEnabled: true,
      SampledRequestsEnabled: true,
    });
    expect(render(acl.Properties.VisibilityConfig.MetricName)).toBe(render(acl.Properties.Name));
    for (const rule of Object.values(rules(created)) as any[]) {
      expect(rule.VisibilityConfig).toEqual({
        CloudWatchMetricsEnabled: true,
        MetricName: rule.Name,
        SampledRequestsEnabled: true,
      });
    }
  });

  it('"cdk-nag passes without acknowledging WAF away": no APIG3 acknowledgement, and APIG3 is compliant', () => {
    const acknowledged: string[] = [];
    const visit = (node: import('constructs').IConstruct) => {
      for (const entry of node.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          acknowledged.push(...Object.keys(entry.data as Record<string, string>));
      }
      node.node.children.forEach(visit);
    };
    visit(created.stack);
    expect(acknowledged.filter((id) => /APIG3/.test(id))).toEqual([]);
    expect(new nag.AwsSolutionsChecks().validateScope(created.stack).violations).toEqual([]);
  });
});

describe('limits', () => {
  it('"Offices and schools share one IP": the defaults admit a venue of 1,000 (or the whole audience if smaller), 2 tokens each and 2 questions\' votes with 1.5 for retries, per minute', () => {
    expect(WAF_ASSUMPTIONS).toMatchObject({
      viewersPerAddress: 1_000,
      tokensPerViewer: 2,
      questionsPerWindow: 2,
      voteRetryHeadroom: 1.5,
    });
    expect(wafLimitsFor(100_000)).toEqual({ tokenLimit: 2_000, voteLimit: 3_000 });
    expect(wafLimitsFor(1_000)).toEqual({ tokenLimit: 2_000, voteLimit: 3_000 });
    expect(wafLimitsFor(100)).toEqual({ tokenLimit: 200, voteLimit: 300 });
    const small = synth({ audience: 100 });
    expect(rules(small)['TokenRateLimit'].Statement.RateBasedStatement.Limit).toBe(200);
    expect(rules(small)['VoteRateLimit'].Statement.RateBasedStatement.Limit).toBe(300);
  });

  it('"Settable with context": -c wafTokenLimit / -c wafVoteLimit reach the rules', () => {
    const props = propsFromContext(new App({ context: { wafTokenLimit: '5,000', wafVoteLimit: '12000' } }));
    expect(props).toMatchObject({ wafTokenLimit: 5_000, wafVoteLimit: 12_000 });
    expect(propsFromContext(new App())).toMatchObject({ wafTokenLimit: undefined, wafVoteLimit: undefined });
    const custom = synth({ wafTokenLimit: 5_000, wafVoteLimit: 12_000 });
    expect(rules(custom)['TokenRateLimit'].Statement.RateBasedStatement.Limit).toBe(5_000);
    expect(rules(custom)['VoteRateLimit'].Statement.RateBasedStatement.Limit).toBe(12_000);
  });

  it('"A bad limit fails synth, naming the key": a whole number from 10 to 2,000,000,000', () => {
    expect(parseWafLimit('wafVoteLimit', undefined)).toBeUndefined();
    expect(parseWafLimit('wafVoteLimit', '')).toBeUndefined();
    expect(parseWafLimit('wafVoteLimit', '10')).toBe(10);
    expect(parseWafLimit('wafVoteLimit', 2_000_000_000)).toBe(2_000_000_000);
    expect(parseWafLimit('wafVoteLimit', '2_500')).toBe(2_500);
    for (const bad of ['lots', '9', '0', '-5', '1e4', '2.5', '2000000001', true]) {
      expect(() => parseWafLimit('wafVoteLimit', bad)).toThrow(ConfigurationError);
      expect(() => parseWafLimit('wafVoteLimit', bad)).toThrow(
        `-c wafVoteLimit=${String(bad)}: expected a whole number of requests per IP address per 60 s from 10 to 2,000,000,000`,
      );
    }
    expect(() => propsFromContext(new App({ context: { wafTokenLimit: 'many' } }))).toThrow(
      '-c wafTokenLimit=many: expected a whole number',
    );
    expect(() => synth({ wafTokenLimit: 5 })).toThrow(
      /^wafTokenLimit 5: expected a whole number of requests per IP address per 60 s from 10 to 2,000,000,000 \(CDK context -c wafTokenLimit=…\)$/,
    );
  });
});

// ---- Paths match one way everywhere ---------------------------------------------------------------
//
// WAF, as AWS documents it: a URI path field is inspected "exactly as it receives it from the client"
// unless text transformations are given (developer guide, "Request components": URI path); they run
// from the lowest priority to the highest (API reference, TextTransformation). The transformations,
// in the API reference's words (TextTransformationType):
//   LOWERCASE       "Convert uppercase letters (A-Z) to lowercase (a-z)."
//   URL_DECODE      "Decode a URL-encoded value." (%HH escapes; anything else stays as it is)
//   NORMALIZE_PATH  "Remove multiple slashes, directory self-references, and directory
//                    back-references that are not at the beginning of the input from an input string."
//   NORMALIZE_PATH_WIN  "the same as NORMALIZE_PATH, but first converts backslash characters to
//                    forward slashes."
// Where the words leave a case open (a back-reference above the root of an absolute path, a trailing
// slash), this follows RFC 3986's remove_dot_segments: the root stays, a trailing slash stays.
// Any other transformation or statement fails the test, so a rule this model cannot read is noticed.

/** A request as WAF sees it: the method and the URI path as sent, and the labels earlier rules added. */
interface WafRequest {
  method: string;
  uriPath: string;
  labels?: string[];
}

const percentDecode = (text: string) =>
  text.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));

function normalizePath(text: string): string {
  const absolute = text.startsWith('/');
  const trailingSlash = /\/(\.{1,2})?$/.test(text) && /[^/.]/.test(text);
  const kept: string[] = [];
  for (const segment of text.split('/')) {
    if (segment === '' || segment === '.') continue; // multiple slashes, self-references
    if (segment === '..') {
      if (kept.length > 0 && kept.at(-1) !== '..') kept.pop();
      else if (!absolute) kept.push('..'); // a back-reference at the beginning of a relative input stays
      continue; // never above the root
    }
    kept.push(segment);
  }
  const path = (absolute ? '/' : '') + kept.join('/');
  return trailingSlash && kept.length > 0 ? `${path}/` : path;
}

function transform(type: string, text: string): string {
  switch (type) {
    case 'NONE':
      return text;
    case 'LOWERCASE':
      return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
    case 'URL_DECODE':
      return percentDecode(text);
    case 'NORMALIZE_PATH':
      return normalizePath(text);
    case 'NORMALIZE_PATH_WIN':
      return normalizePath(text.replaceAll('\\', '/'));
    default:
      throw new Error(`text transformation ${type}: not modelled by this test`);
  }
}

/** Whether a WAF statement from the template matches `request`. */
function matches(statement: any, request: WafRequest): boolean {
  if (statement.AndStatement) return statement.AndStatement.Statements.every((s: any) => matches(s, request));
  if (statement.OrStatement) return statement.OrStatement.Statements.some((s: any) => matches(s, request));
  if (statement.NotStatement) return !matches(statement.NotStatement.Statement, request);
  if (statement.LabelMatchStatement) {
    const { Scope, Key } = statement.LabelMatchStatement;
    return (request.labels ?? []).some((label) =>
      Scope === 'NAMESPACE' ? label.startsWith(Key) : label === Key,
    );
  }
  if (statement.ByteMatchStatement) {
    const { FieldToMatch, PositionalConstraint, SearchString, TextTransformations } =
      statement.ByteMatchStatement;
    let text: string;
    if ('Method' in FieldToMatch) text = request.method;
    else if ('UriPath' in FieldToMatch) text = request.uriPath;
    else throw new Error(`field ${JSON.stringify(FieldToMatch)}: not modelled by this test`);
    const steps = [...TextTransformations].sort((a: any, b: any) => a.Priority - b.Priority);
    for (const step of steps) text = transform(step.Type, text);
    switch (PositionalConstraint) {
      case 'EXACTLY':
        return text === SearchString;
      case 'STARTS_WITH':
        return text.startsWith(SearchString);
      case 'ENDS_WITH':
        return text.endsWith(SearchString);
      case 'CONTAINS':
        return text.includes(SearchString);
      default:
        throw new Error(`positional constraint ${PositionalConstraint}: not modelled by this test`);
    }
  }
  throw new Error(`statement ${Object.keys(statement).join()}: not modelled by this test`);
}

// API Gateway: which `event.path` the Lambda gets for a URI path as sent. For a REST API's
// `ANY /{proxy+}` it is the path without the stage, still percent-encoded: live captures of REST
// events (hotsock/voker, vokerhttp/testdata: `/capture/slash%2Fvalue` arrives as such, while HTTP APIs
// decode). What REST does with `//`, `/./` and `/x/../` is not documented, so every variant is also
// checked as if API Gateway decoded the path, resolved dot segments or merged slashes before routing:
// the WAF must count whatever the router would serve under any of them.
const STAGE = `/${API_STAGE_NAME}`;
const API_GATEWAY: Record<string, (uriPath: string) => string> = {
  'as sent': (p) => p,
  'if it percent-decoded': percentDecode,
  'if it resolved dot segments': (p) => normalizeDots(p),
  'if it merged slashes': (p) => p.replace(/\/{2,}/g, '/'),
  'if it did all three': (p) => normalizeDots(percentDecode(p).replace(/\/{2,}/g, '/')),
};

/** RFC 3986 5.2.4 remove_dot_segments on an absolute path. */
function normalizeDots(path: string): string {
  const out: string[] = [];
  const segments = path.split('/').slice(1);
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..') out.pop();
      if (last) out.push('');
    } else out.push(segment);
  });
  return `/${out.join('/')}`;
}

/** The viewer router's `event.path` for a request API Gateway routes to it, or why it does not. */
function eventPath(
  uriPath: string,
  apiGateway: (p: string) => string,
): string | 'no such stage' | 'producer API' {
  const routed = apiGateway(uriPath);
  if (!routed.startsWith(`${STAGE}/`)) return 'no such stage'; // API Gateway answers 403 itself
  const path = routed.slice(STAGE.length);
  // `/producer/{proxy+}`: the Cognito authorizer, then the producer Lambda, never the viewer router.
  if (path.startsWith('/producer/')) return 'producer API';
  return path;
}

const router = apiHandler({ tokenWorkBits: 0 });
/** What the API's real router answers for `event.path`: served (any answer of the route) or 404. */
async function routerAnswer(method: string, path: string): Promise<'served' | '404'> {
  const got = await invoke(router, method, path, { body: '{}' });
  if (got.status === 404 && got.json?.error?.code === 'not_found') return '404';
  // The route's own refusal of the empty body: 428 work_required (token), 400 bad_request (vote).
  expect([400, 428]).toContain(got.status);
  return 'served';
}

/** Spellings of `route` (under the stage) an attacker would try, and how each fares "as sent". */
const spellings = (route: string) => {
  const name = route.slice(1); // requestor-put
  const first = name[0]!;
  const escaped = `%${first.charCodeAt(0).toString(16)}${name.slice(1)}`; // %72equestor-put
  return [
    // [URI path as sent, what the router answers for API Gateway's event.path as sent]
    [`${STAGE}${route}`, 'served'],
    [`${STAGE}${route}/`, '404'],
    [`${STAGE}/${route}`, '404'],
    [`${STAGE}${route}//`, '404'],
    [`${STAGE}${route.toUpperCase()}`, '404'],
    [`${STAGE}/${first.toUpperCase()}${name.slice(1)}`, '404'],
    [`${STAGE}/${escaped}`, '404'],
    [`${STAGE}${route.replace('-', '%2D')}`, '404'],
    [`${STAGE}/%2F${name}`, '404'],
    [`${STAGE}${route}%2F`, '404'],
    [`${STAGE}%2F${name}`, 'no such stage'],
    [`${STAGE}/${escaped.toUpperCase()}`, '404'],
    [`${STAGE}${route};x=1`, '404'],
    [`${STAGE}${route}.`, '404'],
    [`${STAGE}${route}%00`, '404'],
    [`${STAGE}/.${route}`, '404'],
    [`${STAGE}/%2e${route}`, '404'],
    [`${STAGE}/x/..${route}`, '404'],
    [`${STAGE}/x/%2e%2e${route}`, '404'],
    [`${STAGE}/producer/..${route}`, 'producer API'],
    [`${STAGE}//./x/..//${name}`, '404'],
    [route, 'no such stage'],
    [`${STAGE.toUpperCase()}${route}`, 'no such stage'],
    [`/x/..${STAGE}${route}`, 'no such stage'],
  ] as const;
};

/** Spellings the rules do not count: each must be a 404 (or never reach the router) whatever API Gateway does. */
const uncounted = (route: string) => {
  const name = route.slice(1);
  return [
    `${STAGE}/%25${name.charCodeAt(0).toString(16)}${name.slice(1)}`, // %2572equestor-put: encoded twice
    `${STAGE}/x\\..\\${name}`, // backslashes
    `${STAGE}\\${name}`,
    `${STAGE}/${name.replace('-', '_')}`,
    `${STAGE}${route.slice(0, -1)}x`, // a near miss: requestor-pux
  ];
};

describe('"Paths match one way everywhere": every spelling of a route the router serves is counted by its rate rule', () => {
  it("the model of WAF's transformations reads paths as AWS describes them", () => {
    expect(transform('URL_DECODE', '/prod/%72equestor%2Dput%2F%zz')).toBe('/prod/requestor-put/%zz');
    expect(transform('LOWERCASE', '/PROD/Requestor-PUT')).toBe('/prod/requestor-put');
    expect(transform('NORMALIZE_PATH', '/prod//./x/../requestor-put')).toBe('/prod/requestor-put');
    expect(transform('NORMALIZE_PATH', '/prod/requestor-put/')).toBe('/prod/requestor-put/');
    expect(transform('NORMALIZE_PATH', '/../../requestor-put')).toBe('/requestor-put');
    expect(transform('NORMALIZE_PATH', '../a/./b')).toBe('../a/b');
    expect(transform('NORMALIZE_PATH', '/a\\..\\b')).toBe('/a\\..\\b');
    expect(transform('NORMALIZE_PATH_WIN', '/a\\..\\b')).toBe('/b');
    expect(normalizeDots('/prod/x/../requestor-put')).toBe('/prod/requestor-put');
    expect(normalizeDots('/prod/requestor-put/.')).toBe('/prod/requestor-put/');
    expect(() => transform('HTML_ENTITY_DECODE', 'x')).toThrow('not modelled');
  });

  for (const [rule, route] of [
    ['TokenRateLimit', API_ROUTES.token],
    ['VoteRateLimit', API_ROUTES.vote],
  ] as const) {
    describe(`${rule} (POST ${route})`, () => {
      const scopeDown = () => rules(created)[rule].Statement.RateBasedStatement.ScopeDownStatement;

      for (const [uriPath, asSent] of spellings(route)) {
        it(`POST ${uriPath}: counted; the router ${asSent === 'served' ? 'serves it' : asSent === '404' ? 'answers 404' : `never sees it (${asSent})`} as API Gateway sends it`, async () => {
          expect(matches(scopeDown(), { method: 'POST', uriPath })).toBe(true);
          const path = eventPath(uriPath, API_GATEWAY['as sent']!);
          expect(path.startsWith('/') ? await routerAnswer('POST', path) : path).toBe(asSent);
        });
      }

      it('no spelling is both served and uncounted, whatever API Gateway does with the path, and none the router serves escapes the common rule set as a "producer" path', async () => {
        const blocks = ['CommonRuleSetBodyTooLarge', 'CommonRuleSetBlock'].map(
          (name) => rules(created)[name].Statement,
        );
        const served: string[] = [];
        for (const uriPath of [...spellings(route).map(([p]) => p), ...uncounted(route)]) {
          for (const [how, apiGateway] of Object.entries(API_GATEWAY)) {
            const path = eventPath(uriPath, apiGateway);
            if (!path.startsWith('/') || (await routerAnswer('POST', path)) !== 'served') continue;
            served.push(`${uriPath} ${how}`);
            expect({ uriPath, how, counted: matches(scopeDown(), { method: 'POST', uriPath }) }).toEqual({
              uriPath,
              how,
              counted: true,
            });
            // A request the common rule set flagged is blocked on this path: the producer exemption does not apply.
            for (const block of blocks) {
              const labels = [
                COMMON_RULE_SET_BODY_SIZE_LABEL,
                `${COMMON_RULE_SET_LABELS}CrossSiteScripting_BODY`,
              ];
              expect({ uriPath, how, blocked: matches(block, { method: 'POST', uriPath, labels }) }).toEqual({
                uriPath,
                how,
                blocked: true,
              });
            }
          }
        }
        // The exact path is served however API Gateway works; some spellings are served only under a hypothesis.
        expect(served).toContain(`${STAGE}${route} as sent`);
        expect(served).toContain(`${STAGE}/x/..${route} if it resolved dot segments`);
        expect(served).toContain(`${STAGE}/${route.slice(1).replace(/^r/, '%72')} if it percent-decoded`);
        expect(served).toContain(`${STAGE}/producer/..${route} if it resolved dot segments`);
      });

      it('spellings left uncounted (encoded twice, backslashes, near misses) are 404s under every reading of API Gateway', async () => {
        for (const uriPath of uncounted(route)) {
          expect({ uriPath, counted: matches(scopeDown(), { method: 'POST', uriPath }) }).toEqual({
            uriPath,
            counted: false,
          });
          for (const apiGateway of Object.values(API_GATEWAY)) {
            const path = eventPath(uriPath, apiGateway);
            if (path.startsWith('/'))
              expect({ uriPath, path, answer: await routerAnswer('POST', path) }).toEqual({
                uriPath,
                path,
                answer: '404',
              });
          }
        }
      });

      it('other methods are neither counted nor served: GET, and a method spelled in lower case', async () => {
        for (const method of ['GET', 'post', 'PUT']) {
          expect(matches(scopeDown(), { method, uriPath: `${STAGE}${route}` })).toBe(false);
          expect(await routerAnswer(method, route)).toBe('404');
        }
      });
    });
  }

  it('the producer API keeps its exemption from the common rule set (show files over 8 KB), and only it', () => {
    const block = rules(created)['CommonRuleSetBlock'].Statement;
    const labels = [`${COMMON_RULE_SET_LABELS}CrossSiteScripting_BODY`];
    expect(matches(block, { method: 'POST', uriPath: `${STAGE}/producer/start`, labels })).toBe(false);
    expect(matches(block, { method: 'POST', uriPath: `${STAGE}/producer/%73tart`, labels })).toBe(false);
    expect(matches(block, { method: 'POST', uriPath: `${STAGE}/producer/../requestor-put`, labels })).toBe(
      true,
    );
    expect(matches(block, { method: 'POST', uriPath: `${STAGE}/requestor-put`, labels })).toBe(true);
    expect(matches(block, { method: 'POST', uriPath: `${STAGE}/requestor-put`, labels: [] })).toBe(false);
  });
});
