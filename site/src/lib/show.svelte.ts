// The viewer's state: the stream, the current question and its results, the viewer's history.
// Components read it; only the methods here change it.
import { decodeCue, type PollCue, type ResultsCue } from '../../../core/cues.ts';
import { ApiClient, ApiFailure, type HistoryItem, type PollView } from './api.ts';
import type { SiteConfig } from './config.ts';
import { CueClock, type DueCue } from './cue-clock.ts';
import type { Player, PlayerStatus } from './player/types.ts';

export type Phase = 'answering' | 'answered' | 'timeup' | 'revealed';

export interface ActivePoll {
  pollId: string;
  question: string;
  answers: string[];
  duration: number;
  /** Media time of the frame carrying the cue; null when the poll came from the API (late join). */
  cueTime: number | null;
  /** Media time of the frame on which it was shown. */
  frameTime: number | null;
  /** Wall-clock end for API-sourced polls. */
  closesAt: number | null;
  /** Program date-time of the stamped frame (same for every viewer), when known. */
  programTime: number | null;
  /** Wall-clock time (ms) the question appeared on this page. */
  shownAt: number;
}

const LIVE_RESULTS_MS = 2000;

/** `?latency=N` (1–20 s): play further behind live, for a bigger buffer. Anything else is ignored. */
function latencyParam(): number | undefined {
  const raw = new URLSearchParams(location.search).get('latency');
  const value = raw === null ? NaN : Number(raw);
  return Number.isFinite(value) && value >= 1 && value <= 20 ? value : undefined;
}
const API_RETRY_MS = 3000;

export class ShowState {
  config = $state<SiteConfig | null>(null);
  fatal = $state<string | null>(null);
  stream = $state<PlayerStatus>({ kind: 'loading' });
  apiDown = $state(false);

  poll = $state<ActivePoll | null>(null);
  phase = $state<Phase>('answering');
  myAnswer = $state<number | null>(null);
  sending = $state(false);
  counts = $state<number[] | null>(null);
  total = $state(0);
  correct = $state<number | undefined>(undefined);
  notice = $state<string | null>(null);
  remaining = $state<number | null>(null);
  announcement = $state('');

  history = $state<HistoryItem[]>([]);
  historyCursor = $state<string | null>(null);
  historyLoading = $state(false);
  historyError = $state<string | null>(null);

  readonly requestorId: string;
  #api: ApiClient | null = null;
  #video: HTMLVideoElement | null = null;
  #clock: CueClock | null = null;
  #player: Player | null = null;
  #timers: ReturnType<typeof setInterval>[] = [];
  #apiRetry: ReturnType<typeof setTimeout> | undefined;

  constructor(requestorId: string) {
    this.requestorId = requestorId;
  }

