// Whether the viewer page reaches the API. Every call goes through `call`, so an unreachable server
// shows one banner (`down`) and is probed again every few seconds; once it answers, `back` fetches
// again what failed meanwhile.
import { ApiFailure } from './http.ts';

const RETRY_MS = 3000;

export interface ConnectionOptions {
  /** What is fetched again once the server answers after being unreachable. */
  back: () => void;
}

export class ApiConnection<Api> {
  readonly #back: () => void;
  #down = $state.raw(false);
  #api: Api | null = null;
  #probe: (api: Api) => Promise<unknown> = async () => undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ConnectionOptions) {
    this.#back = options.back;
  }

  /** The server could not be reached by the last call. */
  get down(): boolean {
    return this.#down;
  }

  /** Calls go to `api` from now on; `probe` is the call that tells whether an unreachable server is back. */
  open(api: Api, probe: (api: Api) => Promise<unknown>): void {
    this.#api = api;
    this.#probe = probe;
  }

  close(): void {
    clearTimeout(this.#retry);
  }

  async call<T>(fn: (api: Api) => Promise<T>): Promise<T> {
    if (!this.#api) throw new Error('not started');
    try {
      const result = await fn(this.#api);
      this.#down = false;
      return result;
    } catch (error) {
      if (error instanceof ApiFailure && error.unreachable) {
        this.#down = true;
        this.#scheduleRetry();
      } else if (error instanceof ApiFailure) {
        this.#down = false;
      }
      throw error;
    }
  }

  #scheduleRetry(): void {
    if (this.#retry) return;
    this.#retry = setTimeout(async () => {
      this.#retry = undefined;
      try {
        await this.call(this.#probe);
        this.#back();
      } catch {
        // call scheduled the next try
      }
    }, RETRY_MS);
  }
}
