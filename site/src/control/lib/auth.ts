// Signing producers in to the control room. Locally `npm start` prints a link with the stack's
// token in its fragment (`/control/#token=…`): the page keeps the token in sessionStorage and takes
// it out of the address bar. In AWS the Cognito user pool's managed login, with the authorization
// code flow and PKCE: the page sends the producer to `${domain}/oauth2/authorize`, Cognito sends
// them back to /control/?code=…&state=…, and the page trades the code for tokens at
// `${domain}/oauth2/token`; the ID token is the Bearer the API's Cognito authorizer checks.
//
// A show can run far longer than an ID token lives (1 h), so the page keeps the refresh token and
// renews the ID token before it expires (grant_type=refresh_token at the same endpoint): the
// control room's session state schedules it (session.svelte.ts), here is the exchange. A refresh
// token Cognito refuses (revoked, expired: invalid_grant) ends the session; Cognito's answer has a
// new refresh token only when the app client rotates them, else the one kept stays. Signing out
// revokes the refresh token at `${domain}/oauth2/revoke`, forgets the tab's session and ends the
// managed login's own session at `${domain}/logout`.
//
// Where the refresh token is kept: in sessionStorage, beside the ID token, not in memory only.
// In memory it would be out of reach of script injected into the page later (this module captures
// `fetch` when the page loads), but every reload — a producer's first move when a page looks stuck
// in the middle of a show — would end the sign-in, and a show can run for up to a year. What we
// accept: script injected into this page (XSS) could read a refresh token that renews for up to
// 366 days. What limits it: the page's strict CSP (only its own scripts run: no inline script, no
// eval, nothing from other origins) against the injection itself; sessionStorage belongs to this
// tab only (not other tabs, not after it is closed, unlike localStorage); Cognito revokes the token
// at sign-out (the app client has token revocation on), and an administrator can end every sign-in
// of a producer (AdminUserGlobalSignOut). The access token, which the page does not use, is not
// kept at all.
//
// Browser APIs come in as an AuthEnv so tests can pass their own.
import type { ControlSignIn } from '../../lib/config.ts';

export interface Session {
  /** Sent as `Authorization: Bearer <token>`. */
  token: string;
  kind: 'local' | 'cognito';
  /** Epoch ms the token stops working (a JWT's `exp`, or sooner by Cognito's `expires_in`), when known. */
  expiresAt: number | null;
  /** Who signed in (the ID token's email or user name), when known. */
  who: string | null;
}

export interface AuthEnv {
  location: Pick<Location, 'href' | 'origin' | 'pathname' | 'assign'>;
  history: Pick<History, 'replaceState'>;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  fetch: typeof fetch;
  crypto: Crypto;
}

export const browserAuthEnv = (): AuthEnv => ({
  location: window.location,
  history: window.history,
  storage: window.sessionStorage,
  fetch: window.fetch.bind(window),
  crypto: window.crypto,
});

const SESSION_KEY = 'showrunner.control.session';
const PKCE_KEY = 'showrunner.control.pkce';
/** What the sign-out has to say after the round trip through Cognito's logout. */
const NOTICE_KEY = 'showrunner.control.notice';

/** How long before the ID token expires the sign-in is renewed (or halfway through a shorter token). */
export const RENEW_MARGIN_MS = 5 * 60_000;
/** How long a request to the sign-in service may take. */
const COGNITO_TIMEOUT_MS = 15_000;

export const SIGN_IN_ENDED = 'Your sign-in ended — sign in again.';
export const SIGN_IN_EXPIRED = 'Your sign-in has expired. Sign in again.';

/**
 * When a session is to be renewed: RENEW_MARGIN_MS before its ID token expires, or halfway through
 * what is left of a shorter one. Null for a session that is never renewed (a local token).
 */
export function renewalDue(session: Session, now = Date.now()): number | null {
  if (session.kind !== 'cognito' || session.expiresAt === null) return null;
  const left = Math.max(0, session.expiresAt - now);
  return now + left - Math.min(RENEW_MARGIN_MS, left / 2);
}

/** Where Cognito sends the producer back to: this page, as the app client lists it. */
export const redirectUri = (env: Pick<AuthEnv, 'location'>) => `${env.location.origin}/control/`;

export interface Restored {
  session: Session | null;
  /** Why there is no session when there was an attempt (an expired token, a failed sign-in). */
  problem: string | null;
}

