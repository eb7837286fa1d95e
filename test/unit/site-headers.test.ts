// The site's security headers (contract/site-headers.ts): the exact policies the local stack and the
// cloud send, what each page and player adds, and the origins it refuses to write into a header.
// test/e2e/csp.test.ts runs the pages under them in Chromium.
import { describe, expect, it } from '@jest/globals';
import {
  contentSecurityPolicy,
  IVS_PLAYER_ORIGINS,
  sitePageOf,
  siteSecurityHeaders,
  type SiteOrigins,
} from '../../contract/site-headers.ts';

const CLOUD: SiteOrigins = {
  player: 'ivs',
  apiOrigin: 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
  streamOrigins: IVS_PLAYER_ORIGINS,
  signInOrigin: 'https://showrunner-1234.auth.eu-west-1.amazoncognito.com',
};

/** The directives by name. */
const directives = (csp: string) =>
  Object.fromEntries(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));

describe('contentSecurityPolicy', () => {
  it('the local stack: everything on the page’s own origin, the same for both pages', () => {
    const local =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
      "media-src 'self' blob: data:; worker-src 'self'; object-src 'none'; base-uri 'none'; " +
      "form-action 'none'; frame-ancestors 'none'";
    expect(contentSecurityPolicy({ page: 'viewer' })).toBe(local);
    expect(contentSecurityPolicy({ page: 'control' })).toBe(local);
  });

  it('the cloud: the API, IVS and, for the control room only, the Cognito domain', () => {
    const viewer =
      "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
      "connect-src 'self' https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com https://*.live-video.net; " +
      "media-src 'self' blob: https://*.live-video.net; worker-src 'self'; object-src 'none'; " +
      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    expect(contentSecurityPolicy({ ...CLOUD, page: 'viewer' })).toBe(viewer);
    expect(contentSecurityPolicy({ ...CLOUD, page: 'control' })).toBe(
      viewer.replace(
        'https://*.live-video.net; media-src',
        'https://*.live-video.net https://showrunner-1234.auth.eu-west-1.amazoncognito.com; media-src',
      ),
    );
  });

  it('never allows inline script, eval, plugins, a <base> or framing, whatever the origins', () => {
    for (const page of ['viewer', 'control'] as const) {
      for (const origins of [{}, CLOUD]) {
        const csp = directives(contentSecurityPolicy({ ...origins, page }));
        expect(csp['script-src']).not.toMatch(/unsafe-inline|'unsafe-eval'|data:|blob:|\*/);
        expect(csp['style-src']).toBe("'self'");
        expect(csp['object-src']).toBe("'none'");
        expect(csp['base-uri']).toBe("'none'");
        expect(csp['frame-ancestors']).toBe("'none'");
        expect(csp['default-src']).toBe("'none'");
      }
    }
  });

  it("the player decides: 'wasm-unsafe-eval' for the IVS player's WebAssembly, data: media for hls.js's track", () => {
    const ivs = directives(contentSecurityPolicy({ page: 'viewer', player: 'ivs' }));
    const hls = directives(contentSecurityPolicy({ page: 'viewer', player: 'hls.js' }));
    expect(ivs['script-src']).toBe("'self' 'wasm-unsafe-eval'");
    expect(ivs['media-src']).toBe("'self' blob:");
    expect(hls['script-src']).toBe("'self'");
    expect(hls['media-src']).toBe("'self' blob: data:");
  });

  it('names each origin once, and takes CDK tokens that resolve to origins', () => {
    const api = 'https://${Token[TOKEN.812]}.execute-api.${Token[AWS.Region.4]}.${Token[AWS.URLSuffix.3]}';
    const csp = directives(
      contentSecurityPolicy({
        page: 'viewer',
        apiOrigin: api,
        streamOrigins: ['https://*.live-video.net', 'https://*.live-video.net'],
      }),
    );
    expect(csp['connect-src']).toBe(`'self' ${api} https://*.live-video.net`);
  });

  it('refuses what is not an origin: a path, a separator, a quote, a space, no scheme', () => {
    for (const bad of [
      'https://api.example.com/prod',
      'https://a.example; script-src *',
      'https://a.example, b',
      "'unsafe-inline'",
      'https://a .example',
      'api.example.com',
      '',
    ]) {
      expect(() => contentSecurityPolicy({ page: 'viewer', apiOrigin: bad })).toThrow(
        /apiOrigin: expected an origin/,
      );
      expect(() => contentSecurityPolicy({ page: 'control', signInOrigin: bad })).toThrow(/signInOrigin/);
      expect(() => contentSecurityPolicy({ page: 'viewer', streamOrigins: [bad] })).toThrow(/streamOrigins/);
    }
  });

  it('adds a report-uri only when asked, and only a path or an http(s) URL', () => {
    expect(contentSecurityPolicy({ page: 'viewer' })).not.toContain('report-uri');
    expect(contentSecurityPolicy({ page: 'viewer', reportUri: '/csp-report' })).toMatch(
      /; report-uri \/csp-report$/,
    );
    expect(() => contentSecurityPolicy({ page: 'viewer', reportUri: '/r; script-src *' })).toThrow(
      /reportUri/,
    );
  });
});

describe('siteSecurityHeaders', () => {
  it('both pages: their CSP, no referrer, no framing, no sniffing', () => {
    for (const page of ['viewer', 'control'] as const) {
      expect(siteSecurityHeaders({ ...CLOUD, page })).toEqual({
        'content-security-policy': contentSecurityPolicy({ ...CLOUD, page }),
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
        'x-content-type-options': 'nosniff',
      });
    }
  });
});

describe('sitePageOf', () => {
  it('the control room’s folder is its page; everything else (assets included) is the viewer page’s', () => {
    expect(['/control', '/control/', '/control/index.html'].map(sitePageOf)).toEqual([
      'control',
      'control',
      'control',
    ]);
    expect(
      ['/', '/index.html', '/assets/control-1a2b.js', '/controls', '/config.json'].map(sitePageOf),
    ).toEqual(Array(5).fill('viewer'));
  });
});
