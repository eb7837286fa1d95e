// Turns the live MPEG-TS of one or more successive source processes into HLS segments, and stamps
// timed metadata into it the way IVS does. Pure: bytes in, segments and events out (no clock except
// the injected `now`, no I/O), so every decision is unit-testable.
//
// Per packet it:
// - drops everything until the source's first video keyframe, so each segment starts decodable;
// - cuts a segment at a video PES start with random_access_indicator once the target duration is
//   reached (and always at a new source's first keyframe), opening it with PAT + PMT;
// - replaces the PMT by one that declares the ID3 stream (stream_type 0x15 on PID 0x102);
// - on each video PES start, writes every queued PutMetadata payload as an ID3 PES with that frame's
//   PTS, just before the frame, so the cue and its frame always travel in the same segment;
// - shifts PTS/DTS/PCR of each new source so the output timeline continues where the previous source
//   stopped (one monotonic timeline: no EXT-X-DISCONTINUITY, players keep their buffer and cue times
//   stay comparable across a switch);
// - renumbers continuity counters per PID, so the seams between sources are invisible to demuxers.
import { buildPrivTag } from './id3.ts';
import {
  buildMetadataPes,
  buildPmtSection,
  CLOCK_HZ,
  ID3_PID,
  NULL_PID,
  PacketAligner,
  packetizePes,
  PAT_PID,
  parsePat,
  parsePmt,
  psiPacket,
  readHeader,
  readPesTimestamps,
  readSection,
  setContinuityCounter,
  shiftTimestamps,
  STREAM_TYPE_H264,
  withMetadataStream,
  tsForward,
  wrapTs,
  type PacketHeader,
} from './ts.ts';

export interface InjectedMetadata {
  /** Id returned by queueMetadata. */
  id: number;
  payload: Buffer;
  /** Output PTS of the video frame it is stamped on (and of the ID3 PES). */
  pts: number;
}

export interface Segment {
  sequence: number;
  data: Buffer;
  /** Seconds, from this segment's first video PTS to the next one's. */
  duration: number;
  startPts: number;
  programDateTime: Date;
  metadata: InjectedMetadata[];
  /** Index of the source run (0, 1, …) the segment's frames come from. */
  sourceIndex: number;
}

export interface VideoFrame {
  pts: number;
  keyframe: boolean;
}

export interface SegmenterOptions {
  /** Seconds; segments are cut at the first keyframe at or after this duration. */
  targetDuration: number;
  onSegment: (segment: Segment) => void;
  onFrame?: (frame: VideoFrame) => void;
  onMetadata?: (metadata: InjectedMetadata) => void;
  /** Wall clock in ms since the epoch (EXT-X-PROGRAM-DATE-TIME). */
  now?: () => number;
  metadataPid?: number;
  /** Initial video frame duration in 90 kHz ticks until one is measured (30 fps). */
  frameDuration?: number;
}

interface OpenSegment {
  packets: Buffer[];
  startPts: number;
  programDateTime: number;
  metadata: InjectedMetadata[];
  sourceIndex: number;
}

/** Re-anchor EXT-X-PROGRAM-DATE-TIME when media time and wall clock drift further apart than this. */
const PDT_MAX_DRIFT_MS = 2000;

export class TsSegmenter {
  readonly #options: SegmenterOptions;
  readonly #now: () => number;
  readonly #metadataPid: number;
  readonly #aligner = new PacketAligner();
  readonly #continuity = new Map<number, number>();
  #queue: { id: number; payload: Buffer }[] = [];
  #nextMetadataId = 1;

  // Per source run.
  #sourceIndex = -1;
  #pmtPid: number | undefined;
  #videoPid: number | undefined;
  #pesPids = new Set<number>();
  #checkedPids = new Set<number>();
  #droppingPids = new Set<number>();
  #patPacket: Buffer | undefined;
  #pmtPacket: Buffer | undefined;
  #pmtSource: Buffer | undefined;
  #waitingForKeyframe = true;
  #offset = 0;
  #anchored = false;

  // Output timeline.
  #lastVideoPts: number | undefined;
  readonly #streamEnds = new Map<number, { pts: number; duration: number }>();
  #frameDuration: number;
  #pdtAnchor: { wallMs: number; pts: number } | undefined;
  #segment: OpenSegment | undefined;
  #sequence = 0;

  constructor(options: SegmenterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#metadataPid = options.metadataPid ?? ID3_PID;
    this.#frameDuration = options.frameDuration ?? 3000;
  }

