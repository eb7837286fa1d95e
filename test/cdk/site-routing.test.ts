// Every URL of the cloud site, routed the way CloudFront would: through the distribution's cache
// behaviors (path patterns in order, then the default), their viewer-request CloudFront Functions
// (the code in the SYNTHESIZED template, executed), to an origin, checked against the objects the
// stack's deployments really upload (from the built site/dist) and the caching each gets.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runInNewContext } from 'node:vm';
import { CachePolicy } from 'aws-cdk-lib/aws-cloudfront';
import { DEFAULT_SITE_DIR, REPO_ROOT } from '../../cdk/lib/paths.ts';
import {
  SITE_ASSET_CACHE_CONTROL,
  SITE_HASHED_ASSETS_DIR,
  SITE_PAGE_CACHE_CONTROL,
} from '../../cdk/lib/site.ts';
import { API_STAGE_NAME } from '../../cdk/lib/viewer-api.ts';
import { onlyResource, removeTempDirs, render, synth, type Synth } from './support.ts';

afterAll(removeTempDirs);

let built: Synth;
/** Every object the site deployments put in the bucket, with its Cache-Control. */
let objects: Map<string, string>;

const DOMAIN = 'd111111abcdef8.cloudfront.net';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

beforeAll(() => {
  // The real build (npm test builds it first; a lone run of this file builds it here).
  if (!existsSync(join(DEFAULT_SITE_DIR, 'index.html')) || !existsSync(join(DEFAULT_SITE_DIR, 'control'))) {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, stdio: 'ignore', timeout: 120_000 });
  }
  built = synth({ siteDir: DEFAULT_SITE_DIR });
  objects = new Map();
  for (const deployment of Object.values(built.template.findResources('Custom::CDKBucketDeployment'))) {
    const p = deployment.Properties;
    const prefix: string = p.DestinationBucketKeyPrefix ?? '';
    for (const key of p.SourceObjectKeys as string[]) {
      const dir = join(built.app.outdir, `asset.${key.replace(/\.zip$/, '')}`);
      for (const file of filesUnder(dir)) {
        objects.set(prefix + relative(dir, file), p.SystemMetadata['cache-control']);
      }
    }
  }
}, 180_000);

const config = () =>
  onlyResource(built.template, 'AWS::CloudFront::Distribution')[1].Properties.DistributionConfig;

