// The control room's state: the producer's session, the runs, the run on screen (its status,
// timeline and results, polled every 2 s while it runs), the show being prepared, and what the
// preview player's stream carries. Each part is one `$state.raw` value that only the methods here
// write, always replacing it whole; what follows from them (the draft's check, the question rows,
// the next manual question, the downloads) is `$derived`. Nothing is fetched without a session.
// A Cognito session is renewed before its ID token expires, on a 401 from the API (once), and when
// the page comes back from sleep past its renewal time; renewals at the same time are one.
import { decodeCue } from '../../../../contract/cues.ts';
import type { SiteConfig } from '../../lib/config.ts';
import { CueClock, type DueCue } from '../../lib/cue-clock.ts';
import type { Player, PlayerFactory, PlayerStatus } from '../../lib/player/types.ts';
import { renewalDue, type Renewal, type Session } from './auth.ts';
import { checkDraft, emptyDraft, type Draft, type DraftCheck } from './draft.ts';
import { resultsDownloads, resultText, type Download } from './figures.ts';
import type {
  RunHistoryJson,
  RunInfoJson,
  RunResults,
  RunStatusJson,
  StartBody,
  StartedJson,
} from '../../../../contract/producer.ts';
import { ProducerFailure, type ProducerApi } from './producer-api.ts';

export interface ControlOptions {
  /** The producer API client for the config's URL and the session's token (tests pass a fake). */
  api: (config: SiteConfig, session: Session) => ProducerApi;
  /** The player adapter for config.player (player/load.ts; tests pass a fake). */
  player: (kind: SiteConfig['player']) => Promise<PlayerFactory>;
  /** The API refused the token (401) or the sign-in ended: the page forgets it. */
  forgetSession?: () => void;
  /** Renews a Cognito session (auth.ts renewSession); without it a session is never renewed. */
  renew?: () => Promise<Renewal>;
  /**
   * Ends the producer's sign-in when they sign out (auth.ts signOut): true when the page is leaving
   * for Cognito's logout. Without it signing out only forgets the session.
   */
  endSignIn?: () => Promise<boolean>;
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

/** What the last action said when it failed; `replaceable`: another show runs on the channel. */
interface ActionError {
  readonly action: Exclude<Busy, null>;
  readonly message: string;
  readonly replaceable?: boolean;
}

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
  /** The run's end closed it while it was open (the producer's stop, a failure, a timeout). */
  readonly closedBy?: 'stop' | 'failure' | 'timeout';
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
/**
 * A replace whose stopped show is still sending its last results (the API waits only so long):
 * the start is tried again this many times, this far apart.
 */
const REPLACE_TRIES = 4;
const REPLACE_RETRY_MS = 3000;
/** Stream counts kept, for the questions of the last few runs the preview saw. */
const KEEP_STREAM_COUNTS = 100;
/** After a renewal that could not reach the sign-in service: the next try, doubling up to a minute. */
const RENEW_RETRY_MS = 5000;
const RENEW_RETRY_MAX_MS = 60_000;
const NOT_ACCEPTED = 'The show server did not accept your sign-in. Sign in again.';

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
  readonly #renew: (() => Promise<Renewal>) | undefined;
  readonly #endSignIn: () => Promise<boolean>;
  readonly #pollMs: number;
  readonly #listMs: number;

  #config = $state.raw<SiteConfig | null>(null);
  #fatal = $state.raw<string | null>(null);
  #session = $state.raw<Session | null>(null);
  /** Why the producer must sign in (again): a 401, an expired or failed sign-in. */
  #signInProblem = $state.raw<string | null>(null);
  /** Why the session could not be renewed just now (it is tried again); null while all is well. */
  #renewProblem = $state.raw<string | null>(null);
  #signingOut = $state.raw(false);
  #runs = $state.raw<RunList>(noRuns);
  #run = $state.raw<RunView | null>(null);
  #busy = $state.raw<Busy>(null);
  /** What the last action (start, ask, stop) said: its failure, or null. */
  #actionError = $state.raw<ActionError | null>(null);
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
        ...((p.closedBy ?? counted?.closedBy) ? { closedBy: p.closedBy ?? counted!.closedBy! } : {}),
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

  /** Every manual question waiting for its cue, in show order: the producer may ask any of them. */
  readonly waitingManual: readonly QuestionRow[] = $derived(
    this.running ? this.questions.filter((q) => q.phase === 'waiting') : [],
  );

  /** The manual question Ask next fires: the first one waiting for its cue. */
  readonly nextManual: QuestionRow | null = $derived(this.waitingManual[0] ?? null);

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
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the session is next renewed (epoch ms); null when it is not renewed. */
  #renewAt: number | null = null;
  /** The renewal under way: every caller that needs one waits for this one. */
  #renewing: Promise<Renewal> | null = null;
  /** Renewals in a row that could not reach the sign-in service. */
  #renewFailures = 0;

