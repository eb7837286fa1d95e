// hls.js adapter (local streams). hls.js turns each ID3 tag into a VTTCue on a hidden metadata
// track, with cue.startTime already mapped to the media time of the frame whose PTS it carries;
// cues arrive before the playhead reaches them, which is what frame-exact display needs.
import Hls, { type ErrorData, type Events, type LevelDetails } from 'hls.js/light';
import { planLatency, type LatencyPlan } from '../latency.ts';
import { privFrames } from './id3.ts';
import { IVS_METADATA_OWNER, type Player, type PlayerEvents, type PlayerOptions } from './types.ts';

interface Id3CueValue {
  key: string;
  info?: string;
  data: ArrayBuffer | string;
}

const RETRY_MS = 3000;
const decoder = new TextDecoder();

export async function createHlsPlayer(
  video: HTMLVideoElement,
  url: string,
  events: PlayerEvents,
  options: PlayerOptions = {},
): Promise<Player> {
  if (!Hls.isSupported())
    throw new Error('This browser cannot play the stream (no Media Source Extensions).');
  const seen = new WeakSet<TextTrackCue>();
  let hls: Hls | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let destroyed = false;
  let latency: LatencyPlan = options.latency ?? planLatency(null, null, null);

  /** Maps a media time to the program date-time of the fragment that holds it. */
  const programTimeAt = (mediaTime: number): number | null => {
    const details = hls?.levels[hls.currentLevel]?.details ?? hls?.levels[0]?.details;
    const frag = details?.fragments.find((f) => mediaTime >= f.start && mediaTime < f.start + f.duration);
    return frag?.programDateTime ? frag.programDateTime + (mediaTime - frag.start) * 1000 : null;
  };

  // Each payload once, whichever way it arrives (and again after a reload of the same fragment).
  const delivered = new Set<string>();
  const deliver = (mediaTime: number, payload: string) => {
    const key = `${mediaTime.toFixed(3)}|${payload}`;
    if (delivered.has(key)) return;
    delivered.add(key);
    if (delivered.size > 500) delivered.delete(delivered.values().next().value!);
    events.cue({ mediaTime, payload, programTime: programTimeAt(mediaTime) });
  };

  /** The demuxer's ID3 samples: `pts` is already the media time of the frame they are stamped on. */
  const fromSamples = (samples: Array<{ pts: number; data: Uint8Array }>) => {
    for (const sample of samples) {
      for (const frame of privFrames(sample.data)) {
        if (frame.owner === IVS_METADATA_OWNER) deliver(sample.pts, decoder.decode(frame.data));
      }
    }
  };

  /** The metadata text track, as a second source (the IVS player path has only this kind). */
  const collectCues = () => {
    for (const track of Array.from(video.textTracks)) {
      if (track.kind !== 'metadata') continue;
      if (track.mode === 'disabled') track.mode = 'hidden';
      for (const cue of Array.from(track.cues ?? [])) {
        if (seen.has(cue)) continue;
        seen.add(cue);
        const value = (cue as VTTCue & { value?: Id3CueValue }).value;
        if (
          value?.key !== 'PRIV' ||
          value.info !== IVS_METADATA_OWNER ||
          !(value.data instanceof ArrayBuffer)
        )
          continue;
        deliver(cue.startTime, decoder.decode(value.data));
      }
    }
  };
  const poll = setInterval(collectCues, 250);

  const reportWindow = (details: LevelDetails | undefined) => {
    if (!details?.live || !events.window) return;
    events.window({
      seconds: details.totalduration,
      targetDuration: details.targetduration,
      sliding: details.startSN > 0,
    });
  };

  const start = () => {
    if (destroyed) return;
    hls?.destroy();
    hls = new Hls({
      enableID3MetadataCues: true,
      // Both from one plan, so always legal (hls.js requires max > sync); the page replans (and
      // calls setLatency) once the playlist tells the window, before hls.js picks where to start.
      liveSyncDuration: latency.seconds,
      liveMaxLatencyDuration: latency.maxSeconds,
      maxLiveSyncPlaybackRate: 1,
    });
    // A media playlist comes with the manifest (before LEVEL_LOADED, where hls.js picks its start
    // position); a multivariant one with each level.
    hls.on(Hls.Events.MANIFEST_LOADED, (_event, data) => reportWindow(data.levels[0]?.details));
    hls.on(Hls.Events.LEVEL_LOADED, (_event, data) => reportWindow(data.details));
    hls.on(Hls.Events.FRAG_PARSING_METADATA, (_event, data) => fromSamples(data.samples));
    hls.on(Hls.Events.BUFFER_APPENDED, collectCues);
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      events.status({ kind: 'playing' });
      video.play().catch(() => {
        // Autoplay with sound is refused until the viewer interacts: play muted, they can unmute.
        video.muted = true;
        void video.play().catch(() => undefined);
      });
    });
    hls.on(Hls.Events.ERROR, (_event: Events.ERROR, data: ErrorData) => {
      if (!data.fatal) return;
      const offline = data.type === Hls.ErrorTypes.NETWORK_ERROR;
      events.status(
        offline
          ? {
              kind: 'offline',
              message: 'The stream is offline right now. We reconnect as soon as it is back.',
            }
          : { kind: 'error', message: 'The stream could not be played. Retrying…' },
      );
      clearTimeout(retry);
      retry = setTimeout(start, RETRY_MS);
    });
    hls.loadSource(url);
    hls.attachMedia(video);
  };
  events.status({ kind: 'loading' });
  start();

  return {
    video,
    setLatency(plan) {
      latency = plan;
      if (!hls) return;
      hls.config.liveMaxLatencyDuration = plan.maxSeconds;
      hls.targetLatency = plan.seconds; // sets liveSyncDuration (and clears the stall allowance)
    },
    destroy() {
      destroyed = true;
      clearInterval(poll);
      clearTimeout(retry);
      hls?.destroy();
    },
  };
}
