// One local IVS channel: its source processes, the segmenter, the segment files and playlist, and the
// PutMetadata rules (size, rate, broadcasting). Emits events so tests and benchmarks can observe exactly
// which frame each payload was stamped on.
import { EventEmitter } from 'node:events';
import { mkdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  rtmpIngestArgs,
  testPatternArgs,
  type EncodingOptions,
  type FfmpegCommand,
  DEFAULT_ENCODING,
} from './ffmpeg.ts';
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
}

/**
 * Events: 'segment' (StoredSegment, once written), 'frame' (VideoFrame), 'metadata' (InjectedMetadata),
 * 'accepted' ({id, payload}: queued, emitted synchronously inside putMetadata), 'source' ({kind, state}).
 */
export class LocalChannel extends EventEmitter {
  readonly config: ChannelConfig;
  readonly #options: ChannelOptions;
  readonly #window: LiveWindow;
  readonly #segmenter: TsSegmenter;
  readonly #source: ChannelSource;
  readonly #session = Date.now().toString(36);
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
    const { rtmpPort, testPattern, name, streamKey } = options.config;
    this.#source = new ChannelSource({
      ffmpeg: options.ffmpeg,
      patternArgs: testPattern ? testPatternArgs(encoding, undefined, `channel ${name}`) : undefined,
      rtmpArgs:
        rtmpPort === null
          ? undefined
          : rtmpIngestArgs(`rtmp://127.0.0.1:${rtmpPort}/live/${streamKey}`, encoding),
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
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#source.close();
    await this.#writes;
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
    const uri = `${this.#session}-${segment.sequence}.ts`;
    const file = join(this.#options.dir, uri);
    // Sequential writes: a segment is listed only once written, and always after its predecessor.
    this.#writes = this.#writes.then(async () => {
      if (this.#closed) return;
      try {
        await writeFile(file, segment.data);
      } catch (error) {
        this.#options.log(`[ivs ${this.config.name}] cannot write ${file}: ${(error as Error).message}`);
        return;
      }
      const stored: StoredSegment = {
        sequence: segment.sequence,
        uri,
        duration: segment.duration,
        programDateTime: segment.programDateTime,
        startPts: segment.startPts,
        file,
        size: segment.data.length,
        metadata: segment.metadata,
        sourceIndex: segment.sourceIndex,
      };
      const expired = this.#window.add(stored) as StoredSegment[];
      await Promise.all(expired.map((s) => unlink(s.file).catch(() => {})));
      this.emit('segment', stored, segment.data);
      this.#resolveReady();
    });
  }
}
