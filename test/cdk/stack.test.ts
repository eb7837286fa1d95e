// The Showrunner stack's template: what the cloud gets, checked without AWS (bundling skipped;
// bundle.test.ts builds and loads the real Lambda bundles).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import nag from 'cdk-nag';
import { API_ERROR_CODES, CORS_MAX_AGE_SECONDS, type ApiErrorBody } from '../../contract/api.ts';
import { TABLE, createTableInput } from '../../contract/table.ts';
import { MAX_RUN_SECONDS } from '../../core/timeline.ts';
import { METRICS_NAMESPACE, metricsNamespaceFor } from '../../lambdas/config.ts';
import { applySubstitutions, readAslDefinition } from '../../cdk/lib/asl.ts';
import { DEFAULT_AUDIENCE, sizeFor } from '../../core/sizing.ts';
import { DEFAULT_DEFINITION_PATH, REPO_ROOT } from '../../cdk/lib/paths.ts';
import { CONTROL_ROOM_TOKENS } from '../../cdk/lib/producer-sign-in.ts';
import { SITE_HASHED_ASSETS_DIR, SITE_PAGE_CACHE_CONTROL } from '../../cdk/lib/site.ts';
import { GATEWAY_ERROR_CODES } from '../../cdk/lib/viewer-api.ts';
import {
  CDK_JSON,
  asArray,
  fakeSite,
  onlyResource,
  rootProxy,
  removeTempDirs,
  render,
  statements,
  synth,
  tempDir,
  type Synth,
} from './support.ts';

afterAll(removeTempDirs);

const EXISTING_CHANNEL = 'arn:aws:ivs:us-west-2:123456789012:channel/AbCdEf123456';
const OTHER_CHANNEL = 'arn:aws:ivs:us-west-2:123456789012:channel/ZyXwVu987654';

let created: Synth;
let existing: Synth;

beforeAll(() => {
  created = synth();
  existing = synth({ channelArn: EXISTING_CHANNEL, extraChannelArns: [OTHER_CHANNEL] });
});

const logicalId = (s: Synth, type: string, props?: object) => onlyResource(s.template, type, props)[0];
const outdir = (s: Synth) => s.app.outdir;

describe('IVS channel', () => {
  it('creates a low-latency channel and a stream key for it', () => {
    created.template.hasResourceProperties('AWS::IVS::Channel', { LatencyMode: 'LOW', Type: 'STANDARD' });
    created.template.hasResourceProperties('AWS::IVS::StreamKey', {
      ChannelArn: { 'Fn::GetAtt': [logicalId(created, 'AWS::IVS::Channel'), 'Arn'] },
    });
  });

  it('uses an existing channel given by context: no channel resource, its URLs read at deploy time', () => {
    existing.template.resourceCountIs('AWS::IVS::Channel', 0);
    existing.template.resourceCountIs('AWS::IVS::StreamKey', 0);
    const [, lookup] = onlyResource(existing.template, 'Custom::AWS');
    const create = JSON.parse(render(lookup.Properties.Update));
    expect(create).toMatchObject({
      service: 'ivs',
      action: 'GetChannel',
      parameters: { arn: EXISTING_CHANNEL },
    });
    expect(existing.template.toJSON().Outputs.ChannelArn.Value).toBe(EXISTING_CHANNEL);
    // The lookup may read that channel only.
    const reads = statements(existing.template).filter((s) =>
      asArray(s.statement.Action).includes('ivs:GetChannel'),
    );
    expect(reads.map((s) => s.statement.Resource)).toEqual([EXISTING_CHANNEL]);
  });
});

describe('DynamoDB table', () => {
  it('is the shared table spec (contract/table.ts): keys, GSI, on-demand', () => {
    const spec = createTableInput('x');
    const [, table] = onlyResource(created.template, 'AWS::DynamoDB::Table');
    const p = table.Properties;
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.KeySchema).toEqual(spec.KeySchema);
    expect(p.KeySchema).toEqual([
      { AttributeName: 'poll_id', KeyType: 'HASH' },
      { AttributeName: 'requestor_id', KeyType: 'RANGE' },
    ]);
    expect(new Set(p.AttributeDefinitions)).toEqual(new Set(spec.AttributeDefinitions));
    // (Their warm throughput is the audience's: sizing.test.ts.)
    expect(p.GlobalSecondaryIndexes.map(({ WarmThroughput: _, ...index }: any) => index)).toEqual(
      spec.GlobalSecondaryIndexes,
    );
    expect(p.GlobalSecondaryIndexes[0].IndexName).toBe('requestor_id-timestamp_created-index');
  });

  it('has TTL on timestamp_ttl and point-in-time recovery', () => {
    created.template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(TABLE.ttlAttribute).toBe('timestamp_ttl');
  });

  it('is removed by cdk destroy unless retainData is set', () => {
    expect(onlyResource(created.template, 'AWS::DynamoDB::Table')[1].DeletionPolicy).toBe('Delete');
    const kept = synth({ retainData: true });
    expect(onlyResource(kept.template, 'AWS::DynamoDB::Table')[1].DeletionPolicy).toBe('Retain');
  });
});

