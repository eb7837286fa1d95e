// The producer's session: signed in or not (and why not), and the one way to the producer API for
// everything else (`call`). A Cognito session is renewed before its ID token expires, on a 401 from
// the API (once), and when the page comes back from sleep past its renewal time; renewals at the
// same time are one. What the other parts do when the session starts or ends is the hooks'.
import type { SiteConfig } from '../../lib/config.ts';
import { renewalDue, type Renewal, type Session } from './auth.ts';
import { ProducerFailure, type ProducerApi } from './producer-api.ts';

/** After a renewal that could not reach the sign-in service: the next try, doubling up to a minute. */
const RENEW_RETRY_MS = 5000;
const RENEW_RETRY_MAX_MS = 60_000;
export const NOT_ACCEPTED = 'The show server did not accept your sign-in. Sign in again.';

/** The producer API as the other parts of the control room reach it. */
export interface ProducerCalls {
  /** A session the API may be called with (none while signing out). */
  readonly signedIn: boolean;
  call<T>(fn: (api: ProducerApi) => Promise<T>): Promise<T>;
}

export interface SessionOptions {
  /** The page's config, once loaded. */
  config: () => SiteConfig | null;
  /** The producer API client for the config's URL and the session's token (tests pass a fake). */
  api: (config: SiteConfig, session: Session) => ProducerApi;
  /** The API refused the token (401) or the sign-in ended: the page forgets it. */
  forget: () => void;
  /** Renews a Cognito session (auth.ts renewSession); without it a session is never renewed. */
  renew: (() => Promise<Renewal>) | undefined;
  /** Ends the sign-in (auth.ts signOut): true when the page is leaving for Cognito's logout. */
  endSignIn: () => Promise<boolean>;
  /** A session began: fetch afresh. */
  signedIn: () => void;
  /** Nothing more is fetched (the producer is signing out, or the page closes): timers stop. */
  paused: () => void;
  /** The session ended: forget what was fetched with it; `problem` says why, when it was not asked for. */
  signedOut: (problem: string | null) => void;
}

export class SessionState implements ProducerCalls {
  readonly #options: SessionOptions;
  #current = $state.raw<Session | null>(null);
  /** Why the producer must sign in (again): a 401, an expired or failed sign-in. */
  #signInProblem = $state.raw<string | null>(null);
  /** Why the session could not be renewed just now (it is tried again); null while all is well. */
  #renewProblem = $state.raw<string | null>(null);
  #signingOut = $state.raw(false);

  #api: ProducerApi | null = null;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the session is next renewed (epoch ms); null when it is not renewed. */
  #renewAt: number | null = null;
  /** The renewal under way: every caller that needs one waits for this one. */
  #renewing: Promise<Renewal> | null = null;
  /** Renewals in a row that could not reach the sign-in service. */
  #renewFailures = 0;

  constructor(options: SessionOptions) {
    this.#options = options;
  }

  get current(): Session | null {
    return this.#current;
  }
  get signInProblem(): string | null {
    return this.#signInProblem;
  }
  /** Why the sign-in could not be renewed just now (it is tried again), or null. */
  get renewProblem(): string | null {
    return this.#renewProblem;
  }
  /** The producer asked to sign out and the sign-in is being ended. */
  get signingOut(): boolean {
    return this.#signingOut;
  }
  get signedIn(): boolean {
    return this.#api !== null;
  }

  /** The session the page found (or none: then it shows only the sign-in), and why it needs one. */
  start(session: Session | null, problem: string | null): void {
    this.#signInProblem = problem;
    if (session) this.signIn(session);
  }

  signIn(session: Session): void {
    const config = this.#options.config();
    if (!config) return;
    this.#current = session;
    this.#signInProblem = null;
    this.#renewProblem = null;
    this.#renewFailures = 0;
    this.#api = this.#options.api(config, session);
    this.#options.signedIn();
    this.#scheduleRenewal();
  }

  /** Forgets the session (the API refused the token, or the sign-in ended). */
  signOut(problem: string | null = null): void {
    this.#stopRenewing();
    this.#api = null;
    this.#current = null;
    this.#signInProblem = problem;
    this.#renewProblem = null;
    this.#signingOut = false;
    this.#options.forget();
    this.#options.signedOut(problem);
  }

