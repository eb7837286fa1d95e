// GET /poll-get served through the site's CloudFront distribution, cached 1 s per poll_id; how long
// CloudFront keeps errors; and the lifecycle Lambda's settings for its tally loop. Checked on the
// synthesized template, without AWS (site-routing.test.ts runs the distribution's functions).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Match } from 'aws-cdk-lib/assertions';
import { API_ROUTES } from '../../contract/api.ts';
import { MAX_VOTE_SETTLE_MS, TALLY_SLICE_MS } from '../../lambdas/poll-lifecycle.ts';
import { readAslDefinition } from '../../cdk/lib/asl.ts';
import { LIFECYCLE_TIMEOUT_SECONDS } from '../../cdk/lib/orchestration.ts';
import { DEFAULT_DEFINITION_PATH } from '../../cdk/lib/paths.ts';
import { CACHED_API_PATH, ERROR_CACHING_SECONDS } from '../../cdk/lib/site.ts';
import { API_STAGE_NAME } from '../../cdk/lib/viewer-api.ts';
import { onlyResource, removeTempDirs, render, synth, type Synth } from './support.ts';

afterAll(removeTempDirs);

let created: Synth;
beforeAll(() => {
  created = synth();
});

const distributionConfig = () =>
  onlyResource(created.template, 'AWS::CloudFront::Distribution')[1].Properties.DistributionConfig;
const apiBehavior = () => {
  const behaviors = distributionConfig().CacheBehaviors as any[];
  expect(behaviors).toHaveLength(1);
  return behaviors[0];
};

