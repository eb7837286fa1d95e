// The list of runs, newest first, read again every 10 s while signed in (runs started elsewhere, by
// the CLI or a colleague), and which run to open after sign-in.
import type { RunInfo } from '../../../../contract/producer.ts';
import { ProducerFailure } from './producer-api.ts';
import type { ProducerCalls } from './session.svelte.ts';

interface Listing {
  readonly items: readonly RunInfo[];
  readonly loaded: boolean;
  readonly loading: boolean;
  readonly error: string | null;
}

const noRuns: Listing = { items: [], loaded: false, loading: false, error: null };
const time = (iso: string | undefined) => (iso === undefined ? 0 : Date.parse(iso));

export class RunListState {
  readonly #producer: ProducerCalls;
  readonly #everyMs: number;
  #list = $state.raw<Listing>(noRuns);
  /** Bumped when the list is reset or stopped: answers for an older one are dropped. */
  #generation = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** `everyMs`: how often the list is read while signed in. */
  constructor(producer: ProducerCalls, everyMs: number) {
    this.#producer = producer;
    this.#everyMs = everyMs;
  }

  get items(): readonly RunInfo[] {
    return this.#list.items;
  }
  get loaded(): boolean {
    return this.#list.loaded;
  }
  get error(): string | null {
    return this.#list.error;
  }

  /** The run as the list last described it. */
  find(runId: string): RunInfo | undefined {
    return this.#list.items.find((r) => r.runId === runId);
  }

  /** A new session: the list from scratch, then again every `everyMs`. */
  start(): Promise<void> {
    this.reset();
    this.#timer = setInterval(() => void this.load(), this.#everyMs);
    return this.load();
  }

  /** Nothing more is read; answers under way are dropped. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#generation++;
  }

  /** Signed out: no list. */
  reset(): void {
    this.stop();
    this.#list = noRuns;
  }

  async load(): Promise<void> {
    if (!this.#producer.signedIn || this.#list.loading) return;
    const generation = this.#generation;
    this.#list = { ...this.#list, loading: true };
    try {
      const { runs } = await this.#producer.call((api) => api.list());
      if (generation !== this.#generation) return;
      const items = [...runs].sort((a, b) => time(b.startDate) - time(a.startDate));
      this.#list = { items, loaded: true, loading: false, error: null };
    } catch (error) {
      if (generation !== this.#generation) return;
      const message = error instanceof ProducerFailure ? error.words : 'The runs could not be read.';
      this.#list = { ...this.#list, loading: false, error: message };
    }
  }

  /**
   * The run to open after sign-in: the running show (asked for by status, so one started long ago
   * and past the list's page is found too), else the newest; null when there is none, or the list
   * was reset meanwhile.
   */
  async pick(): Promise<string | null> {
    const { items } = this.#list;
    if (items.length === 0) return null;
    const generation = this.#generation;
    let running = items.find((r) => r.status === 'RUNNING');
    if (!running) {
      const found = await this.#producer.call((api) => api.list(10, 'RUNNING')).catch(() => null);
      running = found?.runs.find((r) => r.status === 'RUNNING');
    }
    if (generation !== this.#generation) return null;
    return (running ?? items[0]!).runId;
  }
}
