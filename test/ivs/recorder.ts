// Records what a channel does, for the stream tests: every segment's bytes, every video frame the
// segmenter received, and for each accepted PutMetadata the frame that was next to arrive after it.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { resolveFfprobe } from '../../local/binaries.ts';
import { ROOT } from '../support/stack.ts';
import type { LocalChannel, StoredSegment } from '../../local/ivs/index.ts';
import type { InjectedMetadata, VideoFrame } from '../../local/ivs/segmenter.ts';
import { demux, readPrivFrames } from './ts-reader.ts';

export const run = promisify(execFile);

export interface Accepted {
  id: number;
  payload: Buffer;
  /** Frames the segmenter had received when the call was accepted: the next one is frames[framesBefore]. */
  framesBefore: number;
}

export class ChannelRecorder {
  readonly segments: { segment: StoredSegment; data: Buffer }[] = [];
  readonly frames: VideoFrame[] = [];
  readonly accepted: Accepted[] = [];
  readonly injected: InjectedMetadata[] = [];

  constructor(channel: LocalChannel) {
    channel.on('segment', (segment: StoredSegment, data: Buffer) => this.segments.push({ segment, data }));
    channel.on('frame', (frame: VideoFrame) => this.frames.push(frame));
    channel.on('metadata', (m: InjectedMetadata) => this.injected.push(m));
    channel.on('accepted', ({ id, payload }: { id: number; payload: Buffer }) =>
      this.accepted.push({ id, payload, framesBefore: this.frames.length }),
    );
  }

  /** PTS of the first video frame the segmenter received after the call. */
  expectedPts(accepted: Accepted): number | undefined {
    return this.frames[accepted.framesBefore]?.pts;
  }

  /** Every accepted payload's frame has been received and its segment written. */
  allWritten(): boolean {
    const written = new Set(this.segments.flatMap((s) => s.segment.metadata.map((m) => m.id)));
    return this.accepted.every((a) => written.has(a.id));
  }

  /** All ID3 PRIV frames found by demuxing the recorded segments. */
  privFrames(): { owner: string; data: Buffer; pts: number; segment: number; sameSegmentVideo: boolean }[] {
    const found = [];
    for (const { segment, data } of this.segments) {
      const d = demux(data);
      const videoPts = new Set(d.pes.filter((p) => p.pid === 0x100).map((p) => p.pts));
      for (const pes of d.pes.filter((p) => p.pid === 0x102)) {
        for (const frame of readPrivFrames(pes.payload)) {
          found.push({
            ...frame,
            pts: pes.pts!,
            segment: segment.sequence,
            sameSegmentVideo: videoPts.has(pes.pts),
          });
        }
      }
    }
    return found;
  }

  async writeAll(file: string): Promise<void> {
    await writeFile(file, Buffer.concat(this.segments.map((s) => s.data)));
  }
}

export interface ProbePacket {
  codec_type: string;
  stream_index: number;
  pts?: number;
}

export async function ffprobe(file: string): Promise<{
  streams: {
    index: number;
    codec_type: string;
    codec_name?: string;
    codec_tag_string?: string;
    id?: string;
  }[];
  packets: ProbePacket[];
  text: string;
}> {
  const ffprobe = await resolveFfprobe();
  const env = { ...process.env, ...ffprobe.env };
  const json = await run(
    ffprobe.path,
    ['-v', 'error', '-show_streams', '-show_packets', '-of', 'json', file],
    { maxBuffer: 64 * 1024 * 1024, env },
  ).catch(async (e: Error & { code?: number; signal?: string; stderr?: string }) => {
    // Keep what ffprobe choked on, and say how it ended (a signal is a crash, not a verdict).
    const kept = join(ROOT, 'test-results', `ffprobe-failed-${Date.now()}.ts`);
    await mkdir(dirname(kept), { recursive: true });
    await copyFile(file, kept);
    throw new Error(
      `${e.message}: exit ${e.code ?? '-'}, signal ${e.signal ?? '-'}; input kept as ${kept}\n${e.stderr ?? ''}`,
    );
  });
  const text = await run(ffprobe.path, ['-hide_banner', file], { env }).then(
    (r) => r.stderr,
    (e: { stderr?: string }) => e.stderr ?? '',
  );
  return { ...JSON.parse(json.stdout), text };
}
