// The control room's Cognito sign-in in headless Chromium: the built page (site/dist) as it is
// deployed, under its Content-Security-Policy (contract/site-headers.ts: the Cognito domain is its
// only other origin), its config.json naming a fake Cognito domain on 127.0.0.1 (test/fixtures/
// cognito: the recorded answers of /oauth2/authorize, /oauth2/token, /oauth2/revoke and /logout,
// over HTTPS, ID tokens that live 3 s) and a producer API that checks the Bearer the way API
// Gateway's Cognito authorizer does (signature, audience, token use, expiry). The real browser runs
// the real page: a session outlives its first ID token with no new sign-in; sign-out revokes the
// refresh token and passes through Cognito's logout; a revoked refresh token ends the session with
// "Your sign-in ended — sign in again", once. No fixed sleeps: each step waits for what it expects
// (the one bounded wait checks that nothing more happens after the session ended).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { sendJson, type AppRoute } from '../../local/http.ts';
import { staticSiteRoute } from '../../local/static.ts';
import { FakeCognito, type IssuedIdToken } from '../fixtures/cognito/fake-cognito.ts';
import { launchChromium, screenshot } from '../support/browser.ts';
import { ROOT } from '../support/stack.ts';

const CLIENT = '1example23456789';
const TOKEN_SECONDS = 3;
const DESKTOP = { width: 1280, height: 900 };
const ENDED = 'Your sign-in ended — sign in again.';

let browser: Browser;
let server: Server;
let appUrl: string;
let controlUrl: string;
const cognito = new FakeCognito({
  clientId: CLIENT,
  callbackUrls: [],
  logoutUrls: [],
  tokenSeconds: TOKEN_SECONDS,
});
/** Every producer API request: the token it carried and what the authorizer said. */
const apiRequests: Array<{ path: string; token: string; status: number; at: number }> = [];

/** The producer API behind a Cognito authorizer: a valid ID token, or 401 {"message":"Unauthorized"}. */
const producerApi: AppRoute = {
  prefix: '/api/',
  handle(req, res) {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const ok = cognito.verify(token).ok;
    apiRequests.push({ path, token, status: ok ? 200 : 401, at: Date.now() });
    if (!ok) return sendJson(res, 401, { message: 'Unauthorized' });
    if (path === '/api/producer/list') return sendJson(res, 200, { runs: [] });
    return sendJson(res, 404, { error: { code: 'not_found', message: `nothing at ${path}` } });
  },
};

