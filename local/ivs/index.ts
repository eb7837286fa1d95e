// The local stand-in for Amazon IVS: live HLS channels (ffmpeg → our segmenter) with frame-exact timed
// metadata, and the IVS API subset (PutMetadata, GetChannel, GetStream, ListChannels) for the edge endpoint.
//
//   const ivs = await createLocalIvs({ dataDir, appBaseUrl: 'http://127.0.0.1:3000', log });
//   edge services: [..., ivs.edge]; app routes: [..., ivs.route]; await ivs.ready; … await ivs.close();
import { join } from 'node:path';
import type { AppRoute, EdgeService } from '../http.ts';
import { createIvsService, type ChannelDirectory } from './api.ts';
import { LocalChannel, type ChannelConfig, type SegmentFiles } from './channel.ts';
import { describeBinary, resolveFfmpeg, resolveFont } from '../binaries.ts';
import type { EncodingOptions } from './ffmpeg.ts';
import { createLiveRoute } from './routes.ts';
import { localStreamKeys } from './stream-key.ts';

export { LocalChannel } from './channel.ts';
export type { ChannelConfig, SegmentFiles, StoredSegment, StreamHealth } from './channel.ts';
export { BinaryNotFoundError } from '../binaries.ts';
export { StreamKeyError } from './stream-key.ts';

export const DEFAULT_CHANNEL_ARN = 'arn:aws:ivs:us-east-1:000000000000:channel/local';
export const DEFAULT_RTMP_PORT = 1935;

export interface ChannelSpec {
  /** Channel name = last part of the ARN and the /live/<name>/ path. */
  name: string;
  /** Default: broadcast the test pattern when no publisher is connected. */
  testPattern?: boolean;
  /** Default: rtmpPort + index of the channel (1935, 1936, …); null disables ingest for this channel. */
  rtmpPort?: number | null;
  /**
   * The only stream key the RTMP ingest accepts. Default: a secret made once per data directory
   * and kept in <dataDir>/ivs-stream-keys.json (./stream-key.ts).
   */
  streamKey?: string;
  region?: string;
  accountId?: string;
}

export interface LocalIvsOptions {
  /** Segments go to <dataDir>/ivs/<channel>/ (emptied on start). */
  dataDir: string;
  /** The app server's base URL, e.g. http://127.0.0.1:3000: playback URLs are absolute. */
  appBaseUrl: string;
  log: (line: string) => void;
  /** Default: one channel, 'local', with the test pattern and RTMP ingest. */
  channels?: ChannelSpec[];
  /** First RTMP port (default 1935); null disables ingest everywhere. */
  rtmpPort?: number | null;
  /** Seconds per segment (and between keyframes); default 1. */
  segmentDuration?: number;
  /** Segments listed in the live playlist; default 6. */
  windowSize?: number;
  encoding?: Partial<EncodingOptions>;
  /** Where segment files are written and deleted (default: the disk). */
  files?: SegmentFiles;
}

export interface LocalIvs {
  edge: EdgeService;
  route: AppRoute;
  /** Absolute playback URL of a channel (default channel when omitted). */
  playbackUrl(channelArn?: string): string;
  /** rtmp://127.0.0.1:<port>/live/<streamKey>, or undefined without ingest (none configured, or its port taken). */
  ingestUrl(channelArn?: string): string | undefined;
  /** The channel's stream key (a secret: whoever has it can stream to the channel), or undefined without ingest. */
  streamKey(channelArn?: string): string | undefined;
  channel(arnOrName?: string): LocalChannel;
  channels: LocalChannel[];
  /** Resolves once every channel that broadcasts from the start has its first segment. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export async function createLocalIvs(options: LocalIvsOptions): Promise<LocalIvs> {
  const ffmpeg = await resolveFfmpeg();
  const font = resolveFont();
  options.log(
    `local IVS uses ${describeBinary(ffmpeg)}, ${font ? `font ${font.path} (${font.source})` : 'no font: the clock overlay is off'}`,
  );
  const specs = options.channels ?? [{ name: 'local' }];
  const baseRtmpPort = options.rtmpPort === undefined ? DEFAULT_RTMP_PORT : options.rtmpPort;
  const base = options.appBaseUrl.replace(/\/+$/, '');
  for (const spec of specs)
    if (!/^[a-zA-Z0-9-]+$/.test(spec.name)) throw new Error(`invalid channel name: ${spec.name}`);
  const rtmpPortOf = (spec: ChannelSpec, index: number) =>
    spec.rtmpPort !== undefined ? spec.rtmpPort : baseRtmpPort === null ? null : baseRtmpPort + index;
  // Keys only for channels with an ingest that were not given one.
  const keys = await localStreamKeys(
    options.dataDir,
    specs
      .filter((spec, index) => spec.streamKey === undefined && rtmpPortOf(spec, index) !== null)
      .map((spec) => ({ name: spec.name, region: spec.region ?? 'us-east-1' })),
  );
  const channels = specs.map((spec, index) => {
    const rtmpPort = rtmpPortOf(spec, index);
    const config: ChannelConfig = {
      name: spec.name,
      arn: `arn:aws:ivs:${spec.region ?? 'us-east-1'}:${spec.accountId ?? '000000000000'}:channel/${spec.name}`,
      testPattern: spec.testPattern ?? true,
      rtmpPort,
      streamKey: spec.streamKey ?? keys[spec.name] ?? '',
      latencyMode: 'LOW',
      type: 'STANDARD',
    };
    return new LocalChannel({
      config,
      dir: join(options.dataDir, 'ivs', spec.name),
      ffmpeg,
      log: options.log,
      targetDuration: options.segmentDuration ?? 1,
      windowSize: options.windowSize ?? 6,
      encoding: options.encoding as EncodingOptions | undefined,
      ...(options.files ? { files: options.files } : {}),
    });
  });
  const byArn = new Map(channels.map((c) => [c.config.arn, c]));
  const byName = new Map(channels.map((c) => [c.config.name, c]));
  const find = (arnOrName?: string): LocalChannel => {
    const channel = arnOrName === undefined ? channels[0] : (byArn.get(arnOrName) ?? byName.get(arnOrName));
    if (!channel) throw new Error(`no local IVS channel ${arnOrName}`);
    return channel;
  };
  const playbackUrl = (c: LocalChannel) => `${base}/live/${c.config.name}/index.m3u8`;
  const directory: ChannelDirectory = {
    get: (arn) => byArn.get(arn),
    all: () => channels,
    playbackUrl,
    ingestEndpoint: (c) => (c.config.rtmpPort === null ? '' : `127.0.0.1:${c.config.rtmpPort}`),
  };

  const started: LocalChannel[] = [];
  try {
    for (const c of channels) {
      await c.start();
      started.push(c);
    }
  } catch (error) {
    await Promise.all(started.map((c) => c.close()));
    throw error;
  }

  return {
    edge: createIvsService(directory, options.log),
    route: createLiveRoute((name) => byName.get(name)),
    playbackUrl: (arn) => playbackUrl(find(arn)),
    ingestUrl(arn) {
      const c = find(arn);
      return c.ingestPort === undefined
        ? undefined
        : `rtmp://127.0.0.1:${c.ingestPort}/live/${c.config.streamKey}`;
    },
    streamKey(arn) {
      const c = find(arn);
      return c.ingestPort === undefined ? undefined : c.config.streamKey;
    },
    channel: find,
    channels,
    ready: Promise.all(channels.filter((c) => c.config.testPattern).map((c) => c.ready)).then(
      () => undefined,
    ),
    close: async () => {
      await Promise.all(channels.map((c) => c.close()));
    },
  };
}