  constructor(options: ControlOptions) {
    this.#makeApi = options.api;
    this.#loadPlayer = options.player;
    this.#forget = options.forgetSession ?? (() => undefined);
    this.#renew = options.renew;
    this.#endSignIn = options.endSignIn ?? (async () => false);
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
  /** Why the sign-in could not be renewed just now (it is tried again), or null. */
  get renewProblem(): string | null {
    return this.#renewProblem;
  }
  /** The producer asked to sign out and the sign-in is being ended. */
  get signingOut(): boolean {
    return this.#signingOut;
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
  get actionError(): ActionError | null {
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
    this.#renewProblem = null;
    this.#renewFailures = 0;
    this.#api = this.#makeApi(this.#config, session);
    this.#runs = noRuns;
    this.#run = null;
    void this.loadRuns().then(() => this.#pickRun());
    this.#listTimer = setInterval(() => void this.loadRuns(), this.#listMs);
    this.#scheduleRenewal();
  }

  /** Forgets the session (the API refused the token, or the sign-in ended). */
  signOut(problem: string | null = null): void {
    this.#stopTimers();
    this.#generation++;
    this.#api = null;
    this.#session = null;
    this.#signInProblem = problem;
    this.#renewProblem = null;
    this.#signingOut = false;
    this.#runs = noRuns;
    this.#run = null;
    this.#busy = null;
    this.#actionError = null;
    this.#forget();
    if (problem) this.#announce(problem);
  }

  /**
   * The producer signs out: nothing more is fetched, and the sign-in is ended (a Cognito one revoked
   * and the page sent to Cognito's logout); a renewal under way finishes first, so the token
   * revoked is the last one.
   */
  async endSession(): Promise<void> {
    if (!this.#session || this.#signingOut) return;
    this.#signingOut = true;
    this.#stopTimers();
    this.#generation++;
    this.#api = null;
    await this.#renewing;
    const leaving = await this.#endSignIn().catch(() => false);
    // Leaving: the page stays as it is ("Signing out…") until Cognito's logout replaces it.
    if (!leaving) this.signOut();
  }

  /**
   * The page is visible again (or back online): timers may have slept past the renewal time, so
   * the session is renewed now when it is due.
   */
  resume(): void {
    if (this.#renewAt !== null && Date.now() >= this.#renewAt && this.#api) void this.#renewNow();
  }

  destroy(): void {
    this.#stopTimers();
    this.#generation++;
  }

  #stopTimers(): void {
    clearTimeout(this.#pollTimer);
    clearInterval(this.#listTimer);
    clearTimeout(this.#renewTimer);
    this.#pollTimer = undefined;
    this.#listTimer = undefined;
    this.#renewTimer = undefined;
    this.#renewAt = null;
  }

  /** Renews the session when renewalDue says (or in `delayMs`, after a failed renewal). */
  #scheduleRenewal(delayMs?: number): void {
    clearTimeout(this.#renewTimer);
    this.#renewTimer = undefined;
    this.#renewAt = null;
    const session = this.#session;
    if (!this.#renew || !session) return;
    const due = delayMs === undefined ? renewalDue(session) : Date.now() + delayMs;
    if (due === null) return;
    this.#renewAt = due;
    this.#renewTimer = setTimeout(() => void this.#renewNow(), Math.max(0, due - Date.now()));
  }

  /** One renewal at a time: a caller while one is under way gets its outcome. */
  #renewNow(): Promise<Renewal> {
    this.#renewing ??= this.#renewOnce().finally(() => (this.#renewing = null));
    return this.#renewing;
  }

  async #renewOnce(): Promise<Renewal> {
    const session = this.#session;
    const config = this.#config;
    const renew = this.#renew;
    if (!renew) return { outcome: 'ended', problem: NOT_ACCEPTED };
    clearTimeout(this.#renewTimer);
    this.#renewAt = null;
    const renewal = await renew().catch((error: Error): Renewal => ({
      outcome: 'failed',
      problem: error.message,
    }));
    // Signed out (or in as someone else) meanwhile: this renewal is for a session that is gone.
    if (this.#session !== session || !session || !config || this.#signingOut) return renewal;
    if (renewal.outcome === 'renewed') {
      this.#session = renewal.session;
      this.#api = this.#makeApi(config, renewal.session);
      this.#renewProblem = null;
      this.#renewFailures = 0;
      this.#scheduleRenewal();
    } else if (renewal.outcome === 'ended') {
      this.signOut(renewal.problem);
    } else {
      this.#renewProblem = renewal.problem;
      this.#renewFailures++;
      this.#scheduleRenewal(Math.min(RENEW_RETRY_MAX_MS, RENEW_RETRY_MS * 2 ** (this.#renewFailures - 1)));
    }
    return renewal;
  }

  #announce(words: string): void {
    this.#announcement = words;
  }

  /**
   * Every API call goes through here. A 401 renews a Cognito session and the call is made once more
   * with the new token (a session that cannot be renewed signs the producer out with "Sign in
   * again"); a second 401 signs the producer out.
   */
  async #call<T>(fn: (api: ProducerApi) => Promise<T>): Promise<T> {
    const api = this.#api;
    if (!api) throw new ProducerFailure(401, 'unauthorized', 'not signed in');
    try {
      return await fn(api);
    } catch (error) {
      if (!(error instanceof ProducerFailure) || !error.signedOut) throw error;
      const again = await this.#afterRefusal(api, error);
      try {
        return await fn(again);
      } catch (second) {
        if (second instanceof ProducerFailure && second.signedOut && this.#api === again) {
          this.signOut(NOT_ACCEPTED);
        }
        throw second;
      }
    }
  }

  /** The API refused `api`'s token: the client to try once more with (a renewed session), or what to throw. */
  async #afterRefusal(api: ProducerApi, refusal: ProducerFailure): Promise<ProducerApi> {
    // Renewed since this request left: the new token has not been refused yet.
    if (this.#api !== api) {
      if (this.#api) return this.#api;
      throw refusal;
    }
    if (!this.#renew || this.#session?.kind !== 'cognito') {
      this.signOut(NOT_ACCEPTED);
      throw refusal;
    }
    // The sign-in service could not be reached a moment ago: wait for the retry it is scheduled for
    // rather than asking again with every refused call.
    if (this.#renewProblem !== null && this.#renewAt !== null && Date.now() < this.#renewAt) {
      throw ProducerFailure.renewalFailed(this.#renewProblem);
    }
    const renewal = await this.#renewNow();
    if (renewal.outcome === 'renewed' && this.#api) return this.#api;
    if (renewal.outcome === 'failed' && this.#api) throw ProducerFailure.renewalFailed(renewal.problem);
    throw refusal;
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

  /**
   * After sign-in: the running show (asked for by status, so one started long ago and past the
   * list's page is found too), else the newest run.
   */
  async #pickRun(): Promise<void> {
    if (this.#run || this.#runs.items.length === 0) return;
    const generation = this.#generation;
    let running = this.#runs.items.find((r) => r.status === 'RUNNING');
    if (!running) {
      const found = await this.#call((api) => api.list(10, 'RUNNING')).catch(() => null);
      running = found?.runs.find((r) => r.status === 'RUNNING');
    }
    if (this.#run || generation !== this.#generation) return;
    void this.selectRun((running ?? this.#runs.items[0]!).runId);
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
   * Whether the run on screen changes by itself: it runs, or it ended with a question not yet
   * closed (a stopped run's open question closes once its votes settle, and sends its results).
   */
  #stillMoving(): boolean {
    if (this.running) return true;
    const run = this.#run;
    if (!run?.history) return false;
    const ended = run.status?.run.stopDate ? Date.parse(run.status.run.stopDate) : Date.now();
    return run.history.polls.some(
      (p) =>
        p.askedAt !== undefined &&
        p.closedAt === undefined &&
        Date.now() < Math.max(ended, p.closesAt ?? 0) + OPEN_AFTER_END_MS,
    );
  }

  /** Asks the next manual question now (POST /producer/cue). */
  askNext(): Promise<void> {
    return this.ask(this.nextManual?.id);
  }

  /** Asks this waiting manual question now, whatever its place in the show (POST /producer/cue {poll}). */
  async ask(poll: string | undefined): Promise<void> {
    const runId = this.#run?.runId;
    if (poll === undefined || !this.waitingManual.some((q) => q.id === poll) || !runId || this.#busy) return;
    this.#busy = 'asking';
    this.#actionError = null;
    try {
      const cued = await this.#call((api) => api.cue({ runId, poll }));
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

  /**
   * Starts the prepared show (POST /producer/start) and puts its run on screen. Another show on the
   * channel refuses it (one running show per channel): the refusal names that show, and `replace`
   * (the producer's "Replace the running show") stops it first — its open question closes and its
   * results go out — then starts this one.
   */
  async startShow(replace = false): Promise<void> {
    const draft = this.draftCheck.body;
    if (!draft || this.#busy || !this.#api) return;
    const body = replace ? { ...draft, replace: true } : draft;
    this.#busy = 'starting';
    this.#actionError = null;
    if (replace) this.#announce('Stopping the running show, then starting this one…');
    try {
      const started = await this.#startOnce(body, replace);
      this.#busy = null;
      this.#announce(
        started.replaced
          ? `Replaced ${started.replaced.runId}. Started ${started.runId}.`
          : `Started ${started.runId}.`,
      );
      await this.loadRuns();
      await this.selectRun(started.runId);
    } catch (error) {
      // A 401 signed the producer out: the sign-in says so.
      if (!this.#api) return;
      const message = wordsOf(error, 'The show could not be started.');
      const replaceable = error instanceof ProducerFailure && error.channelBusy && !replace;
      this.#actionError = { action: 'starting', message, ...(replaceable ? { replaceable } : {}) };
      this.#announce(message);
    } finally {
      this.#busy = null;
    }
  }

  /** One start; a replace whose stopped show is still sending its last results is tried again. */
  async #startOnce(body: StartBody, replace: boolean): Promise<StartedJson> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#call((api) => api.start(body));
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