/** What renewing a Cognito sign-in came to. */
export type Renewal =
  /** A new ID token (and the refresh token kept, or Cognito's new one). */
  | { outcome: 'renewed'; session: Session }
  /** Cognito refused the refresh token (revoked, expired, or the app client may not refresh): sign in again. */
  | { outcome: 'ended'; problem: string }
  /** The sign-in service could not be reached or had a problem: the session stays, try again later. */
  | { outcome: 'failed'; problem: string };

/** The session as this tab keeps it: the Session, and the refresh token that renews it. */
interface Kept extends Session {
  refresh: string | null;
}

/** What this page load was handed in its address: a local link's token, or Cognito's answer. */
export type Handover = { kind: 'token'; token: string } | { kind: 'cognito'; params: URLSearchParams } | null;

/**
 * Takes a token or sign-in answer out of the address bar at once (before anything else runs), so
 * it is not left in the history, bookmarks, screenshots or a Referer.
 */
export function takeHandover(env: Pick<AuthEnv, 'location' | 'history'>): Handover {
  const url = new URL(env.location.href);
  const token = new URLSearchParams(url.hash.slice(1)).get('token');
  const params = new URLSearchParams(url.search);
  const cognito = params.has('code') || params.has('error');
  if (token === null && !cognito) return null;
  url.hash = '';
  for (const key of ['code', 'state', 'error', 'error_description']) url.searchParams.delete(key);
  env.history.replaceState(null, '', `${url.pathname}${url.search}`);
  return token !== null ? { kind: 'token', token: token.trim() } : { kind: 'cognito', params };
}

/**
 * The session this page load has: the one it was just handed (a local link's token, or Cognito's
 * code traded for tokens), else the one kept for this tab — renewed first when its ID token has
 * expired meanwhile (a tab reopened, a computer woken).
 */
export async function restoreSession(
  handover: Handover,
  control: ControlSignIn | undefined,
  env: AuthEnv,
): Promise<Restored> {
  if (handover?.kind === 'token') {
    if (handover.token === '') return { session: null, problem: 'The sign-in link has no token.' };
    return { session: keepToken(env, handover.token), problem: null };
  }
  if (handover?.kind === 'cognito') {
    try {
      return { session: keep(env, await finishCognito(control, handover.params, env)), problem: null };
    } catch (error) {
      return { session: null, problem: (error as Error).message };
    }
  }
  const kept = readKept(env);
  if (!kept) return { session: null, problem: takeNotice(env) };
  if (kept.expiresAt === null || kept.expiresAt > Date.now())
    return { session: publicPart(kept), problem: null };
  if (kept.kind !== 'cognito' || kept.refresh === null) {
    forgetSession(env);
    return { session: null, problem: SIGN_IN_EXPIRED };
  }
  const renewal = await renewSession(control, env);
  if (renewal.outcome === 'renewed') return { session: renewal.session, problem: null };
  if (renewal.outcome === 'ended') return { session: null, problem: renewal.problem };
  // The sign-in service is out of reach for now: the page starts with the session it has and its
  // state class tries again (the API refuses the expired token meanwhile, and the page says why).
  return { session: publicPart(kept), problem: null };
}

/** A token the producer pasted (or the local link's), kept for this tab. */
export function keepToken(env: Pick<AuthEnv, 'storage'>, token: string): Session {
  return keep(env, { ...sessionFor(token, 'local'), refresh: null });
}

/** Forgets this tab's session (only here: see signOut for ending a Cognito sign-in). */
export function forgetSession(env: Pick<AuthEnv, 'storage'>): void {
  env.storage.removeItem(SESSION_KEY);
}

/** Sends the producer to Cognito's managed login (the authorization code flow with PKCE). */
export async function beginCognitoSignIn(
  control: Extract<ControlSignIn, { signIn: 'cognito' }>,
  env: AuthEnv,
): Promise<void> {
  const verifier = randomText(env.crypto, 32);
  const state = randomText(env.crypto, 16);
  const digest = await env.crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  env.storage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: control.clientId,
    redirect_uri: redirectUri(env),
    scope: 'openid email',
    state,
    code_challenge: base64Url(new Uint8Array(digest)),
    code_challenge_method: 'S256',
  });
  env.location.assign(`${control.domain}/oauth2/authorize?${params}`);
}

/**
 * Renews the kept Cognito sign-in with its refresh token (grant_type=refresh_token) and keeps what
 * Cognito answers. Concurrent renewals are the caller's to collapse (SessionState does).
 */
