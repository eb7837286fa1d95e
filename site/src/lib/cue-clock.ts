// Shows each cue on the video frame it is stamped on. `cuechange` follows timeupdate (up to
// 250 ms late in Chromium), so due cues are checked on every presented frame with
// requestVideoFrameCallback, against that frame's own media time. The same frames are the page's
// video clock (`onFrame`): a countdown in video time read from them moves with the picture.
import type { TimedCue } from './player/types.ts';

/** Half a frame at 30 fps: media times of the same frame can differ by rounding. */
const SAME_FRAME_S = 1 / 60;

export interface DueCue extends TimedCue {
  /** Media time of the presented frame on which the cue became due. */
  frameMediaTime: number;
}

export class CueClock {
  readonly #video: HTMLVideoElement;
  readonly #onDue: (cue: DueCue) => void;
  readonly #onFrame: (mediaTime: number) => void;
  #pending: TimedCue[] = [];
  #handle = 0;
  #fallback: ReturnType<typeof setInterval> | undefined;
  #stopped = false;

  /**
   * `onDue` gets each cue on the first frame at or past its media time; `onFrame` gets the media
   * time of every presented frame, before the cues due on it.
   */
  constructor(
    video: HTMLVideoElement,
    onDue: (cue: DueCue) => void,
    onFrame: (mediaTime: number) => void = () => undefined,
  ) {
    this.#video = video;
    this.#onDue = onDue;
    this.#onFrame = onFrame;
    if (typeof video.requestVideoFrameCallback === 'function') {
      const presented: VideoFrameRequestCallback = (_now, metadata) => {
        this.#release(metadata.mediaTime);
        if (!this.#stopped) this.#handle = video.requestVideoFrameCallback(presented);
      };
      this.#handle = video.requestVideoFrameCallback(presented);
    } else {
      // Browsers without it (older Firefox): frame accuracy degrades to ~1/30 s polling.
      this.#fallback = setInterval(() => this.#release(video.currentTime), 33);
    }
  }

  add(cue: TimedCue): void {
    this.#pending.push(cue);
    this.#pending.sort((a, b) => a.mediaTime - b.mediaTime);
    // A paused video presents no frames: release what is already due now.
    if (this.#video.paused) this.#release(this.#video.currentTime);
  }

  #release(mediaTime: number): void {
    if (this.#stopped) return;
    this.#onFrame(mediaTime);
    while (this.#pending.length > 0 && this.#pending[0]!.mediaTime <= mediaTime + SAME_FRAME_S) {
      const cue = this.#pending.shift()!;
      this.#onDue({ ...cue, frameMediaTime: mediaTime });
    }
  }

  destroy(): void {
    this.#stopped = true;
    if (typeof this.#video.cancelVideoFrameCallback === 'function')
      this.#video.cancelVideoFrameCallback(this.#handle);
    clearInterval(this.#fallback);
    this.#pending = [];
  }
}