describe('GET /poll-get through CloudFront', () => {
  it('"One behavior, /api/poll-get": HTTPS only, GET/HEAD only, to the API stage origin over HTTPS with the stage as origin path', () => {
    const behavior = apiBehavior();
    expect(CACHED_API_PATH).toBe(`/api${API_ROUTES.poll}`);
    expect(behavior).toMatchObject({
      PathPattern: '/api/poll-get',
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD'],
      CachedMethods: ['GET', 'HEAD'],
      Compress: false,
    });
    const origin = (distributionConfig().Origins as any[]).find((o) => o.Id === behavior.TargetOriginId);
    const api = onlyResource(created.template, 'AWS::ApiGateway::RestApi')[0];
    expect(render(origin.DomainName)).toBe(`<${api}>.execute-api.<AWS::Region>.<AWS::URLSuffix>`);
    expect(origin.OriginPath).toBe(`/${API_STAGE_NAME}`);
    expect(origin.CustomOriginConfig).toMatchObject({
      OriginProtocolPolicy: 'https-only',
      OriginSSLProtocols: ['TLSv1.2'],
    });
    // The stage's name is the literal origin path; the API Gateway stage really is named so.
    const [, stage] = onlyResource(created.template, 'AWS::ApiGateway::Stage');
    expect(stage.Properties.StageName).toBe(API_STAGE_NAME);
    // The site's own files stay on the S3 origin.
    expect(distributionConfig().DefaultCacheBehavior.TargetOriginId).not.toBe(behavior.TargetOriginId);
  });

  it('"Cacheable for 1 s, keyed on poll_id only": min TTL 0, default and max 1 s, no headers, cookies or encodings in the key', () => {
    const [policyId, policy] = onlyResource(created.template, 'AWS::CloudFront::CachePolicy');
    expect(apiBehavior().CachePolicyId).toEqual({ Ref: policyId });
    const config = policy.Properties.CachePolicyConfig;
    expect(config).toMatchObject({ MinTTL: 0, DefaultTTL: 1, MaxTTL: 1 });
    expect(config.ParametersInCacheKeyAndForwardedToOrigin).toEqual({
      QueryStringsConfig: { QueryStringBehavior: 'whitelist', QueryStrings: ['poll_id'] },
      HeadersConfig: { HeaderBehavior: 'none' },
      CookiesConfig: { CookieBehavior: 'none' },
      EnableAcceptEncodingGzip: false,
      EnableAcceptEncodingBrotli: false,
    });
    // CloudFront policy names are account-wide: stack name and region in it.
    expect(render(config.Name)).toBe('<AWS::StackName>-<AWS::Region>-poll-get');
  });

  it('"Nothing viewer-specific reaches the API": the origin request policy forwards no header, cookie or query string beyond the cache key', () => {
    const [policyId, policy] = onlyResource(created.template, 'AWS::CloudFront::OriginRequestPolicy');
    expect(apiBehavior().OriginRequestPolicyId).toEqual({ Ref: policyId });
    const config = policy.Properties.OriginRequestPolicyConfig;
    expect(config).toMatchObject({
      HeadersConfig: { HeaderBehavior: 'none' },
      CookiesConfig: { CookieBehavior: 'none' },
      QueryStringsConfig: { QueryStringBehavior: 'none' },
    });
    // No Host header either: API Gateway needs its own.
    expect(JSON.stringify(config)).not.toMatch(/Host/i);
  });

  it('"The stage path": a viewer-request function turns /api/poll-get into /poll-get, which the origin path makes /prod/poll-get', () => {
    const [fnId, fn] = onlyResource(created.template, 'AWS::CloudFront::Function', {
      Name: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['-cached-api-path'])] }),
    });
    expect(apiBehavior().FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [fnId, 'FunctionARN'] } },
    ]);
    expect(fn.Properties.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    // Run the function's code as CloudFront would (its JS 2.0 runtime is ES5.1 plus a few additions).
    const handler = new Function(`${fn.Properties.FunctionCode}\nreturn handler;`)() as (event: {
      request: { uri: string; querystring: Record<string, unknown> };
    }) => { uri: string; querystring: Record<string, unknown> };
    const querystring = { poll_id: { value: 'show-20250101T000000Z:q1' } };
    expect(handler({ request: { uri: '/api/poll-get', querystring } })).toEqual({
      uri: '/poll-get',
      querystring,
    });
    expect(handler({ request: { uri: '/other', querystring: {} } }).uri).toBe('/other');
  });

  it('"A failing API is asked again within a second, and its JSON error reaches the page": 500, 502, 503 and 504 are cached 1 s (CloudFront\'s default is 10 s), with no error page of CloudFront\'s own', () => {
    expect(ERROR_CACHING_SECONDS).toBeLessThanOrEqual(1);
    expect(distributionConfig().CustomErrorResponses).toEqual(
      [500, 502, 503, 504].map((code) => ({ ErrorCode: code, ErrorCachingMinTTL: ERROR_CACHING_SECONDS })),
    );
    // Without ResponsePagePath (and ResponseCode) CloudFront passes the origin's own response on.
    for (const response of distributionConfig().CustomErrorResponses) {
      expect(response).not.toHaveProperty('ResponsePagePath');
      expect(response).not.toHaveProperty('ResponseCode');
    }
  });

  it('"cachedApiUrl is the distribution\'s /api": a stack output beside ApiUrl', () => {
    const distribution = onlyResource(created.template, 'AWS::CloudFront::Distribution')[0];
    const outputs = created.template.toJSON().Outputs;
    expect(render(outputs.CachedApiUrl.Value)).toBe(`https://<${distribution}.DomainName>/api`);
  });

  it('"The API does not wait for CloudFront to be rebuilt": the distribution names the API by id, not by its stage (whose deployment depends on the CORS methods that name the distribution)', () => {
    const stage = onlyResource(created.template, 'AWS::ApiGateway::Stage')[0];
    expect(JSON.stringify(distributionConfig())).not.toContain(stage);
  });
});

