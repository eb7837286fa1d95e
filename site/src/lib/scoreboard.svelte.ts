// The leaderboard as this viewer sees it: the last `leaderboard` cue of the stream (shown on its
// frame, like every cue) and the viewer's own place in it, from their own score. Nobody asks the
// API for a place: the cue carries the top 10 and the thresholds of the top 1…50 %, and the page
// knows its own score — the points of this viewer's answers to the run's quiz questions, as the
// API's history gives them once each question is closed, else as this page computed them at the
// reveal (question.svelte.ts). core/leaderboard.ts ownPlace does the rest.
import type { HistoryEntry } from '../../../contract/api.ts';
import { decodeCue, type LeaderboardCue } from '../../../contract/cues.ts';
import { splitPollId } from '../../../core/ids.ts';
import { displayName, ownPlace, type OwnPlace } from '../../../core/leaderboard.ts';
import type { DueCue } from './cue-clock.ts';

export interface ScoreboardOptions {
  /** The viewer's answers as their history lists them (with points once a quiz question closed). */
  history: () => readonly HistoryEntry[];
  /** The viewer's requestor id, once known. */
  requestorId: () => string | null;
  /** The nickname they saved, or null. */
  nickname: () => string | null;
  /** A leaderboard cue was shown (the first quiz question has closed). */
  shown?: () => void;
}

/** What this page computed for one quiz question at its reveal. */
interface LocalScore {
  readonly runId: string;
  readonly points: number | null;
  readonly answered: boolean;
}

const runOf = (pollId: string) => splitPollId(pollId)?.runId ?? null;

export class Scoreboard {
  readonly #options: ScoreboardOptions;
  #cue = $state.raw<LeaderboardCue | null>(null);
  #local = $state.raw<ReadonlyMap<string, LocalScore>>(new Map());

  /** The run the leaderboard on screen is for. */
  readonly runId: string | null = $derived(this.#cue ? runOf(this.#cue.poll_id) : null);

  /** This viewer's quiz answers of the run: points per poll (the API's when it has them). */
  readonly #mine: { points: number; played: boolean } = $derived.by(() => {
    const runId = this.runId;
    if (runId === null) return { points: 0, played: false };
    const points = new Map<string, number>();
    let played = false;
    for (const entry of this.#options.history()) {
      if (runOf(entry.poll_id) !== runId) continue;
      if (entry.points !== undefined) points.set(entry.poll_id, entry.points);
      if (entry.points !== undefined || entry.correct !== undefined) played = true;
    }
    for (const [pollId, local] of this.#local) {
      if (local.runId !== runId || !local.answered) continue;
      played = true;
      if (!points.has(pollId)) points.set(pollId, local.points ?? 0);
    }
    let total = 0;
    for (const p of points.values()) total += p;
    return { points: total, played };
  });

  /** The viewer's score in the run on screen. */
  readonly score: number = $derived(this.#mine.points);
  /** The viewer answered a quiz question of the run: they have a place. */
  readonly played: boolean = $derived(this.#mine.played);

  /** "#4" inside the top 10, else "top 5 %", else nothing. */
  readonly place: OwnPlace = $derived.by(() => {
    const cue = this.#cue;
    if (!cue || !this.played) return { kind: 'none' };
    const id = this.#options.requestorId();
    if (id === null) return ownPlace(this.score, cue);
    // Their name as the cue lists it: the nickname, or "Player 7K3Q" if they have none or it was hidden.
    const nickname = this.#options.nickname();
    const named = ownPlace(this.score, cue, displayName(nickname, false, id));
    if (named.kind === 'rank' || nickname === null) return named;
    const hidden = ownPlace(this.score, cue, displayName(null, true, id));
    return hidden.kind === 'rank' ? hidden : named;
  });

  constructor(options: ScoreboardOptions) {
    this.#options = options;
  }

  get cue(): LeaderboardCue | null {
    return this.#cue;
  }
  get final(): boolean {
    return this.#cue?.final === true;
  }

  /** A cue of the stream, on its frame: a leaderboard replaces the one on screen. */
  onCue(due: DueCue): void {
    const cue = decodeCue(due.payload);
    if (cue?.type !== 'leaderboard') return;
    this.#cue = cue;
    this.#options.shown?.();
  }

  /** A quiz question's results came: what this page's answer earned (null: unknown). */
  scored(pollId: string, points: number | null, answered: boolean): void {
    const runId = runOf(pollId);
    if (runId === null) return;
    this.#local = new Map(this.#local).set(pollId, { runId, points, answered });
  }
}
