// Plays a stream in a <video> as viewers see it, for both pages: the adapter for config.player, and
// each of the stream's cues released on the frame it is stamped on (CueClock). Once stopped, the
// player is destroyed (as soon as it exists) and nothing more is reported.
import { CueClock, type DueCue } from '../cue-clock.ts';
import type { StreamWindow } from '../latency.ts';
import type { Player, PlayerFactory, PlayerOptions, PlayerStatus } from './types.ts';

export interface StreamEvents {
  status(status: PlayerStatus): void;
  /** Each cue, on the first frame at or past its media time. */
  cue(due: DueCue): void;
  /** The media time of every presented frame, before the cues due on it. */
  frame?(mediaTime: number): void;
  /** The live playlist's window (players that let the page choose the latency only). */
  window?(window: StreamWindow): void;
}

export interface Stream {
  /** The player once made; null when it could not be made (its status says why) or was stopped first. */
  readonly player: Promise<Player | null>;
  stop(): void;
}

export function playStream(
  video: HTMLVideoElement,
  url: string,
  factory: Promise<PlayerFactory>,
  events: StreamEvents,
  options?: PlayerOptions,
): Stream {
  let stopped = false;
  let made: Player | null = null;
  const frame = events.frame && ((mediaTime: number) => events.frame?.(mediaTime));
  const clock = new CueClock(video, (due) => events.cue(due), frame);
  const player = factory
    .then((create) =>
      stopped
        ? null
        : create(
            video,
            url,
            {
              cue: (cue) => clock.add(cue),
              status: (status) => {
                if (!stopped) events.status(status);
              },
              ...(events.window ? { window: (window: StreamWindow) => events.window?.(window) } : {}),
            },
            options,
          ),
    )
    .then((created) => {
      if (stopped) created?.destroy();
      else made = created;
      return made;
    })
    .catch((error: Error) => {
      if (!stopped) events.status({ kind: 'error', message: error.message });
      return null;
    });
  return {
    player,
    stop() {
      stopped = true;
      clock.destroy();
      made?.destroy();
    },
  };
}