  async start(config: SiteConfig, video: HTMLVideoElement): Promise<void> {
    this.config = config;
    this.#api = new ApiClient(config.apiUrl);
    this.#video = video;
    this.#clock = new CueClock(video, (cue) => this.#onDueCue(cue));
    this.#timers.push(setInterval(() => this.#tick(), 250));
    this.#timers.push(setInterval(() => void this.#refreshLiveResults(), LIVE_RESULTS_MS));
    void this.loadHistory(true);
    void this.#joinOpenPoll();
    if (!config.playbackUrl) {
      this.stream = { kind: 'offline', message: 'No stream is configured for this show.' };
      return;
    }
    const events = {
      cue: (cue: { mediaTime: number; payload: string }) => this.#clock?.add(cue),
      status: (status: PlayerStatus) => (this.stream = status),
    };
    try {
      const create =
        config.player === 'ivs'
          ? (await import('./player/ivs.ts')).createIvsPlayer
          : (await import('./player/hls.ts')).createHlsPlayer;
      this.#player = await create(video, config.playbackUrl, events, {
        targetLatencySeconds: latencyParam(),
      });
    } catch (error) {
      this.stream = { kind: 'error', message: (error as Error).message };
    }
  }

  destroy(): void {
    this.#timers.forEach(clearInterval);
    clearTimeout(this.#apiRetry);
    this.#clock?.destroy();
    this.#player?.destroy();
  }

  #onDueCue(due: DueCue): void {
    const cue = decodeCue(due.payload);
    if (!cue) return;
    if (cue.type === 'poll') this.#ask(cue, due);
    else void this.#reveal(cue);
  }

  #ask(cue: PollCue, due: DueCue): void {
    // Seeking back into an old poll, or a stale cue from before a reload: nothing to answer.
    if (this.#video && this.#video.currentTime - due.mediaTime > cue.duration) return;
    if (this.poll?.pollId === cue.poll_id) {
      this.poll.cueTime = due.mediaTime;
      this.poll.frameTime = due.frameMediaTime;
      this.poll.closesAt = null;
      this.poll.programTime = due.programTime ?? null;
      return;
    }
    this.#show({
      pollId: cue.poll_id,
      question: cue.question,
      answers: cue.answers,
      duration: cue.duration,
      cueTime: due.mediaTime,
      frameTime: due.frameMediaTime,
      closesAt: null,
      programTime: due.programTime ?? null,
      shownAt: Date.now(),
    });
  }

  #show(poll: ActivePoll): void {
    this.poll = poll;
    this.phase = 'answering';
    this.myAnswer = null;
    this.counts = null;
    this.total = 0;
    this.correct = undefined;
    this.notice = null;
    this.announcement = `New question: ${poll.question}`;
    this.#tick();
  }

  async #reveal(cue: ResultsCue): Promise<void> {
    if (this.poll?.pollId !== cue.poll_id) {
      // Joined after the question: show its result with the question from the API.
      const view = await this.#call((api) => api.poll(cue.poll_id)).catch(() => null);
      if (!view) return;
      this.#show(this.#fromView(view));
    }
    this.phase = 'revealed';
    this.counts = cue.counts;
    this.total = cue.total;
    this.correct = cue.correct;
    this.remaining = null;
    const winner =
      cue.total === 0 ? 'no votes' : `${Math.round((100 * Math.max(...cue.counts)) / cue.total)}% top answer`;
    const right = cue.correct === undefined ? '' : ` The answer: ${this.poll?.answers[cue.correct] ?? ''}.`;
    this.announcement = `Results: ${cue.total} votes, ${winner}.${right}`;
    void this.loadHistory(true);
  }

  #fromView(view: PollView): ActivePoll {
    return {
      pollId: view.poll_id,
      question: view.question,
      answers: view.answers,
      duration: Math.max(0, (Date.parse(view.closes_at) - Date.now()) / 1000),
      cueTime: null,
      frameTime: null,
      closesAt: Date.parse(view.closes_at),
      programTime: null,
      shownAt: Date.now(),
    };
  }

  /** A viewer joining mid-poll gets no earlier cue: ask the API for the open poll. */
  async #joinOpenPoll(): Promise<void> {
    const view = await this.#call((api) => api.current()).catch(() => null);
    if (!view || view.state !== 'open' || this.poll) return;
    this.#show(this.#fromView(view));
    this.counts = null;
  }

  #tick(): void {
    const poll = this.poll;
    if (!poll || this.phase === 'revealed') return;
    let remaining: number;
    if (poll.cueTime !== null && this.#video) {
      // Countdown in video time, so a viewer further behind gets the same time to answer.
      remaining = poll.duration - (this.#video.currentTime - poll.cueTime);
    } else if (poll.closesAt !== null) {
      remaining = (poll.closesAt - Date.now()) / 1000;
    } else return;
    this.remaining = Math.max(0, Math.ceil(remaining));
    if (remaining <= 0 && this.phase === 'answering') {
      this.phase = 'timeup';
      this.announcement = "Time's up. Results are coming.";
    }
  }

  async answer(index: number): Promise<void> {
    const poll = this.poll;
    if (!poll || this.phase !== 'answering' || this.sending) return;
    this.sending = true;
    this.notice = null;
    try {
      await this.#call((api) => api.answer(poll.pollId, this.requestorId, index));
      this.myAnswer = index;
      this.phase = 'answered';
      this.announcement = `Your answer: ${poll.answers[index]}`;
      void this.#refreshLiveResults();
      void this.loadHistory(true);
    } catch (error) {
      const failure = error instanceof ApiFailure ? error : null;
      this.notice = failure?.words ?? 'Your answer could not be sent. Please try again.';
      if (failure?.code === 'already_answered') this.phase = 'answered';
      if (failure?.code === 'poll_closed' || failure?.code === 'unknown_poll') this.phase = 'timeup';
      this.announcement = this.notice;
    } finally {
      this.sending = false;
    }
  }

  async #refreshLiveResults(): Promise<void> {
    const poll = this.poll;
    if (!poll || this.phase !== 'answered') return;
    const view = await this.#call((api) => api.poll(poll.pollId)).catch(() => null);
    if (view && this.poll?.pollId === view.poll_id && this.phase === 'answered') {
      this.counts = view.counts;
      this.total = view.total;
    }
  }

  async loadHistory(reset: boolean): Promise<void> {
    if (this.historyLoading) return;
    this.historyLoading = true;
    try {
      const page = await this.#call((api) =>
        api.history(this.requestorId, reset ? null : this.historyCursor),
      );
      this.history = reset ? page.items : [...this.history, ...page.items];
      this.historyCursor = page.next_cursor;
      this.historyError = null;
    } catch (error) {
      this.historyError = error instanceof ApiFailure ? error.words : 'Your history could not be loaded.';
    } finally {
      this.historyLoading = false;
    }
  }

  /** Every API call goes through here, so an unreachable server shows one banner and is retried. */
  async #call<T>(fn: (api: ApiClient) => Promise<T>): Promise<T> {
    if (!this.#api) throw new Error('not started');
    try {
      const result = await fn(this.#api);
      this.apiDown = false;
      return result;
    } catch (error) {
      if (error instanceof ApiFailure && error.unreachable) {
        this.apiDown = true;
        this.#scheduleApiRetry();
      } else if (error instanceof ApiFailure) {
        this.apiDown = false;
      }
      throw error;
    }
  }

  #scheduleApiRetry(): void {
    if (this.#apiRetry) return;
    this.#apiRetry = setTimeout(async () => {
      this.#apiRetry = undefined;
      try {
        await this.#call((api) => api.current());
        if (this.historyError) void this.loadHistory(true);
        if (!this.poll) void this.#joinOpenPoll();
      } catch {
        // #call scheduled the next try
      }
    }, API_RETRY_MS);
  }
}
