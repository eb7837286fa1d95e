// The command lines of the two sources (test pattern, an RTMP publisher's transcoder) and spawning them so they never
// outlive us (../binaries.ts finds ffmpeg). Argument building is pure; `spawnFfmpeg` is the only place
// that starts processes.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { resolveFont } from '../binaries.ts';

export interface EncodingOptions {
  width: number;
  height: number;
  fps: number;
  /** Seconds between keyframes = the segment duration. */
  keyframeInterval: number;
  videoBitrate: string;
  audioBitrate: string;
}

export const DEFAULT_ENCODING: EncodingOptions = {
  width: 640,
  height: 360,
  fps: 30,
  keyframeInterval: 1,
  videoBitrate: '800k',
  audioBitrate: '96k',
};

/**
 * The output half both sources share, so the segmenter always sees the same program: H.264 without
 * B-frames (PTS = DTS), a keyframe exactly every `keyframeInterval` s (no scene-cut keyframes), AAC 48 kHz
 * stereo, MPEG-TS flushed packet by packet with no mux delay (low latency, timestamps from ~0).
 */
function outputArgs(e: EncodingOptions): string[] {
  const gop = String(Math.round(e.fps * e.keyframeInterval));
  return [
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'main', '-pix_fmt', 'yuv420p',
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-bf', '0',
    '-b:v', e.videoBitrate, '-maxrate', e.videoBitrate, '-bufsize', e.videoBitrate,
    '-c:a', 'aac', '-b:a', e.audioBitrate, '-ar', '48000', '-ac', '2',
    '-f', 'mpegts', '-muxdelay', '0', '-muxpreload', '0', '-flush_packets', '1', 'pipe:1',
  ]; // prettier-ignore
}

/** Escapes a value for a filtergraph option inside single quotes. */
function quoteFilterValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "'\\''")}'`;
}

/** Burned-in frame number and UTC wall clock, so a frame (and a cue's sync) can be checked by eye. */
export function overlayFilter(font: string | undefined, label: string): string {
  if (!font) return 'null';
  const common = `fontfile=${quoteFilterValue(font)}:fontsize=24:fontcolor=white:box=1:boxcolor=black@0.65:boxborderw=6`;
  return [
    // %{eif:n:d:6}: the frame number, zero-padded; %{gmtime:…}: wall clock when the frame was drawn.
    `drawtext=${common}:x=12:y=h-96:text='${label.replace(/[^A-Za-z0-9 _.-]/g, '')}  frame %{eif\\:n\\:d\\:6}'`,
    `drawtext=${common}:x=12:y=h-52:text='%{gmtime\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S} UTC'`,
  ].join(',');
}

export function testPatternArgs(
  e: EncodingOptions = DEFAULT_ENCODING,
  font = resolveFont()?.path,
  label = 'showrunner',
): string[] {
  return [
    '-hide_banner', '-nostats', '-loglevel', 'warning',
    // -re: produce at the real-time rate, like a camera; lavfi would otherwise run as fast as the CPU allows.
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=${e.width}x${e.height}:rate=${e.fps}`,
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=880:beep_factor=4:sample_rate=48000',
    '-vf', overlayFilter(font, label),
    '-af', 'volume=0.3',
    ...outputArgs(e),
  ]; // prettier-ignore
}

/** What a publisher sends, as its FLV header says (./rtmp.ts). */
export interface PublishedTracks {
  audio: boolean;
  video: boolean;
}

/**
 * ffmpeg as the transcoder of one RTMP publisher: reads the FLV that the ingest (./ingest.ts) takes
 * out of the RTMP connection on stdin, and transcodes it to the same program as the test pattern
 * (size, rate, GOP, audio format) so the output stays one homogeneous stream; it exits when its
 * input ends. A publisher without audio (OBS with no audio source, a camera app) gets silence
 * (anullsrc, 48 kHz stereo, cut to the video's length): the program keeps its AAC track, so players
 * see no track appear or vanish when the source switches.
 */
export function ingestArgs(tracks: PublishedTracks, e: EncodingOptions = DEFAULT_ENCODING): string[] {
  const silence = !tracks.audio;
  return [
    '-hide_banner', '-nostats', '-loglevel', 'warning',
    // Probe 1 s, not 5: the FLV header and onMetaData already say which tracks come, and a publisher
    // without audio would otherwise wait out the whole default before its first frame reaches viewers.
    // A deeper queue for the pipe: with silence as a second input ffmpeg reads both in threads.
    '-analyzeduration', '1000000', '-thread_queue_size', '512',
    '-f', 'flv', '-i', 'pipe:0',
    ...(silence ? ['-f', 'lavfi', '-i', 'anullsrc=channel_layout=stereo:sample_rate=48000'] : []),
    '-map', '0:v:0', '-map', silence ? '1:a:0' : '0:a:0',
    ...(silence ? ['-shortest'] : []),
    '-vf', `scale=${e.width}:${e.height}:force_original_aspect_ratio=decrease,pad=${e.width}:${e.height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=${e.fps}`,
    ...outputArgs(e),
  ]; // prettier-ignore
}

export type FfmpegProcess = ChildProcessByStdio<Writable, Readable, Readable>;

/** What to run: the binary and any environment it needs (a static build's GCONV_PATH). */
export interface FfmpegCommand {
  path: string;
  env?: Record<string, string>;
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
const running = new Set<FfmpegProcess>();
let exitHookInstalled = false;

/**
 * Spawns ffmpeg with stdout piped. Orphans are prevented three ways: on Linux through util-linux
 * `setpriv --pdeathsig SIGKILL` (the kernel kills ffmpeg if this process dies, even by SIGKILL);
 * by a process 'exit' hook that kills every child still running; and by ffmpeg itself dying of EPIPE
 * once nobody reads its output.
 */
export function spawnFfmpeg(ffmpeg: FfmpegCommand, args: readonly string[]): FfmpegProcess {
  const [command, argv] = SETPRIV
    ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', ffmpeg.path, ...args]]
    : [ffmpeg.path, [...args]];
  // Where the kernel guarantees the kill (setpriv), ffmpeg gets its own process group: Ctrl-C in a
  // terminal then reaches only us, and we stop ffmpeg in order instead of watching it die first.
  const child = spawn(command, argv, {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: Boolean(SETPRIV),
    env: { ...process.env, ...ffmpeg.env },
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.stdin.on('error', () => {}); // writing 'q' to an ffmpeg that already quit
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
  return child;
}

/**
 * Asks ffmpeg to finish cleanly, then forces it. `q` on stdin for a process that does not read its
 * input there ('q' flushes its output, so the last PES packets are whole); the end of its input for
 * one that reads stdin (a publisher's FLV), which makes it flush and exit the same way.
 */
export function stopFfmpeg(child: FfmpegProcess, graceMs = 2000, how: 'q' | 'eof' = 'q'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (how === 'q') child.stdin.end('q');
    else child.stdin.end();
  });
}