export async function renewSession(control: ControlSignIn | undefined, env: AuthEnv): Promise<Renewal> {
  const kept = readKept(env);
  if (kept?.kind !== 'cognito' || kept.refresh === null || control?.signIn !== 'cognito') {
    return { outcome: 'ended', problem: SIGN_IN_ENDED };
  }
  const refresh = kept.refresh;
  let answer: TokenAnswer;
  try {
    answer = await requestTokens(control, env, {
      grant_type: 'refresh_token',
      client_id: control.clientId,
      refresh_token: refresh,
    });
  } catch {
    return {
      outcome: 'failed',
      problem: "Can't reach the sign-in service to renew your sign-in. Trying again…",
    };
  }
  // Signed out (or in anew) while Cognito answered: this answer is for a session that is gone.
  if (readKept(env)?.refresh !== refresh) return { outcome: 'ended', problem: SIGN_IN_ENDED };
  if (answer.kind === 'refused') {
    forgetSession(env);
    const problem =
      answer.error === 'invalid_grant'
        ? SIGN_IN_ENDED
        : `${SIGN_IN_ENDED} (The sign-in service would not renew it: ${answer.error}.)`;
    return { outcome: 'ended', problem };
  }
  if (answer.kind === 'failed') {
    return {
      outcome: 'failed',
      problem: `The sign-in service could not renew your sign-in (${answer.reason}). Trying again…`,
    };
  }
  const session = keep(env, {
    ...sessionFor(answer.idToken, 'cognito', answer.expiresIn),
    // Only with refresh token rotation does Cognito send a new one; else the one kept renews on.
    refresh: answer.refreshToken ?? refresh,
  });
  return { outcome: 'renewed', session };
}

/**
 * Ends the producer's sign-in. A Cognito one: its refresh token revoked at Cognito (which also
 * revokes the tokens it issued), this tab's session forgotten, and the producer sent to Cognito's
 * logout (which ends the managed login's session and sends them back to this page). When Cognito
 * does not confirm the revocation the tab is signed out all the same, and the page says so when
 * the producer is back. Returns whether the page is leaving (to Cognito's logout).
 */
export async function signOut(control: ControlSignIn | undefined, env: AuthEnv): Promise<boolean> {
  const kept = readKept(env);
  if (kept?.kind !== 'cognito' || control?.signIn !== 'cognito') {
    forgetSession(env);
    return false;
  }
  const problem = kept.refresh === null ? null : await revoke(control, kept.refresh, env);
  forgetSession(env);
  if (problem) env.storage.setItem(NOTICE_KEY, problem);
  const params = new URLSearchParams({ client_id: control.clientId, logout_uri: redirectUri(env) });
  env.location.assign(`${control.domain}/logout?${params}`);
  return true;
}

