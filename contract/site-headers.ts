// The site's security headers: the Content-Security-Policy of its two pages (the viewer page `/` and
// the control room `/control/`) and the headers that go with it. One definition, built from the
// origins the pages must reach: the local stack sends it from local/static.ts (everything on the
// page's own origin), CloudFront from its response headers policy (the API on execute-api, the stream
// on IVS, the producers' Cognito domain).
//
// What the pages need, and why each source is there:
//   script-src 'self'          the built bundles; no inline script anywhere (Vite emits none).
//              'wasm-unsafe-eval'  the IVS player only: its worker compiles the player's WebAssembly.
//   style-src 'self'           the built stylesheets. Svelte's `style:` directives set element.style
//                              through the CSSOM, which CSP does not govern; nothing sets a style
//                              attribute from markup and no library injects a <style>.
//   img-src 'self' data:       the `data:,` favicon that stops browsers asking for /favicon.ico.
//   connect-src                the page's own origin (config.json, and locally the API and the
//                              stream), the API, the stream's hosts, and for the control room the
//                              Cognito domain (its /oauth2/token and /oauth2/revoke endpoints).
//   media-src 'self' blob:     Media Source Extensions hand the <video> a blob: URL (hls.js and the
//                              IVS player); a browser that plays HLS natively gets the stream's URL.
//             data:            hls.js only: the <track> it keeps the stream's ID3 cues on loads
//                              `data:,WEBVTT` (a media load under CSP).
//   worker-src 'self'          the IVS player's worker, one of our assets (the player would wrap a
//                              worker of another origin in a blob:, which is why AWS's minimum lists
//                              blob:; ours is never of another origin). hls.js's ES module build
//                              makes no worker: it transmuxes on the page.
//   default-src 'none'         everything else (fonts, frames, manifests, prefetches): none is used.
//   object-src, base-uri 'none'; form-action 'none' (every form is handled by script, none submits);
//   frame-ancestors 'none'     no page of the site may be framed (X-Frame-Options: DENY for old browsers).
//
// A dedicated worker made from a URL gets the CSP of that URL's response, not the page's: wherever
// the player's worker is served from must send the same policy (the local stack and the recommended
// CloudFront setup send it on every file of the site).

/** The site's pages: `/` (index.html) and `/control/` (control/index.html). */
export type SitePage = 'viewer' | 'control';

/** What the pages play the stream with (config.json `player`). */
export type SitePlayer = 'hls.js' | 'ivs';

/**
 * What the Amazon IVS web player contacts, beyond the page's own origin: the playback URL
 * (https://<id>.<region>.playback.live-video.net/…m3u8), the playlists and segments it names, and
 * the player's own device-config and stats endpoints (prod.ivs-device-config.live-video.net,
 * player.stats.live-video.net). AWS documents `connect-src *.live-video.net` as the player's
 * minimum ("Working With Content Security Policy", IVS low-latency user guide).
 */
export const IVS_PLAYER_ORIGINS: readonly string[] = ['https://*.live-video.net'];

/** The origins a page must reach beyond its own; each is `scheme://host[:port]`, the host maybe `*.`-prefixed. */
export interface SiteOrigins {
  /**
   * The player of config.json (default 'hls.js'): 'ivs' allows WebAssembly ('wasm-unsafe-eval'),
   * 'hls.js' its metadata track's `data:` source.
   */
  player?: SitePlayer;
  /** The API's origin (config.json apiUrl) when it is not the page's own: the cloud's execute-api. */
  apiOrigin?: string;
  /** Where the stream comes from when not from the page's own origin: in the cloud IVS_PLAYER_ORIGINS. */
  streamOrigins?: readonly string[];
  /**
   * The control room's sign-in: the Cognito domain, https://<prefix>.auth.<region>.amazoncognito.com,
   * whose token and revoke endpoints the page calls. Only the control room's policy allows it.
   */
  signInOrigin?: string;
  /**
   * Where browsers report violations (`report-uri`); none by default. Reports never change what is
   * allowed: the tests use it to hear of violations inside workers, which no page listener sees.
   */
  reportUri?: string;
}