describe('Lambdas', () => {
  it('run on Node 24, arm64, ESM bundles (index.mjs handler), with the table and site origin in their env', () => {
    const functions = created.template.findResources('AWS::Lambda::Function', {
      Properties: { Runtime: 'nodejs24.x' },
    });
    // The viewer API, the poll lifecycle and the producer API.
    expect(Object.keys(functions)).toHaveLength(3);
    const table = logicalId(created, 'AWS::DynamoDB::Table');
    const distribution = logicalId(created, 'AWS::CloudFront::Distribution');
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Handler).toBe('index.handler');
      expect(fn.Properties.Environment.Variables.TABLE_NAME).toEqual({ Ref: table });
    }
    created.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('REST API'),
      Environment: { Variables: Match.objectLike({ CORS_ORIGINS: Match.anyValue() }) },
    });
    const api = Object.values(functions).find((f) => f.Properties.Description.includes('REST API'))!;
    expect(render(api.Properties.Environment.Variables.CORS_ORIGINS)).toBe(
      `https://<${distribution}.DomainName>`,
    );
  });

  it("\"A channel outside the stack's grant fails at Plan\": the lifecycle Lambda's CUE_CHANNEL_ARNS are the channels the state machine, and the Lambda's own tally loop, may PutMetadata on", () => {
    for (const s of [created, existing]) {
      const [, lifecycle] = onlyResource(s.template, 'AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('lifecycle'),
      });
      const listed = render(lifecycle.Properties.Environment.Variables.CUE_CHANNEL_ARNS).split(',');
      const grants = statements(s.template).filter((x) =>
        asArray(x.statement.Action).includes('ivs:PutMetadata'),
      );
      expect(grants.map((g) => g.policy.replace(/DefaultPolicy.*$/, '')).sort()).toEqual([
        'PollLifecycleFunctionRole',
        'ShowStateMachineRole',
      ]);
      for (const grant of grants) {
        expect(asArray(grant.statement.Resource).map(render).sort()).toEqual([...listed].sort());
      }
    }
    expect(
      render(
        onlyResource(existing.template, 'AWS::Lambda::Function', {
          Description: Match.stringLikeRegexp('lifecycle'),
        })[1].Properties.Environment.Variables.CUE_CHANNEL_ARNS,
      ),
    ).toBe(`${EXISTING_CHANNEL},${OTHER_CHANNEL}`);
  });

  it('"Tracing that means something": with tracing on (the default) every Lambda traces Active, may put X-Ray segments, and runs the Powertools Tracer; with -c tracing=false none traces and none loads the Tracer', () => {
    const ours = (s: Synth) =>
      Object.entries(
        s.template.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs24.x' } }),
      );
    const untraced = synth({ tracing: false });
    for (const [id, fn] of ours(created)) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.Properties.Environment.Variables.POWERTOOLS_TRACE_ENABLED).toBe('true');
      const role = fn.Properties.Role['Fn::GetAtt'][0];
      const xray = statements(created.template).filter(
        ({ policy, statement }) =>
          created.template.toJSON().Resources[policy].Properties.Roles.some((r: any) => r.Ref === role) &&
          asArray(statement.Action).includes('xray:PutTraceSegments'),
      );
      expect({ id, xray: xray.length }).toEqual({ id, xray: 1 });
    }
    for (const [, fn] of ours(untraced)) {
      expect(fn.Properties.TracingConfig).toBeUndefined();
      // lambdas/observability.ts: POWERTOOLS_TRACE_ENABLED=false keeps the Tracer (and its async hook) out.
      expect(fn.Properties.Environment.Variables.POWERTOOLS_TRACE_ENABLED).toBe('false');
    }
    const [, stage] = onlyResource(untraced.template, 'AWS::ApiGateway::Stage');
    expect(stage.Properties.TracingEnabled).toBe(false);
    const xrayWhenOff = statements(untraced.template).filter(
      ({ policy, statement }) =>
        /^(ApiFunction|PollLifecycleFunction|ProducerFunction)Role/.test(policy) &&
        asArray(statement.Action).some((a: string) => a.startsWith('xray:')),
    );
    expect(xrayWhenOff).toEqual([]);
  });

  it('"A metrics namespace per stack": every Lambda counts into showrunner/<stack name> (the local stack keeps "showrunner")', () => {
    expect(METRICS_NAMESPACE).toBe('showrunner');
    const functions = created.template.findResources('AWS::Lambda::Function', {
      Properties: { Runtime: 'nodejs24.x' },
    });
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBe('showrunner/Showrunner');
    }
    expect(metricsNamespaceFor(created.stack.stackName)).toBe('showrunner/Showrunner');
  });

  it('each have their own log group and a role without managed policies', () => {
    for (const fn of Object.values(
      created.template.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs24.x' } }),
    )) {
      expect(fn.Properties.LoggingConfig.LogGroup.Ref).toBeDefined();
      const role = created.template.toJSON().Resources[fn.Properties.Role['Fn::GetAtt'][0]];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('REST API', () => {
  it('routes ANY /{proxy+} to the API Lambda (proxy integration)', () => {
    const proxy = rootProxy(created.template);
    const [, method] = onlyResource(created.template, 'AWS::ApiGateway::Method', {
      HttpMethod: 'ANY',
      ResourceId: { Ref: proxy },
    });
    expect(method.Properties.Integration.Type).toBe('AWS_PROXY');
    const apiFunction = logicalId(created, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('REST API'),
    });
    expect(render(method.Properties.Integration.Uri)).toContain(`<${apiFunction}.Arn>/invocations`);
  });

  it('answers CORS preflight in API Gateway, allowing only the CloudFront site origin', () => {
    const distribution = logicalId(created, 'AWS::CloudFront::Distribution');
    const proxy = rootProxy(created.template);
    const [, options] = onlyResource(created.template, 'AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      ResourceId: { Ref: proxy },
    });
    expect(options.Properties.Integration.Type).toBe('MOCK');
    const headers = options.Properties.Integration.IntegrationResponses[0].ResponseParameters;
    expect(render(headers['method.response.header.Access-Control-Allow-Origin'])).toBe(
      `'https://<${distribution}.DomainName>'`,
    );
    expect(headers['method.response.header.Access-Control-Allow-Methods']).toBe("'GET,POST,PUT,OPTIONS'");
    // API Gateway's own 4xx/5xx (e.g. throttling) carry the origin too.
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX', 'THROTTLED', 'UNAUTHORIZED']) {
      const [, response] = onlyResource(created.template, 'AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
      });
      expect(
        render(response.Properties.ResponseParameters['gatewayresponse.header.Access-Control-Allow-Origin']),
      ).toBe(`'https://<${distribution}.DomainName>'`);
    }
  });

  it('"The CORS max-age is one constant": API Gateway\'s preflight answers Access-Control-Max-Age CORS_MAX_AGE_SECONDS, like the Lambda\'s httpCors', () => {
    const proxy = rootProxy(created.template);
    const [, options] = onlyResource(created.template, 'AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      ResourceId: { Ref: proxy },
    });
    const headers = options.Properties.Integration.IntegrationResponses[0].ResponseParameters;
    expect(headers['method.response.header.Access-Control-Max-Age']).toBe(`'${CORS_MAX_AGE_SECONDS}'`);
    // Both API Lambdas take the same constant (bundle.test.ts checks the viewer API's preflight answer).
    expect(readFileSync(join(REPO_ROOT, 'lambdas', 'http-request.ts'), 'utf8')).toMatch(
      /maxAge: CORS_MAX_AGE_SECONDS,/,
    );
  });

  it('has stage throttling (sized for the audience: sizing.test.ts), JSON access logs and error-level execution logs (no bodies) into a log group of the stack', () => {
    const [, stage] = onlyResource(created.template, 'AWS::ApiGateway::Stage');
    const sizing = sizeFor(DEFAULT_AUDIENCE);
    expect(stage.Properties.MethodSettings).toEqual([
      expect.objectContaining({
        HttpMethod: '*',
        ResourcePath: '/*',
        ThrottlingRateLimit: sizing.stageRateLimit,
        ThrottlingBurstLimit: sizing.stageBurstLimit,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
      }),
    ]);
    expect(render(stage.Properties.AccessLogSetting.DestinationArn)).toContain(':log-group:');
    expect(JSON.parse(stage.Properties.AccessLogSetting.Format)).toHaveProperty('status', '$context.status');
    // API Gateway's own group name for execution logs, created by the stack first (retention, destroy).
    const api = logicalId(created, 'AWS::ApiGateway::RestApi');
    const [executionLogsId, executionLogs] = Object.entries(
      created.template.findResources('AWS::Logs::LogGroup'),
    ).find(([id]) => id.startsWith('ApiExecutionLogs'))!;
    expect(render(executionLogs.Properties.LogGroupName)).toBe(`API-Gateway-Execution-Logs_<${api}>/prod`);
    expect(executionLogs.Properties.RetentionInDays).toBe(30);
    expect(executionLogs.DeletionPolicy).toBe('Delete');
    expect(stage.DependsOn).toContain(executionLogsId);
  });

  it('"A brand-new account has no API Gateway logging role": the stack sets it (AWS::ApiGateway::Account) before the stage, keeps it on destroy, and -c apiGatewayCloudWatchRole=false leaves it to the account', () => {
    const [accountId, account] = onlyResource(created.template, 'AWS::ApiGateway::Account');
    expect(account.DeletionPolicy).toBe('Retain');
    const [roleId, role] = onlyResource(created.template, 'AWS::IAM::Role', {
      ManagedPolicyArns: Match.arrayWith([Match.objectLike({ 'Fn::Join': Match.anyValue() })]),
    });
    expect(account.Properties.CloudWatchRoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(render(role.Properties.ManagedPolicyArns[0])).toContain('AmazonAPIGatewayPushToCloudWatchLogs');
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({
      Service: 'apigateway.amazonaws.com',
    });
    const [, stage] = onlyResource(created.template, 'AWS::ApiGateway::Stage');
    expect(stage.DependsOn).toContain(accountId);
    // The cdk.json flag only changes CDK's default; the stack decides itself.
    expect(CDK_JSON.context['@aws-cdk/aws-apigateway:disableCloudWatchRole']).toBe(true);
    const central = synth({ apiGatewayCloudWatchRole: false });
    central.template.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(new nag.AwsSolutionsChecks().validateScope(central.stack).violations).toEqual([]);
  });

  it('"It sits behind our own distribution": the REST API is REGIONAL, not edge-optimized', () => {
    const [, api] = onlyResource(created.template, 'AWS::ApiGateway::RestApi');
    expect(api.Properties.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
  });

  it('"Every API Gateway error is in our shape": THROTTLED (the stage throttle\'s 429, rate_limited), UNAUTHORIZED, DEFAULT_4XX and DEFAULT_5XX bodies are {"error":{"code","message"}} with API Gateway\'s message', () => {
    const responses = Object.values(created.template.findResources('AWS::ApiGateway::GatewayResponse'));
    expect(responses.map((r) => r.Properties.ResponseType).sort()).toEqual(
      ['DEFAULT_4XX', 'DEFAULT_5XX', 'THROTTLED', 'UNAUTHORIZED'].sort(),
    );
    expect(GATEWAY_ERROR_CODES.THROTTLED).toBe('rate_limited');
    for (const response of responses) {
      const type = response.Properties.ResponseType as keyof typeof GATEWAY_ERROR_CODES;
      const template = response.Properties.ResponseTemplates['application/json'] as string;
      // API Gateway substitutes $context.error.messageString with the message as a quoted JSON string.
      const body = JSON.parse(
        template.replace('$context.error.messageString', JSON.stringify('Too Many "Requests"')),
      ) as ApiErrorBody;
      expect(body).toEqual({ error: { code: GATEWAY_ERROR_CODES[type], message: 'Too Many "Requests"' } });
      expect(API_ERROR_CODES).toContain(body.error.code);
    }
  });
});

