// Viewer identity: the API issues each viewer a requestor_id and a token that proves it, an HMAC of
// the id under a secret only the API holds. Votes and history reads must carry the token of the
// requestor_id they name, so a script cannot vote under ids it made up, and nobody reads another
// viewer's answers by learning their id. Stateless: nothing is stored per viewer, so issuing and
// checking cost no database call.
//
// An identity costs work (contract/api.ts TokenChallenge), so that a script cannot mint thousands:
// GET /requestor-challenge hands out `<issued ms>.<bits>.<random>.<mac>`, signed with the same
// secret and valid CHALLENGE_LIFETIME_MS; POST /requestor-token takes it back with a nonce such that
// SHA-256(challenge + nonce) starts with <bits> zero bits. The API keeps no record of challenges, so
// one could be answered more than once while it is valid: the requestor_id is therefore derived
// from the challenge (an HMAC of it), and answering it again, with the same nonce or another, gives
// the same identity again. A replay is worth nothing to the one who solved it, and anyone else would
// need the request body, which travels with the response that holds the token anyway.
//
// What it stops: one machine minting identities by the hundred per second (before it, a loop minted
// 200 and voted 200 times in 1.2 s). At TOKEN_WORK_BITS = 17 a page spends a fraction of a second
// per identity, and a native script about the same number of hashes: some 20–30 identities per
// second per CPU core (bench/token-work.ts). What it does not stop: it rate-limits by CPU, not by
// person. A botnet, a GPU or a patient script still mints, and a viewer may still clear their storage
// for a new identity. The WAF's per-IP limits on this route and on votes stay the second line.
//
// The secret: VIEWER_TOKEN_SECRET_ARN (a Secrets Manager secret the stack creates), read through
// Powertools Parameters, which keeps it SECRET_MAX_AGE_SECONDS; or VIEWER_TOKEN_SECRET, the secret
// itself (the local stack generates one under .showrunner/ and hands it to its API Lambda's thread).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import {
  API_ROUTES,
  MAX_TOKEN_WORK_BITS,
  VIEWER_TOKEN_SCHEME,
  type TokenChallenge,
  type TokenRequest,
  type ViewerIdentity,
} from '../contract/api.ts';
import { LAMBDA_ENV } from '../contract/lambda-env.ts';
import { ConfigError, type Env } from './config.ts';
import { ApiError, ForbiddenError, UnauthorizedError } from './http-errors.ts';
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

/** How long a challenge may be answered after it was issued: ample for a slow phone, short for a hoard. */
export const CHALLENGE_LIFETIME_MS = 120_000;
/** How far ahead of this container's clock another container's may be when it issued a challenge. */
export const CHALLENGE_CLOCK_SKEW_MS = 30_000;
const CHALLENGE_CONTEXT = 'showrunner-token-challenge:v1:';
const ID_CONTEXT = 'showrunner-viewer-id:v1:';
const CHALLENGE = /^(\d{13})\.(\d{1,2})\.[A-Za-z0-9_-]{22}\.([A-Za-z0-9_-]{43})$/;

/** The number of zero bits `digest` starts with. */
export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte !== 0) return bits + Math.clz32(byte) - 24;
    bits += 8;
  }
  return bits;
}

/** SHA-256 of `challenge + nonce`, as the contract defines the work (contract/api.ts TokenChallenge). */
export function workDigest(challenge: string, nonce: string): Buffer {
  return createHash('sha256')
    .update(challenge + nonce, 'utf8')
    .digest();
}

export interface ViewerTokensOptions {
  /** Leading zero bits a challenge asks for (TOKEN_WORK_BITS), 0 to MAX_TOKEN_WORK_BITS. */
  workBits: number;
}

export interface ViewerTokens {
  /** The work for a new identity: a challenge signed now, asking for `workBits`. */
  challenge(now: Date): Promise<TokenChallenge>;
  /**
   * The identity a solved challenge earns: its requestor_id (derived from the challenge, so the
   * same challenge always earns the same one) and token. ApiError 400 `challenge_invalid`,
   * `challenge_expired` or `work_insufficient` otherwise, naming the field.
   */
  issue(request: TokenRequest, now: Date): Promise<ViewerIdentity>;
  /**
   * Throws UnauthorizedError (401) unless `authorization` is `Bearer <token>` with a token this API
   * issued, and ForbiddenError (403) when that token is another viewer's.
   */
  verify(requestorId: string, authorization: string | undefined): Promise<void>;
}

