// The control room's state: the producer's session, the runs, the run on screen (its status,
// timeline and results, polled every 2 s while it runs), the show being prepared, and what the
// preview player's stream carries. Each part is one `$state.raw` value that only the methods here
// write, always replacing it whole; what follows from them (the draft's check, the question rows,
// the next manual question, the downloads) is `$derived`. Nothing is fetched without a session.
import { decodeCue } from '../../../../contract/cues.ts';
import type { SiteConfig } from '../../lib/config.ts';
import { CueClock, type DueCue } from '../../lib/cue-clock.ts';
import type { Player, PlayerFactory, PlayerStatus } from '../../lib/player/types.ts';
import type { Session } from './auth.ts';
import { checkDraft, emptyDraft, type Draft, type DraftCheck } from './draft.ts';
import { resultsDownloads, resultText, type Download } from './figures.ts';
import type {
  RunHistoryJson,
  RunInfoJson,
  RunResults,
  RunStatusJson,
} from '../../../../contract/producer.ts';
import { ProducerFailure, type ProducerApi } from './producer-api.ts';

export interface ControlOptions {
  /** The producer API client for the config's URL and the session's token (tests pass a fake). */
  api: (config: SiteConfig, session: Session) => ProducerApi;
  /** The player adapter for config.player (player/load.ts; tests pass a fake). */
  player: (kind: SiteConfig['player']) => Promise<PlayerFactory>;
  /** The API refused the token (401): the page forgets it. */
  forgetSession?: () => void;
  /** How often the run on screen is read while it runs (a handful of producers poll, never viewers). */
  pollMs?: number;
  /** How often the list of runs is read (runs started elsewhere, by the CLI or a colleague). */
  listMs?: number;
}

interface RunList {
  readonly items: readonly RunInfoJson[];
  readonly loaded: boolean;
  readonly loading: boolean;
  readonly error: string | null;
}

/** The run on screen, as the API last described it. */
interface RunView {
  readonly runId: string;
  readonly status: RunStatusJson | null;
  readonly history: RunHistoryJson | null;
  readonly results: RunResults | null;
  readonly loading: boolean;
  readonly error: string | null;
}

type Busy = 'starting' | 'asking' | 'stopping' | null;

/** A question's counts as the preview's stream carried them (tally cues while open, then the results cue). */
interface StreamCount {
  readonly counts: readonly number[];
  readonly total: number;
  readonly correct?: number;
  readonly final: boolean;
}

/** The question the stream carries now (its poll cue was shown on the preview's frame). */
export interface OnAir {
  readonly pollId: string;
  readonly question: string;
  readonly answers: readonly string[];
}

export type QuestionPhase = 'waiting' | 'manual' | 'scheduled' | 'open' | 'closed' | 'not asked';

export interface QuestionRow {
  readonly id: string;
  readonly pollId: string;
  readonly question: string;
  readonly answers: readonly string[];
  readonly manual: boolean;
  readonly correct?: number;
  readonly scheduledAt?: number;
  readonly cuedAt?: number;
  readonly askedAt?: number;
  readonly lateMs?: number;
  readonly closesAt?: number;
  readonly closedAt?: number;
  readonly phase: QuestionPhase;
  /** Votes the API counts now (the exact recount once closed); null before the question is asked. */
  readonly votes: number | null;
  /** The bars: from the preview's stream (what viewers see) when it carried them, else the API's count. */
  readonly bars: {
    readonly counts: readonly number[];
    readonly total: number;
    readonly source: 'stream' | 'count';
  } | null;
  /** The RESULT column of `showrunner history`. */
  readonly result: string;
}

const POLL_MS = 2000;
const LIST_MS = 10_000;
/** How long after its closing time an ended run's question is read again, waiting for it to close. */
const OPEN_AFTER_END_MS = 60_000;
/** Stream counts kept, for the questions of the last few runs the preview saw. */
const KEEP_STREAM_COUNTS = 100;

const noRuns: RunList = { items: [], loaded: false, loading: false, error: null };
const view = (runId: string): RunView => ({
  runId,
  status: null,
  history: null,
  results: null,
  loading: true,
  error: null,
});

const time = (iso: string | undefined) => (iso === undefined ? 0 : Date.parse(iso));
const wordsOf = (error: unknown, fallback: string) =>
  error instanceof ProducerFailure ? error.words : fallback;