describe('viewer site', () => {
  it('is a private bucket read by CloudFront through origin access control only', () => {
    const bucket = logicalId(created, 'AWS::S3::Bucket');
    created.template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    const oac = logicalId(created, 'AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
      }),
    });
    const [distributionId, distribution] = onlyResource(created.template, 'AWS::CloudFront::Distribution');
    const origin = distribution.Properties.DistributionConfig.Origins[0];
    expect(origin.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [oac, 'Id'] });
    expect(origin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(distribution.Properties.DistributionConfig.DefaultCacheBehavior.ViewerProtocolPolicy).toBe(
      'redirect-to-https',
    );
    expect(distribution.Properties.DistributionConfig.DefaultRootObject).toBe('index.html');

    const [, policy] = onlyResource(created.template, 'AWS::S3::BucketPolicy', { Bucket: { Ref: bucket } });
    const allows = policy.Properties.PolicyDocument.Statement.filter((s: any) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0].Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
    expect(allows[0].Action).toBe('s3:GetObject');
    expect(render(allows[0].Condition.StringEquals['AWS:SourceArn'])).toContain(
      `distribution/<${distributionId}>`,
    );
  });

  it('deploys the built site and writes config.json {apiUrl, cachedApiUrl, playbackUrl, player: "ivs", channel} at deploy time', () => {
    const [, deployment] = onlyResource(created.template, 'Custom::CDKBucketDeployment');
    const p = deployment.Properties;
    expect(p.DistributionPaths).toEqual(['/*']);
    const [siteKey, configKey] = p.SourceObjectKeys as string[];
    const assetDir = (key: string) => join(outdir(created), `asset.${key.replace(/\.zip$/, '')}`);
    // The build's own config.json (local dev) is left out; the generated one replaces it.
    expect(readdirSync(assetDir(siteKey!)).sort()).toEqual(['index.html']);
    let config = readFileSync(join(assetDir(configKey!), 'config.json'), 'utf8');
    for (const [marker, value] of Object.entries(p.SourceMarkers[1] as Record<string, unknown>)) {
      config = config.replaceAll(marker, render(value));
    }
    const api = logicalId(created, 'AWS::ApiGateway::RestApi');
    const stage = logicalId(created, 'AWS::ApiGateway::Stage');
    const distribution = logicalId(created, 'AWS::CloudFront::Distribution');
    expect(JSON.parse(config)).toEqual({
      apiUrl: `https://<${api}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/<${stage}>`,
      // GET /poll-get through the site's own distribution (cached 1 s: cloudfront.test.ts).
      cachedApiUrl: `https://<${distribution}.DomainName>/api`,
      playbackUrl: '<Channel.PlaybackUrl>',
      // The id GET /poll-current?channel= takes: the channel ARN's last part.
      channel: '<Channel.Arn>.split(/)[1]',
      // The control room signs in through the producers' user pool (classic hosted UI, code + PKCE).
      control: {
        signIn: 'cognito',
        domain: `https://<${logicalId(created, 'AWS::Cognito::UserPoolDomain')}>.auth.<AWS::Region>.amazoncognito.com`,
        clientId: `<${logicalId(created, 'AWS::Cognito::UserPoolClient')}>`,
      },
      player: 'ivs',
    });
  });

  it('"After a redeploy, cached index.html must not name deleted assets": index.html and config.json are deployed no-cache, hashed assets immutable', () => {
    const site = fakeSite();
    mkdirSync(join(site, SITE_HASHED_ASSETS_DIR));
    writeFileSync(join(site, SITE_HASHED_ASSETS_DIR, 'index-AbC123.js'), 'export {};');
    const withAssets = synth({ siteDir: site });
    const [pagesId, pages] = onlyResource(withAssets.template, 'Custom::CDKBucketDeployment', {
      DistributionPaths: ['/*'],
    });
    const [assetsId, assets] = onlyResource(withAssets.template, 'Custom::CDKBucketDeployment', {
      DestinationBucketKeyPrefix: `${SITE_HASHED_ASSETS_DIR}/`,
    });
    expect(Object.keys(withAssets.template.findResources('Custom::CDKBucketDeployment')).sort()).toEqual(
      [pagesId, assetsId].sort(),
    );
    // Pages: revalidated on every load; their sync (and prune) leaves the hashed assets alone.
    expect(pages.Properties.SystemMetadata).toEqual({ 'cache-control': 'no-cache' });
    expect(SITE_PAGE_CACHE_CONTROL).toBe('no-cache');
    expect(pages.Properties.Exclude).toEqual([`${SITE_HASHED_ASSETS_DIR}/*`]);
    const assetDir = (key: string) => join(outdir(withAssets), `asset.${key.replace(/\.zip$/, '')}`);
    const [siteKey, configKey] = pages.Properties.SourceObjectKeys as string[];
    expect(readdirSync(assetDir(siteKey!)).sort()).toEqual(['index.html']);
    expect(readdirSync(assetDir(configKey!))).toEqual(['config.json']);
    // Hashed assets: cached for a year, never revalidated; earlier builds' assets are kept.
    expect(assets.Properties.SystemMetadata).toEqual({
      'cache-control': 'public, max-age=31536000, immutable',
    });
    expect(assets.Properties.Prune).toBe(false);
    expect(readdirSync(assetDir(assets.Properties.SourceObjectKeys[0]))).toEqual(['index-AbC123.js']);
    // The new index.html goes up (and CloudFront is invalidated) only after the assets it names.
    expect(pages.DependsOn).toContain(assetsId);
    expect(assets.Properties.DistributionPaths).toBeUndefined();
    expect(new nag.AwsSolutionsChecks().validateScope(withAssets.stack).violations).toEqual([]);
  });

  it('refuses to synth without a built site, saying how to build it', () => {
    const empty = tempDir('nosite');
    expect(() => synth({ siteDir: empty })).toThrow(
      /viewer site is not built: .*index\.html is missing.*npm run build/,
    );
  });
});

