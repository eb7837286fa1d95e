// The viewer's REST API client, on the shared JSON client (http.ts). Failures are a ViewerFailure,
// whose `words` a viewer can read.

// The routes, bodies and error codes are the contract's, shared with the API that sends them.
import {
  API_ROUTES,
  MAX_ELAPSED_MS,
  type HistoryPage,
  type PollView,
  type NameRequest,
  type NameResponse,
  type TokenChallenge,
  type TokenRequest,
  type ViewerIdentity,
  type VoteRequest,
  VIEWER_TOKEN_HEADER,
  VIEWER_TOKEN_SCHEME,
} from '../../../contract/api.ts';
import { ApiFailure, JsonClient } from './http.ts';
import { solveChallenge, type SolveOptions } from './identity.ts';

export { ApiFailure };

/** A failure of the viewer API, in a viewer's words. */
export class ViewerFailure extends ApiFailure {
  override readonly name: string = 'ViewerFailure';

  override get words(): string {
    if (this.unreachable) return "Can't reach the show server. Check your connection — we keep trying.";
    switch (this.code) {
      case 'poll_closed':
        return 'Too late — this question is closed.';
      case 'already_answered':
        return 'You already answered this question.';
      case 'unknown_poll':
        return 'This question is no longer available.';
      case 'name_locked':
        return 'Names are fixed once the first quiz question has closed.';
      case 'forbidden':
        return 'The show server refused this request. Reload the page and try again.';
      case 'work_required':
      case 'challenge_invalid':
      case 'challenge_expired':
      case 'work_insufficient':
        return "Couldn't join the show. Reload the page and try again.";
      default:
        // The WAF's rate_limited, or API Gateway's own throttle (whose body has no code).
        if (this.status === 429) return 'The show is very busy right now. Please try again in a minute.';
        return this.status >= 500 ? 'The show server had a problem. Please try again.' : this.message;
    }
  }
}

/** The API calls the viewer page makes (tests pass a fake). */
export type ShowApi = Pick<ApiClient, 'identity' | 'answer' | 'poll' | 'current' | 'history' | 'nickname'>;

export class ApiClient {
  readonly #http: JsonClient;
  readonly #cachedBase: string;

  /** `cachedBase` serves the cacheable reads (GET /poll-get): a CDN in front of the API, or the API itself. */
  constructor(base: string, cachedBase = base, timeoutMs = 8000) {
    this.#http = new JsonClient({ baseUrl: base, timeoutMs, failure: ViewerFailure });
    this.#cachedBase = cachedBase;
  }

  /**
   * A new viewer: their id and the token votes and history reads carry, for the work the API asks
   * (GET /requestor-challenge, solved here, then POST /requestor-token). A challenge that ran out
   * or was refused (a phone asleep mid-solve, a new secret) is replaced by a new one, once.
   */
  async identity(solve: SolveOptions = {}): Promise<ViewerIdentity> {
    for (let attempt = 1; ; attempt++) {
      const { challenge, difficulty } = await this.#http.request<TokenChallenge>(API_ROUTES.challenge);
      const request: TokenRequest = { challenge, nonce: await solveChallenge(challenge, difficulty, solve) };
      try {
        return await this.#http.request<ViewerIdentity>(API_ROUTES.token, { body: request });
      } catch (error) {
        const retry =
          error instanceof ApiFailure &&
          ['challenge_expired', 'challenge_invalid', 'work_insufficient'].includes(error.code);
        if (!retry || attempt >= 2) throw error;
      }
    }
  }

  /**
   * The stored answer (VoteResponse) comes back; the page needs only to know it counted.
   * `elapsedMs`: video time from the question's frame to the tap (the speed bonus), when known.
   */
  answer(pollId: string, viewer: ViewerIdentity, answer: number, elapsedMs?: number): Promise<unknown> {
    const vote: VoteRequest = {
      poll_id: pollId,
      requestor_id: viewer.requestor_id,
      answer,
    };
    if (elapsedMs !== undefined)
      vote.elapsed_ms = Math.min(MAX_ELAPSED_MS, Math.max(0, Math.round(elapsedMs)));
    return this.#http.request(API_ROUTES.vote, { body: vote, headers: authorization(viewer) });
  }

  /** Sets the viewer's nickname: the name as the API stored it (normalised) comes back. */
  nickname(viewer: ViewerIdentity, nickname: string): Promise<NameResponse> {
    const body: NameRequest = { requestor_id: viewer.requestor_id, nickname };
    return this.#http.request(API_ROUTES.name, { body, method: 'PUT', headers: authorization(viewer) });
  }

  poll(pollId: string): Promise<PollView> {
    const path = `${API_ROUTES.poll}?poll_id=${encodeURIComponent(pollId)}`;
    return this.#http.request(path, { baseUrl: this.#cachedBase });
  }

  /** The channel's latest opened poll, or null before any. */
  async current(channel: string): Promise<PollView | null> {
    try {
      return await this.#http.request<PollView>(
        `${API_ROUTES.currentPoll}?${new URLSearchParams({ channel })}`,
      );
    } catch (error) {
      if (error instanceof ApiFailure && error.code === 'no_poll') return null;
      throw error;
    }
  }

  history(viewer: ViewerIdentity, cursor: string | null, limit = 10): Promise<HistoryPage> {
    const params = new URLSearchParams({ requestor_id: viewer.requestor_id, limit: String(limit) });
    if (cursor) params.set('cursor', cursor);
    return this.#http.request(`${API_ROUTES.history}?${params}`, { headers: authorization(viewer) });
  }
}

/** `nickname: expected 1–20 characters, got 0` → `Expected 1–20 characters, got 0.` */
export function fieldWords(message: string): string {
  const text = message.replace(/^[a-z_]+(\[\d+\])?(\.[a-z_]+)*: /i, '');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;
}

function authorization(viewer: ViewerIdentity): Record<string, string> {
  return { [VIEWER_TOKEN_HEADER]: `${VIEWER_TOKEN_SCHEME} ${viewer.token}` };
}
