// The question on the viewer's screen: asked by the stream's poll cue on its frame (or, for a viewer
// who joined mid-poll, by the API), answered, counted live by tally cues, revealed by the results
// cue. It is one `$state.raw` value that only the methods here write, always replacing it whole (so
// a new question can never inherit a field of the last one); what follows from it and the clocks —
// phase, countdown, announcement, the outcome once revealed — is `$derived`.
import { decodeCue, type PollCue, type ResultsCue, type TallyCue } from '../../../contract/cues.ts';
import { DEFAULT_VOTE_SETTLE_MS, type PollView } from '../../../contract/api.ts';
import { winners } from '../../../core/poll.ts';
import { scoreVote } from '../../../core/scoring.ts';
import { DEFAULT_LATENCY_GRACE_SECONDS } from '../../../core/timeline.ts';
import type { ShowApi } from './api.ts';
import type { ApiConnection } from './connection.svelte.ts';
import type { DueCue } from './cue-clock.ts';
import { ApiFailure } from './http.ts';
import type { Viewer } from './viewer.ts';

export type Phase = 'answering' | 'answered' | 'timeup' | 'revealed';

export interface ActivePoll {
  readonly pollId: string;
  readonly question: string;
  readonly answers: readonly string[];
  /** The show's title, when the cue or the API says it. */
  readonly title: string | null;
  /** What the question is worth: present for quiz questions only (the cue says it before anyone answers). */
  readonly points: number | null;
  /** The show's speed bonus: a right answer earns more the sooner it is given. */
  readonly speed: boolean;
  /** Seconds to answer: of video time from `cueTime`, or of wall time up to `closesAt`. */
  readonly duration: number;
  /** Media time of the frame carrying the cue; null when the poll came from the API (late join). */
  readonly cueTime: number | null;
  /** Media time of the frame on which it was shown. */
  readonly frameTime: number | null;
  /** Wall-clock end for API-sourced polls. */
  readonly closesAt: number | null;
  /** Program date-time of the stamped frame (same for every viewer), when known. */
  readonly programTime: number | null;
  /** Wall-clock time (ms) the question appeared on this page. */
  readonly shownAt: number;
  /**
   * Seconds of video from the cue's frame to the poll's close (duration + the show's grace), once
   * `/poll-get`'s closes_at and the frame's program date-time tell it; null until then.
   */
  readonly closesAfter: number | null;
}

export interface Tally {
  readonly counts: readonly number[];
  readonly total: number;
  /** Quiz questions, with the results only. */
  readonly correct?: number;
  /** Media time of the frame carrying the cue it came from, and of the frame it was drawn on. */
  readonly cueTime: number;
  readonly frameTime: number;
}

/** Everything about the question on screen. */
interface Question {
  readonly poll: ActivePoll;
  /** The answer this page sent, once the API took it. */
  readonly myAnswer: number | null;
  /** Video ms from the question's frame to the tap, as sent with the answer; null when not measured. */
  readonly elapsedMs: number | null;
  /** The API has an answer from this viewer (this one, or one sent earlier). */
  readonly answered: boolean;
  /** The API said the poll is closed or gone. */
  readonly closed: boolean;
  readonly sending: boolean;
  /** The live counts of the last tally cue shown (the page draws them once answered); the final ones once revealed. */
  readonly tally: Tally | null;
  /** The results cue has been shown. */
  readonly revealed: boolean;
  /** What this page's answer earned, computed at the reveal (scoreVote); null when it cannot tell. */
  readonly points: number | null;
  readonly notice: string | null;
}

/** What the revealed question meant for this viewer. */
export type Outcome =
  /** A quiz question answered right, with the points it earned when known. */
  | { kind: 'right'; points: number | null }
  /** A quiz question answered wrong (`answered`) or not at all: the right answer. */
  | { kind: 'wrong'; correct: string; answered: boolean }
  /** A poll: the answers with the most votes (several when tied; none without votes). */
  | { kind: 'poll'; winners: readonly number[] };

/** What the page remembers of an answer from the viewer's history (a reload, another tab). */
export interface Recalled {
  answer: number;
  points?: number;
}

