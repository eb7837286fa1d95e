// The control room's preview: the stream as viewers see it, and what its cues carry on their frames
// — the question on air, and each question's counts (live tallies, then the results).
import { decodeCue } from '../../../../contract/cues.ts';
import type { SiteConfig } from '../../lib/config.ts';
import type { DueCue } from '../../lib/cue-clock.ts';
import { playStream } from '../../lib/player/stream.ts';
import type { PlayerFactory, PlayerStatus } from '../../lib/player/types.ts';
import type { StreamCount } from './timeline.ts';

/** The question the stream carries now (its poll cue was shown on the preview's frame). */
export interface OnAir {
  readonly pollId: string;
  readonly question: string;
  readonly answers: readonly string[];
}

export interface PreviewOptions {
  /** The page's config, once loaded: where the stream plays from, with which player. */
  config: () => SiteConfig | null;
  /** The player adapter for config.player (player/load.ts; tests pass a fake). */
  player: (kind: SiteConfig['player']) => Promise<PlayerFactory>;
}

/** Stream counts kept, for the questions of the last few runs the preview saw. */
const KEEP_STREAM_COUNTS = 100;

export class PreviewState {
  readonly #options: PreviewOptions;
  #status = $state.raw<PlayerStatus>({ kind: 'loading' });
  #onAir = $state.raw<OnAir | null>(null);
  #counts = $state.raw<ReadonlyMap<string, StreamCount>>(new Map());

  constructor(options: PreviewOptions) {
    this.#options = options;
  }

  get status(): PlayerStatus {
    return this.#status;
  }
  get onAir(): OnAir | null {
    return this.#onAir;
  }

  /** The counts the preview's stream carried for a question, if any. */
  streamCount(pollId: string): StreamCount | null {
    return this.#counts.get(pollId) ?? null;
  }

  /** Plays the stream in `video` and reads its cues. Returns what stops it (for an attachment's cleanup). */
  attach(video: HTMLVideoElement): () => void {
    const config = this.#options.config();
    if (!config?.playbackUrl) {
      this.#status = { kind: 'offline', message: 'No stream is configured for this site.' };
      return () => undefined;
    }
    this.#status = { kind: 'loading' };
    const stream = playStream(video, config.playbackUrl, this.#options.player(config.player), {
      status: (status) => (this.#status = status),
      cue: (due) => this.#onCue(due),
    });
    return () => stream.stop();
  }

  #onCue(due: DueCue): void {
    const cue = decodeCue(due.payload);
    if (!cue) return;
    if (cue.type === 'poll') {
      this.#onAir = { pollId: cue.poll_id, question: cue.question, answers: cue.answers };
      return;
    }
    if (cue.type === 'leaderboard') return; // the standings panel reads the API (run-detail.svelte.ts)
    const counts = new Map(this.#counts);
    if (counts.get(cue.poll_id)?.final && cue.type === 'tally') return;
    counts.delete(cue.poll_id);
    counts.set(cue.poll_id, {
      counts: cue.counts,
      total: cue.total,
      final: cue.type === 'results',
      ...(cue.type === 'results' && cue.correct !== undefined ? { correct: cue.correct } : {}),
    });
    while (counts.size > KEEP_STREAM_COUNTS) counts.delete(counts.keys().next().value!);
    this.#counts = counts;
  }
}
