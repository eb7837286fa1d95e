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
  /** How producers sign in to the control room (/control); absent when the site has none set up. */
  control?: ControlSignIn;
}

/**
 * The control room's sign-in: locally the token `npm start` prints (in the link it prints), in AWS
 * the Cognito user pool's managed login (authorization code with PKCE) at `domain` for `clientId`.
 * A `control` the page cannot use is `invalid` with the reason: the control room says it, and the
 * viewer page, which does not sign in, keeps working.
 */
export type ControlSignIn =
  | { signIn: 'local' }
  | { signIn: 'cognito'; domain: string; clientId: string }
  | { signIn: 'invalid'; problem: string };

function readControl(raw: unknown): ControlSignIn | undefined {
  if (raw === undefined) return undefined;
  const invalid = (problem: string): ControlSignIn => ({
    signIn: 'invalid',
    problem: `config.json: ${problem}`,
  });
  const control = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (control.signIn === 'local') return { signIn: 'local' };
  if (control.signIn !== 'cognito') return invalid("control.signIn must be 'local' or 'cognito'");
  let domain: URL | undefined;
  try {
    domain = new URL(String(control.domain));
  } catch {
    // reported below
  }
  if (
    domain?.protocol !== 'https:' ||
    domain.pathname !== '/' ||
    domain.search !== '' ||
    domain.hash !== ''
  ) {
    return invalid(
      'control.domain must be the Cognito domain (https://<prefix>.auth.<region>.amazoncognito.com)',
    );
  }
  if (typeof control.clientId !== 'string' || !/^[A-Za-z0-9]{1,128}$/.test(control.clientId)) {
    return invalid('control.clientId must be the Cognito app client id');
  }
  return { signIn: 'cognito', domain: domain.origin, clientId: control.clientId };
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
  const control = readControl(raw.control);
  return {
    apiUrl,
    cachedApiUrl: typeof raw.cachedApiUrl === 'string' ? raw.cachedApiUrl.replace(/\/$/, '') : apiUrl,
    playbackUrl: (raw.playbackUrl as string | null) ?? null,
    player,
    channel: raw.channel,
    ...(control ? { control } : {}),
  };
}
