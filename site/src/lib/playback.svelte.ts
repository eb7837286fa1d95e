// The viewer's stream: the player and what it says (loading, playing, offline, an error), and how
// far behind live it plays — the page's `?latency`, capped to what the stream and the show allow
// (the show's grace, once a question tells it). The plan is `$derived`; a changed one is handed to
// the player (hls.js pulls a viewer beyond the new limit forward).
import type { SiteConfig } from './config.ts';
import { latencyNotice, planLatency, widerWindow, type LatencyPlan, type StreamWindow } from './latency.ts';
import { playStream, type Stream, type StreamEvents } from './player/stream.ts';
import type { Player, PlayerFactory, PlayerStatus } from './player/types.ts';

export interface PlaybackOptions {
  /** The player adapter for config.player (player/load.ts; tests pass a fake). */
  player: (kind: SiteConfig['player']) => Promise<PlayerFactory>;
  /** The page's `?latency=` in seconds (see latency.ts), or null. */
  latency: number | null;
}

/** What the page does with the stream's cues and frames. */
export type CueEvents = Pick<StreamEvents, 'cue' | 'frame'>;

export class Playback {
  readonly #loadPlayer: PlaybackOptions['player'];
  #status = $state.raw<PlayerStatus>({ kind: 'loading' });
  #requestedLatency = $state.raw<number | null>(null);
  #window = $state.raw<StreamWindow | null>(null);
  #graceSeconds = $state.raw<number | null>(null);

  /** How far behind live the stream plays: `?latency`, capped to what the stream and the show allow. */
  readonly latency: LatencyPlan = $derived(
    planLatency(this.#requestedLatency, this.#window, this.#graceSeconds),
  );
  readonly latencyNotice: string | null = $derived(latencyNotice(this.latency));

  #stream: Stream | null = null;
  #player: Player | null = null;
  #appliedLatency: LatencyPlan | null = null;

  constructor(options: PlaybackOptions) {
    this.#loadPlayer = options.player;
    this.#requestedLatency = options.latency;
  }

  get status(): PlayerStatus {
    return this.#status;
  }

  /** The viewer asked to play further behind: how far depends on the show's grace. */
  get wantsGrace(): boolean {
    return this.#requestedLatency !== null;
  }

  async start(config: SiteConfig, video: HTMLVideoElement, events: CueEvents): Promise<void> {
    if (!config.playbackUrl) {
      this.#status = { kind: 'offline', message: 'No stream is configured for this show.' };
      return;
    }
    const latency = this.latency;
    this.#stream = playStream(
      video,
      config.playbackUrl,
      this.#loadPlayer(config.player),
      {
        ...events,
        status: (status) => (this.#status = status),
        window: (window) => this.#noteWindow(window),
      },
      { latency },
    );
    this.#player = await this.#stream.player;
    if (!this.#player) return;
    this.#appliedLatency = latency;
    // The IVS player picks its own latency: nothing to plan (or to tell the viewer).
    if (!this.#player.setLatency) this.#requestedLatency = null;
    this.#applyLatency(); // a window may have come while the player was being made
  }

  /** The show's grace (seconds a poll stays open after its time): it limits a viewer who asked to play further behind. */
  noteGrace(seconds: number): void {
    if (this.#requestedLatency === null || seconds === this.#graceSeconds) return;
    this.#graceSeconds = seconds;
    this.#applyLatency();
  }

  destroy(): void {
    this.#stream?.stop();
  }

  /** The playlist's window, each time the player loads it: plan with the widest seen. */
  #noteWindow(loaded: StreamWindow): void {
    const window = widerWindow(this.#window, loaded);
    if (window === this.#window) return;
    this.#window = window;
    this.#applyLatency();
  }

  /** Hands a changed plan to the player. */
  #applyLatency(): void {
    const plan = this.latency;
    const applied = this.#appliedLatency;
    if (!this.#player?.setLatency) return;
    if (applied && applied.seconds === plan.seconds && applied.maxSeconds === plan.maxSeconds) return;
    this.#appliedLatency = plan;
    this.#player.setLatency(plan);
  }
}