  /** A new source process starts: its stream is aligned, re-anchored and cut from its first keyframe. */
  startSource(): void {
    this.#sourceIndex++;
    this.#aligner.reset();
    this.#pmtPid = undefined;
    this.#videoPid = undefined;
    this.#pesPids = new Set();
    this.#pmtSource = undefined;
    this.#checkedPids = new Set();
    this.#droppingPids = new Set();
    this.#waitingForKeyframe = true;
    this.#anchored = false;
    this.#offset = 0;
  }

  push(chunk: Buffer): void {
    if (this.#sourceIndex < 0) this.startSource();
    this.#aligner.push(chunk, (packet) => this.#packet(packet));
  }

  /** Queues a payload for the next video frame received; returns its id (see onMetadata). */
  queueMetadata(payload: Buffer): number {
    const id = this.#nextMetadataId++;
    this.#queue.push({ id, payload });
    return id;
  }

  /**
   * Queues payloads again, ahead of the newer ones, with their ids: they were stamped in a segment
   * that never reached players (it could not be written), and go on the next video frame instead.
   */
  requeueMetadata(items: readonly { id: number; payload: Buffer }[]): void {
    if (items.length === 0) return;
    this.#queue = [...items.map(({ id, payload }) => ({ id, payload })), ...this.#queue];
  }

  get pendingMetadata(): number {
    return this.#queue.length;
  }

  /** Bytes skipped to regain packet sync, over all sources. */
  get skippedBytes(): number {
    return this.#aligner.skipped;
  }

  /** Closes the open segment (the stream stops): its duration runs to the end of its last frame. */
  flush(): void {
    if (!this.#segment || this.#lastVideoPts === undefined) return;
    this.#finish(wrapTs(this.#lastVideoPts + this.#frameDuration));
  }

  #packet(packet: Buffer): void {
    const header = readHeader(packet);
    const { pid } = header;
    if (pid === NULL_PID) return;
    if (pid === PAT_PID) return this.#pat(packet, header);
    if (pid === this.#pmtPid) return this.#pmt(packet, header);
    if (pid === this.#metadataPid) return; // only our own ID3 goes on this PID
    if (pid === this.#videoPid && header.payloadUnitStart) return this.#videoStart(packet, header);
    if (this.#waitingForKeyframe) return;
    if (this.#pesPids.has(pid) || header.hasPcr) shiftTimestamps(packet, header, this.#offset);
    if (header.payloadUnitStart && this.#pesPids.has(pid)) {
      const { pts } = readPesTimestamps(packet, header.payloadOffset);
      if (pts !== undefined) {
        if (!this.#checkedPids.has(pid)) {
          // A new source's first audio may start slightly before its first keyframe, i.e. before the previous
          // source's audio ended: drop such access units rather than hand players overlapping samples.
          const end = this.#streamEnds.get(pid);
          const overlap = end ? tsForward(pts, end.pts + end.duration) : 0;
          if (overlap > 0 && overlap < 10 * CLOCK_HZ) this.#droppingPids.add(pid);
          else {
            this.#droppingPids.delete(pid);
            this.#checkedPids.add(pid);
          }
        }
        if (!this.#droppingPids.has(pid)) this.#trackEnd(pid, pts);
      }
    }
    if (this.#droppingPids.has(pid)) return;
    this.#emit(packet, header);
  }

  /** Remembers where each elementary stream's last access unit ends, to start the next source after all of them. */
  #trackEnd(pid: number, pts: number): void {
    const previous = this.#streamEnds.get(pid);
    const delta = previous ? tsForward(previous.pts, pts) : 0;
    const duration = delta > 0 && delta < CLOCK_HZ ? delta : (previous?.duration ?? 0);
    this.#streamEnds.set(pid, { pts, duration });
  }

  /** Output PTS at which a new source's first keyframe goes: after the previous source's last video frame and audio. */
  #nextSourceStart(): number {
    const lastVideo = this.#lastVideoPts!;
    let advance = this.#frameDuration;
    for (const end of this.#streamEnds.values()) {
      const distance = tsForward(lastVideo, end.pts + end.duration);
      if (distance < 10 * CLOCK_HZ) advance = Math.max(advance, distance);
    }
    return wrapTs(lastVideo + advance);
  }

  #pat(packet: Buffer, header: PacketHeader): void {
    const section = readSection(packet, header);
    const pmtPid = section && parsePat(section);
    if (pmtPid === undefined) return;
    this.#pmtPid = pmtPid;
    this.#patPacket = packet;
    if (!this.#waitingForKeyframe) this.#emit(Buffer.from(packet), header);
  }

  #pmt(packet: Buffer, header: PacketHeader): void {
    const section = readSection(packet, header);
    if (!section) return;
    if (!this.#pmtSource || !this.#pmtSource.equals(section)) {
      const pmt = parsePmt(section);
      if (!pmt) return;
      this.#videoPid = pmt.streams.find((s) => s.streamType === STREAM_TYPE_H264)?.pid;
      this.#pesPids = new Set(pmt.streams.map((s) => s.pid));
      // Same version as the source: our additions are constant, so the PMT changes exactly when the source's does.
      this.#pmtPacket = psiPacket(this.#pmtPid!, buildPmtSection(withMetadataStream(pmt, this.#metadataPid)));
      this.#pmtSource = Buffer.from(section);
    }
    if (!this.#waitingForKeyframe) this.#emit(Buffer.from(this.#pmtPacket!), readHeader(this.#pmtPacket!));
  }

  #videoStart(packet: Buffer, header: PacketHeader): void {
    const { pts } = readPesTimestamps(packet, header.payloadOffset);
    if (pts === undefined) {
      if (!this.#waitingForKeyframe) this.#emit(packet, header);
      return;
    }
    let forceCut = false;
    if (this.#waitingForKeyframe) {
      if (!header.randomAccess) return;
      this.#waitingForKeyframe = false;
      forceCut = true;
      if (!this.#anchored) {
        // The new source continues the output timeline one frame after the previous source's last frame.
        this.#offset = this.#lastVideoPts === undefined ? 0 : wrapTs(this.#nextSourceStart() - pts);
        this.#anchored = true;
      }
    }
    const outPts = wrapTs(pts + this.#offset);
    if (!forceCut && this.#lastVideoPts !== undefined) {
      const delta = tsForward(this.#lastVideoPts, outPts);
      if (delta > 0 && delta < CLOCK_HZ) this.#frameDuration = delta;
    }
    if (forceCut) {
      this.#cut(outPts, true);
    } else if (header.randomAccess && this.#segment) {
      const elapsed = tsForward(this.#segment.startPts, outPts);
      if (elapsed >= this.#options.targetDuration * CLOCK_HZ - this.#frameDuration / 2)
        this.#cut(outPts, false);
    }
    this.#lastVideoPts = outPts;
    // Metadata first: it shares the frame's PTS and lands in the frame's segment.
    for (const item of this.#queue) {
      const injected: InjectedMetadata = { id: item.id, payload: item.payload, pts: outPts };
      const pes = buildMetadataPes(buildPrivTag(item.payload), outPts);
      for (const ts of packetizePes(this.#metadataPid, pes)) this.#emit(ts, readHeader(ts));
      this.#segment!.metadata.push(injected);
      this.#options.onMetadata?.(injected);
    }
    this.#queue = [];
    this.#options.onFrame?.({ pts: outPts, keyframe: header.randomAccess });
    shiftTimestamps(packet, header, this.#offset);
    this.#emit(packet, header);
  }

  #cut(startPts: number, newSource: boolean): void {
    if (this.#segment) this.#finish(startPts);
    const wallMs = this.#now();
    if (newSource || !this.#pdtAnchor) this.#pdtAnchor = { wallMs, pts: startPts };
    let programDateTime =
      this.#pdtAnchor.wallMs + (tsForward(this.#pdtAnchor.pts, startPts) / CLOCK_HZ) * 1000;
    if (Math.abs(programDateTime - wallMs) > PDT_MAX_DRIFT_MS) {
      this.#pdtAnchor = { wallMs, pts: startPts };
      programDateTime = wallMs;
    }
    this.#segment = { packets: [], startPts, programDateTime, metadata: [], sourceIndex: this.#sourceIndex };
    // Every segment opens with PAT + PMT so it can be demuxed on its own.
    if (this.#patPacket) this.#emit(Buffer.from(this.#patPacket), readHeader(this.#patPacket));
    if (this.#pmtPacket) this.#emit(Buffer.from(this.#pmtPacket), readHeader(this.#pmtPacket));
  }

  #finish(endPts: number): void {
    const open = this.#segment!;
    this.#segment = undefined;
    this.#options.onSegment({
      sequence: this.#sequence++,
      data: Buffer.concat(open.packets),
      duration: tsForward(open.startPts, endPts) / CLOCK_HZ,
      startPts: open.startPts,
      programDateTime: new Date(Math.round(open.programDateTime)),
      metadata: open.metadata,
      sourceIndex: open.sourceIndex,
    });
  }

  #emit(packet: Buffer, header: PacketHeader): void {
    if (!this.#segment) return;
    if (header.hasPayload) {
      const cc = this.#continuity.get(header.pid) ?? 0;
      setContinuityCounter(packet, cc);
      this.#continuity.set(header.pid, (cc + 1) & 0x0f);
    }
    this.#segment.packets.push(packet);
  }
}
