// The control room's sign-in (site/src/control/lib/auth.ts) through an AuthEnv whose fetch is a
// fake Cognito domain answering with Cognito's recorded responses (test/fixtures/cognito): the local
// token link; the code flow with PKCE keeping the refresh token; renewing with grant_type=
// refresh_token with and without refresh token rotation; invalid_grant, invalid_client and
// unauthorized_client ending the session; an unreachable service leaving it; sign-out revoking at
// /oauth2/revoke and going to /logout, and saying so when the revocation is not confirmed. Then the
// state class keeping a Cognito session alive (session.svelte.ts): renewed before the ID token
// expires, on a 401 (once), when the page wakes past its renewal time; renewals at the same time
// are one; an ended sign-in says "Your sign-in ended — sign in again" and stops.
/// <reference types="svelte" />
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import type { RunState } from '../../contract/producer.ts';
import {
  beginCognitoSignIn,
  jwtClaims,
  keepToken,
  renewSession,
  restoreSession,
  signOut,
  SIGN_IN_ENDED,
  takeHandover,
  type AuthEnv,
  type Renewal,
  type Session,
} from '../../site/src/control/lib/auth.ts';
import { ControlState } from '../../site/src/control/lib/control.svelte.ts';
import { ProducerFailure, type ProducerApi } from '../../site/src/control/lib/producer-api.ts';
import type { SiteConfig } from '../../site/src/lib/config.ts';
import { FakeCognito, type FakeCognitoOptions } from '../fixtures/cognito/fake-cognito.ts';

const NOW = Date.parse('2030-01-01T12:00:00Z');
const SITE = 'https://shows.example.com';
const CONTROL_URL = `${SITE}/control/`;
const CLIENT = '1example23456789';
const SIGN_IN = {
  signIn: 'cognito' as const,
  domain: 'https://shows.auth.us-east-1.amazoncognito.com',
  clientId: CLIENT,
};
const HOUR = 3600_000;
const MINUTE = 60_000;

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  jest.setSystemTime(NOW);
});

