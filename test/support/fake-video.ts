// A <video> whose frames a test presents (requestVideoFrameCallback), for the site's state classes.
export class FakeVideo {
  paused = false;
  currentTime = 0;
  #callbacks: VideoFrameRequestCallback[] = [];
  requestVideoFrameCallback(callback: VideoFrameRequestCallback): number {
    this.#callbacks.push(callback);
    return this.#callbacks.length;
  }
  cancelVideoFrameCallback(): void {
    this.#callbacks = [];
  }
  present(mediaTime: number): void {
    this.currentTime = mediaTime;
    const due = this.#callbacks;
    this.#callbacks = [];
    for (const callback of due) callback(0, { mediaTime } as VideoFrameCallbackMetadata);
  }
}