  /**
   * The producer signs out: nothing more is fetched, and the sign-in is ended (a Cognito one revoked
   * and the page sent to Cognito's logout); a renewal under way finishes first, so the token
   * revoked is the last one.
   */
  async end(): Promise<void> {
    if (!this.#current || this.#signingOut) return;
    this.#signingOut = true;
    this.#stopRenewing();
    this.#api = null;
    this.#options.paused();
    await this.#renewing;
    const leaving = await this.#options.endSignIn().catch(() => false);
    // Leaving: the page stays as it is ("Signing out…") until Cognito's logout replaces it.
    if (!leaving) this.signOut();
  }

  /**
   * The page is visible again (or back online): timers may have slept past the renewal time, so
   * the session is renewed now when it is due.
   */
  resume(): void {
    if (this.#renewAt !== null && Date.now() >= this.#renewAt && this.#api) void this.#renewNow();
  }

  destroy(): void {
    this.#stopRenewing();
  }

  /**
   * Every API call goes through here. A 401 renews a Cognito session and the call is made once more
   * with the new token (a session that cannot be renewed signs the producer out with "Sign in
   * again"); a second 401 signs the producer out.
   */
  async call<T>(fn: (api: ProducerApi) => Promise<T>): Promise<T> {
    const api = this.#api;
    if (!api) throw new ProducerFailure(401, 'unauthorized', 'not signed in');
    try {
      return await fn(api);
    } catch (error) {
      if (!(error instanceof ProducerFailure) || !error.signedOut) throw error;
      const again = await this.#afterRefusal(api, error);
      try {
        return await fn(again);
      } catch (second) {
        if (second instanceof ProducerFailure && second.signedOut && this.#api === again) {
          this.signOut(NOT_ACCEPTED);
        }
        throw second;
      }
    }
  }

  /** The API refused `api`'s token: the client to try once more with (a renewed session), or what to throw. */
  async #afterRefusal(api: ProducerApi, refusal: ProducerFailure): Promise<ProducerApi> {
    // Renewed since this request left: the new token has not been refused yet.
    if (this.#api !== api) {
      if (this.#api) return this.#api;
      throw refusal;
    }
    if (!this.#options.renew || this.#current?.kind !== 'cognito') {
      this.signOut(NOT_ACCEPTED);
      throw refusal;
    }
    // The sign-in service could not be reached a moment ago: wait for the retry it is scheduled for
    // rather than asking again with every refused call.
    if (this.#renewProblem !== null && this.#renewAt !== null && Date.now() < this.#renewAt) {
      throw ProducerFailure.renewalFailed(this.#renewProblem);
    }
    const renewal = await this.#renewNow();
    if (renewal.outcome === 'renewed' && this.#api) return this.#api;
    if (renewal.outcome === 'failed' && this.#api) throw ProducerFailure.renewalFailed(renewal.problem);
    throw refusal;
  }

  #stopRenewing(): void {
    clearTimeout(this.#renewTimer);
    this.#renewTimer = undefined;
    this.#renewAt = null;
  }

  /** Renews the session when renewalDue says (or in `delayMs`, after a failed renewal). */
  #scheduleRenewal(delayMs?: number): void {
    this.#stopRenewing();
    const session = this.#current;
    if (!this.#options.renew || !session) return;
    const due = delayMs === undefined ? renewalDue(session) : Date.now() + delayMs;
    if (due === null) return;
    this.#renewAt = due;
    this.#renewTimer = setTimeout(() => void this.#renewNow(), Math.max(0, due - Date.now()));
  }

  /** One renewal at a time: a caller while one is under way gets its outcome. */
  #renewNow(): Promise<Renewal> {
    this.#renewing ??= this.#renewOnce().finally(() => (this.#renewing = null));
    return this.#renewing;
  }

  async #renewOnce(): Promise<Renewal> {
    const session = this.#current;
    const config = this.#options.config();
    const renew = this.#options.renew;
    if (!renew) return { outcome: 'ended', problem: NOT_ACCEPTED };
    clearTimeout(this.#renewTimer);
    this.#renewAt = null;
    const renewal = await renew().catch((error: Error): Renewal => ({
      outcome: 'failed',
      problem: error.message,
    }));
    // Signed out (or in as someone else) meanwhile: this renewal is for a session that is gone.
    if (this.#current !== session || !session || !config || this.#signingOut) return renewal;
    if (renewal.outcome === 'renewed') {
      this.#current = renewal.session;
      this.#api = this.#options.api(config, renewal.session);
      this.#renewProblem = null;
      this.#renewFailures = 0;
      this.#scheduleRenewal();
    } else if (renewal.outcome === 'ended') {
      this.signOut(renewal.problem);
    } else {
      this.#renewProblem = renewal.problem;
      this.#renewFailures++;
      this.#scheduleRenewal(Math.min(RENEW_RETRY_MAX_MS, RENEW_RETRY_MS * 2 ** (this.#renewFailures - 1)));
    }
    return renewal;
  }
}
