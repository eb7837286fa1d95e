// The Player port: whatever plays the stream delivers our timed-metadata cues as
// {mediaTime, payload}, where mediaTime is the media time of the video frame the cue is stamped on.
import type { LatencyPlan, StreamWindow } from '../latency.ts';

/** IVS PutMetadata payloads travel as ID3 PRIV frames with this owner; any other ID3 is ignored. */
export const IVS_METADATA_OWNER = 'metadata.live-video.net';

export interface TimedCue {
  mediaTime: number;
  payload: string;
  /**
   * Wall-clock time of the stamped frame from the playlist's EXT-X-PROGRAM-DATE-TIME (ms since
   * epoch), when the player knows it: the same for every viewer, whatever their delay.
   */
  programTime?: number | null;
}

export type PlayerStatus =
  | { kind: 'loading' }
  | { kind: 'playing' }
  | { kind: 'offline'; message: string }
  | { kind: 'error'; message: string };

export interface PlayerEvents {
  cue(cue: TimedCue): void;
  status(status: PlayerStatus): void;
  /**
   * The live playlist's window, each time the player loads the playlist (players that let the
   * page choose the latency only). Called before the player picks where to start playing.
   */
  window?(window: StreamWindow): void;
}

export interface Player {
  readonly video: HTMLVideoElement;
  /** Plays this far behind live from now on; absent when the player picks its own latency (IVS). */
  setLatency?(plan: LatencyPlan): void;
  destroy(): void;
}

export interface PlayerOptions {
  /**
   * How far behind live to play, for viewers who want a bigger buffer on a poor connection (the
   * page's `?latency=`). Cues still show on their own frames.
   */
  latency?: LatencyPlan;
}

export type PlayerFactory = (
  video: HTMLVideoElement,
  url: string,
  events: PlayerEvents,
  options?: PlayerOptions,
) => Promise<Player>;