let control: ControlState | undefined;
afterEach(() => {
  control?.destroy();
  control = undefined;
  jest.useRealTimers();
});

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A browser tab: its address, history, sessionStorage (shared with the tab's next page load) and fetch. */
function fakeEnv(href: string, fetchImpl?: typeof fetch, store = new Map<string, string>()) {
  const replaced: string[] = [];
  const assigned: string[] = [];
  const url = new URL(href);
  const env: AuthEnv = {
    location: {
      href,
      origin: url.origin,
      pathname: url.pathname,
      assign: (to: string | URL) => void assigned.push(String(to)),
    },
    history: {
      replaceState: (_data: unknown, _unused: string, to?: string | URL | null) =>
        void replaced.push(String(to)),
    },
    storage: {
      getItem: (key) => store.get(key) ?? null,
      setItem: (key, value) => void store.set(key, value),
      removeItem: (key) => void store.delete(key),
    },
    fetch: fetchImpl ?? (async () => new Response('{}', { status: 500 })),
    crypto: globalThis.crypto,
  };
  return { env, store, replaced, assigned };
}

const jwt = (claims: Record<string, unknown>) =>
  ['{"alg":"none"}', JSON.stringify(claims), 'sig']
    .map((p) => Buffer.from(p).toString('base64url'))
    .join('.');

function fakeCognito(options: Partial<FakeCognitoOptions> = {}) {
  return new FakeCognito({
    clientId: CLIENT,
    callbackUrls: [CONTROL_URL],
    logoutUrls: [CONTROL_URL],
    ...options,
  });
}

/** The fake's requests to the token endpoint with this grant. */
const grants = (cognito: FakeCognito, grant: string) =>
  cognito.requestsTo('/oauth2/token').filter((r) => r.form.grant_type === grant);

/**
 * A producer signs in: the page sends them to /oauth2/authorize, Cognito sends them back with a
 * code, the page (a new load in the same tab) trades it for tokens.
 */
async function signIn(cognito: FakeCognito, fetchImpl: typeof fetch = cognito.fetch) {
  const first = fakeEnv(CONTROL_URL, fetchImpl);
  await beginCognitoSignIn(SIGN_IN, first.env);
  const authorize = new URL(first.assigned[0]!);
  const answer = await cognito.fetch(authorize, { redirect: 'manual' });
  expect(answer.status).toBe(302);
  const back = fakeEnv(answer.headers.get('location')!, fetchImpl, first.store);
  const restored = await restoreSession(takeHandover(back.env), SIGN_IN, back.env);
  return { ...back, authorize, restored, session: restored.session! };
}

/** What this tab keeps (its sessionStorage's session). */
const keptIn = (store: Map<string, string>) =>
  JSON.parse(store.get('showrunner.control.session') ?? 'null') as Record<string, unknown> | null;

describe('sign-in: the local link', () => {
  it('takes the token out of the address bar and keeps it for the tab', async () => {
    const { env, store, replaced } = fakeEnv('http://127.0.0.1:3000/control/#token=s3cret');
    const handover = takeHandover(env);
    expect(replaced).toEqual(['/control/']);
    const { session, problem } = await restoreSession(handover, { signIn: 'local' }, env);
    expect(problem).toBeNull();
    expect(session).toEqual({ token: 's3cret', kind: 'local', expiresAt: null, who: null });
    expect([...store.values()].join()).toContain('s3cret');

    // The next load (a reload, without the fragment) finds it kept.
    const again = fakeEnv('http://127.0.0.1:3000/control/', undefined, store);
    expect(takeHandover(again.env)).toBeNull();
    expect(again.replaced).toEqual([]);
    expect((await restoreSession(null, { signIn: 'local' }, again.env)).session?.token).toBe('s3cret');
  });

  it('an expired kept token is dropped with "Sign in again"', async () => {
    const { env, store } = fakeEnv('http://127.0.0.1:3000/control/');
    keepToken(env, jwt({ exp: NOW / 1000 - 1, email: 'p@example.com' }));
    const { session, problem } = await restoreSession(null, { signIn: 'local' }, env);
    expect(session).toBeNull();
    expect(problem).toBe('Your sign-in has expired. Sign in again.');
    expect(store.size).toBe(0);
  });

  it('signing out forgets the token, and the page stays', async () => {
    const { env, store, assigned } = fakeEnv('http://127.0.0.1:3000/control/');
    keepToken(env, 's3cret');
    await expect(signOut({ signIn: 'local' }, env)).resolves.toBe(false);
    expect(store.size).toBe(0);
    expect(assigned).toEqual([]);
  });
});

describe('sign-in: Cognito, against its recorded answers', () => {
  it('the managed login with PKCE; the code traded for ID, access and refresh tokens', async () => {
    const cognito = fakeCognito();
    const { authorize, restored, session, store, replaced } = await signIn(cognito);
    const params = Object.fromEntries(authorize.searchParams);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${SIGN_IN.domain}/oauth2/authorize`);
    expect(params).toMatchObject({
      response_type: 'code',
      client_id: CLIENT,
      redirect_uri: CONTROL_URL,
      scope: 'openid email',
      code_challenge_method: 'S256',
    });
    expect(replaced).toEqual(['/control/']);
    expect(restored.problem).toBeNull();
    const [issued] = cognito.idTokens;
    expect(session).toEqual({
      token: issued!.token,
      kind: 'cognito',
      expiresAt: NOW + HOUR,
      who: 'producer@example.com',
    });

    const [exchange] = grants(cognito, 'authorization_code');
    expect(exchange!.contentType).toBe('application/x-www-form-urlencoded');
    expect(exchange!.form).toMatchObject({
      client_id: CLIENT,
      code: expect.any(String),
      redirect_uri: CONTROL_URL,
    });
    // The verifier sent is the one whose SHA-256 the authorize request carried.
    expect(createHash('sha256').update(exchange!.form.code_verifier!).digest('base64url')).toBe(
      params.code_challenge,
    );
    // Kept for the tab: the ID token and the refresh token (see auth.ts on why sessionStorage); the
    // access token, which the page does not use, is not. The state class never sees the refresh token.
    const kept = keptIn(store)!;
    expect(kept).toMatchObject({ token: issued!.token, refresh: issued!.refresh });
    expect(JSON.stringify([...store.values()])).not.toMatch(/"access_token"|token_use.{0,5}access/);
    expect(JSON.stringify(session)).not.toContain(issued!.refresh);
  });

  it('a code used twice is refused (invalid_grant) and the page says so', async () => {
    const cognito = fakeCognito();
    const first = fakeEnv(CONTROL_URL, cognito.fetch);
    await beginCognitoSignIn(SIGN_IN, first.env);
    const back = (await cognito.fetch(first.assigned[0]!, { redirect: 'manual' })).headers.get('location')!;
    const pending = new Map(first.store);
    const once = fakeEnv(back, cognito.fetch, first.store);
    expect((await restoreSession(takeHandover(once.env), SIGN_IN, once.env)).session).not.toBeNull();
    // The same answer again (a replayed address) in a tab that started the same sign-in.
    const twice = fakeEnv(back, cognito.fetch, pending);
    const replayed = await restoreSession(takeHandover(twice.env), SIGN_IN, twice.env);
    expect(replayed).toEqual({ session: null, problem: 'Sign-in failed (invalid_grant). Sign in again.' });
  });

  it("Cognito's error redirect, and an answer this tab did not ask for, are refused", async () => {
    const { env } = fakeEnv(`${CONTROL_URL}?code=stolen&state=forged`);
    const forged = await restoreSession(takeHandover(env), SIGN_IN, env);
    expect(forged.session).toBeNull();
    expect(forged.problem).toMatch(/not started from this tab/);

    const cognito = fakeCognito();
    const first = fakeEnv(CONTROL_URL, cognito.fetch);
    await beginCognitoSignIn(SIGN_IN, first.env);
    const url = new URL(first.assigned[0]!);
    url.searchParams.delete('code_challenge_method');
    const answer = await cognito.fetch(url, { redirect: 'manual' });
    const back = fakeEnv(answer.headers.get('location')!, cognito.fetch, first.store);
    const failed = await restoreSession(takeHandover(back.env), SIGN_IN, back.env);
    expect(failed).toEqual({ session: null, problem: 'Sign-in failed: invalid_request.' });
    expect(back.replaced).toEqual(['/control/']);
  });

  it('renews with grant_type=refresh_token: a new ID token, the refresh token kept (no rotation)', async () => {
    const cognito = fakeCognito();
    const { env, store, session } = await signIn(cognito);
    const refresh = keptIn(store)!.refresh;
    jest.setSystemTime(NOW + 50 * MINUTE);
    const renewal = await renewSession(SIGN_IN, env);
    expect(renewal.outcome).toBe('renewed');
    const renewed = (renewal as Extract<Renewal, { outcome: 'renewed' }>).session;
    expect(renewed.token).not.toBe(session.token);
    expect(renewed).toMatchObject({
      kind: 'cognito',
      expiresAt: NOW + 50 * MINUTE + HOUR,
      who: 'producer@example.com',
    });
    const [request] = grants(cognito, 'refresh_token');
    expect(request!.contentType).toBe('application/x-www-form-urlencoded');
    expect(request!.form).toEqual({ grant_type: 'refresh_token', client_id: CLIENT, refresh_token: refresh });
    expect(keptIn(store)).toMatchObject({ token: renewed.token, refresh });
    // And again with the same refresh token.
    await expect(renewSession(SIGN_IN, env)).resolves.toMatchObject({ outcome: 'renewed' });
    expect(grants(cognito, 'refresh_token').map((r) => r.form.refresh_token)).toEqual([refresh, refresh]);
  });

  it('with refresh token rotation the new refresh token is kept, and the old one is done', async () => {
    const cognito = fakeCognito({ rotation: true });
    const { env, store } = await signIn(cognito);
    const first = keptIn(store)!.refresh as string;
    await expect(renewSession(SIGN_IN, env)).resolves.toMatchObject({ outcome: 'renewed' });
    const second = keptIn(store)!.refresh as string;
    expect(second).not.toBe(first);
    expect(cognito.renews(first)).toBe(false);
    await expect(renewSession(SIGN_IN, env)).resolves.toMatchObject({ outcome: 'renewed' });
    expect(grants(cognito, 'refresh_token').map((r) => r.form.refresh_token)).toEqual([first, second]);
  });

  it('a revoked refresh token (invalid_grant) ends the session: "Your sign-in ended — sign in again."', async () => {
    const cognito = fakeCognito();
    const { env, store } = await signIn(cognito);
    cognito.revokeAll();
    await expect(renewSession(SIGN_IN, env)).resolves.toEqual({ outcome: 'ended', problem: SIGN_IN_ENDED });
    expect(keptIn(store)).toBeNull();
  });

  it.each([
    ['token-unauthorized-client', 'unauthorized_client'],
    ['token-invalid-client', 'invalid_client'],
  ] as const)('%s ends the session too, naming what Cognito said', async (recording, error) => {
    const cognito = fakeCognito();
    const { env, store } = await signIn(cognito);
    cognito.refreshRefusal = recording;
    const renewal = await renewSession(SIGN_IN, env);
    expect(renewal).toEqual({
      outcome: 'ended',
      problem: `${SIGN_IN_ENDED} (The sign-in service would not renew it: ${error}.)`,
    });
    expect(keptIn(store)).toBeNull();
  });

  it('an unreachable or failing sign-in service leaves the session as it is, to try again', async () => {
    const cognito = fakeCognito();
    let answer: 'network' | 'server' | null = null;
    const flaky = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (answer === 'network') throw new TypeError('Failed to fetch');
      if (answer === 'server') return new Response('<html>Bad gateway</html>', { status: 502 });
      return cognito.fetch(input, init);
    }) as typeof fetch;
    const { env, store } = await signIn(cognito, flaky);
    const kept = keptIn(store);
    answer = 'network';
    await expect(renewSession(SIGN_IN, env)).resolves.toEqual({
      outcome: 'failed',
      problem: "Can't reach the sign-in service to renew your sign-in. Trying again…",
    });
    answer = 'server';
    await expect(renewSession(SIGN_IN, env)).resolves.toEqual({
      outcome: 'failed',
      problem: 'The sign-in service could not renew your sign-in (HTTP 502). Trying again…',
    });
    expect(keptIn(store)).toEqual(kept);
  });

  it('a reload after the ID token expired renews it before the page starts; a revoked one asks to sign in', async () => {
    const cognito = fakeCognito();
    const { store } = await signIn(cognito);
    jest.setSystemTime(NOW + 3 * HOUR); // the tab slept
    const reload = fakeEnv(CONTROL_URL, cognito.fetch, store);
    const restored = await restoreSession(takeHandover(reload.env), SIGN_IN, reload.env);
    expect(restored.problem).toBeNull();
    expect(restored.session).toMatchObject({ token: cognito.idTokens[1]!.token, expiresAt: NOW + 4 * HOUR });

    jest.setSystemTime(NOW + 5 * HOUR);
    cognito.revokeAll();
    const again = fakeEnv(CONTROL_URL, cognito.fetch, store);
    await expect(restoreSession(null, SIGN_IN, again.env)).resolves.toEqual({
      session: null,
      problem: SIGN_IN_ENDED,
    });
  });

  it('signing out revokes the refresh token at /oauth2/revoke, forgets the tab, and goes to /logout', async () => {
    const cognito = fakeCognito();
    const { env, store, assigned } = await signIn(cognito);
    const refresh = keptIn(store)!.refresh as string;
    await expect(signOut(SIGN_IN, env)).resolves.toBe(true);

    const [revoke] = cognito.requestsTo('/oauth2/revoke');
    expect(revoke!.method).toBe('POST');
    expect(revoke!.contentType).toBe('application/x-www-form-urlencoded');
    expect(revoke!.form).toEqual({ token: refresh, client_id: CLIENT });
    expect(cognito.renews(refresh)).toBe(false);
    expect(store.size).toBe(0);
    const logout = new URL(assigned.at(-1)!);
    expect(`${logout.origin}${logout.pathname}`).toBe(`${SIGN_IN.domain}/logout`);
    expect(Object.fromEntries(logout.searchParams)).toEqual({ client_id: CLIENT, logout_uri: CONTROL_URL });
    // Cognito's logout sends the producer back to the page, which is signed out and says nothing.
    const answer = await cognito.fetch(logout, { redirect: 'manual' });
    expect(answer.headers.get('location')).toBe(CONTROL_URL);
    const back = fakeEnv(CONTROL_URL, cognito.fetch, store);
    await expect(restoreSession(takeHandover(back.env), SIGN_IN, back.env)).resolves.toEqual({
      session: null,
      problem: null,
    });
  });

  it.each([
    ['revocation is off for the app client', 'invalid_request'],
    ['the service cannot be reached', 'no answer from it'],
  ])('when %s the tab is signed out all the same, and the page says so once', async (_case, why) => {
    const cognito = fakeCognito();
    cognito.revocationOff = true;
    const unreachable = why === 'no answer from it';
    const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (unreachable && String(input).endsWith('/oauth2/revoke')) throw new TypeError('Failed to fetch');
      return cognito.fetch(input, init);
    }) as typeof fetch;
    const { env, store, assigned } = await signIn(cognito, fetchImpl);
    await expect(signOut(SIGN_IN, env)).resolves.toBe(true);
    expect(keptIn(store)).toBeNull();
    expect(new URL(assigned.at(-1)!).pathname).toBe('/logout');

    const back = fakeEnv(CONTROL_URL, fetchImpl, store);
    const { session, problem } = await restoreSession(null, SIGN_IN, back.env);
    expect(session).toBeNull();
    expect(problem).toBe(
      `You are signed out of this tab, but the sign-in service did not confirm it revoked your sign-in (${why}): it stays valid there until it expires.`,
    );
    await expect(restoreSession(null, SIGN_IN, back.env)).resolves.toEqual({ session: null, problem: null });
  });
});

// ---- ControlState keeping a Cognito session alive ------------------------------------------------

const CONFIG: SiteConfig = {
  apiUrl: 'https://api.example.com',
  cachedApiUrl: 'https://api.example.com',
  channel: 'local',
  playbackUrl: null,
  player: 'hls.js',
  control: SIGN_IN,
};

/**
 * A producer API that records the token of every call, answers with empty runs (and a finished
 * run), and refuses the tokens `refuses` says (401, as API Gateway's authorizer does).
 */
function fakeApi() {
  const calls: Array<{ method: string; token: string; at?: number }> = [];
  const state = { refuses: (_token: string) => false, timed: false };
  const make = (_config: SiteConfig, session: Session): ProducerApi => {
    const answer = async <T>(method: string, value: T): Promise<T> => {
      calls.push({ method, token: session.token, ...(state.timed ? { at: Date.now() } : {}) });
      if (state.refuses(session.token)) throw new ProducerFailure(401, 'error', 'Unauthorized');
      return value;
    };
    const run = (runId: string) => ({ runId, status: 'SUCCEEDED', startDate: new Date(NOW).toISOString() });
    const refused = () => Promise.reject(new ProducerFailure(400, 'bad_request', 'not in this test'));
    return {
      list: () => answer('list', { runs: [] }),
      run: (runId) =>
        answer('run', {
          status: { run: run(runId), progress: { asked: 0, total: 0, waiting: [] } },
          history: { run: run(runId), polls: [] },
          results: { runId, polls: [] },
        } as unknown as RunState),
      start: refused,
      cue: refused,
      stop: refused,
      // Read beside every run read; not what these tests count.
      leaderboard: async (runId) => ({ runId, players: 0, final: false, standings: [] }),
      hideName: refused,
    };
  };
  return { calls, state, make };
}

async function cognitoRoom(
  options: Partial<FakeCognitoOptions> = {},
  fetchImpl?: (f: FakeCognito) => typeof fetch,
) {
  const cognito = fakeCognito(options);
  const tab = await signIn(cognito, fetchImpl?.(cognito));
  const api = fakeApi();
  const renew = jest.fn(() => renewSession(SIGN_IN, tab.env));
  control = new ControlState({
    api: api.make,
    player: async () => {
      throw new Error('no player in this test');
    },
    renew,
    endSignIn: () => signOut(SIGN_IN, tab.env),
  });
  control.start(CONFIG, tab.session);
  await settle();
  return { cognito, tab, api, renew, control };
}

describe('ControlState: a Cognito sign-in that lasts the show', () => {
  it('renews 5 minutes before the ID token expires, again and again; the API gets the new token', async () => {
    const { cognito, api, control } = await cognitoRoom();
    const first = cognito.idTokens[0]!.token;
    expect(api.calls).toEqual([{ method: 'list', token: first }]);
    jest.advanceTimersByTime(55 * MINUTE - 1);
    await settle();
    expect(grants(cognito, 'refresh_token')).toHaveLength(0);
    jest.advanceTimersByTime(1);
    await settle();
    expect(grants(cognito, 'refresh_token')).toHaveLength(1);
    const second = cognito.idTokens[1]!.token;
    expect(control.session.current?.token).toBe(second);
    await control.runs.load();
    expect(api.calls.at(-1)).toEqual({ method: 'list', token: second });

    // Five more hours of show, no new sign-in: a renewal every 55 minutes.
    api.state.timed = true;
    for (let minutes = 0; minutes < 5 * 60; minutes += 5) {
      jest.advanceTimersByTime(5 * MINUTE);
      await settle();
      await control.runs.load();
    }
    expect(grants(cognito, 'refresh_token')).toHaveLength(6);
    expect(control.session.current?.token).toBe(cognito.idTokens.at(-1)!.token);
    expect(control.session.signInProblem).toBeNull();
    // Every call the API got carried a token that had not expired.
    const timed = api.calls.filter((c) => c.at !== undefined);
    expect(timed.length).toBeGreaterThanOrEqual(60);
    expect(timed.filter((c) => (jwtClaims(c.token)!.exp as number) * 1000 <= c.at!)).toEqual([]);
  });

  it('a 401 renews the sign-in once and the call is made again with the new token; a second 401 signs out', async () => {
    const cognito = fakeCognito();
    const tab = await signIn(cognito);
    const api = fakeApi();
    const first = tab.session.token;
    api.state.refuses = (token) => token === first;
    control = new ControlState({
      api: api.make,
      player: async () => {
        throw new Error('no player');
      },
      renew: () => renewSession(SIGN_IN, tab.env),
    });
    control.start(CONFIG, tab.session);
    await settle();
    const second = cognito.idTokens[1]!.token;
    expect(api.calls).toEqual([
      { method: 'list', token: first },
      { method: 'list', token: second },
    ]);
    expect(control.runs.loaded).toBe(true);
    expect(control.runs.error).toBeNull();

    api.state.refuses = () => true;
    await control.runs.load();
    expect(grants(cognito, 'refresh_token')).toHaveLength(2);
    expect(api.calls.slice(2).map((c) => c.token)).toEqual([second, cognito.idTokens[2]!.token]);
    expect(control.session.current).toBeNull();
    expect(control.session.signInProblem).toBe('The show server did not accept your sign-in. Sign in again.');
    jest.advanceTimersByTime(3 * HOUR);
    await settle();
    expect(grants(cognito, 'refresh_token')).toHaveLength(2);
    expect(api.calls).toHaveLength(4);
  });

  it('renewals at the same time are one: three refused calls, one refresh', async () => {
    const { cognito, api, control } = await cognitoRoom();
    const first = cognito.idTokens[0]!.token;
    api.state.refuses = (token) => token === first;
    // The run on screen, the runs list and one more read, refused at once.
    await Promise.all([
      control.run.select('cats-20300101T115900Z'),
      control.runs.load(),
      control.session.call((producer) => producer.list(10, 'RUNNING')),
    ]);
    expect(grants(cognito, 'refresh_token')).toHaveLength(1);
    const second = cognito.idTokens[1]!.token;
    const retried = api.calls.filter((c) => c.token === second).map((c) => c.method);
    expect(retried.sort()).toEqual(['list', 'list', 'run']);
    expect(control.run.error).toBeNull();
    expect(control.run.status?.run.runId).toBe('cats-20300101T115900Z');
  });

  it('a page woken after its renewal time renews at once; before it, nothing happens', async () => {
    const { cognito, control, renew } = await cognitoRoom();
    control.session.resume();
    await settle();
    expect(renew).not.toHaveBeenCalled();
    // Asleep for two hours: the clock moved, the timers did not run.
    jest.setSystemTime(NOW + 2 * HOUR);
    control.session.resume();
    control.session.resume(); // visibilitychange and online together: one renewal
    await settle();
    expect(renew).toHaveBeenCalledTimes(1);
    expect(control.session.current?.token).toBe(cognito.idTokens[1]!.token);
    expect(control.session.current?.expiresAt).toBe(NOW + 3 * HOUR);
    // The late timer of the old token does nothing more; the next renewal is the new token's.
    jest.advanceTimersByTime(55 * MINUTE - 1);
    await settle();
    expect(renew).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(1);
    await settle();
    expect(renew).toHaveBeenCalledTimes(2);
  });

  it('a revoked sign-in ends with "Your sign-in ended — sign in again." and is not tried again', async () => {
    const { cognito, tab, control, renew } = await cognitoRoom();
    cognito.revokeAll();
    jest.advanceTimersByTime(55 * MINUTE);
    await settle();
    expect(control.session.current).toBeNull();
    expect(control.session.signInProblem).toBe(SIGN_IN_ENDED);
    expect(control.announcer.words).toBe(SIGN_IN_ENDED);
    expect(keptIn(tab.store)).toBeNull();
    jest.advanceTimersByTime(10 * HOUR);
    control.session.resume();
    await settle();
    expect(renew).toHaveBeenCalledTimes(1);
    expect(grants(cognito, 'refresh_token')).toHaveLength(1);
  });

  it('while the sign-in service is out of reach the session stays, says so, and is tried again with backoff', async () => {
    let down = true;
    const attempts: number[] = [];
    const { cognito, api, control } = await cognitoRoom(
      {},
      (fake) =>
        (async (input, init) => {
          if (String(input).endsWith('/oauth2/token') && down && fake.idTokens.length > 0) {
            attempts.push(Date.now());
            throw new TypeError('Failed to fetch');
          }
          return fake.fetch(input, init);
        }) as typeof fetch,
    );
    const renewAt = NOW + 55 * MINUTE;
    jest.advanceTimersByTime(55 * MINUTE);
    await settle();
    expect(control.session.current?.token).toBe(cognito.idTokens[0]!.token);
    expect(control.session.renewProblem).toBe(
      "Can't reach the sign-in service to renew your sign-in. Trying again…",
    );
    for (const wait of [5000, 10_000, 20_000]) {
      jest.advanceTimersByTime(wait);
      await settle();
    }
    expect(attempts.map((t) => t - renewAt)).toEqual([0, 5000, 15_000, 35_000]);

    // A refused call meanwhile waits for the scheduled retry rather than asking again, and says why.
    api.state.refuses = () => true;
    await control.runs.load();
    expect(attempts).toHaveLength(4);
    expect(control.runs.error).toBe("Can't reach the sign-in service to renew your sign-in. Trying again…");

    down = false;
    api.state.refuses = () => false;
    jest.advanceTimersByTime(40_000);
    await settle();
    expect(control.session.current?.token).toBe(cognito.idTokens[1]!.token);
    expect(control.session.renewProblem).toBeNull();
    expect(control.session.signInProblem).toBeNull();
  });

  it('signing out waits for a renewal under way, then revokes the newest refresh token and leaves for /logout', async () => {
    const { cognito, tab, api, control } = await cognitoRoom({ rotation: true });
    jest.advanceTimersByTime(55 * MINUTE); // a renewal starts …
    const ending = control.session.end(); // … and the producer signs out before it is answered
    expect(control.session.signingOut).toBe(true);
    await ending;
    await settle();
    const rotated = grants(cognito, 'refresh_token');
    expect(rotated).toHaveLength(1);
    const newest = cognito.idTokens.at(-1)!.refresh;
    expect(cognito.requestsTo('/oauth2/revoke').map((r) => r.form)).toEqual([
      { token: newest, client_id: CLIENT },
    ]);
    expect(cognito.renews(newest)).toBe(false);
    expect(keptIn(tab.store)).toBeNull();
    expect(new URL(tab.assigned.at(-1)!).pathname).toBe('/logout');
    // The page is leaving: it says "Signing out…" and fetches nothing more.
    expect(control.session.signingOut).toBe(true);
    const calls = api.calls.length;
    jest.advanceTimersByTime(HOUR);
    await settle();
    expect(api.calls).toHaveLength(calls);
    expect(grants(cognito, 'refresh_token')).toHaveLength(1);
  });

  it('a local token is never renewed: a 401 signs out as before', async () => {
    const api = fakeApi();
    const renew = jest.fn(async (): Promise<Renewal> => ({ outcome: 'ended', problem: SIGN_IN_ENDED }));
    control = new ControlState({
      api: api.make,
      player: async () => {
        throw new Error('no player');
      },
      renew,
    });
    control.start(
      { ...CONFIG, control: { signIn: 'local' } },
      { token: 'local', kind: 'local', expiresAt: null, who: null },
    );
    await settle();
    jest.advanceTimersByTime(10 * HOUR);
    control.session.resume();
    await settle();
    api.state.refuses = () => true;
    await control.runs.load();
    expect(renew).not.toHaveBeenCalled();
    expect(control.session.signInProblem).toBe('The show server did not accept your sign-in. Sign in again.');
  });
});