describe('state machine', () => {
  it('is a Standard workflow logging errors (without execution data: alarms.test.ts) to its log group, and tracing', () => {
    const [, machine] = onlyResource(created.template, 'AWS::StepFunctions::StateMachine');
    expect(machine.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false },
      TracingConfiguration: { Enabled: true },
    });
    const [destination] = machine.Properties.LoggingConfiguration.Destinations;
    const logs =
      created.template.toJSON().Resources[destination.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0]];
    expect(logs.Type).toBe('AWS::Logs::LogGroup');
    expect(render(logs.Properties.LogGroupName)).toMatch(/^\/aws\/vendedlogs\/states\//);
  });

  it('is statemachine/show.asl.json with every ${…} substitution filled by this stack', () => {
    const asl = readAslDefinition(DEFAULT_DEFINITION_PATH);
    expect(asl.substitutionNames.length).toBeGreaterThan(0);
    const [, machine] = onlyResource(created.template, 'AWS::StepFunctions::StateMachine');
    // DefinitionBody.fromFile uploads the file as an asset; CloudFormation applies DefinitionSubstitutions to it.
    const deployed = readFileSync(
      join(outdir(created), `asset.${machine.Properties.DefinitionS3Location.Key}`),
      'utf8',
    );
    expect(deployed).toBe(readFileSync(DEFAULT_DEFINITION_PATH, 'utf8'));
    const substitutions = machine.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(substitutions).sort()).toEqual([...asl.substitutionNames].sort());
    const rendered = applySubstitutions(
      deployed,
      Object.fromEntries(Object.entries(substitutions).map(([k, v]) => [k, render(v)])),
    );
    expect(rendered).not.toContain('${');
    expect(() => JSON.parse(rendered)).not.toThrow();
    const lifecycle = logicalId(created, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('lifecycle'),
    });
    const table = logicalId(created, 'AWS::DynamoDB::Table');
    expect(render(substitutions['PollLifecycleFunctionArn'])).toBe(`<${lifecycle}.Arn>`);
    if ('ChannelArn' in substitutions) expect(render(substitutions['ChannelArn'])).toBe('<Channel.Arn>');
    if ('TableName' in substitutions) expect(render(substitutions['TableName'])).toBe(`<${table}>`);
    // With an existing channel the default channel is that ARN.
    const [, other] = onlyResource(existing.template, 'AWS::StepFunctions::StateMachine');
    if ('ChannelArn' in substitutions)
      expect(other.Properties.DefinitionSubstitutions.ChannelArn).toBe(EXISTING_CHANNEL);
  });

  it('fails synth, naming the placeholder, when the definition uses a substitution the stack does not provide', () => {
    const dir = tempDir('asl');
    const path = join(dir, 'show.asl.json');
    writeFileSync(
      path,
      JSON.stringify({
        StartAt: 'Cue',
        States: { Cue: { Type: 'Task', Resource: '${ManualCueFunctionArn}', End: true } },
      }),
    );
    expect(() => synth({ definitionPath: path })).toThrow(
      /uses \$\{ManualCueFunctionArn\}, which the Showrunner stack does not provide/,
    );
    expect(() => synth({ definitionPath: join(dir, 'missing.json') })).toThrow(
      /state machine definition is missing/,
    );
  });

  it('fails synth when a Task calls a service the stack does not grant', () => {
    const dir = tempDir('asl');
    const path = join(dir, 'show.asl.json');
    writeFileSync(
      path,
      JSON.stringify({
        StartAt: 'Notify',
        States: { Notify: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:sns:publish', End: true } },
      }),
    );
    expect(() => synth({ definitionPath: path })).toThrow(/state "Notify" calls sns:Publish/);
  });
});

