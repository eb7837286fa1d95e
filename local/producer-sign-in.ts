// The control room's sign-in on the local stack: a random token made at start (printed in the
// control room URL), checked the way API Gateway's Cognito authorizer checks an ID token, and turned
// into the same claims shape, so the producer Lambda has no local branch.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { VIEWER_TOKEN_SCHEME } from '../contract/api.ts';
import type { ProducerClaims } from '../contract/producer.ts';
import type { Authorizer } from './api/index.ts';

export interface LocalProducerSignIn {
  /** Goes in the printed URL's fragment (never sent to a server by the browser). */
  token: string;
  authorize: Authorizer;
}

export function localProducerSignIn(token = randomBytes(24).toString('base64url')): LocalProducerSignIn {
  const expected = Buffer.from(`${VIEWER_TOKEN_SCHEME} ${token}`);
  const claims: ProducerClaims = { sub: 'local-producer', 'cognito:username': 'local' };
  return {
    token,
    authorize(req: IncomingMessage) {
      const given = Buffer.from(req.headers.authorization ?? '');
      return given.length === expected.length && timingSafeEqual(given, expected) ? { ...claims } : undefined;
    },
  };
}
