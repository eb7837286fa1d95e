// Viewer identity (issue 13): the API issues each viewer a random requestor_id and a token that
// proves it, an HMAC of the id under a secret only the API holds. Votes and history reads must
// carry the token of the requestor_id they name, so a script cannot vote under ids it made up, and
// nobody reads another viewer's answers by learning their id. Stateless: nothing is stored per
// viewer, so issuing and checking cost no database call.
//
// The secret: VIEWER_TOKEN_SECRET (the local stack generates one under .showrunner/) or
// VIEWER_TOKEN_SECRET_ARN (a Secrets Manager secret the stack creates), read once per container.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { VIEWER_TOKEN_SCHEME, type ViewerIdentity } from '../contract/api.ts';
import { ConfigError, type Env } from './config.ts';
import { ForbiddenError, UnauthorizedError } from './http-errors.ts';

/** Shorter secrets are refused: 32 bytes of randomness is what HMAC-SHA256 can use. */
export const MIN_SECRET_LENGTH = 32;
/** Names what the MAC is for, so the same secret could never sign something else interchangeably. */
const TOKEN_CONTEXT = 'showrunner-viewer-token:v1:';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The token of `requestorId` under `secret`: base64url HMAC-SHA256, 43 characters. */
export function signViewerToken(secret: string, requestorId: string): string {
  return createHmac('sha256', secret)
    .update(TOKEN_CONTEXT + requestorId)
    .digest('base64url');
}

export interface ViewerTokens {
  /** A new viewer: a random requestor_id and its token. */
  issue(): Promise<ViewerIdentity>;
  /**
   * Throws UnauthorizedError (401) unless `authorization` is `Bearer <token>` with a token this API
   * issued, and ForbiddenError (403) when that token is another viewer's.
   */
  verify(requestorId: string, authorization: string | undefined): Promise<void>;
}

export function viewerTokens(secret: () => Promise<string>): ViewerTokens {
  return {
    async issue() {
      const requestorId = randomUUID();
      return { requestor_id: requestorId, token: signViewerToken(await secret(), requestorId) };
    },
    async verify(requestorId, authorization) {
      const [scheme, token, ...rest] = (authorization ?? '').trim().split(/\s+/);
      if (
        !authorization ||
        scheme !== VIEWER_TOKEN_SCHEME ||
        !token ||
        rest.length > 0 ||
        !TOKEN.test(token)
      ) {
        throw new UnauthorizedError(
          `authorization: expected "${VIEWER_TOKEN_SCHEME} <token>" with the viewer token from POST /requestor-token`,
        );
      }
      const expected = Buffer.from(signViewerToken(await secret(), requestorId));
      if (timingSafeEqual(expected, Buffer.from(token))) return;
      // A token of ours for someone else, or no token of ours at all: only the first is "forbidden",
      // but telling them apart would need the token's own id in it. Both name the field at fault.
      throw new ForbiddenError('authorization: this token is not the token of this requestor_id');
    },
  };
}

/**
 * VIEWER_TOKEN_SECRET (at least MIN_SECRET_LENGTH characters) or VIEWER_TOKEN_SECRET_ARN, checked
 * now; a secret in Secrets Manager is fetched on first use and kept for the container's life.
 */
export function viewerTokenSecretFromEnv(
  env: Env,
  secretsManager: () => Pick<SecretsManagerClient, 'send'> = () => new SecretsManagerClient({}),
): () => Promise<string> {
  const value = env.VIEWER_TOKEN_SECRET?.trim();
  const arn = env.VIEWER_TOKEN_SECRET_ARN?.trim();
  if (value) {
    if (value.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(`VIEWER_TOKEN_SECRET: expected at least ${MIN_SECRET_LENGTH} characters`);
    }
    return async () => value;
  }
  if (!arn) throw new ConfigError('VIEWER_TOKEN_SECRET_ARN: environment variable is required');
  let fetched: Promise<string> | undefined;
  return () => {
    fetched ??= secretsManager()
      .send(new GetSecretValueCommand({ SecretId: arn }))
      .then(({ SecretString }) => {
        if (!SecretString || SecretString.length < MIN_SECRET_LENGTH) {
          throw new ConfigError(
            `VIEWER_TOKEN_SECRET_ARN: the secret must be at least ${MIN_SECRET_LENGTH} characters`,
          );
        }
        return SecretString;
      })
      .catch((error: unknown) => {
        fetched = undefined; // a throttled or failed read is tried again by the next request
        throw error;
      });
    return fetched;
  };
}
