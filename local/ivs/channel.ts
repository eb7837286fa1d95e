// One local IVS channel: its source processes, its RTMP ingest, the segmenter, the segment files and
// playlist, and the PutMetadata rules (size, rate, broadcasting). Emits events so tests and benchmarks
// can observe exactly which frame each payload was stamped on.
//
// A segment that cannot be written (a full disk, any write error) is never listed: its partial file is
// removed, the playlist stops growing, GetStream says STARVING, one line says why, and the payloads
// stamped in it are queued again for the next frame. When a write succeeds again the stream resumes by
// itself, marked as a discontinuity (the missing stretch is not in the playlist).
import { EventEmitter } from 'node:events';
import { mkdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorKind, repeatLimiter, type RepeatLimiter } from '../log-limit.ts';
import {
  ingestArgs,
  testPatternArgs,
  type EncodingOptions,
  type FfmpegCommand,
  DEFAULT_ENCODING,
} from './ffmpeg.ts';
import { startRtmpIngest, type RtmpIngest } from './ingest.ts';
import { LiveWindow, type ListedSegment } from './playlist.ts';
import { TsSegmenter, type InjectedMetadata, type Segment, type VideoFrame } from './segmenter.ts';
import { ChannelSource, type SourceKind } from './source.ts';

export const MAX_METADATA_BYTES = 1024;
export const MAX_CALLS_PER_SECOND = 5;

export interface ChannelConfig {
  /** Last part of the ARN, also the path segment in /live/<name>/. */
  name: string;
  arn: string;
  /** Broadcast the test pattern whenever no publisher is connected (default true). */
  testPattern: boolean;
  /** RTMP ingest port, or null for none. */
  rtmpPort: number | null;
  /** The only stream name the RTMP ingest accepts (./stream-key.ts). */
  streamKey: string;
  latencyMode: 'LOW' | 'NORMAL';
  type: 'STANDARD' | 'BASIC' | 'ADVANCED_SD' | 'ADVANCED_HD';
}

export type PutMetadataResult =
  | { ok: true; id: number }
  | {
      ok: false;
      error: 'ValidationException' | 'ThrottlingException' | 'ChannelNotBroadcasting';
      message: string;
    };

export interface StoredSegment extends ListedSegment {
  /** 90 kHz PTS of the segment's first video frame. */
  startPts: number;
  file: string;
  size: number;
  metadata: InjectedMetadata[];
  sourceIndex: number;
}

/** Where segment files go: the disk, unless a test hands in another writer. */
export interface SegmentFiles {
  write(file: string, data: Buffer): Promise<void>;
  remove(file: string): Promise<void>;
}

const DISK: SegmentFiles = {
  write: (file, data) => writeFile(file, data),
  remove: (file) => unlink(file),
};

/** IVS's StreamHealth: HEALTHY, or STARVING while segments cannot be written. */
export type StreamHealth = 'HEALTHY' | 'STARVING';

export interface ChannelOptions {
  config: ChannelConfig;
  /** Directory for this channel's segments (emptied on start). */
  dir: string;
  /** The ffmpeg to run and the environment it needs (see ../binaries.ts). */
  ffmpeg: FfmpegCommand;
  log: (line: string) => void;
  windowSize?: number;
  targetDuration?: number;
  encoding?: EncodingOptions;
  now?: () => number;
  /** Default: the disk (node:fs). */
  files?: SegmentFiles;
}

/**
 * Events: 'segment' (StoredSegment, once written), 'frame' (VideoFrame), 'metadata' (InjectedMetadata;
 * again, with a later frame, for a payload whose segment could not be written), 'accepted' ({id, payload}:
 * queued, emitted synchronously inside putMetadata), 'source' ({kind, state}), 'health' (StreamHealth).
 */
export class LocalChannel extends EventEmitter {
  readonly config: ChannelConfig;
  readonly #options: ChannelOptions;
  readonly #window: LiveWindow;
  readonly #segmenter: TsSegmenter;
  readonly #source: ChannelSource;
  readonly #encoding: EncodingOptions;
  readonly #files: SegmentFiles;
  readonly #limit: RepeatLimiter;
  #ingest: RtmpIngest | undefined;
  readonly #session = Date.now().toString(36);
  /** Media sequence number of the next segment written (consecutive, whatever could not be written). */
  #nextSequence = 0;
  /** Since when, and how many, segments could not be written; undefined while writes succeed. */
  #outage: { since: number; lost: number } | undefined;
  readonly #calls: number[] = [];
  readonly #now: () => number;
  #writes: Promise<void> = Promise.resolve();
  #startTime: Date | undefined;
  #streamId: string | undefined;
  #closed = false;
  readonly #viewers = new Map<string, number>();
  readonly ready: Promise<void>;
  #resolveReady!: () => void;

