// The live source of one channel: the test pattern by default, replaced by an RTMP publisher while one is
// publishing. Each source is one ffmpeg process; this class decides which process's output reaches the
// segmenter, and makes sure one run has fully ended (its last bytes delivered) before the next begins,
// so the segmenter only ever sees whole PES packets from one process at a time. A publisher's ffmpeg
// reads the FLV that ./ingest.ts takes out of its RTMP connection on stdin, and is started only for a
// publisher the ingest has accepted.
import type { Writable } from 'node:stream';
import { spawnFfmpeg, stopFfmpeg, type FfmpegCommand, type FfmpegProcess } from './ffmpeg.ts';

export type SourceKind = 'pattern' | 'rtmp';

export interface SourceSink {
  start(kind: SourceKind): void;
  data(chunk: Buffer): void;
  end(kind: SourceKind): void;
}

export interface ChannelSourceOptions {
  ffmpeg: FfmpegCommand;
  /** Arguments of the test-pattern process, or undefined for a channel that is live only while ingesting. */
  patternArgs?: readonly string[];
  sink: SourceSink;
  log: (line: string) => void;
  /** Restart a source that produced nothing for this long (ms). */
  stallMs?: number;
}

interface Run {
  kind: SourceKind;
  process: FfmpegProcess;
  /** Output received before the run became current (an RTMP publisher while the pattern winds down). */
  pending: Buffer[] | undefined;
  lastDataAt: number;
}

/** A publisher's transcoder: FLV goes into `input`; `exited` resolves once the process is gone. */
export interface PublisherRun {
  input: Writable;
  exited: Promise<void>;
  /** Ends its input: ffmpeg flushes what it has and exits. */
  stop(): Promise<void>;
}

export class ChannelSource {
  readonly #options: ChannelSourceOptions;
  #current: Run | undefined;
  #publisher: Run | undefined;
  #closing = false;
  #patternRestartDelay = 500;
  #timers = new Set<NodeJS.Timeout>();
  #watchdog: NodeJS.Timeout | undefined;

  constructor(options: ChannelSourceOptions) {
    this.#options = options;
  }

  /** What reaches the segmenter now (undefined = the channel is not broadcasting). */
  get active(): SourceKind | undefined {
    return this.#current?.kind;
  }

  /** Process ids of the ffmpeg processes this source owns (for tests and diagnostics). */
  get pids(): number[] {
    const runs = new Set([this.#current, this.#publisher]);
    return [...runs].map((r) => r?.process.pid).filter((p): p is number => p !== undefined);
  }

  /** True while a publisher's transcoder runs (another publisher must wait). */
  get publishing(): boolean {
    return this.#publisher !== undefined;
  }

  start(): void {
    if (this.#options.patternArgs) this.#startPattern();
    const stallMs = this.#options.stallMs ?? 10_000;
    this.#watchdog = setInterval(() => {
      const run = this.#current;
      if (run && !run.pending && Date.now() - run.lastDataAt > stallMs) {
        this.#options.log(`${run.kind} source produced nothing for ${stallMs} ms: restarting it`);
        run.process.kill('SIGKILL');
      }
    }, 1000);
    this.#watchdog.unref();
  }

  async close(): Promise<void> {
    this.#closing = true;
    if (this.#watchdog) clearInterval(this.#watchdog);
    for (const t of this.#timers) clearTimeout(t);
    const runs = [this.#current, this.#publisher].filter((r): r is Run => r !== undefined);
    await Promise.all(runs.map((r) => stopFfmpeg(r.process, 1000, r.kind === 'rtmp' ? 'eof' : 'q')));
  }

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#closing) fn();
    }, ms);
    this.#timers.add(timer);
  }

  #spawn(kind: SourceKind, args: readonly string[]): Run {
    const process = spawnFfmpeg(this.#options.ffmpeg, args);
    const run: Run = { kind, process, pending: undefined, lastDataAt: Date.now() };
    let stderrTail = '';
    process.stderr.setEncoding('utf8');
    process.stderr.on('data', (text: string) => {
      stderrTail = (stderrTail + text).slice(-2000);
      for (const line of text.split('\n'))
        if (line.trim()) this.#options.log(`ffmpeg ${kind}: ${line.trim()}`);
    });
    process.on('error', (error) => this.#options.log(`ffmpeg ${kind} failed to start: ${error.message}`));
    return run;
  }

  #makeCurrent(run: Run): void {
    this.#current = run;
    this.#options.sink.start(run.kind);
    const pending = run.pending ?? [];
    run.pending = undefined;
    for (const chunk of pending) this.#options.sink.data(chunk);
  }

  #startPattern(): void {
    const run = this.#spawn('pattern', this.#options.patternArgs!);
    this.#makeCurrent(run);
    run.process.stdout.on('data', (chunk: Buffer) => {
      run.lastDataAt = Date.now();
      if (this.#current === run) {
        this.#patternRestartDelay = 500;
        this.#options.sink.data(chunk);
      }
    });
    run.process.on('close', (code, signal) => {
      if (this.#current !== run) return;
      this.#current = undefined;
      this.#options.sink.end('pattern');
      const next = this.#publisher;
      if (next?.pending) {
        this.#makeCurrent(next); // the publisher takes over
      } else if (!this.#closing) {
        this.#options.log(
          `test pattern exited (${signal ?? code}); restarting in ${this.#patternRestartDelay} ms`,
        );
        this.#later(this.#patternRestartDelay, () => {
          if (!this.#current) this.#startPattern();
        });
        this.#patternRestartDelay = Math.min(this.#patternRestartDelay * 2, 30_000);
      }
    });
  }

  /**
   * Starts the transcoder of an accepted publisher (`args` read FLV on stdin). Its first output
   * replaces the test pattern; when it exits the pattern comes back. Undefined while another
   * publisher's transcoder runs, or once closing.
   */
  startPublisher(args: readonly string[]): PublisherRun | undefined {
    if (this.#publisher || this.#closing) return undefined;
    const run = this.#spawn('rtmp', args);
    this.#publisher = run;
    const exited = new Promise<void>((resolve) => run.process.once('close', () => resolve()));
    run.process.stdout.on('data', (chunk: Buffer) => {
      run.lastDataAt = Date.now();
      if (this.#current === run) {
        this.#options.sink.data(chunk);
        return;
      }
      if (!run.pending) {
        // The publisher's first output: keep it until the pattern has flushed its last frame.
        run.pending = [];
        this.#options.log('RTMP publisher on air: switching from the test pattern');
        const pattern = this.#current;
        if (pattern) void stopFfmpeg(pattern.process);
        else {
          run.pending.push(chunk);
          this.#makeCurrent(run);
          return;
        }
      }
      run.pending.push(chunk);
    });
    run.process.on('close', (code, signal) => {
      if (this.#publisher === run) this.#publisher = undefined;
      if (this.#current === run) {
        this.#current = undefined;
        this.#options.sink.end('rtmp');
        this.#options.log('RTMP publisher left');
        if (this.#options.patternArgs && !this.#closing) this.#startPattern();
      } else if (!run.pending && !this.#closing) {
        this.#options.log(`the RTMP publisher's transcoder exited (${signal ?? code}) before any output`);
      }
    });
    return { input: run.process.stdin, exited, stop: () => stopFfmpeg(run.process, 2000, 'eof') };
  }
}