describe('IAM (least privilege)', () => {
  const stateMachinePolicy = (s: Synth) =>
    statements(s.template).filter((x) => x.policy.startsWith('ShowStateMachineRoleDefaultPolicy'));

  it('allows ivs:PutMetadata on the stack channel only, to the state machine (cues) and the lifecycle Lambda (tally loop)', () => {
    const grants = statements(created.template).filter((s) =>
      asArray(s.statement.Action).some((a: string) => a.startsWith('ivs:')),
    );
    expect(grants).toHaveLength(2);
    for (const grant of grants) {
      expect(grant.statement.Action).toBe('ivs:PutMetadata');
      expect(grant.statement.Resource).toEqual({ 'Fn::GetAtt': ['Channel', 'Arn'] });
    }
    expect(grants.map((g) => g.policy).sort()).toEqual([
      expect.stringMatching(/^PollLifecycleFunctionRole/),
      expect.stringMatching(/^ShowStateMachineRole/),
    ]);
  });

  it('allows ivs:PutMetadata on an existing channel (and the extra channels given) only', () => {
    const grants = statements(existing.template).filter((s) =>
      asArray(s.statement.Action).some((a: string) => a.startsWith('ivs:') && a !== 'ivs:GetChannel'),
    );
    expect(grants).toHaveLength(2);
    for (const grant of grants) {
      expect(grant.statement.Action).toBe('ivs:PutMetadata');
      expect(asArray(grant.statement.Resource).sort()).toEqual([EXISTING_CHANNEL, OTHER_CHANNEL].sort());
    }
  });

  it('gives the lifecycle Lambda no IVS action but PutMetadata, and the table reads its tally loop makes (BatchGetItem)', () => {
    const lifecycle = statements(created.template).filter((s) => /^PollLifecycleFunctionRole/.test(s.policy));
    const actions = lifecycle.flatMap((s) => asArray(s.statement.Action) as string[]);
    expect(actions.filter((a) => a.startsWith('ivs:'))).toEqual(['ivs:PutMetadata']);
    expect(actions).toContain('dynamodb:BatchGetItem');
  });

  it('lets the state machine invoke the lifecycle function itself (no :* versions) and make exactly its Task calls', () => {
    const lifecycle = logicalId(created, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('lifecycle'),
    });
    const invoke = stateMachinePolicy(created).filter((s) =>
      asArray(s.statement.Action).includes('lambda:InvokeFunction'),
    );
    expect(invoke.map((s) => s.statement.Resource)).toEqual([{ 'Fn::GetAtt': [lifecycle, 'Arn'] }]);
    const granted = new Set(stateMachinePolicy(created).flatMap((s) => asArray(s.statement.Action)));
    const needed = new Set(readAslDefinition(DEFAULT_DEFINITION_PATH).tasks.map((t) => t.iamAction));
    for (const action of needed) expect(granted).toContain(action);
    const taskActions = [...granted].filter((a) => !/^(logs|xray):/.test(a));
    expect(taskActions.sort()).toEqual([...needed].sort());
  });

  it('gives the viewer API and lifecycle Lambdas read/write on the table and Query on its index, without Scan, DeleteItem or wildcards', () => {
    const table = logicalId(created, 'AWS::DynamoDB::Table');
    for (const role of ['ApiFunctionRole', 'PollLifecycleFunctionRole']) {
      const grants = statements(created.template)
        .filter(
          (s) =>
            s.policy.startsWith(role) &&
            asArray(s.statement.Action).some((a: string) => a.startsWith('dynamodb:')),
        )
        .map(({ statement }) => ({
          actions: asArray(statement.Action).sort(),
          resources: asArray(statement.Resource).map(render),
        }));
      expect(grants).toEqual([
        {
          actions: [
            'dynamodb:BatchGetItem',
            'dynamodb:ConditionCheckItem',
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:Query',
            'dynamodb:UpdateItem',
          ],
          resources: [`<${table}.Arn>`],
        },
        { actions: ['dynamodb:Query'], resources: [`<${table}.Arn>/index/${TABLE.requestorIndex.name}`] },
      ]);
    }
  });

  it('"Item actions on the table only": no policy in the template allows anything but Query or Scan on an index ARN', () => {
    const onIndex = statements(created.template).flatMap(({ policy, statement }) =>
      asArray(statement.Resource)
        .map(render)
        .filter((r) => r.includes('/index/'))
        .map((resource) => ({ policy, resource, actions: asArray(statement.Action) as string[] })),
    );
    // The viewer API, the lifecycle Lambda and the state machine's query (if its definition has one).
    expect(onIndex.length).toBeGreaterThanOrEqual(2);
    for (const grant of onIndex) {
      expect({
        ...grant,
        actions: grant.actions.filter((a) => !['dynamodb:Query', 'dynamodb:Scan'].includes(a)),
      }).toEqual({
        ...grant,
        actions: [],
      });
    }
    // Nor in any resource policy or inline role policy.
    const template = JSON.stringify(created.template.toJSON());
    expect(template.match(/\/index\//g)?.length).toBe(onIndex.length);
  });

  it('"The site deployment may invalidate this distribution only": CDK\'s "*" is narrowed to the distribution\'s ARN (CreateInvalidation and GetInvalidation take resource-level permissions)', () => {
    const distribution = logicalId(created, 'AWS::CloudFront::Distribution');
    const invalidation = statements(created.template).filter(({ statement }) =>
      asArray(statement.Action).some((a: string) => a.startsWith('cloudfront:')),
    );
    expect(
      invalidation.map(({ policy, statement }) => [
        policy,
        asArray(statement.Action).sort(),
        asArray(statement.Resource).map(render),
      ]),
    ).toEqual([
      [
        expect.stringMatching(/^SiteDeploymentRoleDefaultPolicy/),
        ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'],
        [`arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/<${distribution}>`],
      ],
    ]);
    // The fact behind it: CDK's own list of CloudFront actions that only take Resource "*" (its
    // Distribution grants use it) does not name them.
    const utils = readFileSync(
      join(REPO_ROOT, 'node_modules', 'aws-cdk-lib', 'aws-cloudfront', 'lib', 'private', 'utils.js'),
      'utf8',
    );
    const wildcardOnly = /wildcardOnlyActions=(\[[^\]]*\])/.exec(utils)?.[1];
    expect(wildcardOnly).toBeDefined();
    const list = JSON.parse(wildcardOnly!) as string[];
    expect(list).toContain('cloudfront:ListDistributions');
    expect(list).not.toContain('cloudfront:CreateInvalidation');
    expect(list).not.toContain('cloudfront:GetInvalidation');
    // The deployment Lambda runs with that role, and logs to a group of the stack's.
    const [, deployer] = onlyResource(created.template, 'AWS::Lambda::Function', {
      Layers: Match.anyValue(),
    });
    expect(deployer.Properties.Role['Fn::GetAtt'][0]).toMatch(/^SiteDeploymentRole/);
    expect(deployer.Properties.LoggingConfig.LogGroup.Ref).toMatch(/^SiteDeploymentLogs/);
  });

  it('uses Resource "*" only for APIs without resource-level permissions', () => {
    const wildcard = statements(created.template)
      .filter((s) => asArray(s.statement.Resource).includes('*'))
      .flatMap((s) => asArray(s.statement.Action) as string[]);
    for (const action of wildcard) {
      expect(action).toMatch(
        /^(logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)|xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets))$/,
      );
    }
    // No resource anywhere ends in a bare wildcard except bucket object paths (site copy) and those APIs.
    const rendered = statements(created.template).flatMap((s) => asArray(s.statement.Resource).map(render));
    // The producer API's execution actions end in a wildcard: run names are chosen at start time.
    expect(rendered.filter((r) => r.endsWith('*') && r !== '*' && !r.endsWith('/*'))).toEqual([
      'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<ShowStateMachine7612D96E>.split(:)[6]:*',
    ]);
  });
});

