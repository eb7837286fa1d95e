// What the API clients of both pages share (the viewer's api.ts, the control room's
// producer-api.ts): a JSON request with a timeout and the client's own headers, and one failure
// shape, ApiFailure — the API's error code and message, or `unreachable` when the server could not
// be reached. Each page words a failure for its own readers (its subclass's `words`).
import type { ApiErrorBody, ApiErrorCode } from '../../../contract/api.ts';

export class ApiFailure<Code extends string = ApiErrorCode | 'unreachable'> extends Error {
  override readonly name: string = 'ApiFailure';
  /** The HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** The API's error code, or 'unreachable' when the server could not be reached. */
  readonly code: Code;
  /** True when the server could not be reached at all (network down, server stopped). */
  readonly unreachable: boolean;
  constructor(status: number, code: Code, message: string, unreachable = false) {
    super(message);
    this.status = status;
    this.code = code;
    this.unreachable = unreachable;
  }

  /** What the page says about it: the API's own message, unless the page's subclass says better. */
  get words(): string {
    return this.message;
  }
}

/** Makes a client's failures: its page's subclass of ApiFailure. */
export type FailureType = new (
  status: number,
  code: ApiErrorCode | 'unreachable',
  message: string,
  unreachable: boolean,
) => ApiFailure<string>;

export interface JsonClientOptions {
  /** The API's address; request paths follow it. */
  baseUrl: string;
  timeoutMs: number;
  failure: FailureType;
  /** Headers every request carries (the producer's token). */
  headers?: Readonly<Record<string, string>>;
  /** The fetch cache mode of every request; the browser's default when absent. */
  cache?: RequestCache;
}

export interface JsonRequest {
  /** Sent as JSON in a POST (or `method`); without it the request is a GET. */
  body?: unknown;
  /** A request with a body other than a POST (PUT /requestor-name). */
  method?: 'PUT';
  /** Headers of this request alone (a viewer's token). */
  headers?: Readonly<Record<string, string>>;
  /** Another address than the client's (the cacheable reads' CDN). */
  baseUrl?: string;
}

/** A gateway answering for a stopped server counts as unreachable. */
const GATEWAY_DOWN = new Set([502, 503, 504]);

export class JsonClient {
  readonly #baseUrl: string;
  readonly #timeoutMs: number;
  readonly #Failure: FailureType;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #cache: RequestCache | undefined;

  constructor(options: JsonClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/$/, '');
    this.#timeoutMs = options.timeoutMs;
    this.#Failure = options.failure;
    this.#headers = options.headers ?? {};
    this.#cache = options.cache;
  }

  /** The answer's JSON; any failure is the client's ApiFailure. */
  async request<T>(
    path: string,
    { body, headers = {}, baseUrl = this.#baseUrl, method }: JsonRequest = {},
  ): Promise<T> {
    const json = body !== undefined;
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method: json ? (method ?? 'POST') : 'GET',
        headers: { ...this.#headers, ...headers, ...(json ? { 'content-type': 'application/json' } : {}) },
        ...(json ? { body: JSON.stringify(body) } : {}),
        ...(this.#cache ? { cache: this.#cache } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch {
      throw new this.#Failure(0, 'unreachable', 'network error', true);
    }
    let parsed: unknown = null;
    try {
      parsed = await response.json();
    } catch {
      // a gateway's HTML error page, or an empty body
    }
    if (!response.ok) {
      const error = (parsed as Partial<ApiErrorBody> | null)?.error;
      throw new this.#Failure(
        response.status,
        error?.code ?? 'error',
        error?.message ?? `HTTP ${response.status}`,
        GATEWAY_DOWN.has(response.status),
      );
    }
    return parsed as T;
  }
}
