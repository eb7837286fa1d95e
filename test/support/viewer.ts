// Viewer tokens for tests and benchmarks: a stack's votes and history reads need the token of the
// requestor_id they name (lambdas/viewer-token.ts). Tests choose readable ids ('viewer-a') and sign
// them with the stack's own secret from its data directory, as the API would have issued them;
// the issuing route itself is tested on its own (test/integration/viewer-token.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VIEWER_TOKEN_SCHEME } from '../../contract/api.ts';
import { signViewerToken } from '../../lambdas/viewer-token.ts';
import { VIEWER_SECRET_FILE } from '../../local/viewer-secret.ts';

const secrets = new Map<string, string>();

/** `Bearer <token>` for `requestorId` on the stack whose data directory is `dataDir`. */
export function viewerAuthorization(stack: { dataDir: string }, requestorId: string): string {
  let secret = secrets.get(stack.dataDir);
  if (!secret) {
    secret = readFileSync(join(stack.dataDir, VIEWER_SECRET_FILE), 'utf8').trim();
    secrets.set(stack.dataDir, secret);
  }
  return `${VIEWER_TOKEN_SCHEME} ${signViewerToken(secret, requestorId)}`;
}