describe('lifecycle Lambda and its tally loop', () => {
  const lifecycle = () =>
    onlyResource(created.template, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('lifecycle'),
    })[1].Properties;

  it('"A tally slice fits one invocation": timeout 15 min (Lambda\'s maximum), TALLY_SLICE_MS (14 min) with at least 30 s for its last calls', () => {
    expect(lifecycle().Timeout).toBe(LIFECYCLE_TIMEOUT_SECONDS);
    expect(LIFECYCLE_TIMEOUT_SECONDS).toBeLessThanOrEqual(900);
    expect(LIFECYCLE_TIMEOUT_SECONDS * 1000 - TALLY_SLICE_MS).toBeGreaterThanOrEqual(30_000);
  });

  it('"No state gives up on a running slice, and Close holds the longest vote settle": the tally task waits at least the function\'s timeout; Close\'s 60 s hold MAX_VOTE_SETTLE_MS twice', () => {
    const definition = readAslDefinition(DEFAULT_DEFINITION_PATH);
    const states: Record<string, any> = {};
    const collect = (node: any) => {
      if (!node || typeof node !== 'object') return;
      if (node.States) for (const [name, state] of Object.entries<any>(node.States)) states[name] = state;
      for (const value of Object.values(node)) collect(value);
    };
    collect(JSON.parse(definition.text));
    const lifecycleTasks = definition.tasks.filter((t) =>
      JSON.stringify(t.parameters).includes('${PollLifecycleFunctionArn}'),
    );
    expect(lifecycleTasks.map((t) => (t.parameters['Payload'] as any).action)).toEqual(
      expect.arrayContaining(['open', 'close']),
    );
    for (const task of lifecycleTasks) {
      const timeout = states[task.state].TimeoutSeconds;
      expect(typeof timeout).toBe('number');
      // The tally loop ends its slice by the invocation's remaining time (minus a margin), so the
      // function's timeout is the longest slice: its state must not time out before.
      if ((task.parameters['Payload'] as any).action === 'tally') {
        expect(timeout).toBeGreaterThanOrEqual(LIFECYCLE_TIMEOUT_SECONDS);
      }
    }
    const close = states['Close'];
    expect(close.TimeoutSeconds).toBe(60);
    expect(MAX_VOTE_SETTLE_MS / 1000).toBeLessThanOrEqual(close.TimeoutSeconds / 2);
  });
});

describe("the site's security headers in the cloud (contract/site-headers.ts)", () => {
  const headersPolicy = () => {
    const [id, policy] = onlyResource(created.template, 'AWS::CloudFront::ResponseHeadersPolicy');
    return { id, config: policy.Properties.ResponseHeadersPolicyConfig };
  };

  it('"Both pages send a strict CSP": the default behavior (/, /control/, /assets/*) carries the policy contract/site-headers.ts builds', () => {
    const { id, config } = headersPolicy();
    expect(distributionConfig().DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual({ Ref: id });
    const csp = render(config.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy);
    const directives = Object.fromEntries(
      csp.split(';').map((d) => {
        const [name, ...sources] = d.trim().split(/\s+/);
        return [name, sources];
      }),
    );
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['default-src']).toEqual(["'none'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    // Scripts only from the site; the IVS player alone compiles WebAssembly; nothing inline.
    expect(directives['script-src']).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(csp).not.toContain('unsafe-inline');
    // The API, the IVS stream and the producers' Cognito domain, nothing else.
    expect(directives['connect-src']).toEqual([
      "'self'",
      expect.stringMatching(/^https:\/\/<Api[0-9A-F]+>\.execute-api\.<AWS::Region>\.<AWS::URLSuffix>$/),
      'https://*.live-video.net',
      expect.stringMatching(
        /^https:\/\/<ProducersControlRoomDomain[0-9A-F]+>\.auth\.<AWS::Region>\.amazoncognito\.com$/,
      ),
    ]);
    expect(config.SecurityHeadersConfig).toMatchObject({
      ContentSecurityPolicy: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
      ContentTypeOptions: { Override: true },
      StrictTransportSecurity: { Override: true },
    });
  });
});
