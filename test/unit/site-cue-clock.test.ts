// The site's CueClock: each cue is released on the first presented frame at (or within half a
// frame of) its media time, with that frame's time, and every frame's time is the page's video clock.
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { CueClock, type DueCue } from '../../site/src/lib/cue-clock.ts';

/** A <video> whose frames the test presents one by one. */
class FakeVideo {
  paused = false;
  currentTime = 0;
  #next = 1;
  readonly callbacks = new Map<number, VideoFrameRequestCallback>();

  requestVideoFrameCallback(callback: VideoFrameRequestCallback): number {
    const handle = this.#next++;
    this.callbacks.set(handle, callback);
    return handle;
  }

  cancelVideoFrameCallback(handle: number): void {
    this.callbacks.delete(handle);
  }

  present(mediaTime: number): void {
    this.currentTime = mediaTime;
    const due = [...this.callbacks.values()];
    this.callbacks.clear();
    for (const callback of due) callback(0, { mediaTime } as VideoFrameCallbackMetadata);
  }
}

function setup(video: Partial<HTMLVideoElement> & object = new FakeVideo()) {
  const due: DueCue[] = [];
  const frames: number[] = [];
  const clock = new CueClock(
    video as HTMLVideoElement,
    (cue) => due.push(cue),
    (t) => frames.push(t),
  );
  return { clock, due, frames, video: video as FakeVideo };
}

const FRAME = 1 / 30;

describe('CueClock', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('releases a cue on the first frame at its media time, with that frame’s time, not before', () => {
    const { clock, due, video } = setup();
    clock.add({ mediaTime: 10, payload: 'q1', programTime: 1234 });
    video.present(10 - FRAME);
    expect(due).toEqual([]);
    video.present(10);
    expect(due).toEqual([{ mediaTime: 10, payload: 'q1', programTime: 1234, frameMediaTime: 10 }]);
    video.present(10 + FRAME);
    expect(due).toHaveLength(1); // once only
  });

  it('counts a frame within half a frame of the cue as its frame (media times are rounded)', () => {
    const { clock, due, video } = setup();
    clock.add({ mediaTime: 5.01, payload: 'a' });
    video.present(5.0);
    expect(due.map((c) => c.frameMediaTime)).toEqual([5.0]);
  });

  it('releases cues in media-time order whatever order they arrived in', () => {
    const { clock, due, video } = setup();
    clock.add({ mediaTime: 3, payload: 'late' });
    clock.add({ mediaTime: 1, payload: 'early' });
    clock.add({ mediaTime: 2, payload: 'middle' });
    video.present(2.5);
    expect(due.map((c) => c.payload)).toEqual(['early', 'middle']);
    video.present(3);
    expect(due.map((c) => c.payload)).toEqual(['early', 'middle', 'late']);
  });

  it('reports every presented frame’s media time, before the cues due on it', () => {
    const video = new FakeVideo();
    const order: string[] = [];
    const clock = new CueClock(
      video as unknown as HTMLVideoElement,
      (cue) => order.push(`cue ${cue.payload}`),
      (t) => order.push(`frame ${t}`),
    );
    clock.add({ mediaTime: 1, payload: 'x' });
    video.present(0.5);
    video.present(1);
    expect(order).toEqual(['frame 0.5', 'frame 1', 'cue x']);
  });

  it('releases what is already due at once when the video is paused (no frames come)', () => {
    const video = new FakeVideo();
    video.paused = true;
    video.currentTime = 42;
    const { clock, due, frames } = setup(video);
    clock.add({ mediaTime: 41, payload: 'seen' });
    clock.add({ mediaTime: 50, payload: 'later' });
    expect(due.map((c) => [c.payload, c.frameMediaTime])).toEqual([['seen', 42]]);
    expect(frames).toContain(42);
  });

  it('stops on destroy: no more frame callbacks, pending cues dropped', () => {
    const { clock, due, frames, video } = setup();
    clock.add({ mediaTime: 1, payload: 'never' });
    expect(video.callbacks.size).toBe(1);
    clock.destroy();
    expect(video.callbacks.size).toBe(0);
    video.present(2);
    expect(due).toEqual([]);
    expect(frames).toEqual([]);
  });

  it('polls currentTime about every frame where requestVideoFrameCallback is missing', () => {
    jest.useFakeTimers();
    const video = { paused: false, currentTime: 0 };
    const { clock, due, frames } = setup(video as Partial<HTMLVideoElement>);
    clock.add({ mediaTime: 1, payload: 'q' });
    video.currentTime = 1;
    jest.advanceTimersByTime(40);
    expect(due.map((c) => [c.payload, c.frameMediaTime])).toEqual([['q', 1]]);
    expect(frames.length).toBeGreaterThan(0);
    clock.destroy();
    const seen = frames.length;
    jest.advanceTimersByTime(1000);
    expect(frames).toHaveLength(seen);
  });
});