export interface QuestionOptions {
  connection: ApiConnection<ShowApi>;
  viewer: Viewer;
  /** Whether the show's grace is wanted as soon as a question is asked (see Playback.wantsGrace). */
  wantsGrace: () => boolean;
  /** The show's grace in seconds, learnt from a poll's closing time. */
  graceLearnt: (seconds: number) => void;
  /** This viewer's answers changed (one was taken, or results came): their history is read again. */
  answersChanged: () => void;
  /** This viewer's answer to a poll, from their history, when this page did not send it. */
  recall?: (pollId: string) => Recalled | null;
  /** A quiz question's results came: what this page's answer earned (null: none sent, or unknown). */
  scored?: (pollId: string, points: number | null, answered: boolean) => void;
}

/**
 * From the poll's close to its results cue: the lifecycle waits VOTE_SETTLE_MS (by default
 * DEFAULT_VOTE_SETTLE_MS; neither the config, the cue nor `/poll-get` carries it), recounts and sends
 * the cue (well under a second). A conservative estimate: a little early is better news than "any
 * moment" for seconds.
 */
export const RESULTS_AFTER_CLOSE_S = DEFAULT_VOTE_SETTLE_MS / 1000 + 1;

/** How often the wall clock ticks: it only times polls that came from the API. */
const WALL_TICK_MS = 250;

const question = (poll: ActivePoll): Question => ({
  poll,
  myAnswer: null,
  elapsedMs: null,
  answered: false,
  closed: false,
  sending: false,
  tally: null,
  revealed: false,
  points: null,
  notice: null,
});

export class QuestionState {
  readonly #options: QuestionOptions;
  #question = $state.raw<Question | null>(null);

  // Two clocks, each the single source of its kind of time. Video time is the media time of the
  // last presented frame (the CueClock's frame callback): the frame a question appears on is the
  // countdown's first reading (a separate timer would read `currentTime` up to a tick apart from
  // it), and the countdown stops with the picture when the video stalls. Polls that came from the
  // API run on wall time, and there may be no video at all: a timer ticks for them.
  #videoNow = $state.raw<number | null>(null);
  #wallNow = $state.raw(Date.now());

