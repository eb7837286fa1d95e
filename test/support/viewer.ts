// Viewer tokens for tests and benchmarks: a stack's votes and history reads need the token of the
// requestor_id they name (lambdas/viewer-token.ts). Tests choose readable ids ('viewer-a') and sign
// them with the stack's own secret from its data directory, as the API would have issued them;
// the issuing route itself is tested on its own (test/integration/viewer-token.test.ts). mintViewer
// gets one through that route, doing the work the API asks with the site's own solver.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  API_ROUTES,
  VIEWER_TOKEN_SCHEME,
  type TokenChallenge,
  type ViewerIdentity,
} from '../../contract/api.ts';
import { signViewerToken } from '../../lambdas/viewer-token.ts';
import { VIEWER_SECRET_FILE } from '../../local/viewer-secret.ts';
import { solveChallenge } from '../../site/src/lib/identity.ts';

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

/** A challenge from the API at `apiUrl` (GET /requestor-challenge). */
export async function fetchChallenge(apiUrl: string): Promise<TokenChallenge> {
  const response = await fetch(`${apiUrl}${API_ROUTES.challenge}`);
  if (response.status !== 200)
    throw new Error(`GET ${API_ROUTES.challenge}: ${response.status} ${await response.text()}`);
  return (await response.json()) as TokenChallenge;
}

/** A new viewer of the API at `apiUrl`, as the site gets one: a challenge, its nonce, the token. */
export async function mintViewer(apiUrl: string): Promise<ViewerIdentity> {
  const { challenge, difficulty } = await fetchChallenge(apiUrl);
  const response = await fetch(`${apiUrl}${API_ROUTES.token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ challenge, nonce: await solveChallenge(challenge, difficulty) }),
  });
  if (response.status !== 201)
    throw new Error(`POST ${API_ROUTES.token}: ${response.status} ${await response.text()}`);
  return (await response.json()) as ViewerIdentity;
}
