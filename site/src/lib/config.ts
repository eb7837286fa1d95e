// The site reads where things are from /config.json: written by the local stack, or at deploy
// time by CDK. Checked here so a broken deployment says what is wrong instead of showing nothing.
import { CHANNEL_ID } from '../../../core/ids.ts';

export interface SiteConfig {
  apiUrl: string;
  /**
   * Where the cacheable reads (GET /poll-get, public for 1 s) go: in the cloud the CDN in front of
   * the API; apiUrl when absent (the local stack).
   */
  cachedApiUrl: string;
  playbackUrl: string | null;
  player: 'hls.js' | 'ivs';
  /** The IVS channel this page plays (its ARN's last part): late joiners ask for its current poll. */
  channel: string;
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<SiteConfig> {
  const response = await fetchImpl('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const raw = (await response.json()) as Record<string, unknown>;
  if (typeof raw.apiUrl !== 'string' || raw.apiUrl === '') throw new Error('config.json: apiUrl is missing');
  if (raw.playbackUrl !== null && typeof raw.playbackUrl !== 'string') {
    throw new Error('config.json: playbackUrl must be a URL or null');
  }
  if (raw.cachedApiUrl !== undefined && (typeof raw.cachedApiUrl !== 'string' || raw.cachedApiUrl === '')) {
    throw new Error('config.json: cachedApiUrl must be a URL when present');
  }
  if (typeof raw.channel !== 'string' || !CHANNEL_ID.test(raw.channel)) {
    throw new Error('config.json: channel is missing (the IVS channel id)');
  }
  const player = raw.player === 'ivs' ? 'ivs' : 'hls.js';
  const apiUrl = raw.apiUrl.replace(/\/$/, '');
  return {
    apiUrl,
    cachedApiUrl: typeof raw.cachedApiUrl === 'string' ? raw.cachedApiUrl.replace(/\/$/, '') : apiUrl,
    playbackUrl: (raw.playbackUrl as string | null) ?? null,
    player,
    channel: raw.channel,
  };
}
