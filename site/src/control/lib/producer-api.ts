// The producer API client (contract/producer.ts): JSON under `${apiUrl}/producer/…`, every request
// with the signed-in producer's token. Failures become a ProducerFailure whose `words` a producer
// can act on; a 401 is `signedOut`, which the page answers by renewing a Cognito sign-in once (or,
// for a token that cannot be renewed, with "Sign in again").
import type { ApiErrorBody } from '../../../../contract/api.ts';
import {
  CHANNEL_BUSY_CODE,
  PRODUCER_ROUTES,
  type CueBody,
  type RunList,
  type StartBody,
  type StopBody,
} from '../../../../contract/producer.ts';

import type {
  CuedJson,
  RunHistoryJson,
  RunInfoJson,
  RunResults,
  RunStatusJson,
  StartedJson,
  StoppedJson,
} from '../../../../contract/producer.ts';

export class ProducerFailure extends Error {
  override readonly name = 'ProducerFailure';
  readonly status: number;
  /**
   * The API's error code; 'unreachable' when the server could not be reached, 'sign-in' when the
   * sign-in could not be renewed for now (the message says why).
   */
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }

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

  get words(): string {
    if (this.code === 'sign-in') return this.message;
    if (this.code === 'unreachable')
      return "Can't reach the show server. Check the connection and try again.";
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

/** What the control room calls (the state class takes any object with these methods: tests pass a fake). */
export interface ProducerApi {
  /** Runs newest first; `status` (RUNNING…) only those. */
  list(limit?: number, status?: string): Promise<RunList<RunInfoJson>>;
  start(body: StartBody): Promise<StartedJson>;
  cue(body: CueBody): Promise<CuedJson>;
  stop(body: StopBody): Promise<StoppedJson>;
  status(runId: string): Promise<RunStatusJson>;
  history(runId: string): Promise<RunHistoryJson>;
  results(runId: string): Promise<RunResults>;
}

export class ProducerClient implements ProducerApi {
  readonly #base: string;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(apiUrl: string, token: string, timeoutMs = 15_000) {
    this.#base = apiUrl.replace(/\/$/, '');
    this.#token = token;
    this.#timeoutMs = timeoutMs;
  }

  async #request<T>(path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          authorization: `Bearer ${this.#token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        cache: 'no-store',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch {
      throw new ProducerFailure(0, 'unreachable', 'network error');
    }
    let parsed: unknown = null;
    try {
      parsed = await response.json();
    } catch {
      // a gateway's HTML page, or an empty body
    }
    if (!response.ok) {
      const error = (parsed as Partial<ApiErrorBody> | null)?.error;
      const unreachable = response.status === 502 || response.status === 503 || response.status === 504;
      throw new ProducerFailure(
        response.status,
        unreachable ? 'unreachable' : (error?.code ?? 'error'),
        error?.message ?? `HTTP ${response.status}`,
      );
    }
    return parsed as T;
  }

  list(limit = 50, status?: string) {
    const query = new URLSearchParams({ limit: String(limit), ...(status ? { status } : {}) });
    return this.#request<RunList<RunInfoJson>>(`${PRODUCER_ROUTES.list}?${query}`);
  }
  start(body: StartBody) {
    return this.#request<StartedJson>(PRODUCER_ROUTES.start, body);
  }
  cue(body: CueBody) {
    return this.#request<CuedJson>(PRODUCER_ROUTES.cue, body);
  }
  stop(body: StopBody) {
    return this.#request<StoppedJson>(PRODUCER_ROUTES.stop, body);
  }
  status(runId: string) {
    return this.#request<RunStatusJson>(`${PRODUCER_ROUTES.status}?${new URLSearchParams({ runId })}`);
  }
  history(runId: string) {
    return this.#request<RunHistoryJson>(`${PRODUCER_ROUTES.history}?${new URLSearchParams({ runId })}`);
  }
  results(runId: string) {
    return this.#request<RunResults>(`${PRODUCER_ROUTES.results}?${new URLSearchParams({ runId })}`);
  }
}
