// Soak test of the local IVS: streams for N minutes with a PutMetadata every few seconds and one HLS viewer
// polling the playlist, and samples memory, segment storage and ffmpeg's CPU each minute. Looks for leaks
// (RSS/heap growing), storage that is never freed, lost or doubled payloads, and a segmenter that drifts.
//
//   node bench/ivs/soak.ts --minutes 10 [--interval 3]
// Prints a table and writes bench/results/ivs-soak.json.
import { PutMetadataCommand } from '@aws-sdk/client-ivs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CHANNEL_ARN } from '../../local/ivs/index.ts';
import type { InjectedMetadata, VideoFrame } from '../../local/ivs/segmenter.ts';
import { startIvs } from '../../test/support/ivs.ts';

const HELP = `Usage: node bench/ivs/soak.ts [--minutes N] [--interval S] [--segment S] [--out FILE]

Streams the local IVS test pattern for N minutes with a PutMetadata every S seconds and one HLS
viewer, samples memory, the segment directory and ffmpeg's CPU every minute, prints a table and
writes JSON (default bench/results/ivs-soak.json).

  --minutes N    how long (default 10; 60 for the hour the issue asks for)
  --interval S   seconds between PutMetadata calls (default 3)
  --segment S    segment duration in seconds (default 0.5, as npm start uses)
  -h, --help     this help
`;
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    interval: { type: 'string', default: '3' },
    segment: { type: 'string', default: '0.5' },
    out: { type: 'string', default: join(import.meta.dirname, '../results/ivs-soak.json') },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const positive = (name: string, raw: string, max: number): number => {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    console.error(`--${name}: expected a number above 0 and at most ${max}, got "${raw}"`);
    process.exit(2);
  }
  return value;
};
const minutes = positive('minutes', values.minutes, 24 * 60);
const intervalMs = positive('interval', values.interval, 3600) * 1000;
const segmentDuration = positive('segment', values.segment, 10);
const sampleEveryMs = minutes < 2 ? 15_000 : 60_000;

/** CPU seconds and RSS of a process from /proc (Linux only; undefined elsewhere). */
async function procStats(pid: number): Promise<{ cpuSeconds: number; rssMb: number } | undefined> {
  try {
    const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100, rssMb: rssKb / 1024 };
  } catch {
    return undefined;
  }
}

// The log goes to stderr as it comes (a soak keeps no lines), without the test pattern's ffmpeg chatter.
const harness = await startIvs(
  { segmentDuration, windowSize: Math.round(15 / segmentDuration) },
  {
    log: (line) => {
      if (!/ffmpeg pattern: /.test(line)) console.error(line);
    },
  },
);
const { ivs, client } = harness;
const channel = ivs.channel();

// What happened, for the checks at the end.
const acceptedAt = new Map<number, number>(); // id -> ms when accepted
const stampDelays: number[] = [];
const sent = new Set<string>();
const injectedCount = new Map<string, number>();
let frames = 0;
let segmentsProduced = 0;
let putErrors = 0;
let putLatencies: number[] = [];
let maxSegmentDuration = 0;
let minSegmentDuration = Infinity;
channel.on('accepted', ({ id }: { id: number }) => acceptedAt.set(id, performance.now()));
channel.on('frame', (_: VideoFrame) => frames++);
channel.on('metadata', (m: InjectedMetadata) => {
  const at = acceptedAt.get(m.id);
  if (at !== undefined) stampDelays.push(performance.now() - at);
  acceptedAt.delete(m.id);
  const text = m.payload.toString('utf8');
  injectedCount.set(text, (injectedCount.get(text) ?? 0) + 1);
});
channel.on('segment', (s: { duration: number }) => {
  segmentsProduced++;
  maxSegmentDuration = Math.max(maxSegmentDuration, s.duration);
  minSegmentDuration = Math.min(minSegmentDuration, s.duration);
});

const started = performance.now();
await ivs.ready;
console.error(
  `first segment after ${Math.round(performance.now() - started)} ms; soaking for ${minutes} min`,
);

// One viewer: reload the playlist every second, fetch each new segment once.
let viewerBytes = 0;
let viewerErrors = 0;
let viewerSegments = 0;
const fetched = new Set<string>();
const viewer = setInterval(async () => {
  try {
    const text = await (await fetch(ivs.playbackUrl())).text();
    const uris = text.split('\n').filter((l) => l.endsWith('.ts'));
    for (const uri of uris) {
      if (fetched.has(uri)) continue;
      fetched.add(uri);
      const response = await fetch(new URL(uri, ivs.playbackUrl()));
      if (!response.ok) viewerErrors++;
      viewerBytes += (await response.arrayBuffer()).byteLength;
      viewerSegments++;
    }
    if (fetched.size > 100)
      for (const uri of [...fetched].slice(0, 50)) if (!uris.includes(uri)) fetched.delete(uri);
  } catch {
    viewerErrors++;
  }
}, 1000);

