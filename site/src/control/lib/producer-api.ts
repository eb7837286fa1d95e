// The producer API client (contract/producer.ts), on the shared JSON client (lib/http.ts): JSON under
// `${apiUrl}/producer/…`, every request with the signed-in producer's token and never cached.
// Failures are a ProducerFailure whose `words` a producer can act on; a 401 is `signedOut`, which
// the page answers by renewing a Cognito sign-in once (or, for a token that cannot be renewed, with
// "Sign in again").
import type { ApiErrorCode } from '../../../../contract/api.ts';
import {
  CHANNEL_BUSY_CODE,
  PRODUCER_ROUTES,
  type CueBody,
  type Cued,
  type HideNameBody,
  type NameHidden,
  type RunLeaderboard,
  type RunInfo,
  type RunList,
  type RunState,
  type StartBody,
  type Started,
  type StopBody,
  type Stopped,
} from '../../../../contract/producer.ts';
import { ApiFailure, JsonClient } from '../../lib/http.ts';

/**
 * The API's error code; 'unreachable' when the server could not be reached, 'sign-in' when the
 * sign-in could not be renewed for now (the message says why).
 */
export type ProducerFailureCode = ApiErrorCode | 'unreachable' | 'sign-in';

export class ProducerFailure extends ApiFailure<ProducerFailureCode> {
  override readonly name: string = 'ProducerFailure';

  /** The API refused the token (missing, wrong or expired): renewed, or the producer signs in again. */
  get signedOut(): boolean {
    return this.status === 401;
  }

  /** The sign-in could not be renewed for now: the session stays and is renewed again later. */
  static renewalFailed(problem: string): ProducerFailure {
    return new ProducerFailure(0, 'sign-in', problem);
  }

  /** Another show runs on the channel: the page offers to replace it. */
  get channelBusy(): boolean {
    return this.code === CHANNEL_BUSY_CODE;
  }

  override get words(): string {
    if (this.code === 'sign-in') return this.message;
    if (this.unreachable) return "Can't reach the show server. Check the connection and try again.";
    if (this.status === 401) return 'Your sign-in is not valid any more. Sign in again.';
    if (this.status === 403) return 'This account may not use the control room.';
    if (this.status === 429) return 'The show server is busy. Try again in a moment.';
    // 409 channel_busy: the message names the show on the channel; the page offers to replace it.
    if (this.code === CHANNEL_BUSY_CODE && !/still ending/.test(this.message)) {
      const named = this.message.split(': stop it')[0]!;
      return `${named[0]!.toUpperCase()}${named.slice(1)}. Stop it first, or replace it with this show.`;
    }
    if (this.status >= 500) return 'The show server had a problem. Try again.';
    // 400, 404, 409: the API's message names the field at fault (`polls[1].answers: …`).
    return this.message;
  }
}

/** What the control room calls (the state classes take any object with these methods: tests pass a fake). */
export interface ProducerApi {
  /** Runs newest first; `status` (RUNNING…) only those. */
  list(limit?: number, status?: string): Promise<RunList<RunInfo>>;
  start(body: StartBody): Promise<Started>;
  cue(body: CueBody): Promise<Cued>;
  stop(body: StopBody): Promise<Stopped>;
  /** Status, history and results in one call that reads the run once (what the page polls). */
  run(runId: string): Promise<RunState>;
  /** The run's standings, best first (read with the run while it runs). */
  leaderboard(runId: string): Promise<RunLeaderboard>;
  /** Shows a player's nickname as "Player 7K3Q" (hidden), or as chosen again. */
  hideName(body: HideNameBody): Promise<NameHidden>;
}

export class ProducerClient implements ProducerApi {
  readonly #http: JsonClient;

  constructor(apiUrl: string, token: string, timeoutMs = 15_000) {
    this.#http = new JsonClient({
      baseUrl: apiUrl,
      timeoutMs,
      failure: ProducerFailure,
      headers: { authorization: `Bearer ${token}` },
      cache: 'no-store',
    });
  }

  /** A GET of `route` with `query`. */
  #read<T>(route: string, query: Record<string, string>): Promise<T> {
    return this.#http.request<T>(`${route}?${new URLSearchParams(query)}`);
  }

  list(limit = 50, status?: string) {
    const query = { limit: String(limit), ...(status ? { status } : {}) };
    return this.#read<RunList<RunInfo>>(PRODUCER_ROUTES.list, query);
  }
  start(body: StartBody) {
    return this.#http.request<Started>(PRODUCER_ROUTES.start, { body });
  }
  cue(body: CueBody) {
    return this.#http.request<Cued>(PRODUCER_ROUTES.cue, { body });
  }
  stop(body: StopBody) {
    return this.#http.request<Stopped>(PRODUCER_ROUTES.stop, { body });
  }
  run(runId: string) {
    return this.#read<RunState>(PRODUCER_ROUTES.run, { runId });
  }
  leaderboard(runId: string) {
    return this.#read<RunLeaderboard>(PRODUCER_ROUTES.leaderboard, { runId });
  }
  hideName(body: HideNameBody) {
    return this.#http.request<NameHidden>(PRODUCER_ROUTES.hideName, { body });
  }
}
