// The site reads where things are from /config.json: written by the local stack, or at deploy
// time by CDK. Checked here so a broken deployment says what is wrong instead of showing nothing.

export interface SiteConfig {
  apiUrl: string;
  playbackUrl: string | null;
  player: 'hls.js' | 'ivs';
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<SiteConfig> {
  const response = await fetchImpl('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const raw = (await response.json()) as Record<string, unknown>;
  if (typeof raw.apiUrl !== 'string' || raw.apiUrl === '') throw new Error('config.json: apiUrl is missing');
  if (raw.playbackUrl !== null && typeof raw.playbackUrl !== 'string') {
    throw new Error('config.json: playbackUrl must be a URL or null');
  }
  const player = raw.player === 'ivs' ? 'ivs' : 'hls.js';
  return {
    apiUrl: raw.apiUrl.replace(/\/$/, ''),
    playbackUrl: (raw.playbackUrl as string | null) ?? null,
    player,
  };
}
