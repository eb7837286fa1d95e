// The local channels' RTMP stream keys: generated once per data directory and kept there (mode
// 0600, like the viewer-token secret), so OBS keeps working across restarts, and shaped like IVS's
// (`sk_<region>_<random>`). Whoever has a channel's key can put any picture on it; the ingest
// (./ingest.ts) refuses every other key. In the cloud IVS makes the key (CfnStreamKey).
import { randomInt } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const STREAM_KEYS_FILE = 'ivs-stream-keys.json';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** 36 characters of 62: 214 bits. */
const RANDOM_CHARS = 36;
const KEY = /^sk_[a-z0-9-]+_[A-Za-z0-9]{20,}$/;

export class StreamKeyError extends Error {
  override readonly name = 'StreamKeyError';
}

export function newStreamKey(region: string): string {
  let random = '';
  for (let i = 0; i < RANDOM_CHARS; i++) random += ALPHABET[randomInt(ALPHABET.length)];
  return `sk_${region}_${random}`;
}

/**
 * The stream key of each named channel, from `<dataDir>/ivs-stream-keys.json`; the keys it lacks
 * are made and the file rewritten (atomically, mode 0600).
 */
export async function localStreamKeys(
  dataDir: string,
  channels: readonly { name: string; region: string }[],
): Promise<Record<string, string>> {
  const file = join(dataDir, STREAM_KEYS_FILE);
  let stored: Record<string, string> = {};
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SyntaxError();
    stored = Object.fromEntries(
      Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (!(error instanceof SyntaxError)) throw error;
      throw new StreamKeyError(
        `${file}: the RTMP stream keys are damaged; delete the file to make new ones (then give OBS the new key)`,
      );
    }
  }
  const keys: Record<string, string> = {};
  let changed = false;
  for (const { name, region } of channels) {
    const key = stored[name];
    if (key !== undefined && KEY.test(key)) keys[name] = key;
    else {
      keys[name] = newStreamKey(region);
      changed = true;
    }
  }
  if (changed) {
    await mkdir(dataDir, { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    await writeFile(partial, `${JSON.stringify({ ...stored, ...keys }, null, 2)}\n`, { mode: 0o600 });
    await rename(partial, file);
  }
  return keys;
}