/** A CloudFront path pattern as a regular expression: `*` any characters, `?` one. */
const patternRegExp = (pattern: string) =>
  new RegExp(
    `^${(pattern.startsWith('/') || pattern === '*' ? pattern : `/${pattern}`)
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

/** The behavior CloudFront picks: the first cache behavior whose pattern matches, else the default. */
function behaviorFor(path: string): any {
  const behaviors = [
    ...((config().CacheBehaviors as any[]) ?? []),
    { ...config().DefaultCacheBehavior, PathPattern: '*' },
  ];
  return behaviors.find((b) => patternRegExp(b.PathPattern).test(path));
}

/** A CloudFront Functions handler from the template's FunctionCode, run in a fresh context. */
function functionHandler(arn: any): (event: unknown) => any {
  const id = arn['Fn::GetAtt'][0];
  const fn = built.template.toJSON().Resources[id];
  expect(fn.Properties.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
  return runInNewContext(`${fn.Properties.FunctionCode}\n;handler`, {}) as (event: unknown) => any;
}

/** The event a viewer-request function gets (CloudFront Functions event structure, version 1.0). */
function viewerRequest(url: URL): unknown {
  const querystring: Record<string, { value: string; multiValue?: { value: string }[] }> = {};
  for (const [name, value] of url.searchParams) {
    const field = querystring[name];
    if (field) field.multiValue = [...(field.multiValue ?? [{ value: field.value }]), { value }];
    else querystring[name] = { value };
  }
  return {
    version: '1.0',
    context: {
      distributionDomainName: DOMAIN,
      distributionId: 'EDFDVBD6EXAMPLE',
      eventType: 'viewer-request',
      requestId: 'r1',
    },
    viewer: { ip: '198.51.100.7' },
    request: {
      method: 'GET',
      uri: url.pathname,
      querystring,
      headers: { host: { value: DOMAIN } },
      cookies: {},
    },
  };
}

type Landing =
  | {
      origin: 's3';
      key: string;
      cacheControl: string | undefined;
      cachePolicyId: string;
      redirects: string[];
    }
  | {
      origin: 'api';
      path: string;
      querystring: Record<string, unknown>;
      cachePolicyId: any;
      redirects: string[];
    };

/** Where a GET of `path` (with its query string) lands, following redirects the functions answer. */
function route(path: string, redirects: string[] = []): Landing {
  const url = new URL(path, `https://${DOMAIN}`);
  const behavior = behaviorFor(url.pathname);
  let request: any = (viewerRequest(url) as any).request;
  for (const association of (behavior.FunctionAssociations as any[]) ?? []) {
    expect(association.EventType).toBe('viewer-request');
    const result = functionHandler(association.FunctionARN)({ ...(viewerRequest(url) as object), request });
    if (result.statusCode !== undefined) {
      expect(result.statusCode).toBe(301);
      expect(redirects.length).toBeLessThan(3);
      const location = result.headers.location.value as string;
      return route(location, [...redirects, location]);
    }
    request = result;
  }
  const origin = (config().Origins as any[]).find((o) => o.Id === behavior.TargetOriginId);
  if (origin.S3OriginConfig) {
    const key = request.uri.replace(/^\//, '');
    return {
      origin: 's3',
      key,
      cacheControl: objects.get(key),
      cachePolicyId: behavior.CachePolicyId,
      redirects,
    };
  }
  return {
    origin: 'api',
    path: `${origin.OriginPath}${request.uri}`,
    querystring: request.querystring,
    cachePolicyId: behavior.CachePolicyId,
    redirects,
  };
}

/** A page: index.html of a folder, revalidated on every load, through the default behavior's cache policy. */
function expectPage(landing: Landing, key: string): void {
  expect(landing).toMatchObject({ origin: 's3', key, cacheControl: SITE_PAGE_CACHE_CONTROL });
  expect(existsSync(join(DEFAULT_SITE_DIR, key))).toBe(true);
  // CachingOptimized honours the object's Cache-Control (no-cache: at most its 1 s minimum TTL).
  expect(landing.cachePolicyId).toBe(CachePolicy.CACHING_OPTIMIZED.cachePolicyId);
}

describe('the cloud site: every URL reaches an object the deployments upload (real site/dist)', () => {
  it('"/" is the viewer page, site/dist/index.html, revalidated on every load', () => {
    expectPage(route('/'), 'index.html');
  });

  it('"/control/" and the Cognito redirect "/control/?code=abc&state=xyz" are the control room, site/dist/control/index.html, query string kept', () => {
    expectPage(route('/control/'), 'control/index.html');
    const back = route('/control/?code=abc&state=xyz');
    expectPage(back, 'control/index.html');
    expect(back.redirects).toEqual([]);
  });

  it('"/control" (no slash) is redirected to "/control/" once (301), query string kept, and lands on the control room', () => {
    const landing = route('/control');
    expect(landing.redirects).toEqual(['/control/']);
    expectPage(landing, 'control/index.html');
    expect(route('/control?code=abc&state=xyz').redirects).toEqual(['/control/?code=abc&state=xyz']);
    expect(route('/control?a=1&a=2').redirects).toEqual(['/control/?a=1&a=2']);
  });

  it('"/config.json" is the deploy-time config, revalidated on every load; files are never rewritten', () => {
    const landing = route('/config.json');
    expect(landing).toMatchObject({
      origin: 's3',
      key: 'config.json',
      cacheControl: SITE_PAGE_CACHE_CONTROL,
      redirects: [],
    });
  });

  it('a hashed asset of the real build ("/assets/<name>-<hash>.js") is served as is, cached for a year', () => {
    const hashed = readdirSync(join(DEFAULT_SITE_DIR, SITE_HASHED_ASSETS_DIR)).filter((f) =>
      /-[A-Za-z0-9_-]{6,}\.js$/.test(f),
    );
    expect(hashed.length).toBeGreaterThan(0);
    for (const name of hashed) {
      const landing = route(`/${SITE_HASHED_ASSETS_DIR}/${name}`);
      expect(landing).toMatchObject({
        origin: 's3',
        key: `${SITE_HASHED_ASSETS_DIR}/${name}`,
        cacheControl: SITE_ASSET_CACHE_CONTROL,
        cachePolicyId: CachePolicy.CACHING_OPTIMIZED.cachePolicyId,
        redirects: [],
      });
    }
  });

  it('"/api/poll-get?poll_id=x" goes to the API stage (/prod/poll-get) with its 1 s cache policy, not to S3', () => {
    const landing = route('/api/poll-get?poll_id=x');
    const [policyId, policy] = onlyResource(built.template, 'AWS::CloudFront::CachePolicy');
    expect(landing).toMatchObject({
      origin: 'api',
      path: `/${API_STAGE_NAME}/poll-get`,
      querystring: { poll_id: { value: 'x' } },
      cachePolicyId: { Ref: policyId },
      redirects: [],
    });
    expect(policy.Properties.CachePolicyConfig).toMatchObject({ MinTTL: 0, DefaultTTL: 1, MaxTTL: 1 });
  });

  it('every page the build has is reachable by its folder URL, and every uploaded file exists in site/dist (but the generated config.json)', () => {
    for (const key of objects.keys()) {
      if (key === 'config.json') continue;
      expect(existsSync(join(DEFAULT_SITE_DIR, key))).toBe(true);
      if (key.endsWith('/index.html') || key === 'index.html') {
        expectPage(route(`/${key.slice(0, -'index.html'.length)}`), key);
      }
    }
  });

  it('"The control room\'s URLs resolve": the Cognito callback and logout URLs and the ControlRoomUrl output reach site/dist/control/index.html without a redirect', () => {
    const [, client] = onlyResource(built.template, 'AWS::Cognito::UserPoolClient');
    const urls = [
      ...client.Properties.CallbackURLs,
      ...client.Properties.LogoutURLs,
      built.template.toJSON().Outputs.ControlRoomUrl.Value,
    ].map(render);
    expect(urls).toHaveLength(3);
    for (const url of urls) {
      const { pathname } = new URL(url.replace(/<[^>]+>/, DOMAIN));
      const landing = route(pathname);
      expect(landing.redirects).toEqual([]);
      expectPage(landing, 'control/index.html');
    }
  });
});
