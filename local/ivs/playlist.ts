// The sliding-window live media playlist. Pure: which segments are listed, which are due for deletion, and
// the playlist text (written by hls-parser, the project's playlist library).
import HLS from 'hls-parser';

export interface ListedSegment {
  sequence: number;
  uri: string;
  duration: number;
  programDateTime: Date;
  /** Media before it is missing (segments that could not be written): EXT-X-DISCONTINUITY. */
  discontinuity?: boolean;
}

export interface LiveWindowOptions {
  /** Segments listed in the playlist. */
  size: number;
  /**
   * Segments kept after leaving the playlist: a player that loaded the previous playlist may still ask for
   * them (the HLS spec asks servers to keep them for about the playlist's duration).
   */
  grace: number;
  targetDuration: number;
}

export class LiveWindow {
  readonly #options: LiveWindowOptions;
  #segments: ListedSegment[] = [];
  #maxDuration = 0;
  /** Discontinuities in segments already dropped from #segments. */
  #droppedDiscontinuities = 0;

  constructor(options: LiveWindowOptions) {
    this.#options = options;
  }

  /** Adds a finished segment; returns those that fell out of the window plus its grace period (delete them). */
  add(segment: ListedSegment): ListedSegment[] {
    this.#segments.push(segment);
    this.#maxDuration = Math.max(this.#maxDuration, segment.duration);
    const keep = this.#options.size + this.#options.grace;
    const dropped =
      this.#segments.length > keep ? this.#segments.splice(0, this.#segments.length - keep) : [];
    this.#droppedDiscontinuities += dropped.filter((s) => s.discontinuity).length;
    return dropped;
  }

  get listed(): ListedSegment[] {
    return this.#segments.slice(-this.#options.size);
  }

  /** Listed or still within the grace period (servable). */
  get retained(): readonly ListedSegment[] {
    return this.#segments;
  }

  find(uri: string): ListedSegment | undefined {
    return this.#segments.find((s) => s.uri === uri);
  }

  /**
   * EXT-X-TARGETDURATION must be at least every EXTINF rounded to the nearest integer and should not
   * change: the configured target, raised once if a longer segment ever appeared (e.g. a source switch).
   */
  get targetDuration(): number {
    return Math.max(this.#options.targetDuration, Math.round(this.#maxDuration));
  }

  render(): string | undefined {
    const listed = this.listed;
    if (listed.length === 0) return undefined;
    const { MediaPlaylist, Segment } = HLS.types;
    // EXT-X-DISCONTINUITY-SEQUENCE: the discontinuities that have left the playlist.
    const before = this.#segments.slice(0, this.#segments.length - listed.length);
    const discontinuitySequenceBase =
      this.#droppedDiscontinuities + before.filter((s) => s.discontinuity).length;
    return HLS.stringify(
      new MediaPlaylist({
        version: 3,
        independentSegments: true,
        targetDuration: this.targetDuration,
        mediaSequenceBase: listed[0]!.sequence,
        ...(discontinuitySequenceBase > 0 ? { discontinuitySequenceBase } : {}),
        segments: listed.map(
          (s) =>
            new Segment({
              uri: s.uri,
              duration: Math.round(s.duration * 1e6) / 1e6,
              mediaSequenceNumber: s.sequence,
              programDateTime: s.programDateTime,
              ...(s.discontinuity ? { discontinuity: true } : {}),
            }),
        ),
      }),
    );
  }
}