export class ControlState {
  readonly #makeApi: ControlOptions['api'];
  readonly #loadPlayer: ControlOptions['player'];
  readonly #forget: () => void;
  readonly #pollMs: number;
  readonly #listMs: number;

  #config = $state.raw<SiteConfig | null>(null);
  #fatal = $state.raw<string | null>(null);
  #session = $state.raw<Session | null>(null);
  /** Why the producer must sign in (again): a 401, an expired or failed sign-in. */
  #signInProblem = $state.raw<string | null>(null);
  #runs = $state.raw<RunList>(noRuns);
  #run = $state.raw<RunView | null>(null);
  #busy = $state.raw<Busy>(null);
  /** What the last action (start, ask, stop) said: its failure, or null. */
  #actionError = $state.raw<{ action: Exclude<Busy, null>; message: string } | null>(null);
  #draft = $state.raw<Draft>(emptyDraft);
  #stream = $state.raw<PlayerStatus>({ kind: 'loading' });
  #onAir = $state.raw<OnAir | null>(null);
  #streamCounts = $state.raw<ReadonlyMap<string, StreamCount>>(new Map());
  #announcement = $state.raw('');

  /** The show being prepared, checked by the CLI's schema (and its start time and channel). */
  readonly draftCheck: DraftCheck = $derived(checkDraft(this.#draft));

  readonly running: boolean = $derived.by(() => {
    const run = this.#run;
    if (!run) return false;
    const status = run.status?.run.status ?? this.#runs.items.find((r) => r.runId === run.runId)?.status;
    return status === 'RUNNING';
  });

  /** Every question of the run on screen, with its timing, state, votes and bars. */
  readonly questions: readonly QuestionRow[] = $derived.by(() => {
    const run = this.#run;
    if (!run?.history) return [];
    const ended = !this.running && run.status !== null;
    const results = new Map(run.results?.polls.map((p) => [p.pollId, p]) ?? []);
    return run.history.polls.map((p): QuestionRow => {
      const counted = results.get(p.pollId);
      const asked = p.askedAt !== undefined || (counted !== undefined && counted.state !== 'not asked');
      const phase: QuestionPhase = !asked
        ? p.waitingForCue && !ended
          ? 'waiting'
          : ended
            ? 'not asked'
            : p.manual
              ? 'manual'
              : 'scheduled'
        : p.closedAt !== undefined || counted?.state === 'closed'
          ? 'closed'
          : 'open';
      const streamed = this.#streamCounts.get(p.pollId);
      const counts = counted && counted.state !== 'not asked' ? counted.counts : p.counts;
      const total = counted && counted.state !== 'not asked' ? counted.total : p.total;
      const bars = streamed
        ? { counts: streamed.counts, total: streamed.total, source: 'stream' as const }
        : asked && counts
          ? { counts, total: total ?? 0, source: 'count' as const }
          : null;
      const correct = p.correct ?? counted?.correct;
      const row = {
        id: p.id,
        pollId: p.pollId,
        question: p.question,
        answers: p.answers,
        manual: p.manual,
        ...(correct !== undefined ? { correct } : {}),
        ...(p.scheduledAt !== undefined ? { scheduledAt: p.scheduledAt } : {}),
        ...(p.cuedAt !== undefined ? { cuedAt: p.cuedAt } : {}),
        ...(p.askedAt !== undefined ? { askedAt: p.askedAt } : {}),
        ...(p.lateMs !== undefined ? { lateMs: p.lateMs } : {}),
        ...(p.closesAt !== undefined ? { closesAt: p.closesAt } : {}),
        ...(p.closedAt !== undefined ? { closedAt: p.closedAt } : {}),
        phase,
        votes: asked ? (total ?? 0) : null,
        bars,
      };
      return {
        ...row,
        result: resultText({
          answers: p.answers,
          ...(counts ? { counts } : {}),
          ...(total !== undefined ? { total } : {}),
          ...(correct !== undefined ? { correct } : {}),
        }),
      };
    });
  });

  /** The manual question Ask next fires: the first one waiting for its cue. */
  readonly nextManual: QuestionRow | null = $derived(
    this.running ? (this.questions.find((q) => q.phase === 'waiting') ?? null) : null,
  );

  readonly canAsk: boolean = $derived(this.nextManual !== null && this.#busy === null);

  /** CSV and JSON of the run's results, built in the page. */
  readonly downloads: { csv: Download; json: Download } | null = $derived(
    this.#run?.results ? resultsDownloads(this.#run.results) : null,
  );

  #api: ProducerApi | null = null;
  /** Bumped on every sign-in, sign-out and change of run: answers for an older one are dropped. */
  #generation = 0;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #listTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: ControlOptions) {
    this.#makeApi = options.api;
    this.#loadPlayer = options.player;
    this.#forget = options.forgetSession ?? (() => undefined);
    this.#pollMs = options.pollMs ?? POLL_MS;
    this.#listMs = options.listMs ?? LIST_MS;
  }

  get fatal(): string | null {
    return this.#fatal;
  }
  get config(): SiteConfig | null {
    return this.#config;
  }
  get session(): Session | null {
    return this.#session;
  }
  get signInProblem(): string | null {
    return this.#signInProblem;
  }
  get runs(): readonly RunInfoJson[] {
    return this.#runs.items;
  }
  get runsLoaded(): boolean {
    return this.#runs.loaded;
  }
  get runsError(): string | null {
    return this.#runs.error;
  }
  get runId(): string | null {
    return this.#run?.runId ?? null;
  }
  get runStatus(): RunStatusJson | null {
    return this.#run?.status ?? null;
  }
  get runHistory(): RunHistoryJson | null {
    return this.#run?.history ?? null;
  }
  get results(): RunResults | null {
    return this.#run?.results ?? null;
  }
  get runLoading(): boolean {
    return this.#run?.loading ?? false;
  }
  get runError(): string | null {
    return this.#run?.error ?? null;
  }
  get busy(): Busy {
    return this.#busy;
  }
  get actionError(): { action: Exclude<Busy, null>; message: string } | null {
    return this.#actionError;
  }
  get draft(): Draft {
    return this.#draft;
  }
  get stream(): PlayerStatus {
    return this.#stream;
  }
  get onAir(): OnAir | null {
    return this.#onAir;
  }
  /** What a screen reader says (an aria-live region): each change of state, in words. */
  get announcement(): string {
    return this.#announcement;
  }

  /** The page's config, and the session it found (or none: then it shows only the sign-in). */
  start(config: SiteConfig, session: Session | null, problem: string | null = null): void {
    this.#config = config;
    this.#signInProblem = problem;
    if (session) this.signIn(session);
  }

  configFailed(error: Error): void {
    this.#fatal = `The control room is not set up correctly (${error.message}).`;
  }

  signIn(session: Session): void {
    if (!this.#config) return;
    this.#stopTimers();
    this.#generation++;
    this.#session = session;
    this.#signInProblem = null;
    this.#api = this.#makeApi(this.#config, session);
    this.#runs = noRuns;
    this.#run = null;
    void this.loadRuns().then(() => this.#pickRun());
    this.#listTimer = setInterval(() => void this.loadRuns(), this.#listMs);
  }

  /** Forgets the session (the producer signed out, or the API refused the token). */
  signOut(problem: string | null = null): void {
    this.#stopTimers();
    this.#generation++;
    this.#api = null;
    this.#session = null;
    this.#signInProblem = problem;
    this.#runs = noRuns;
    this.#run = null;
    this.#busy = null;
    this.#actionError = null;
    this.#forget();
    if (problem) this.#announce(problem);
  }

  destroy(): void {
    this.#stopTimers();
    this.#generation++;
  }

  #stopTimers(): void {
    clearTimeout(this.#pollTimer);
    clearInterval(this.#listTimer);
    this.#pollTimer = undefined;
    this.#listTimer = undefined;
  }

  #announce(words: string): void {
    this.#announcement = words;
  }

  /** Every API call goes through here: a 401 signs the producer out with "Sign in again". */
  async #call<T>(fn: (api: ProducerApi) => Promise<T>): Promise<T> {
    const api = this.#api;
    if (!api) throw new ProducerFailure(401, 'unauthorized', 'not signed in');
    try {
      return await fn(api);
    } catch (error) {
      if (error instanceof ProducerFailure && error.signedOut && this.#api === api) {
        this.signOut('The show server did not accept your sign-in. Sign in again.');
      }
      throw error;
    }
  }

  async loadRuns(): Promise<void> {
    if (!this.#api || this.#runs.loading) return;
    const generation = this.#generation;
    this.#runs = { ...this.#runs, loading: true };
    try {
      const { runs } = await this.#call((api) => api.list());
      if (generation !== this.#generation) return;
      const items = [...runs].sort((a, b) => time(b.startDate) - time(a.startDate));
      this.#runs = { items, loaded: true, loading: false, error: null };
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#runs = { ...this.#runs, loading: false, error: wordsOf(error, 'The runs could not be read.') };
    }
  }

  /** After sign-in: the newest running show, else the newest run. */
  #pickRun(): void {
    if (this.#run || this.#runs.items.length === 0) return;
    const pick = this.#runs.items.find((r) => r.status === 'RUNNING') ?? this.#runs.items[0]!;
    void this.selectRun(pick.runId);
  }

  async selectRun(runId: string): Promise<void> {
    if (!this.#api) return;
    clearTimeout(this.#pollTimer);
    this.#generation++;
    this.#run = view(runId);
    this.#actionError = null;
    await this.refreshRun();
  }

  /** Reads the run on screen (status, timeline, results) and, while it changes, again in 2 s. */
  async refreshRun(): Promise<void> {
    const before = this.#run;
    if (!before || !this.#api) return;
    clearTimeout(this.#pollTimer);
    const generation = this.#generation;
    const { runId } = before;
    try {
      const [status, history, results] = await Promise.all([
        this.#call((api) => api.status(runId)),
        this.#call((api) => api.history(runId)),
        this.#call((api) => api.results(runId)),
      ]);
      if (generation !== this.#generation) return;
      this.#run = { runId, status, history, results, loading: false, error: null };
      this.#noteChanges(before, this.#run);
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#run = { ...before, loading: false, error: wordsOf(error, 'The run could not be read.') };
    }
    if (this.#stillMoving() && generation === this.#generation) {
      this.#pollTimer = setTimeout(() => void this.refreshRun(), this.#pollMs);
    }
  }

  /** Says what changed since the last read: questions asked and closed, the run ending. */
  #noteChanges(before: RunView, after: RunView): void {
    if (!before.history || !before.status || !after.history || !after.status) return;
    const was = new Map(before.history.polls.map((p) => [p.pollId, p]));
    const wasCounted = new Map(before.results?.polls.map((p) => [p.pollId, p.state]) ?? []);
    const counted = new Map(after.results?.polls.map((p) => [p.pollId, p]) ?? []);
    const said: string[] = [];
    for (const p of after.history.polls) {
      const old = was.get(p.pollId);
      if (p.askedAt !== undefined && old?.askedAt === undefined) said.push(`Asked ${p.id}: ${p.question}`);
      const closed = p.closedAt !== undefined || counted.get(p.pollId)?.state === 'closed';
      const wasClosed = old?.closedAt !== undefined || wasCounted.get(p.pollId) === 'closed';
      if (closed && !wasClosed) {
        const votes = counted.get(p.pollId)?.total ?? p.total ?? 0;
        said.push(`${p.id} closed with ${votes} ${votes === 1 ? 'vote' : 'votes'}.`);
      }
    }
    const now = after.status.run.status;
    if (before.status.run.status === 'RUNNING' && now !== 'RUNNING') {
      said.push(`The run ${after.runId} ended: ${now ?? 'unknown'}.`);
      void this.loadRuns();
    }
    if (said.length > 0) this.#announce(said.join(' '));
  }

  /**
   * Whether the run on screen changes by itself: it runs, or it ended with a question still taking
   * votes (a stopped run's open question closes at its time).
   */
  #stillMoving(): boolean {
    if (this.running) return true;
    const run = this.#run;
    if (!run?.results || !run.history) return false;
    const closesAt = new Map(run.history.polls.map((p) => [p.pollId, p.closesAt]));
    return run.results.polls.some(
      (p) => p.state === 'open' && Date.now() < (closesAt.get(p.pollId) ?? 0) + OPEN_AFTER_END_MS,
    );
  }

  /** Asks the next manual question now (POST /producer/cue). */
  async askNext(): Promise<void> {
    const next = this.nextManual;
    const runId = this.#run?.runId;
    if (!next || !runId || this.#busy) return;
    this.#busy = 'asking';
    this.#actionError = null;
    try {
      const cued = await this.#call((api) => api.cue({ runId }));
      this.#announce(`Cued ${cued.poll}: ${cued.question}`);
    } catch (error) {
      // A 401 signed the producer out: the sign-in says so.
      if (!this.#api) return;
      const message = wordsOf(error, 'The question could not be cued.');
      this.#actionError = { action: 'asking', message };
      this.#announce(message);
    } finally {
      this.#busy = null;
    }
    if (this.#api) await this.refreshRun();
  }

  /** Stops the run on screen (POST /producer/stop): no further questions are asked. */
  async stop(): Promise<void> {
    const runId = this.#run?.runId;
    if (!runId || !this.running || this.#busy) return;
    this.#busy = 'stopping';
    this.#actionError = null;
    try {
      const stopped = await this.#call((api) => api.stop({ runId, cause: 'stopped in the control room' }));
      this.#announce(
        stopped.stopped
          ? `Stopped ${runId}.`
          : `${runId} had already ended (${stopped.status ?? 'not running'}).`,
      );
    } catch (error) {
      // A 401 signed the producer out: the sign-in says so.
      if (!this.#api) return;
      const message = wordsOf(error, 'The run could not be stopped.');
      this.#actionError = { action: 'stopping', message };
      this.#announce(message);
    } finally {
      this.#busy = null;
    }
    if (this.#api) await Promise.all([this.refreshRun(), this.loadRuns()]);
  }

  setDraft(change: Partial<Draft>): void {
    this.#draft = { ...this.#draft, ...change };
    if (this.#actionError?.action === 'starting') this.#actionError = null;
  }

  /** Starts the prepared show (POST /producer/start) and puts its run on screen. */
  async startShow(): Promise<void> {
    const body = this.draftCheck.body;
    if (!body || this.#busy || !this.#api) return;
    this.#busy = 'starting';
    this.#actionError = null;
    try {
      const started = await this.#call((api) => api.start(body));
      this.#busy = null;
      this.#announce(`Started ${started.runId}.`);
      await this.loadRuns();
      await this.selectRun(started.runId);
    } catch (error) {
      // A 401 signed the producer out: the sign-in says so.
      if (!this.#api) return;
      const message = wordsOf(error, 'The show could not be started.');
      this.#actionError = { action: 'starting', message };
      this.#announce(message);
    } finally {
      this.#busy = null;
    }
  }

  /**
   * Plays the stream in `video` as viewers see it, and reads its cues on their frames: the question
   * on air and the live counts. Returns what stops it (for an attachment's cleanup).
   */
  attachPreview(video: HTMLVideoElement): () => void {
    const config = this.#config;
    if (!config?.playbackUrl) {
      this.#stream = { kind: 'offline', message: 'No stream is configured for this site.' };
      return () => undefined;
    }
    const url = config.playbackUrl;
    let gone = false;
    let player: Player | null = null;
    const clock = new CueClock(video, (cue) => this.#onCue(cue));
    this.#stream = { kind: 'loading' };
    this.#loadPlayer(config.player)
      .then((create) =>
        gone
          ? null
          : create(video, url, {
              cue: (cue) => clock.add(cue),
              status: (status) => {
                if (!gone) this.#stream = status;
              },
            }),
      )
      .then((made) => {
        if (gone) made?.destroy();
        else player = made;
      })
      .catch((error: Error) => {
        if (!gone) this.#stream = { kind: 'error', message: error.message };
      });
    return () => {
      gone = true;
      clock.destroy();
      player?.destroy();
    };
  }

  #onCue(due: DueCue): void {
    const cue = decodeCue(due.payload);
    if (!cue) return;
    if (cue.type === 'poll') {
      this.#onAir = { pollId: cue.poll_id, question: cue.question, answers: cue.answers };
      return;
    }
    const counts = new Map(this.#streamCounts);
    if (counts.get(cue.poll_id)?.final && cue.type === 'tally') return;
    counts.delete(cue.poll_id);
    counts.set(cue.poll_id, {
      counts: cue.counts,
      total: cue.total,
      final: cue.type === 'results',
      ...(cue.type === 'results' && cue.correct !== undefined ? { correct: cue.correct } : {}),
    });
    while (counts.size > KEEP_STREAM_COUNTS) counts.delete(counts.keys().next().value!);
    this.#streamCounts = counts;
  }

  /** The counts the preview's stream carried for a question, if any. */
  streamCount(pollId: string): StreamCount | null {
    return this.#streamCounts.get(pollId) ?? null;
  }
}
