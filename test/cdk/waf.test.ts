// The WAF web ACL on the API stage (cdk/lib/waf.ts): per-IP limits on token
// issuance and votes over 60 s, AWS's common rule set, blocks answered in the API's JSON error shape
// with the site's CORS origin, the limits from the audience or from context. Checked on the template.
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
      // The stage name is part of the URI path WAF sees (/prod/requestor-put): matched by its end.
      expect(path).toMatchObject({
        FieldToMatch: { UriPath: {} },
        PositionalConstraint: 'ENDS_WITH',
        SearchString: route,
        TextTransformations: [{ Priority: 0, Type: 'URL_DECODE' }],
      });
    }
    expect(TOKEN_ROUTE).toBe('/requestor-token');
    expect(API_ROUTES.vote).toBe('/requestor-put');
    // If the contract names the token route, it is the one the WAF limits.
    const token = (API_ROUTES as Record<string, string>)['token'];
    if (token !== undefined) expect(token).toBe(TOKEN_ROUTE);
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
      expect(except.NotStatement.Statement.ByteMatchStatement).toMatchObject({
        SearchString: '/producer/',
        FieldToMatch: { UriPath: {} },
        PositionalConstraint: 'CONTAINS',
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
