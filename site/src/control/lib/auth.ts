// Signing producers in to the control room. Locally `npm start` prints a link with the stack's
// token in its fragment (`/control/#token=…`): the page keeps the token in sessionStorage and takes
// it out of the address bar. In AWS the Cognito user pool's managed login, with the authorization
// code flow and PKCE: the page sends the producer to `${domain}/oauth2/authorize`, Cognito sends
// them back to /control/?code=…&state=…, and the page trades the code for tokens at
// `${domain}/oauth2/token`; the ID token is the Bearer the API's Cognito authorizer checks.
// Browser APIs come in as an AuthEnv so tests can pass their own.
import type { ControlSignIn } from '../../lib/config.ts';

export interface Session {
  /** Sent as `Authorization: Bearer <token>`. */
  token: string;
  kind: 'local' | 'cognito';
  /** Epoch ms the token stops working (a JWT's `exp`), when it says. */
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

/** Where Cognito sends the producer back to: this page, as the app client lists it. */
export const redirectUri = (env: Pick<AuthEnv, 'location'>) => `${env.location.origin}/control/`;

export interface Restored {
  session: Session | null;
  /** Why there is no session when there was an attempt (an expired token, a failed sign-in). */
  problem: string | null;
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
 * code traded for tokens), else the one kept for this tab.
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
  if (kept && kept.expiresAt !== null && kept.expiresAt <= Date.now()) {
    signOut(env);
    return { session: null, problem: 'Your sign-in has expired. Sign in again.' };
  }
  return { session: kept, problem: null };
}

/** A token the producer pasted (or the local link's), kept for this tab. */
export function keepToken(env: Pick<AuthEnv, 'storage'>, token: string): Session {
  return keep(env, sessionFor(token, 'local'));
}

export function signOut(env: Pick<AuthEnv, 'storage'>): void {
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

async function finishCognito(
  control: ControlSignIn | undefined,
  params: URLSearchParams,
  env: AuthEnv,
): Promise<Session> {
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
  let response: Response;
  try {
    response = await env.fetch(`${control.domain}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: control.clientId,
        code: params.get('code') ?? '',
        redirect_uri: redirectUri(env),
        code_verifier: expected.verifier,
      }),
    });
  } catch {
    throw new Error("Can't reach the sign-in service. Sign in again.");
  }
  const body = (await response.json().catch(() => ({}))) as { id_token?: unknown; error?: unknown };
  if (!response.ok || typeof body.id_token !== 'string') {
    throw new Error(`Sign-in failed (${String(body.error ?? `HTTP ${response.status}`)}). Sign in again.`);
  }
  return sessionFor(body.id_token, 'cognito');
}

function sessionFor(token: string, kind: Session['kind']): Session {
  const claims = jwtClaims(token);
  const exp = typeof claims?.exp === 'number' ? claims.exp * 1000 : null;
  const who = claims?.email ?? claims?.['cognito:username'] ?? null;
  return { token, kind, expiresAt: exp, who: typeof who === 'string' ? who : null };
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

function keep(env: Pick<AuthEnv, 'storage'>, session: Session): Session {
  env.storage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

function readKept(env: Pick<AuthEnv, 'storage'>): Session | null {
  try {
    const value = JSON.parse(env.storage.getItem(SESSION_KEY) ?? 'null') as Partial<Session> | null;
    if (!value || typeof value.token !== 'string' || value.token === '') return null;
    return {
      token: value.token,
      kind: value.kind === 'cognito' ? 'cognito' : 'local',
      expiresAt: typeof value.expiresAt === 'number' ? value.expiresAt : null,
      who: typeof value.who === 'string' ? value.who : null,
    };
  } catch {
    return null;
  }
}

function randomText(crypto: Crypto, bytes: number): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64Url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