export function viewerTokens(secret: () => Promise<string>, options: ViewerTokensOptions): ViewerTokens {
  const { workBits } = options;
  if (!Number.isInteger(workBits) || workBits < 0 || workBits > MAX_TOKEN_WORK_BITS) {
    throw new ConfigError(
      `TOKEN_WORK_BITS: expected a whole number from 0 to ${MAX_TOKEN_WORK_BITS}, got ${workBits}`,
    );
  }
  const mac = (key: string, context: string, text: string) =>
    createHmac('sha256', key)
      .update(context + text)
      .digest('base64url');
  const anew = `get a new one from GET ${API_ROUTES.challenge}`;
  return {
    async challenge(now) {
      const signed = `${now.getTime()}.${workBits}.${randomBytes(16).toString('base64url')}`;
      return {
        challenge: `${signed}.${mac(await secret(), CHALLENGE_CONTEXT, signed)}`,
        difficulty: workBits,
        expires_at: new Date(now.getTime() + CHALLENGE_LIFETIME_MS).toISOString(),
      };
    },
    async issue({ challenge, nonce }, now) {
      const key = await secret();
      const parts = CHALLENGE.exec(challenge);
      const issuedAt = Number(parts?.[1]);
      const signature = parts?.[3] ?? '';
      const expected = parts ? mac(key, CHALLENGE_CONTEXT, challenge.slice(0, -signature.length - 1)) : '';
      if (!parts || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
        throw new ApiError(400, 'challenge_invalid', `challenge: not one this API issued; ${anew}`);
      }
      if (issuedAt > now.getTime() + CHALLENGE_CLOCK_SKEW_MS) {
        throw new ApiError(400, 'challenge_invalid', `challenge: issued in the future; ${anew}`);
      }
      if (now.getTime() > issuedAt + CHALLENGE_LIFETIME_MS) {
        throw new ApiError(
          400,
          'challenge_expired',
          `challenge: expired ${new Date(issuedAt + CHALLENGE_LIFETIME_MS).toISOString()} (valid ${CHALLENGE_LIFETIME_MS / 1000} s); ${anew}`,
        );
      }
      const asked = Number(parts[2]);
      const found = leadingZeroBits(workDigest(challenge, nonce));
      if (found < asked) {
        throw new ApiError(
          400,
          'work_insufficient',
          `nonce: SHA-256(challenge + nonce) starts with ${found} zero bits; the challenge asks for ${asked}`,
        );
      }
      const requestorId = derivedRequestorId(key, challenge);
      return { requestor_id: requestorId, token: signViewerToken(key, requestorId) };
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
          `authorization: expected "${VIEWER_TOKEN_SCHEME} <token>" with the viewer token from POST ${API_ROUTES.token}`,
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
 * The requestor_id a challenge earns: 128 bits of HMAC of it, written as a UUID (version 8, the
 * RFC 9562 version for ids made by an application's own rule). Unguessable without the secret, like a
 * random one, and the same every time the challenge is answered.
 */
export function derivedRequestorId(secret: string, challenge: string): string {
  const bytes = createHmac('sha256', secret)
    .update(ID_CONTEXT + challenge)
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * How long a container keeps the secret it read from Secrets Manager: a rotated secret reaches every
 * container within this, and a busy one reads Secrets Manager once per this at most.
 */
export const SECRET_MAX_AGE_SECONDS = 300;

/**
 * Reads a Secrets Manager secret by ARN, keeping it `maxAge` seconds; a failed read is not kept (the
 * next request tries again).
 */
export type SecretSource = (
  arn: string,
  options: { maxAge: number },
) => Promise<string | Uint8Array | undefined>;

/** Powertools Parameters' getSecret: its own Secrets Manager client, its cache per secret. */
const powertoolsSecret: SecretSource = (arn, { maxAge }) => getSecret(arn, { maxAge });

/**
 * VIEWER_TOKEN_SECRET (the secret itself, at least MIN_SECRET_LENGTH characters) or
 * VIEWER_TOKEN_SECRET_ARN, checked now. A secret in Secrets Manager is read from `source` (by default
 * Powertools Parameters' getSecret) on first use and again once SECRET_MAX_AGE_SECONDS have passed.
 */
export function viewerTokenSecretFromEnv(
  env: Env,
  source: SecretSource = powertoolsSecret,
): () => Promise<string> {
  const value = env[LAMBDA_ENV.VIEWER_TOKEN_SECRET]?.trim();
  const arn = env[LAMBDA_ENV.VIEWER_TOKEN_SECRET_ARN]?.trim();
  if (value) {
    if (value.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(`VIEWER_TOKEN_SECRET: expected at least ${MIN_SECRET_LENGTH} characters`);
    }
    return async () => value;
  }
  if (!arn) throw new ConfigError('VIEWER_TOKEN_SECRET_ARN: environment variable is required');
  return async () => {
    const secret = await source(arn, { maxAge: SECRET_MAX_AGE_SECONDS });
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(
        `VIEWER_TOKEN_SECRET_ARN: the secret must be a string of at least ${MIN_SECRET_LENGTH} characters`,
      );
    }
    return secret;
  };
}
