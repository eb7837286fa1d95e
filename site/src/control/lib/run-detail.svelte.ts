// The run on screen: which one, and what the API last said of it (run-read.ts), read again every
// 2 s while it changes, with its standings (GET /producer/leaderboard, the one other read of the
// cycle). Its questions, the manual ones waiting for their cue, and the results and leaderboard
// downloads are `$derived` from those reads (timeline.ts).
import type {
  RunHistory,
  RunInfo,
  RunLeaderboard,
  RunResults,
  RunStatus,
} from '../../../../contract/producer.ts';
import { displayName } from '../../../../core/leaderboard.ts';
import { leaderboardDownloads, resultsDownloads, type Download } from './figures.ts';
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

/** The standings of the run on screen. */
interface StandingsView {
  readonly runId: string;
  readonly board: RunLeaderboard | null;
  readonly error: string | null;
  /** The player whose name is being hidden or shown again. */
  readonly hiding: string | null;
}

export class RunDetailState {
  readonly #options: RunDetailOptions;
  #view = $state.raw<RunView | null>(null);
  #standings = $state.raw<StandingsView | null>(null);

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

  /** The standings' CSV and JSON, built in the page (what `showrunner leaderboard --csv/--json` print). */
  readonly leaderboardDownloads: { csv: Download; json: Download } | null = $derived.by(() => {
    const board = this.#standings?.board;
    return board && board.players > 0 ? leaderboardDownloads(board) : null;
  });

  /** The run has quiz questions (it has standings to show). */
  readonly quiz: boolean = $derived(
    this.#view?.read?.results.polls.some((p) => p.correct !== undefined) ?? false,
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
  /** The run's standings, best first, as last read; null before the first read (or without a leaderboard). */
  get leaderboard(): RunLeaderboard | null {
    return this.#standings?.board ?? null;
  }
  get leaderboardError(): string | null {
    return this.#standings?.error ?? null;
  }
  /** The player whose nickname is being hidden or shown again, or null. */
  get hiding(): string | null {
    return this.#standings?.hiding ?? null;
  }

  /** Hides a player's nickname ("Player 7K3Q" in every later leaderboard), or shows it again. */
  async hideName(requestorId: string, hidden: boolean): Promise<void> {
    const before = this.#standings;
    if (!before?.board || before.hiding) return;
    const { runId } = before;
    this.#standings = { ...before, hiding: requestorId, error: null };
    try {
      const done = await this.#options.producer.call((api) => api.hideName({ requestorId, hidden }));
      const now = this.#standings;
      if (now?.runId !== runId || !now.board) return;
      const standings = now.board.standings.map((s) =>
        s.requestor_id === done.requestorId
          ? { ...s, hidden: done.hidden, name: displayName(s.nickname, done.hidden, s.requestor_id) }
          : s,
      );
      this.#standings = { ...now, board: { ...now.board, standings }, hiding: null };
      const player = standings.find((s) => s.requestor_id === done.requestorId);
      this.#options.announce(
        done.hidden
          ? `Name hidden: now shown as ${player?.name ?? 'a player number'}.`
          : `Name shown again: ${player?.name ?? ''}.`,
      );
    } catch (error) {
      const now = this.#standings;
      if (now?.runId !== runId) return;
      const words = error instanceof ProducerFailure ? error.words : 'The name could not be changed.';
      this.#standings = { ...now, hiding: null, error: words };
    }
  }

  async select(runId: string): Promise<void> {
    if (!this.#options.producer.signedIn) return;
    this.stop();
    this.#view = { runId, read: null, loading: true, error: null };
    this.#standings = { runId, board: null, error: null, hiding: null };
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
    const standings = this.#readStandings(runId, generation);
    try {
      const read = await readRun(producer, runId);
      await standings;
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

  /**
   * The standings, read beside the run (one more call per cycle). A failure keeps the last ones
   * with a word; an API without a leaderboard (404) leaves none.
   */
  async #readStandings(runId: string, generation: number): Promise<void> {
    try {
      const board = await this.#options.producer.call((api) => api.leaderboard(runId));
      const now = this.#standings;
      if (generation !== this.#generation || now?.runId !== runId) return;
      this.#standings = { ...now, board, error: null };
    } catch (error) {
      const now = this.#standings;
      if (generation !== this.#generation || now?.runId !== runId) return;
      if (error instanceof ProducerFailure && error.status === 404) {
        this.#standings = { ...now, board: null, error: null };
        return;
      }
      const words = error instanceof ProducerFailure ? error.words : 'The standings could not be read.';
      this.#standings = { ...now, error: words };
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
    this.#standings = null;
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