let counter = 0;
const putter = setInterval(async () => {
  const metadata = JSON.stringify({
    v: 1,
    type: 'poll',
    poll_id: `soak:${counter++}`,
    at: new Date().toISOString(),
  });
  sent.add(metadata);
  const t0 = performance.now();
  try {
    await client.send(new PutMetadataCommand({ channelArn: DEFAULT_CHANNEL_ARN, metadata }));
    putLatencies.push(performance.now() - t0);
  } catch (error) {
    putErrors++;
    sent.delete(metadata);
    console.error(`PutMetadata failed: ${(error as Error).name}`);
  }
}, intervalMs);

interface Sample {
  minute: number;
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
  segmentFiles: number;
  segmentDirMb: number;
  segments: number;
  frames: number;
  /** Media seconds produced / wall seconds elapsed over the interval (1.0 = real time). */
  realtime: number;
  ffmpegCpuPercent: number | undefined;
  ffmpegRssMb: number | undefined;
  putP50Ms: number | undefined;
  payloadsStamped: number;
}

const samples: Sample[] = [];
const pct = (xs: number[], p: number) =>
  xs.length === 0
    ? undefined
    : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
let lastSampleAt = performance.now();
let lastFrames = 0;
let lastCpu: number | undefined;
const takeSample = async () => {
  const now = performance.now();
  const usage = await channel.diskUsage();
  const memory = process.memoryUsage();
  const pattern = channel.ffmpegPids[0];
  const stats = pattern === undefined ? undefined : await procStats(pattern);
  const wall = (now - lastSampleAt) / 1000;
  const sample: Sample = {
    minute: Math.round(((now - started) / 60_000) * 100) / 100,
    rssMb: memory.rss / 2 ** 20,
    heapUsedMb: memory.heapUsed / 2 ** 20,
    externalMb: (memory.external + memory.arrayBuffers) / 2 ** 20,
    segmentFiles: usage.files,
    segmentDirMb: usage.bytes / 2 ** 20,
    segments: segmentsProduced,
    frames,
    realtime: (frames - lastFrames) / 30 / wall,
    ffmpegCpuPercent:
      stats && lastCpu !== undefined ? ((stats.cpuSeconds - lastCpu) / wall) * 100 : undefined,
    ffmpegRssMb: stats?.rssMb,
    putP50Ms: pct(putLatencies, 0.5),
    payloadsStamped: stampDelays.length,
  };
  lastCpu = stats?.cpuSeconds;
  lastSampleAt = now;
  lastFrames = frames;
  putLatencies = [];
  samples.push(sample);
  const f = (x: number | undefined, d = 1) => (x === undefined ? '-' : x.toFixed(d));
  console.log(
    [
      f(sample.minute, 2).padStart(7),
      f(sample.rssMb).padStart(7),
      f(sample.heapUsedMb).padStart(7),
      f(sample.externalMb).padStart(7),
      String(sample.segmentFiles).padStart(6),
      f(sample.segmentDirMb, 2).padStart(7),
      String(sample.segments).padStart(7),
      f(sample.realtime, 3).padStart(7),
      f(sample.ffmpegCpuPercent).padStart(7),
      f(sample.ffmpegRssMb).padStart(7),
      f(sample.putP50Ms).padStart(7),
      String(sample.payloadsStamped).padStart(7),
    ].join(' '),
  );
};
console.log(' minute  rss MB heap MB  ext MB  files  dir MB   segs  ×real ffm cpu% ffm MB  put ms stamped');
lastCpu = (await procStats(channel.ffmpegPids[0] ?? -1))?.cpuSeconds;
await takeSample();
const sampler = setInterval(() => void takeSample(), sampleEveryMs);
await new Promise((r) => setTimeout(r, minutes * 60_000));
clearInterval(putter);
clearInterval(viewer);
clearInterval(sampler);
await new Promise((r) => setTimeout(r, 2000)); // let the last payload reach a frame
await takeSample();

const lost = [...sent].filter((p) => !injectedCount.has(p));
const doubled = [...injectedCount].filter(([, n]) => n > 1).map(([p]) => p);
const first = samples[1] ?? samples[0]!;
const last = samples.at(-1)!;
const result = {
  date: new Date().toISOString(),
  minutes,
  putIntervalSeconds: intervalMs / 1000,
  node: process.version,
  payloads: {
    sent: sent.size,
    stamped: stampDelays.length,
    lost: lost.length,
    doubled: doubled.length,
    putErrors,
  },
  stampDelayMs: { p50: pct(stampDelays, 0.5), p99: pct(stampDelays, 0.99), max: Math.max(...stampDelays) },
  segments: { produced: segmentsProduced, minDuration: minSegmentDuration, maxDuration: maxSegmentDuration },
  viewer: { segments: viewerSegments, mb: viewerBytes / 2 ** 20, errors: viewerErrors },
  growth: {
    rssMb: last.rssMb - first.rssMb,
    heapUsedMb: last.heapUsedMb - first.heapUsedMb,
    segmentDirMb: last.segmentDirMb - first.segmentDirMb,
  },
  samples,
};
console.log(JSON.stringify({ ...result, samples: undefined }, null, 2));
await mkdir(dirname(values.out!), { recursive: true });
await writeFile(values.out!, JSON.stringify(result, null, 2) + '\n');
console.error(`wrote ${values.out}`);

await harness.close();
if (lost.length > 0 || doubled.length > 0) process.exitCode = 1;