  constructor(options: ChannelOptions) {
    super();
    this.config = options.config;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#files = options.files ?? DISK;
    this.#limit = repeatLimiter(options.log);
    const targetDuration = options.targetDuration ?? 1;
    this.#window = new LiveWindow({ size: options.windowSize ?? 6, grace: 4, targetDuration });
    this.ready = new Promise((resolve) => (this.#resolveReady = resolve));
    this.#segmenter = new TsSegmenter({
      targetDuration,
      now: this.#now,
      onSegment: (segment) => this.#store(segment),
      onFrame: (frame: VideoFrame) => this.emit('frame', frame),
      onMetadata: (metadata) => this.emit('metadata', metadata),
    });
    const encoding = { ...DEFAULT_ENCODING, ...options.encoding, keyframeInterval: targetDuration };
    this.#encoding = encoding;
    const { testPattern, name } = options.config;
    this.#source = new ChannelSource({
      ffmpeg: options.ffmpeg,
      patternArgs: testPattern ? testPatternArgs(encoding, undefined, `channel ${name}`) : undefined,
      log: (line) => options.log(`[ivs ${name}] ${line}`),
      sink: {
        start: (kind) => {
          if (!this.#startTime) {
            this.#startTime = new Date(this.#now());
            this.#streamId = `st-${Math.random().toString(36).slice(2, 12)}`;
          }
          this.#segmenter.startSource();
          this.emit('source', { kind, state: 'start' });
        },
        data: (chunk) => this.#segmenter.push(chunk),
        end: (kind) => {
          this.emit('source', { kind, state: 'end' });
          // The channel goes off air until the next source (if it does not follow at once, see #source.active).
          queueMicrotask(() => {
            if (!this.#source.active) {
              this.#segmenter.flush();
              this.#startTime = undefined;
              this.#streamId = undefined;
            }
          });
        },
      },
    });
  }

  async start(): Promise<void> {
    await rm(this.#options.dir, { recursive: true, force: true });
    await mkdir(this.#options.dir, { recursive: true });
    this.#source.start();
    const { rtmpPort, streamKey, name } = this.config;
    if (rtmpPort === null) return;
    const log = (line: string) => this.#options.log(`[ivs ${name}] ${line}`);
    try {
      this.#ingest = await startRtmpIngest({
        port: rtmpPort,
        streamKey,
        busy: () => this.#source.publishing,
        begin: (tracks) => this.#source.startPublisher(ingestArgs(tracks, this.#encoding)),
        log,
      });
    } catch (error) {
      // The stream itself does not need the ingest: say so and carry on with the test pattern.
      const code = (error as NodeJS.ErrnoException).code;
      log(
        code === 'EADDRINUSE'
          ? `RTMP ingest off: port ${rtmpPort} is in use (another stack, or an RTMP server); set RTMP_PORT`
          : `RTMP ingest off (port ${rtmpPort}): ${(error as Error).message}`,
      );
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#ingest?.close();
    await this.#source.close();
    await this.#writes;
    this.#limit.flush();
  }

  /** The port the RTMP ingest listens on, or undefined without one (none configured, or the port was taken). */
  get ingestPort(): number | undefined {
    return this.#ingest?.port;
  }

  /** STARVING while segments cannot be written (the playlist does not grow), else HEALTHY. */
  get health(): StreamHealth {
    return this.#outage ? 'STARVING' : 'HEALTHY';
  }

  get live(): boolean {
    return this.#source.active !== undefined;
  }

  get sourceKind(): SourceKind | undefined {
    return this.#source.active;
  }

  get ffmpegPids(): number[] {
    return this.#source.pids;
  }

  get startTime(): Date | undefined {
    return this.#startTime;
  }

  get streamId(): string | undefined {
    return this.#streamId;
  }

  get dir(): string {
    return this.#options.dir;
  }

  get segments(): readonly StoredSegment[] {
    return this.#window.retained as StoredSegment[];
  }

  /** IVS's checks, in the order the service applies them after finding the channel. */
  putMetadata(metadata: string): PutMetadataResult {
    const payload = Buffer.from(metadata, 'utf8');
    if (payload.length === 0 || payload.length > MAX_METADATA_BYTES) {
      return {
        ok: false,
        error: 'ValidationException',
        message: `metadata must be between 1 and ${MAX_METADATA_BYTES} bytes (UTF-8), got ${payload.length}`,
      };
    }
    const now = this.#now();
    while (this.#calls.length > 0 && now - this.#calls[0]! >= 1000) this.#calls.shift();
    if (this.#calls.length >= MAX_CALLS_PER_SECOND) {
      return {
        ok: false,
        error: 'ThrottlingException',
        message: `Operation: ivs:PutMetadata exceeded call rate: ${MAX_CALLS_PER_SECOND} for resource: ${this.config.arn}`,
      };
    }
    if (!this.live) {
      return {
        ok: false,
        error: 'ChannelNotBroadcasting',
        message: `Channel is not broadcasting: ${this.config.arn}`,
      };
    }
    this.#calls.push(now);
    const id = this.#segmenter.queueMetadata(payload);
    this.emit('accepted', { id, payload });
    return { ok: true, id };
  }

  /** Counts distinct players (address + user agent) that loaded the playlist in the last 15 s. */
  noteViewer(key: string): void {
    this.#viewers.set(key, this.#now());
    if (this.#viewers.size > 10_000) void this.viewerCount; // prune, without GetStream calls too
  }

  get viewerCount(): number {
    const since = this.#now() - 15_000;
    for (const [key, at] of this.#viewers) if (at < since) this.#viewers.delete(key);
    return this.#viewers.size;
  }

  playlist(): string | undefined {
    return this.#window.render();
  }

  async readSegment(uri: string): Promise<Buffer | undefined> {
    const segment = this.#window.find(uri) as StoredSegment | undefined;
    if (!segment) return undefined;
    try {
      return await readFile(segment.file);
    } catch {
      return undefined; // deleted between the lookup and the read
    }
  }

  async diskUsage(): Promise<{ files: number; bytes: number }> {
    let bytes = 0;
    let files = 0;
    for (const s of this.segments) {
      try {
        bytes += (await stat(s.file)).size;
        files++;
      } catch {
        // being deleted
      }
    }
    return { files, bytes };
  }

  #store(segment: Segment): void {
    // Sequential writes: a segment is listed only once written, and always after its predecessor.
    this.#writes = this.#writes.then(async () => {
      if (this.#closed) return;
      const sequence = this.#nextSequence;
      const uri = `${this.#session}-${sequence}.ts`;
      const file = join(this.#options.dir, uri);
      try {
        await this.#files.write(file, segment.data);
      } catch (error) {
        // Never leave a partial (or 0-byte) segment behind: it is not listed, and its name is reused.
        await this.#files.remove(file).catch(() => {});
        this.#writeFailed(file, error, segment);
        return;
      }
      this.#nextSequence++;
      const resumed = this.#outage;
      if (resumed) this.#resumed(resumed);
      const stored: StoredSegment = {
        sequence,
        uri,
        duration: segment.duration,
        programDateTime: segment.programDateTime,
        // What could not be written is missing from the playlist: players must not expect it.
        discontinuity: resumed !== undefined,
        startPts: segment.startPts,
        file,
        size: segment.data.length,
        metadata: segment.metadata,
        sourceIndex: segment.sourceIndex,
      };
      const expired = this.#window.add(stored) as StoredSegment[];
      await Promise.all(
        expired.map((s) =>
          this.#files
            .remove(s.file)
            .catch((error: unknown) =>
              this.#limit(
                `remove ${errorKind(error)}`,
                `[ivs ${this.config.name}] cannot delete the old segment ${s.file}: ${(error as Error).message}`,
              ),
            ),
        ),
      );
      this.emit('segment', stored, segment.data);
      this.#resolveReady();
    });
  }

  #writeFailed(file: string, error: unknown, segment: Segment): void {
    const code = (error as NodeJS.ErrnoException).code;
    const full = code === 'ENOSPC' || code === 'EDQUOT';
    const why =
      code === 'ENOSPC'
        ? 'no space left on device'
        : code === 'EDQUOT'
          ? 'disk quota exceeded'
          : (error as Error).message;
    // Once per kind, then a summary per 10 s while it lasts (the line on screen keeps saying why).
    this.#limit(
      `write ${errorKind(error)}`,
      `[ivs ${this.config.name}] the stream stopped: ${why} writing ${file}; it resumes when ${full ? 'space returns' : 'segments can be written again'}`,
    );
    if (!this.#outage) {
      this.#outage = { since: this.#now(), lost: 0 };
      this.emit('health', this.health);
    }
    this.#outage.lost++;
    // The cues in it reach viewers late rather than never: on the next frame, in a segment yet to come.
    this.#segmenter.requeueMetadata(segment.metadata);
  }

  #resumed(outage: { since: number; lost: number }): void {
    this.#outage = undefined;
    this.#limit.flush(); // the pending "repeated" summary first, then the news
    const seconds = Math.round((this.#now() - outage.since) / 100) / 10;
    this.#options.log(
      `[ivs ${this.config.name}] the stream resumed after ${seconds} s (${outage.lost} segment${outage.lost === 1 ? '' : 's'} could not be written)`,
    );
    this.emit('health', this.health);
  }
}