  /**
   * Whole seconds until the results should be on this screen, once time is up: the poll's close in
   * this viewer's video time (or wall time, for a poll from the API) plus RESULTS_AFTER_CLOSE_S.
   * 0 when they are late ("any moment"); null outside the time-up phase.
   */
  readonly resultsIn: number | null = $derived.by(() => {
    const q = this.#question;
    if (!q || this.phase !== 'timeup') return null;
    const { poll } = q;
    let left: number;
    if (poll.cueTime !== null) {
      if (this.#videoNow === null) return null;
      const closesAfter = poll.closesAfter ?? poll.duration + DEFAULT_LATENCY_GRACE_SECONDS;
      left = poll.cueTime + closesAfter + RESULTS_AFTER_CLOSE_S - this.#videoNow;
    } else if (poll.closesAt !== null) {
      left = (poll.closesAt - this.#wallNow) / 1000 + RESULTS_AFTER_CLOSE_S;
    } else return null;
    return Math.max(0, Math.ceil(left));
  });

  /** Seconds left to answer, unrounded; null when nothing counts down. */
  readonly #secondsLeft: number | null = $derived.by(() => {
    const q = this.#question;
    if (!q || q.revealed) return null;
    const { poll } = q;
    if (poll.cueTime !== null) {
      // Video time, so a viewer further behind gets the same time to answer.
      return this.#videoNow === null ? null : poll.duration - (this.#videoNow - poll.cueTime);
    }
    return poll.closesAt !== null ? (poll.closesAt - this.#wallNow) / 1000 : null;
  });

  /** Whole seconds left to answer; null when there is nothing to count down. */
  readonly remaining: number | null = $derived.by(() => {
    const left = this.#secondsLeft;
    if (left === null) return null;
    // The cue's frame may be half a frame before its time: never more than the duration.
    return Math.max(0, Math.ceil(Math.min(this.#question!.poll.duration, left)));
  });

  /**
   * The share of the time to answer that is left, 0 to 1, read on every frame (the countdown bar);
   * null when nothing counts down.
   */
  readonly timeLeft: number | null = $derived.by(() => {
    const q = this.#question;
    const left = this.#secondsLeft;
    if (!q || q.closed || q.poll.duration <= 0 || left === null) return null;
    return Math.min(1, Math.max(0, left / q.poll.duration));
  });

  /** Once revealed: right (and the points), wrong (and the right answer), or a poll's winners. */
  readonly outcome: Outcome | null = $derived.by(() => {
    const q = this.#question;
    if (!q?.revealed || !q.tally) return null;
    const { correct, counts } = q.tally;
    if (correct === undefined) return { kind: 'poll', winners: winners(counts) };
    const recalled = q.myAnswer === null ? (this.#options.recall?.(q.poll.pollId) ?? null) : null;
    const mine = q.myAnswer ?? recalled?.answer ?? null;
    if (mine === correct) return { kind: 'right', points: q.points ?? recalled?.points ?? null };
    return { kind: 'wrong', correct: q.poll.answers[correct] ?? '', answered: mine !== null };
  });

  readonly phase: Phase = $derived.by(() => {
    const q = this.#question;
    if (q?.revealed) return 'revealed';
    // Time's up for everyone, answered or not: no frozen "0 s left".
    if (q?.closed || this.remaining === 0) return 'timeup';
    if (q?.answered) return 'answered';
    return 'answering';
  });

  /** What a screen reader says (an aria-live region): each change of phase, or a notice. */
  readonly announcement: string = $derived.by(() => {
    const q = this.#question;
    if (!q) return '';
    if (this.phase === 'revealed') return resultsWords(q) + outcomeWords(this.outcome, q);
    if (q.notice) return q.notice;
    if (this.phase === 'answering') return `New question: ${q.poll.question}`;
    if (this.phase === 'timeup')
      return q.myAnswer === null
        ? "Time's up. Results are coming."
        : `Time's up. Your answer: ${q.poll.answers[q.myAnswer]}. Results are coming.`;
    return q.myAnswer === null ? '' : `Your answer: ${q.poll.answers[q.myAnswer]}`;
  });

  #channel = '';
  #wallTimer: ReturnType<typeof setInterval> | undefined;
  /** Polls whose closes_at has been asked for (once each). */
  readonly #learningGrace = new Set<string>();

  constructor(options: QuestionOptions) {
    this.#options = options;
  }

  get poll(): ActivePoll | null {
    return this.#question?.poll ?? null;
  }
  get myAnswer(): number | null {
    return this.#question?.myAnswer ?? null;
  }
  get sending(): boolean {
    return this.#question?.sending ?? false;
  }
  get counts(): readonly number[] | null {
    return this.#question?.tally?.counts ?? null;
  }
  get total(): number {
    return this.#question?.tally?.total ?? 0;
  }
  get correct(): number | undefined {
    return this.#question?.tally?.correct;
  }
  /** The cue the counts on screen came from: its frame's media time, and the frame it was drawn on. */
  get tallyTiming(): { cueTime: number; frameTime: number } | null {
    const tally = this.#question?.tally;
    return tally ? { cueTime: tally.cueTime, frameTime: tally.frameTime } : null;
  }
  get notice(): string | null {
    return this.#question?.notice ?? null;
  }
  /** The elapsed time sent with the answer (video ms), or null. */
  get elapsedMs(): number | null {
    return this.#question?.elapsedMs ?? null;
  }

  /** Starts the wall clock, and asks the API for the channel's open poll (a viewer joining mid-poll). */
  start(channel: string): void {
    this.#channel = channel;
    this.#wallTimer = setInterval(() => (this.#wallNow = Date.now()), WALL_TICK_MS);
    void this.joinOpenPoll();
  }

  destroy(): void {
    clearInterval(this.#wallTimer);
  }

  /** A viewer joining mid-poll gets no earlier cue: the open poll, from the API. */
  async joinOpenPoll(): Promise<void> {
    const { connection } = this.#options;
    const view = await connection.call((api) => api.current(this.#channel)).catch(() => null);
    if (!view || view.state !== 'open' || this.#question) return;
    // No count yet: the bars come with the stream's next tally cue (a count from the API would be
    // from another moment than the viewer's, and would not have their own answer in it).
    this.#question = question(this.#fromView(view));
  }

  /** A presented frame: the video clock. */
  onFrame(mediaTime: number): void {
    this.#videoNow = mediaTime;
    // Time's up: when the results come depends on the show's grace, which the cue does not carry.
    const poll = this.#question?.poll;
    if (
      poll?.cueTime != null &&
      poll.closesAfter === null &&
      !this.#question!.revealed &&
      mediaTime >= poll.cueTime + poll.duration
    )
      void this.#learnGrace(poll);
  }

  /** A cue of the stream, on the frame it is stamped on. */
  onCue(due: DueCue): void {
    const cue = decodeCue(due.payload);
    if (cue?.type === 'poll') this.#ask(cue, due);
    else if (cue?.type === 'tally') this.#liveTally(cue, due);
    else if (cue?.type === 'results') void this.#reveal(cue, due);
  }

  async answer(index: number): Promise<void> {
    const q = this.#question;
    if (!q || this.phase !== 'answering' || q.sending) return;
    const { pollId, cueTime } = q.poll;
    // The speed bonus's time: video time from the question's frame to this tap, so a viewer further
    // behind live is not the slower for it. Not measured for a poll from the API (no frame).
    const elapsedMs =
      cueTime !== null && this.#videoNow !== null
        ? Math.max(0, Math.round((this.#videoNow - cueTime) * 1000))
        : null;
    this.#question = { ...q, sending: true, notice: null };
    try {
      await this.#options.viewer.call((api, viewer) =>
        api.answer(pollId, viewer, index, elapsedMs ?? undefined),
      );
      this.#update(pollId, (q) => ({ ...q, sending: false, myAnswer: index, elapsedMs, answered: true }));
      this.#options.answersChanged();
    } catch (error) {
      const code = error instanceof ApiFailure ? error.code : null;
      const words =
        error instanceof ApiFailure ? error.words : 'Your answer could not be sent. Please try again.';
      this.#update(pollId, (q) => ({
        ...q,
        sending: false,
        notice: words,
        answered: q.answered || code === 'already_answered',
        closed: q.closed || code === 'poll_closed' || code === 'unknown_poll',
      }));
    }
  }

  /** Replaces the question on screen, if it is still this poll (an answer may return late). */
  #update(pollId: string, change: (q: Question) => Question): void {
    const q = this.#question;
    if (q?.poll.pollId === pollId) this.#question = change(q);
  }

  #ask(cue: PollCue, due: DueCue): void {
    // Seeking back into an old poll, or a stale cue from before a reload: nothing to answer.
    if (due.frameMediaTime - due.mediaTime > cue.duration) return;
    const timing = {
      duration: cue.duration,
      cueTime: due.mediaTime,
      frameTime: due.frameMediaTime,
      closesAt: null,
      programTime: due.programTime ?? null,
      closesAfter: null,
    };
    if (this.#question?.poll.pollId === cue.poll_id) {
      // Already on screen (from the API, or a replay of the cue): from now on timed by the video.
      this.#update(cue.poll_id, (q) => ({ ...q, poll: { ...q.poll, ...quizFields(cue), ...timing } }));
      return;
    }
    const poll: ActivePoll = {
      pollId: cue.poll_id,
      question: cue.question,
      answers: cue.answers,
      ...quizFields(cue),
      ...timing,
      shownAt: Date.now(),
    };
    this.#question = question(poll);
    if (this.#options.wantsGrace()) void this.#learnGrace(poll);
  }

  /**
   * Live bars come in the stream, on their frames: every viewer sees the count of their own moment
   * of the show, and nobody polls the API for it.
   */
  #liveTally(cue: TallyCue, due: DueCue): void {
    const timing = { cueTime: due.mediaTime, frameTime: due.frameMediaTime };
    this.#update(cue.poll_id, (q) =>
      q.revealed ? q : { ...q, tally: { counts: cue.counts, total: cue.total, ...timing } },
    );
  }

  async #reveal(cue: ResultsCue, due: DueCue): Promise<void> {
    if (this.#question?.poll.pollId !== cue.poll_id) {
      // Joined after the question: show its result with the question from the API.
      const view = await this.#options.connection.call((api) => api.poll(cue.poll_id)).catch(() => null);
      if (!view) return;
      this.#question = question(this.#fromView(view));
    }
    this.#update(cue.poll_id, (q) => ({
      ...q,
      revealed: true,
      points: earned(q, cue),
      tally: {
        counts: cue.counts,
        total: cue.total,
        correct: cue.correct,
        cueTime: due.mediaTime,
        frameTime: due.frameMediaTime,
      },
    }));
    const q = this.#question;
    if (cue.correct !== undefined && q?.poll.pollId === cue.poll_id) {
      this.#options.scored?.(cue.poll_id, q.points, q.myAnswer !== null);
    }
    this.#options.answersChanged();
  }

  #fromView(view: PollView): ActivePoll {
    const closesAt = Date.parse(view.closes_at);
    return {
      pollId: view.poll_id,
      question: view.question,
      answers: view.answers,
      ...quizFields(view),
      duration: Math.max(0, (closesAt - Date.now()) / 1000),
      cueTime: null,
      frameTime: null,
      closesAt,
      programTime: null,
      shownAt: Date.now(),
      closesAfter: null,
    };
  }