/** POST /oauth2/revoke for a public client (no secret): null when Cognito confirmed it, else what to say. */
async function revoke(
  control: Extract<ControlSignIn, { signIn: 'cognito' }>,
  refresh: string,
  env: AuthEnv,
): Promise<string | null> {
  const unconfirmed = (why: string) =>
    `You are signed out of this tab, but the sign-in service did not confirm it revoked your sign-in (${why}): it stays valid there until it expires.`;
  let response: Response;
  try {
    response = await env.fetch(`${control.domain}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refresh, client_id: control.clientId }),
      cache: 'no-store',
      signal: AbortSignal.timeout(COGNITO_TIMEOUT_MS),
    });
  } catch {
    return unconfirmed('no answer from it');
  }
  if (response.ok) return null;
  const body = (await response.json().catch(() => ({}))) as { error?: unknown };
  return unconfirmed(typeof body.error === 'string' ? body.error : `HTTP ${response.status}`);
}

async function finishCognito(
  control: ControlSignIn | undefined,
  params: URLSearchParams,
  env: AuthEnv,
): Promise<Kept> {
  const pending = env.storage.getItem(PKCE_KEY);
  env.storage.removeItem(PKCE_KEY);
  if (params.has('error')) {
    throw new Error(`Sign-in failed: ${params.get('error_description') ?? params.get('error')}.`);
  }
  if (control?.signIn !== 'cognito') throw new Error('This site has no Cognito sign-in set up.');
  let expected: { verifier?: unknown; state?: unknown } = {};
  try {
    expected = JSON.parse(pending ?? '{}') as typeof expected;
  } catch {
    // treated as no sign-in started
  }
  if (typeof expected.verifier !== 'string' || expected.state !== params.get('state')) {
    throw new Error('This sign-in was not started from this tab. Sign in again.');
  }
  let answer: TokenAnswer;
  try {
    answer = await requestTokens(control, env, {
      grant_type: 'authorization_code',
      client_id: control.clientId,
      code: params.get('code') ?? '',
      redirect_uri: redirectUri(env),
      code_verifier: expected.verifier,
    });
  } catch {
    throw new Error("Can't reach the sign-in service. Sign in again.");
  }
  if (answer.kind !== 'tokens') {
    throw new Error(
      `Sign-in failed (${answer.kind === 'refused' ? answer.error : answer.reason}). Sign in again.`,
    );
  }
  return { ...sessionFor(answer.idToken, 'cognito', answer.expiresIn), refresh: answer.refreshToken };
}

/** What the token endpoint answered. */
type TokenAnswer =
  | { kind: 'tokens'; idToken: string; refreshToken: string | null; expiresIn: number | null }
  /** An OAuth error (400/401 with `{"error": …}`): this grant will not work, however often it is sent. */
  | { kind: 'refused'; error: string }
  /** Anything else (a 5xx, a throttle, a gateway's page): it may work later. */
  | { kind: 'failed'; reason: string };

/** POST /oauth2/token, form-encoded; throws when the service cannot be reached. */
async function requestTokens(
  control: Extract<ControlSignIn, { signIn: 'cognito' }>,
  env: AuthEnv,
  form: Record<string, string>,
): Promise<TokenAnswer> {
  const response = await env.fetch(`${control.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
    cache: 'no-store',
    signal: AbortSignal.timeout(COGNITO_TIMEOUT_MS),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.ok && typeof body.id_token === 'string' && body.id_token !== '') {
    return {
      kind: 'tokens',
      idToken: body.id_token,
      refreshToken:
        typeof body.refresh_token === 'string' && body.refresh_token !== '' ? body.refresh_token : null,
      expiresIn: typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : null,
    };
  }
  if ((response.status === 400 || response.status === 401) && typeof body.error === 'string') {
    return { kind: 'refused', error: body.error };
  }
  return { kind: 'failed', reason: response.ok ? 'no ID token in its answer' : `HTTP ${response.status}` };
}

/**
 * A token's session. A Cognito ID token's end is the sooner of its `exp` and `expires_in` from now:
 * `expires_in` does not depend on this computer's clock being right.
 */
function sessionFor(token: string, kind: Session['kind'], expiresIn: number | null = null): Session {
  const claims = jwtClaims(token);
  const exp = typeof claims?.exp === 'number' ? claims.exp * 1000 : null;
  const within = expiresIn === null ? null : Date.now() + expiresIn * 1000;
  const expiresAt = exp === null ? within : within === null ? exp : Math.min(exp, within);
  const who = claims?.email ?? claims?.['cognito:username'] ?? null;
  return { token, kind, expiresAt, who: typeof who === 'string' ? who : null };
}

/** A JWT's claims (unverified: the API checks the signature); null when the token is not a JWT. */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const part = token.split('.')[1];
  if (token.split('.').length !== 3 || !part) return null;
  try {
    const text = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function publicPart({ token, kind, expiresAt, who }: Kept): Session {
  return { token, kind, expiresAt, who };
}

function keep(env: Pick<AuthEnv, 'storage'>, kept: Kept): Session {
  env.storage.setItem(SESSION_KEY, JSON.stringify(kept));
  return publicPart(kept);
}

function readKept(env: Pick<AuthEnv, 'storage'>): Kept | null {
  try {
    const value = JSON.parse(env.storage.getItem(SESSION_KEY) ?? 'null') as Partial<Kept> | null;
    if (!value || typeof value.token !== 'string' || value.token === '') return null;
    return {
      token: value.token,
      kind: value.kind === 'cognito' ? 'cognito' : 'local',
      expiresAt: typeof value.expiresAt === 'number' ? value.expiresAt : null,
      who: typeof value.who === 'string' ? value.who : null,
      refresh: typeof value.refresh === 'string' && value.refresh !== '' ? value.refresh : null,
    };
  } catch {
    return null;
  }
}

/** The sign-out's word for the next page load, said once. */
function takeNotice(env: Pick<AuthEnv, 'storage'>): string | null {
  const notice = env.storage.getItem(NOTICE_KEY);
  env.storage.removeItem(NOTICE_KEY);
  return notice;
}

function randomText(crypto: Crypto, bytes: number): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64Url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
