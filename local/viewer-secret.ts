// The local stack's viewer-token secret (lambdas/viewer-token.ts): generated once and kept in the
// data directory, so tokens viewers hold stay valid across restarts, and readable by the owner only.
// In the cloud the stack creates the secret in Secrets Manager instead.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MIN_SECRET_LENGTH } from '../lambdas/viewer-token.ts';

export const VIEWER_SECRET_FILE = 'viewer-token-secret';

export class ViewerSecretError extends Error {
  override readonly name = 'ViewerSecretError';
}

/** The secret in `<dataDir>/viewer-token-secret`, made (atomically, mode 0600) if there is none. */
export async function localViewerSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, VIEWER_SECRET_FILE);
  try {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new ViewerSecretError(
        `${file}: the viewer-token secret is damaged (shorter than ${MIN_SECRET_LENGTH} characters); delete it to make a new one (viewers then get new identities)`,
      );
    }
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, `${secret}\n`, { mode: 0o600 });
  await rename(partial, file);
  return secret;
}
