// The control room's state, in parts that each keep one thing: the producer's session (and the way
// to the producer API), the list of runs, the run on screen, the producer's actions, the show being
// prepared, the preview of the stream, and what the screen reader says. Nothing is fetched without
// a session. This class only builds the parts, wires what one tells another, and holds the page's
// config.
import type { SiteConfig } from '../../lib/config.ts';
import type { PlayerFactory } from '../../lib/player/types.ts';
import { ActionState } from './actions.svelte.ts';
import { Announcer } from './announcer.svelte.ts';
import type { Renewal, Session } from './auth.ts';
import { PreviewState } from './preview.svelte.ts';
import type { ProducerApi } from './producer-api.ts';
import { RunDetailState } from './run-detail.svelte.ts';
import { RunListState } from './runs.svelte.ts';
import { SessionState } from './session.svelte.ts';
import { ShowDraft } from './show-draft.svelte.ts';

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

const POLL_MS = 2000;
const LIST_MS = 10_000;

export class ControlState {
  readonly announcer = new Announcer();
  readonly session: SessionState;
  readonly runs: RunListState;
  readonly run: RunDetailState;
  readonly actions: ActionState;
  readonly draft: ShowDraft;
  readonly preview: PreviewState;
  #config = $state.raw<SiteConfig | null>(null);
  #fatal = $state.raw<string | null>(null);

  constructor(options: ControlOptions) {
    const config = () => this.#config;
    const announce = (words: string) => this.announcer.say(words);
    this.session = new SessionState({
      config,
      api: options.api,
      forget: options.forgetSession ?? (() => undefined),
      renew: options.renew,
      endSignIn: options.endSignIn ?? (async () => false),
      signedIn: () => this.#signedIn(),
      paused: () => this.#pause(),
      signedOut: (problem) => this.#signedOut(problem),
    });
    const producer = this.session;
    this.preview = new PreviewState({ config, player: options.player });
    this.runs = new RunListState(producer, options.listMs ?? LIST_MS);
    this.run = new RunDetailState({
      producer,
      announce,
      listed: (runId) => this.runs.find(runId),
      streamed: (pollId) => this.preview.streamCount(pollId),
      selected: () => this.actions.clearError(),
      ended: () => void this.runs.load(),
      everyMs: options.pollMs ?? POLL_MS,
    });
    this.draft = new ShowDraft(() => this.actions.draftChanged());
    this.actions = new ActionState({ producer, run: this.run, runs: this.runs, draft: this.draft, announce });
  }

  get fatal(): string | null {
    return this.#fatal;
  }
  get config(): SiteConfig | null {
    return this.#config;
  }

  /** The page's config, and the session it found (or none: then it shows only the sign-in). */
  start(config: SiteConfig, session: Session | null, problem: string | null = null): void {
    this.#config = config;
    this.session.start(session, problem);
  }

  configFailed(error: Error): void {
    this.#fatal = `The control room is not set up correctly (${error.message}).`;
  }

  destroy(): void {
    this.session.destroy();
    this.#pause();
  }

  /** A new session: the runs from scratch, and the running show (else the newest run) on screen. */
  #signedIn(): void {
    this.run.close();
    void this.runs.start().then(async () => {
      if (this.run.runId) return;
      const runId = await this.runs.pick();
      if (runId && !this.run.runId) void this.run.select(runId);
    });
  }

  /** Nothing more is fetched (signing out, or the page closing); what is on screen stays. */
  #pause(): void {
    this.runs.stop();
    this.run.stop();
  }

  /** Signed out: nothing of the session stays on screen; `problem` is said. */
  #signedOut(problem: string | null): void {
    this.runs.reset();
    this.run.close();
    this.actions.reset();
    if (problem) this.announcer.say(problem);
  }
}
