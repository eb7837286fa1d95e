// Amazon IVS web player adapter (IVS playback URLs). Loaded on demand so local viewers never
// download it. Its TEXT_METADATA_CUE carries the PutMetadata payload and the cue's media time.
import { IVS_METADATA_OWNER, type Player, type PlayerEvents } from './types.ts';

export async function createIvsPlayer(
  video: HTMLVideoElement,
  url: string,
  events: PlayerEvents,
): Promise<Player> {
  const ivs = await import('amazon-ivs-player');
  const wasmWorker = (await import('amazon-ivs-player/dist/assets/amazon-ivs-wasmworker.min.js?url')).default;
  const wasmBinary = (await import('amazon-ivs-player/dist/assets/amazon-ivs-wasmworker.min.wasm?url'))
    .default;
  if (!ivs.isPlayerSupported) throw new Error('This browser cannot run the Amazon IVS player.');
  const player = ivs.create({ wasmWorker, wasmBinary });
  const { PlayerEventType, PlayerState, ErrorType } = ivs;
  player.attachHTMLVideoElement(video);
  player.addEventListener(PlayerEventType.TEXT_METADATA_CUE, (cue) => {
    if (cue.owner && cue.owner !== IVS_METADATA_OWNER) return;
    events.cue({ mediaTime: cue.startTime, payload: cue.text });
  });
  player.addEventListener(PlayerState.PLAYING, () => events.status({ kind: 'playing' }));
  player.addEventListener(PlayerEventType.ERROR, (error) => {
    const offline = error.type === ErrorType.NOT_AVAILABLE || error.type === ErrorType.NETWORK;
    events.status(
      offline
        ? { kind: 'offline', message: 'The stream is offline right now. We reconnect as soon as it is back.' }
        : { kind: 'error', message: 'The stream could not be played. Retrying…' },
    );
    setTimeout(() => player.load(url), 3000);
  });
  events.status({ kind: 'loading' });
  player.setAutoplay(true);
  player.load(url);
  return { video, destroy: () => player.delete() };
}