  /**
   * The show's grace: the poll closes `duration + grace` after it was asked, and the frame its cue
   * is stamped on carries the wall-clock time it was asked. Asked at the question for a viewer who
   * asked to play further behind (the grace limits how far), else once time is up (when the
   * results come depends on it).
   */
  async #learnGrace(poll: ActivePoll): Promise<void> {
    if (poll.programTime === null || this.#learningGrace.has(poll.pollId)) return;
    this.#learningGrace.add(poll.pollId);
    const view = await this.#options.connection.call((api) => api.poll(poll.pollId)).catch(() => null);
    if (!view) return;
    const grace = Math.max(
      0,
      Math.round((Date.parse(view.closes_at) - poll.programTime) / 1000 - poll.duration),
    );
    this.#update(poll.pollId, (q) => ({ ...q, poll: { ...q.poll, closesAfter: poll.duration + grace } }));
    this.#options.graceLearnt(grace);
  }
}

/** The quiz fields of a poll cue or PollView, checked (the cue is read from a public stream). */
function quizFields(from: { title?: unknown; points?: unknown; speed?: unknown }) {
  return {
    title: typeof from.title === 'string' && from.title.trim() !== '' ? from.title : null,
    points:
      Number.isSafeInteger(from.points) && (from.points as number) >= 0 ? (from.points as number) : null,
    speed: from.speed === true,
  };
}