export interface SitePolicyInput extends SiteOrigins {
  page: SitePage;
}

/** The headers both pages send, apart from their Content-Security-Policy. */
export const SITE_HEADERS = {
  /**
   * Nothing of an address goes to other sites: the control room's address carries the local sign-in
   * token (in its fragment) and Cognito's authorization code (in its query). The viewer page has no
   * use for a Referer either, so one value serves both (and one CloudFront policy can serve both).
   */
  referrerPolicy: 'no-referrer',
  /** frame-ancestors 'none' for browsers that predate it. */
  frameOptions: 'DENY',
  contentTypeOptions: 'nosniff',
} as const;

/**
 * A source expression we can put in a policy: an origin, nothing that would end the directive or
 * the header. CDK tokens (`${Token[…]}`) pass: they resolve to the origin at deploy time.
 */
const ORIGIN_SOURCE = /^[a-z][a-z0-9+.-]*:\/\/[^\s;,'"/\\]+$/i;

function checkedOrigin(what: string, value: string): string {
  if (!ORIGIN_SOURCE.test(value)) {
    throw new Error(
      `${what}: expected an origin (scheme://host[:port], no path), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** The sources in order, each once. */
const unique = (sources: string[]) => [...new Set(sources)].join(' ');

/**
 * The page's Content-Security-Policy, as the header's value. The control room's allows all the
 * viewer page's does and its sign-in origin, so it is also the policy for a server (or one CloudFront
 * behavior) that serves both pages with one.
 */
export function contentSecurityPolicy(input: SitePolicyInput): string {
  const api = input.apiOrigin === undefined ? [] : [checkedOrigin('apiOrigin', input.apiOrigin)];
  const stream = (input.streamOrigins ?? []).map((o) => checkedOrigin('streamOrigins', o));
  const signIn =
    input.page === 'control' && input.signInOrigin !== undefined
      ? [checkedOrigin('signInOrigin', input.signInOrigin)]
      : [];
  const ivs = input.player === 'ivs';
  const wasm = ivs ? ["'wasm-unsafe-eval'"] : [];
  const track = ivs ? [] : ['data:'];
  const directives: Array<[string, string]> = [
    ['default-src', "'none'"],
    ['script-src', unique(["'self'", ...wasm])],
    ['style-src', "'self'"],
    ['img-src', "'self' data:"],
    ['connect-src', unique(["'self'", ...api, ...stream, ...signIn])],
    ['media-src', unique(["'self'", 'blob:', ...track, ...stream])],
    ['worker-src', "'self'"],
    ['object-src', "'none'"],
    ['base-uri', "'none'"],
    ['form-action', "'none'"],
    ['frame-ancestors', "'none'"],
  ];
  if (input.reportUri !== undefined) {
    if (!/^(\/|https?:\/\/)[^\s;,'"]*$/.test(input.reportUri)) {
      throw new Error(`reportUri: expected a path or an http(s) URL, got ${JSON.stringify(input.reportUri)}`);
    }
    directives.push(['report-uri', input.reportUri]);
  }
  return directives.map(([name, sources]) => `${name} ${sources}`).join('; ');
}

/**
 * The page's security headers as a server sends them (lower-case names): its Content-Security-Policy,
 * Referrer-Policy, X-Frame-Options and X-Content-Type-Options.
 */
export function siteSecurityHeaders(input: SitePolicyInput): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(input),
    'referrer-policy': SITE_HEADERS.referrerPolicy,
    'x-frame-options': SITE_HEADERS.frameOptions,
    'x-content-type-options': SITE_HEADERS.contentTypeOptions,
  };
}

/** The page a path of the site belongs to: the control room's folder, or else the viewer page's. */
export function sitePageOf(path: string): SitePage {
  return path === '/control' || path.startsWith('/control/') ? 'control' : 'viewer';
}
