// What the producer does to a show: start one (or replace the running one), ask a waiting manual
// question, stop the run on screen. One at a time (`busy`); the last one's failure is `error`.
import type { StartBody, Started } from '../../../../contract/producer.ts';
import { ProducerFailure } from './producer-api.ts';
import type { RunListState } from './runs.svelte.ts';
import type { RunDetailState } from './run-detail.svelte.ts';
import type { ProducerCalls } from './session.svelte.ts';
import type { ShowDraft } from './show-draft.svelte.ts';

export type Busy = 'starting' | 'asking' | 'stopping' | null;

/** What the last action said when it failed; `replaceable`: another show runs on the channel. */
export interface ActionError {
  readonly action: Exclude<Busy, null>;
  readonly message: string;
  readonly replaceable?: boolean;
}

export interface ActionOptions {
  producer: ProducerCalls;
  run: RunDetailState;
  runs: RunListState;
  draft: ShowDraft;
  /** Says what happened, in words (the page's aria-live region). */
  announce: (words: string) => void;
}

/**
 * A replace whose stopped show is still sending its last results (the API waits only so long):
 * the start is tried again this many times, this far apart.
 */
const REPLACE_TRIES = 4;
const REPLACE_RETRY_MS = 3000;

const wordsOf = (error: unknown, fallback: string) =>
  error instanceof ProducerFailure ? error.words : fallback;

export class ActionState {
  readonly #options: ActionOptions;
  #busy = $state.raw<Busy>(null);
  #error = $state.raw<ActionError | null>(null);

  /** A manual question waits for its cue, and no other action is under way. */
  readonly canAsk: boolean = $derived.by(() => this.#options.run.nextManual !== null && this.#busy === null);

  constructor(options: ActionOptions) {
    this.#options = options;
  }

  get busy(): Busy {
    return this.#busy;
  }
  get error(): ActionError | null {
    return this.#error;
  }

  /** Another run is on screen, or the producer signed out: the last failure no longer applies. */
  clearError(): void {
    this.#error = null;
  }

  /** The show being prepared changed: a refused start no longer applies. */
  draftChanged(): void {
    if (this.#error?.action === 'starting') this.#error = null;
  }

  /** Signed out: nothing is under way. */
  reset(): void {
    this.#busy = null;
    this.#error = null;
  }

  /** Asks the next manual question now (POST /producer/cue). */
  askNext(): Promise<void> {
    return this.ask(this.#options.run.nextManual?.id);
  }

  /** Asks this waiting manual question now, whatever its place in the show (POST /producer/cue {poll}). */
  async ask(poll: string | undefined): Promise<void> {
    const { producer, run } = this.#options;
    const runId = run.runId;
    if (poll === undefined || !run.waitingManual.some((q) => q.id === poll) || !runId || this.#busy) return;
    await this.#act('asking', 'The question could not be cued.', async () => {
      const cued = await producer.call((api) => api.cue({ runId, poll }));
      this.#options.announce(`Cued ${cued.poll}: ${cued.question}`);
    });
    if (producer.signedIn) await run.refresh();
  }

  /** Stops the run on screen (POST /producer/stop): no further questions are asked. */
  async stop(): Promise<void> {
    const { producer, run, runs } = this.#options;
    const runId = run.runId;
    if (!runId || !run.running || this.#busy) return;
    await this.#act('stopping', 'The run could not be stopped.', async () => {
      const stopped = await producer.call((api) => api.stop({ runId, cause: 'stopped in the control room' }));
      this.#options.announce(
        stopped.stopped
          ? `Stopped ${runId}.`
          : `${runId} had already ended (${stopped.status ?? 'not running'}).`,
      );
    });
    if (producer.signedIn) await Promise.all([run.refresh(), runs.load()]);
  }

  /**
   * Starts the prepared show (POST /producer/start) and puts its run on screen. Another show on the
   * channel refuses it (one running show per channel): the refusal names that show, and `replace`
   * (the producer's "Replace the running show") stops it first — its open question closes and its
   * results go out — then starts this one.
   */
  async startShow(replace = false): Promise<void> {
    const { producer, run, runs, draft } = this.#options;
    const body = draft.check.body;
    if (!body || this.#busy || !producer.signedIn) return;
    if (replace) this.#options.announce('Stopping the running show, then starting this one…');
    await this.#act(
      'starting',
      'The show could not be started.',
      async () => {
        const started = await this.#startOnce(replace ? { ...body, replace: true } : body, replace);
        this.#busy = null;
        this.#options.announce(
          started.replaced
            ? `Replaced ${started.replaced.runId}. Started ${started.runId}.`
            : `Started ${started.runId}.`,
        );
        await runs.load();
        await run.select(started.runId);
      },
      !replace,
    );
  }

  /**
   * Runs one action: busy meanwhile, and its failure kept and said — unless it was a 401 that
   * signed the producer out (the sign-in says so, not an error beside a button that is gone).
   * `offerReplace`: a refusal because another show runs on the channel offers to replace it.
   */
  async #act(
    action: Exclude<Busy, null>,
    fallback: string,
    act: () => Promise<void>,
    offerReplace = false,
  ): Promise<void> {
    this.#busy = action;
    this.#error = null;
    try {
      await act();
    } catch (error) {
      if (!this.#options.producer.signedIn) return;
      const message = wordsOf(error, fallback);
      const replaceable = offerReplace && error instanceof ProducerFailure && error.channelBusy;
      this.#error = { action, message, ...(replaceable ? { replaceable } : {}) };
      this.#options.announce(message);
    } finally {
      this.#busy = null;
    }
  }

  /** One start; a replace whose stopped show is still sending its last results is tried again. */
  async #startOnce(body: StartBody, replace: boolean): Promise<Started> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#options.producer.call((api) => api.start(body));
      } catch (error) {
        const ending =
          replace &&
          error instanceof ProducerFailure &&
          error.channelBusy &&
          /still ending/.test(error.message);
        if (!ending || attempt >= REPLACE_TRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, REPLACE_RETRY_MS));
      }
    }
  }
}
