// The adapter for config.player, loaded on demand: local viewers never download the IVS player.
import type { SiteConfig } from '../config.ts';
import type { PlayerFactory } from './types.ts';

export async function loadPlayer(kind: SiteConfig['player']): Promise<PlayerFactory> {
  return kind === 'ivs'
    ? (await import('./ivs.ts')).createIvsPlayer
    : (await import('./hls.ts')).createHlsPlayer;
}
