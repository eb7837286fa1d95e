// The run on screen: which one, and what the API last said of it (run-read.ts), read again every
// 2 s while it changes. Its questions, the manual ones waiting for their cue, and the results
// downloads are `$derived` from that read (timeline.ts).
import type { RunHistory, RunInfo, RunResults, RunStatus } from '../../../../contract/producer.ts';
import { resultsDownloads, type Download } from './figures.ts';
import { ProducerFailure } from './producer-api.ts';
import { readRun, type RunRead } from './run-read.ts';
import type { ProducerCalls } from './session.svelte.ts';
import { changes, closingAfterEnd, questionRows, type QuestionRow, type StreamCount } from './timeline.ts';

export interface RunDetailOptions {
  producer: ProducerCalls;
  /** Says what changed, in words (the page's aria-live region). */
  announce: (words: string) => void;
  /** The run as the list of runs describes it: its status until the run's own is read. */
  listed: (runId: string) => RunInfo | undefined;
  /** The counts the preview's stream carried for a question, if any. */
  streamed: (pollId: string) => StreamCount | null;
  /** Another run was put on screen. */
  selected: () => void;
  /** The run on screen ended: the list of runs changed. */
  ended: () => void;
  /** How often the run on screen is read while it changes (a handful of producers poll, never viewers). */
  everyMs: number;
}

/** The run on screen, as the API last described it. */
interface RunView {
  readonly runId: string;
  readonly read: RunRead | null;
  readonly loading: boolean;
  readonly error: string | null;
}

export class RunDetailState {
  readonly #options: RunDetailOptions;
  #view = $state.raw<RunView | null>(null);

  /** The run on screen runs, as its status says (the list's, until its own is read). */
  readonly running: boolean = $derived.by(() => {
    const view = this.#view;
    if (!view) return false;
    const status = view.read?.status.run.status ?? this.#options.listed(view.runId)?.status;
    return status === 'RUNNING';
  });

  /** Every question of the run on screen, with its timing, state, votes and bars. */
  readonly questions: readonly QuestionRow[] = $derived.by(() => {
    const read = this.#view?.read;
    return read ? questionRows(read, this.#options.streamed) : [];
  });

  /** Every manual question waiting for its cue, in show order: the producer may ask any of them. */
  readonly waitingManual: readonly QuestionRow[] = $derived(
    this.running ? this.questions.filter((q) => q.phase === 'waiting') : [],
  );

  /** The manual question Ask next fires: the first one waiting for its cue. */
  readonly nextManual: QuestionRow | null = $derived(this.waitingManual[0] ?? null);

  /** CSV and JSON of the run's results, built in the page. */
  readonly downloads: { csv: Download; json: Download } | null = $derived(
    this.#view?.read ? resultsDownloads(this.#view.read.results) : null,
  );

  /** Bumped on every change of run (and when reading stops): answers for an older one are dropped. */
  #generation = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: RunDetailOptions) {
    this.#options = options;
  }

  get runId(): string | null {
    return this.#view?.runId ?? null;
  }
  get status(): RunStatus | null {
    return this.#view?.read?.status ?? null;
  }
  get history(): RunHistory | null {
    return this.#view?.read?.history ?? null;
  }
  get results(): RunResults | null {
    return this.#view?.read?.results ?? null;
  }
  get loading(): boolean {
    return this.#view?.loading ?? false;
  }
  get error(): string | null {
    return this.#view?.error ?? null;
  }

  async select(runId: string): Promise<void> {
    if (!this.#options.producer.signedIn) return;
    this.stop();
    this.#view = { runId, read: null, loading: true, error: null };
    this.#options.selected();
    await this.refresh();
  }

  /** Reads the run on screen and, while it changes, again in 2 s. */
  async refresh(): Promise<void> {
    const before = this.#view;
    const { producer } = this.#options;
    if (!before || !producer.signedIn) return;
    clearTimeout(this.#timer);
    const generation = this.#generation;
    const { runId } = before;
    try {
      const read = await readRun(producer, runId);
      if (generation !== this.#generation) return;
      this.#view = { runId, read, loading: false, error: null };
      if (before.read) this.#noteChanges(runId, before.read, read);
    } catch (error) {
      if (generation !== this.#generation) return;
      const message = error instanceof ProducerFailure ? error.words : 'The run could not be read.';
      this.#view = { ...before, loading: false, error: message };
    }
    if (this.#stillMoving() && generation === this.#generation) {
      this.#timer = setTimeout(() => void this.refresh(), this.#options.everyMs);
    }
  }

  /** Nothing more is read; answers under way are dropped. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#generation++;
  }

  /** No run on screen (signed out, or signed in afresh). */
  close(): void {
    this.stop();
    this.#view = null;
  }

  /** Says what changed since the last read: questions asked and closed, the run ending. */
  #noteChanges(runId: string, before: RunRead, after: RunRead): void {
    const { said, ended } = changes(runId, before, after);
    if (ended) this.#options.ended();
    if (said.length > 0) this.#options.announce(said.join(' '));
  }

  /** The run on screen changes by itself: it runs, or it ended with a question not yet closed. */
  #stillMoving(): boolean {
    const read = this.#view?.read;
    return this.running || (read != null && closingAfterEnd(read));
  }
}
