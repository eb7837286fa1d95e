// The viewer page's state, in parts that each keep one thing: the API connection (the "can't
// reach" banner and its retries), the question on screen (question.svelte.ts), the viewer's answer
// history, the leaderboard and their place in it (scoreboard.svelte.ts), their nickname, and the
// stream with its latency (playback.svelte.ts); the viewer's identity is behind
// every call that names them (viewer.ts). This class only builds the parts, wires what one tells
// another, and starts and stops them with the page.
import { ApiClient, type ShowApi } from './api.ts';
import type { SiteConfig } from './config.ts';
import { ApiConnection } from './connection.svelte.ts';
import { AnswerHistory } from './history.svelte.ts';
import type { IdentityStore, NicknameStore } from './identity.ts';
import { NicknameState } from './nickname.svelte.ts';
import { Playback, type PlaybackOptions } from './playback.svelte.ts';
import { QuestionState } from './question.svelte.ts';
import { Scoreboard } from './scoreboard.svelte.ts';
import { Viewer } from './viewer.ts';

export interface ShowOptions {
  /** The player adapter for config.player (player/load.ts; tests pass a fake). */
  player: PlaybackOptions['player'];
  /** The page's `?latency=` in seconds (see latency.ts), or null. */
  latency?: number | null;
  /** The API client for the config's URLs (tests pass a fake). */
  api?: (config: SiteConfig) => ShowApi;
  /** Where the viewer's nickname is kept (localStorage; tests pass a fake). */
  nicknames?: NicknameStore;
}

/** A nickname store that keeps nothing past the page. */
function memoryNicknames(): NicknameStore {
  const names = new Map<string, string>();
  return { load: (id) => names.get(id) ?? null, save: (id, name) => void names.set(id, name) };
}

export class ShowState {
  readonly connection: ApiConnection<ShowApi>;
  readonly question: QuestionState;
  readonly history: AnswerHistory;
  readonly playback: Playback;
  readonly scoreboard: Scoreboard;
  readonly nickname: NicknameState;
  readonly #makeApi: (config: SiteConfig) => ShowApi;
  #fatal = $state.raw<string | null>(null);

  constructor(identities: IdentityStore, options: ShowOptions) {
    this.#makeApi = options.api ?? ((config) => new ApiClient(config.apiUrl, config.cachedApiUrl));
    this.connection = new ApiConnection<ShowApi>({ back: () => this.#caughtUp() });
    const viewer = new Viewer(identities, this.connection);
    this.history = new AnswerHistory(viewer);
    this.nickname = new NicknameState(viewer, options.nicknames ?? memoryNicknames());
    this.scoreboard = new Scoreboard({
      history: () => this.history.items,
      requestorId: () => viewer.requestorId,
      nickname: () => this.nickname.saved,
      shown: () => this.nickname.lock(),
    });
    this.playback = new Playback({ player: options.player, latency: options.latency ?? null });
    this.question = new QuestionState({
      connection: this.connection,
      viewer,
      wantsGrace: () => this.playback.wantsGrace,
      graceLearnt: (seconds) => this.playback.noteGrace(seconds),
      answersChanged: () => void this.history.load(true),
      recall: (pollId) => this.history.recall(pollId),
      scored: (pollId, points, answered) => {
        this.scoreboard.scored(pollId, points, answered);
        this.nickname.lock();
      },
    });
  }

  /** Why the page cannot work at all, or null. */
  get fatal(): string | null {
    return this.#fatal;
  }

  async start(config: SiteConfig, video: HTMLVideoElement): Promise<void> {
    this.connection.open(this.#makeApi(config), (api) => api.current(config.channel));
    void this.history.load(true);
    this.question.start(config.channel);
    await this.playback.start(config, video, {
      cue: (due) => {
        this.question.onCue(due);
        this.scoreboard.onCue(due);
      },
      frame: (mediaTime) => this.question.onFrame(mediaTime),
    });
  }

  /** The page could not load its configuration: nothing else can work. */
  configFailed(error: Error): void {
    this.#fatal = `This page is not set up correctly (${error.message}). Try again later.`;
  }

  destroy(): void {
    this.question.destroy();
    this.connection.close();
    this.playback.destroy();
  }

  /** The API answers again after it could not be reached: what failed meanwhile is fetched again. */
  #caughtUp(): void {
    if (this.history.error) void this.history.load(true);
    if (!this.question.poll) void this.question.joinOpenPoll();
  }
}