describe('outputs', () => {
  it('has the keys the CLI (--target aws) and the README read', () => {
    const keys = Object.keys(created.template.toJSON().Outputs);
    expect(keys).toEqual(
      expect.arrayContaining([
        'SiteUrl',
        'ApiUrl',
        'CachedApiUrl',
        'PlaybackUrl',
        'IngestEndpoint',
        'StreamKeyArn',
        'StateMachineArn',
        'ChannelArn',
        'TableName',
        'ControlRoomUrl',
        'ProducerPoolId',
        'Audience',
      ]),
    );
    const outputs = created.template.toJSON().Outputs;
    expect(outputs.StateMachineArn.Value).toEqual({
      Ref: logicalId(created, 'AWS::StepFunctions::StateMachine'),
    });
    expect(outputs.TableName.Value).toEqual({ Ref: logicalId(created, 'AWS::DynamoDB::Table') });
    expect(render(outputs.ApiUrl.Value)).not.toMatch(/\/$/);
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  const check = (stack: Stack) => new nag.AwsSolutionsChecks().validateScope(stack);

  it('reports no unacknowledged finding, with a created or an existing channel, with or without tracing, the logging role, reservations', () => {
    for (const s of [
      created,
      existing,
      synth({ tracing: false }),
      synth({ apiGatewayCloudWatchRole: false }),
      synth({ audience: 100_000 }),
    ]) {
      expect(
        check(s.stack).violations.map(
          (v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`,
        ),
      ).toEqual([]);
      // cdk-nag 3 reports through CDK's validation plugins, not annotations; none may appear either way.
      expect(
        Annotations.fromStack(s.stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ).toEqual([]);
      expect(
        Annotations.fromStack(s.stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ).toEqual([]);
    }
  });

  it('gives every acknowledgement a reason', () => {
    const reasons: string[] = [];
    const visit = (node: import('constructs').IConstruct) => {
      for (const entry of node.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          reasons.push(...Object.values(entry.data as Record<string, string>));
      }
      node.node.children.forEach(visit);
    };
    visit(created.stack);
    expect(reasons.length).toBeGreaterThan(10);
    for (const reason of reasons) expect(reason.length).toBeGreaterThan(30);
  });

  it('would catch a finding (the check is not vacuous), and fails app synth on one', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Bare');
    new Bucket(stack, 'Unlogged');
    expect(check(stack).violations.map((v) => v.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']),
    );
    Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/[Vv]alidation/);
  });
});

describe('honest state', () => {
  it('"A stopped or timed-out run closes its open polls": an EventBridge rule sends the show state machine\'s FAILED, ABORTED and TIMED_OUT executions to the lifecycle Lambda', () => {
    const [, rule] = onlyResource(created.template, 'AWS::Events::Rule');
    const machine = logicalId(created, 'AWS::StepFunctions::StateMachine');
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { stateMachineArn: [{ Ref: machine }], status: ['FAILED', 'ABORTED', 'TIMED_OUT'] },
    });
    const lifecycle = logicalId(created, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('poll lifecycle'),
    });
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [lifecycle, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 3 },
      }),
    ]);
  });
});

describe('viewer tokens', () => {
  it('"A token signed with a secret the stack creates": a generated Secrets Manager secret whose ARN the API Lambda gets, with read access to it alone, and Authorization allowed by CORS', () => {
    const [secretId, secret] = onlyResource(created.template, 'AWS::SecretsManager::Secret');
    expect(secret.Properties.GenerateSecretString).toMatchObject({
      PasswordLength: 64,
      ExcludePunctuation: true,
    });
    const api = onlyResource(created.template, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('viewer REST API'),
    })[1];
    expect(api.Properties.Environment.Variables.VIEWER_TOKEN_SECRET_ARN).toEqual({ Ref: secretId });
    expect(JSON.stringify(api.Properties.Environment.Variables)).not.toContain('SecretString');
    const reads = statements(created.template).filter(({ statement }) =>
      asArray(statement.Action).includes('secretsmanager:GetSecretValue'),
    );
    expect(reads.map(({ statement }) => statement.Resource)).toEqual([{ Ref: secretId }]);
    const preflight = created.template.findResources('AWS::ApiGateway::Method', {
      Properties: { HttpMethod: 'OPTIONS' },
    });
    expect(JSON.stringify(preflight)).toContain("'Content-Type,Authorization'");
  });
});

describe('control room', () => {
  it('"No self sign-up": producers are a Cognito user pool an administrator fills, with MFA required and a code-flow client for /control/', () => {
    const [, pool] = onlyResource(created.template, 'AWS::Cognito::UserPool');
    expect(pool.Properties.AdminCreateUserConfig).toMatchObject({ AllowAdminCreateUserOnly: true });
    expect(pool.Properties.MfaConfiguration).toBe('ON');
    expect(pool.Properties.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
    const [, client] = onlyResource(created.template, 'AWS::Cognito::UserPoolClient');
    expect(client.Properties).toMatchObject({
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email'],
      GenerateSecret: false,
    });
    const distribution = logicalId(created, 'AWS::CloudFront::Distribution');
    expect(client.Properties.CallbackURLs.map(render)).toEqual([
      `https://<${distribution}.DomainName>/control/`,
    ]);
  });

  it('"Code flow with PKCE, a refresh token, silent renewal, sign-out that revokes": token revocation on, ID and access tokens 1 h, refresh token a run\'s longest (a year) and a day, no user-pools-API sign-in flows', () => {
    const [, client] = onlyResource(created.template, 'AWS::Cognito::UserPoolClient');
    expect(client.Properties).toMatchObject({
      EnableTokenRevocation: true,
      IdTokenValidity: 60,
      AccessTokenValidity: 60,
      TokenValidityUnits: { IdToken: 'minutes', AccessToken: 'minutes', RefreshToken: 'minutes' },
      // Cognito's default without ExplicitAuthFlows would also allow SRP and custom auth.
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
    });
    expect(CONTROL_ROOM_TOKENS.refreshTokenDays).toBe(366);
    expect(client.Properties.RefreshTokenValidity).toBe(366 * 24 * 60);
    expect(client.Properties.RefreshTokenValidity * 60).toBeGreaterThanOrEqual(MAX_RUN_SECONDS);
    // Cognito allows refresh tokens of 60 minutes to 10 years, ID and access tokens of 5 minutes to a day.
    expect(client.Properties.RefreshTokenValidity).toBeLessThanOrEqual(10 * 365 * 24 * 60);
    // The code grant returns the refresh token: Cognito has no offline_access scope.
    expect(client.Properties.AllowedOAuthScopes).not.toContain('offline_access');
  });

  it('"Two stacks in one account and region": the sign-in domain prefix is showrunner-<the stack id\'s UUID> (47 characters, lowercase hex), and a prefix given that Cognito would refuse fails synth', () => {
    const [, domain] = onlyResource(created.template, 'AWS::Cognito::UserPoolDomain');
    expect(domain.Properties.Domain).toEqual({
      'Fn::Join': [
        '',
        ['showrunner-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }],
      ],
    });
    // A stack id ends in a UUID: the prefix fits Cognito's pattern and has none of its reserved words.
    const prefix =
      'showrunner-' +
      'arn:aws:cloudformation:us-east-1:123456789012:stack/Showrunner/51af3dc0-da77-11e4-872e-1234567db123'.split(
        '/',
      )[2];
    expect(prefix).toMatch(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
    expect(prefix).toHaveLength(47);
    const mine = synth({ controlDomainPrefix: 'my-show-2025' });
    expect(onlyResource(mine.template, 'AWS::Cognito::UserPoolDomain')[1].Properties.Domain).toBe(
      'my-show-2025',
    );
    for (const bad of ['My-Show', '-show', 'show-', 'a'.repeat(64), 'show_1']) {
      expect(() => synth({ controlDomainPrefix: bad })).toThrow(
        /-c controlDomainPrefix=.*: expected lowercase letters/,
      );
    }
    for (const word of ['aws', 'amazon', 'cognito']) {
      expect(() => synth({ controlDomainPrefix: `my-${word}-show` })).toThrow(
        `without the word "${word}" (Cognito reserves aws, amazon and cognito)`,
      );
    }
  });

  it('"A Cognito authorizer on /producer/…": every producer method needs the pool\'s token, the viewer routes stay anonymous', () => {
    const [authorizerId, authorizer] = onlyResource(created.template, 'AWS::ApiGateway::Authorizer');
    expect(authorizer.Properties.Type).toBe('COGNITO_USER_POOLS');
    const methods = Object.values(created.template.findResources('AWS::ApiGateway::Method')).filter(
      (m) => m.Properties.HttpMethod !== 'OPTIONS',
    );
    const producerFunction = logicalId(created, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('producer API'),
    });
    const producerMethods = methods.filter((m) =>
      render(m.Properties.Integration.Uri).includes(`<${producerFunction}.Arn>`),
    );
    expect(producerMethods).toHaveLength(1);
    expect(producerMethods[0]!.Properties).toMatchObject({
      AuthorizationType: 'COGNITO_USER_POOLS',
      AuthorizerId: { Ref: authorizerId },
    });
    for (const m of methods.filter((m) => !producerMethods.includes(m))) {
      expect(m.Properties.AuthorizationType).toBe('NONE');
    }
  });

  it('"Least privilege": the producer Lambda may start this state machine, act on its executions and answer its cue tokens, touch the table\'s items and query its partitions (the leaderboard), never its index', () => {
    const producerFunction = logicalId(created, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('producer API'),
    });
    const [, fn] = onlyResource(created.template, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('producer API'),
    });
    const role = fn.Properties.Role['Fn::GetAtt'][0];
    const machine = logicalId(created, 'AWS::StepFunctions::StateMachine');
    const table = logicalId(created, 'AWS::DynamoDB::Table');
    const granted = statements(created.template)
      .filter(({ policy }) =>
        created.template.toJSON().Resources[policy].Properties.Roles.some((r: any) => r.Ref === role),
      )
      .map(({ statement }) => ({
        actions: asArray(statement.Action).sort(),
        resources: asArray(statement.Resource).map(render),
      }))
      // Its log group, and X-Ray (Active tracing, Resource "*": see the Lambdas' tracing test).
      .filter(({ actions }) => !actions.every((a: string) => /^(logs|xray):/.test(a)));
    // CDK merges statements with the same resources.
    expect(granted).toEqual([
      {
        actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        resources: [`<${table}.Arn>`],
      },
      {
        actions: [
          'states:ListExecutions',
          'states:SendTaskFailure',
          'states:SendTaskHeartbeat',
          'states:SendTaskSuccess',
          'states:StartExecution',
        ],
        resources: [`<${machine}>`],
      },
      {
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'],
        resources: [
          `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${machine}>.split(:)[6]:*`,
        ],
      },
    ]);
    expect(producerFunction).toBeTruthy();
  });
});