beforeAll(async () => {
  const domain = await cognito.listen();
  const routes: AppRoute[] = [];
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes.find((r) => path.startsWith(r.prefix)) ?? routes.at(-1)!;
    Promise.resolve(route.handle(req, res)).catch((error: Error) => {
      console.error(`${req.method} ${req.url}: ${error.stack}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  controlUrl = `${appUrl}/control/`;
  cognito.options.callbackUrls.push(controlUrl);
  cognito.options.logoutUrls.push(controlUrl);
  routes.push(
    producerApi,
    {
      prefix: '/config.json',
      handle: (_req, res) =>
        sendJson(
          res,
          200,
          {
            apiUrl: `${appUrl}/api`,
            playbackUrl: null,
            player: 'hls.js',
            channel: 'local',
            control: { signIn: 'cognito', domain, clientId: CLIENT },
          },
          { 'cache-control': 'no-store' },
        ),
    },
    // The built site, under the control room's Content-Security-Policy as the cloud sends it: the
    // page may call the Cognito domain (its token and revoke endpoints), nothing else but its own origin.
    staticSiteRoute(join(ROOT, 'site', 'dist'), () => 'site/dist is not built: npm run build\n', undefined, {
      signInOrigin: domain,
    }),
  );
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (server) {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
  await cognito.close();
});

/** Polls a condition of the test's own servers (what they received, the clock) until it holds. */
async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The refresh grants the fake received for one session (its refresh token). */
const refreshes = (refresh: string) =>
  cognito
    .requestsTo('/oauth2/token')
    .filter((r) => r.form.grant_type === 'refresh_token' && r.form.refresh_token === refresh);

/** A producer signs in through the (fake) managed login; returns the page and the session's first ID token. */
async function signedIn(): Promise<{
  page: Page;
  first: IssuedIdToken;
  errors: string[];
  close: () => Promise<void>;
}> {
  const context = await browser.newContext({ viewport: DESKTOP, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const issued = cognito.idTokens.length;
  await page.goto(controlUrl);
  await expect(page.getByRole('heading', { level: 2 }).textContent()).resolves.toBe(
    'Sign in to the control room',
  );
  await page.getByTestId('sign-in').getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('runs').getByText('No runs yet').waitFor();
  // Back from Cognito with the code, which left the address bar at once.
  expect(page.url()).toBe(controlUrl);
  const first = cognito.idTokens[issued]!;
  expect(first.grant).toBe('authorization_code');
  await expect(page.locator('header .who').textContent()).resolves.toContain('producer@example.com');
  return { page, first, errors, close: () => context.close() };
}

const kept = (page: Page) => page.evaluate(() => JSON.stringify(sessionStorage));

describe('control room: a Cognito sign-in that lasts the show', () => {
  it('a session outlives its first ID token: renewed in time, the API called with the renewed token', async () => {
    const { page, first, errors, close } = await signedIn();
    const renewed = () =>
      cognito.idTokens.filter((t) => t.refresh === first.refresh && t.grant === 'refresh_token');
    // Six seconds after sign-in its first ID token (3 s) has long expired, and been renewed twice at least.
    await until('6 s past the first ID token and two renewals', () => {
      return Date.now() >= (first.exp + TOKEN_SECONDS) * 1000 && renewed().length >= 2;
    });
    expect(await page.getByTestId('sign-in').count()).toBe(0);
    await expect(page.getByRole('button', { name: 'Sign out' }).isEnabled()).resolves.toBe(true);

    // The producer asks the API: it is called with a renewed token, and answers.
    const before = apiRequests.length;
    await page.getByTestId('runs').getByRole('button', { name: 'Refresh' }).click();
    await until('the API to be called', () => apiRequests.length > before);
    const call = apiRequests.at(-1)!;
    expect(call).toMatchObject({ path: '/api/producer/list', status: 200 });
    expect(call.at).toBeGreaterThan(first.exp * 1000);
    expect(renewed().map((t) => t.token)).toContain(call.token);
    await page.getByTestId('runs').getByText('No runs yet').waitFor();
    expect(await page.getByTestId('runs').getByRole('status').count()).toBe(0);
    // Renewed ahead of expiry, not after a refusal: the API never said 401 to this session.
    const tokens = new Set([first.token, ...renewed().map((t) => t.token)]);
    expect(apiRequests.filter((r) => tokens.has(r.token) && r.status !== 200)).toEqual([]);
    // Each renewal was Cognito's refresh grant for this app client and this refresh token.
    for (const request of refreshes(first.refresh)) {
      expect(request.contentType).toBe('application/x-www-form-urlencoded');
      expect(request.form).toEqual({
        grant_type: 'refresh_token',
        client_id: CLIENT,
        refresh_token: first.refresh,
      });
    }

    // A reload keeps the producer signed in (the refresh token is kept for the tab: auth.ts says
    // why sessionStorage), with no new sign-in.
    expect(await kept(page)).toContain(first.refresh);
    const codeGrants = cognito
      .requestsTo('/oauth2/token')
      .filter((r) => r.form.grant_type === 'authorization_code');
    await page.reload();
    await page.getByTestId('runs').getByText('No runs yet').waitFor();
    const renewals = refreshes(first.refresh).length;
    await until('a renewal after the reload', () => refreshes(first.refresh).length > renewals);
    expect(
      cognito.requestsTo('/oauth2/token').filter((r) => r.form.grant_type === 'authorization_code'),
    ).toHaveLength(codeGrants.length);
    expect(await page.getByTestId('sign-in').count()).toBe(0);
    expect(errors).toEqual([]);
    await close();
  }, 60_000);

  it('sign-out revokes the refresh token at Cognito, clears the tab and passes through Cognito’s logout', async () => {
    const { page, first, close } = await signedIn();
    const logout = page.waitForRequest((r) => r.url().startsWith(`${cognito.url}/logout?`));
    await page.getByRole('button', { name: 'Sign out' }).click();
    const request = await logout;
    await page.getByTestId('sign-in').waitFor();
    expect(page.url()).toBe(controlUrl);

    const revoke = cognito.requestsTo('/oauth2/revoke').at(-1)!;
    expect(revoke.contentType).toBe('application/x-www-form-urlencoded');
    expect(revoke.form).toEqual({ token: first.refresh, client_id: CLIENT });
    expect(cognito.renews(first.refresh)).toBe(false);
    expect(Object.fromEntries(new URL(request.url()).searchParams)).toEqual({
      client_id: CLIENT,
      logout_uri: controlUrl,
    });
    await expect(page.getByRole('heading', { level: 2 }).textContent()).resolves.toBe(
      'Sign in to the control room',
    );
    expect(await page.getByTestId('sign-in-problem').count()).toBe(0);
    expect(await kept(page)).not.toContain(first.refresh);
    expect(await kept(page)).not.toContain(first.token);
    await close();
  });

  it('when Cognito does not confirm the revocation the tab is signed out all the same, and says so', async () => {
    const { page, first, close } = await signedIn();
    cognito.revocationOff = true;
    try {
      const logout = page.waitForRequest((r) => r.url().startsWith(`${cognito.url}/logout?`));
      await page.getByRole('button', { name: 'Sign out' }).click();
      await logout;
      await page.getByTestId('sign-in-problem').waitFor();
      await expect(page.getByTestId('sign-in-problem').textContent()).resolves.toBe(
        'You are signed out of this tab, but the sign-in service did not confirm it revoked your sign-in (invalid_request): it stays valid there until it expires.',
      );
      expect(page.url()).toBe(controlUrl);
      expect(await kept(page)).not.toContain(first.refresh);
    } finally {
      cognito.revocationOff = false;
    }
    await close();
  });

  it('a revoked refresh token ends the session with "Your sign-in ended — sign in again", once', async () => {
    const { page, first, close } = await signedIn();
    const revokedAt = Date.now();
    cognito.revokeAll(); // an administrator signs the producer out everywhere
    await page.getByTestId('sign-in-problem').waitFor();
    await expect(page.getByTestId('sign-in-problem').textContent()).resolves.toBe(ENDED);
    await expect(page.getByRole('heading', { level: 2 }).textContent()).resolves.toBe('Sign in again');
    await expect(page.getByTestId('announcer').textContent()).resolves.toBe(ENDED);
    expect(await kept(page)).not.toContain(first.refresh);
    await screenshot(page, 'control-sign-in-ended-desktop');
    // No loop: one refused refresh, and nothing more once the session's next renewal would have come.
    await until(
      'two token lifetimes after the revocation',
      () => Date.now() > revokedAt + 2 * TOKEN_SECONDS * 1000,
    );
    expect(refreshes(first.refresh).filter((r) => r.at >= revokedAt)).toHaveLength(1);
    expect(apiRequests.filter((r) => r.at >= revokedAt && r.status === 401)).toEqual([]);
    await close();
  }, 30_000);
});