/**
 * What this page's answer earned, as the server scores it (scoreVote) from what the cue said the
 * question is worth and the elapsed time sent with it. Null when it cannot tell: no answer from this
 * page, no points in the cue, or a speed bonus without a measured time (a poll from the API).
 */
function earned(q: Question, cue: ResultsCue): number | null {
  const { poll, myAnswer, elapsedMs } = q;
  if (cue.correct === undefined || myAnswer === null || poll.points === null) return null;
  if (myAnswer !== cue.correct) return 0;
  if (poll.speed && elapsedMs === null) return null;
  const durationMs = Math.round(poll.duration * 1000);
  if (durationMs <= 0) return null;
  return scoreVote({
    correct: cue.correct,
    answer: myAnswer,
    points: poll.points,
    speed: poll.speed,
    durationMs,
    elapsedMs: elapsedMs ?? 0,
  });
}

/** "You were right (+850)", the words the card shows and a screen reader says. */
export function rightWords(points: number | null): string {
  return points === null ? 'You were right' : `You were right (+${formatNumber(points)})`;
}

export const formatNumber = (n: number) => n.toLocaleString('en-US');

function outcomeWords(outcome: Outcome | null, q: Question): string {
  if (outcome?.kind === 'right') return ` ${rightWords(outcome.points)}.`;
  if (outcome?.kind === 'wrong' && q.myAnswer !== null)
    return ` You answered ${q.poll.answers[q.myAnswer] ?? ''}.`;
  return '';
}

function resultsWords(q: Question): string {
  const { counts = [], total = 0, correct } = q.tally ?? {};
  const winner = total === 0 ? 'no votes' : `${Math.round((100 * Math.max(...counts)) / total)}% top answer`;
  const right = correct === undefined ? '' : ` The answer: ${q.poll.answers[correct] ?? ''}.`;
  return `Results: ${total} votes, ${winner}.${right}`;
}
