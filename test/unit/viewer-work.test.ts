// Identities that cost something: a new viewer identity costs a proof of work (lambdas/viewer-token.ts,
// contract/api.ts TokenChallenge) that the page does with its own SHA-256 (site/src/lib/identity.ts).
// The hash against node:crypto, the solver, the API's checks of each field with a clock of the test's
// choosing, the setting and its default, and the site's whole identity flow against the real handler.
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  API_ERROR_CODES,
  MAX_TOKEN_WORK_BITS,
  TOKEN_NONCE,
  type TokenChallenge,
} from '../../contract/api.ts';
import { REQUESTOR_ID } from '../../core/ids.ts';
import { apiConfigFromEnv } from '../../lambdas/api.ts';
import { ConfigError, DEFAULT_TOKEN_WORK_BITS } from '../../lambdas/config.ts';
import {
  CHALLENGE_CLOCK_SKEW_MS,
  CHALLENGE_LIFETIME_MS,
  derivedRequestorId,
  leadingZeroBits,
  signViewerToken,
  viewerTokens,
  workDigest,
} from '../../lambdas/viewer-token.ts';
import { ApiClient, ApiFailure } from '../../site/src/lib/api.ts';
import { ChallengeHasher, solveChallenge } from '../../site/src/lib/identity.ts';
import { apiHandler, handlerFetch, invoke, TEST_SECRET } from '../support/api-handler.ts';

const NOW = new Date('2030-01-01T12:00:00Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);
const tokens = (workBits: number, secret = TEST_SECRET) => viewerTokens(async () => secret, { workBits });

/** A nonce that does NOT give `bits` zero bits (the first one, found the slow way). */
function wrongNonce(challenge: string, bits: number): string {
  for (let n = 0; ; n++) if (leadingZeroBits(workDigest(challenge, String(n))) < bits) return String(n);
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: { statusCode: number; code: string; message: string }) => ({
      status: error.statusCode,
      code: error.code,
      message: error.message,
    }),
  );

describe("the site's SHA-256", () => {
  it('equals node:crypto for any prefix and nonce (one or two final blocks, prefixes of whole blocks)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.nat(), (prefix, nonce) => {
        const want = createHash('sha256')
          .update(prefix + String(nonce), 'utf8')
          .digest('hex');
        expect(Buffer.from(new ChallengeHasher(prefix).digest(nonce)).toString('hex')).toBe(want);
      }),
      { numRuns: 500 },
    );
    for (const length of [0, 55, 56, 63, 64, 65, 119, 120, 128]) {
      const prefix = 'c'.repeat(length);
      const hasher = new ChallengeHasher(prefix);
      for (const nonce of [0, 9, 10, 99_999_999, 2 ** 32]) {
        expect(Buffer.from(hasher.digest(nonce)).toString('hex')).toBe(
          createHash('sha256')
            .update(prefix + String(nonce))
            .digest('hex'),
        );
        expect(hasher.firstWord(nonce) >>> 0).toBe(workDigest(prefix, String(nonce)).readUInt32BE(0));
      }
    }
  });

  it('leadingZeroBits counts the zero bits a digest starts with', () => {
    expect(leadingZeroBits(Uint8Array.of(0x80))).toBe(0);
    expect(leadingZeroBits(Uint8Array.of(0x01, 0xff))).toBe(7);
    expect(leadingZeroBits(Uint8Array.of(0x00, 0x00, 0x1f))).toBe(19);
    expect(leadingZeroBits(new Uint8Array(4))).toBe(32);
  });
});

describe('solveChallenge', () => {
  it('finds a nonce the API accepts, for every difficulty, as decimal digits', async () => {
    const challenge = (await tokens(0).challenge(NOW)).challenge;
    for (let bits = 0; bits <= 14; bits++) {
      const nonce = await solveChallenge(challenge, bits);
      expect(nonce).toMatch(/^\d+$/);
      expect(nonce).toMatch(TOKEN_NONCE);
      expect(leadingZeroBits(workDigest(challenge, nonce))).toBeGreaterThanOrEqual(bits);
    }
    expect(await solveChallenge(challenge, 0)).toBe('0');
  });

  it('"The page stays responsive": hashing gives the thread back between slices', async () => {
    const yields = jest.fn(async () => undefined);
    const progress: number[] = [];
    await solveChallenge('slices', 16, { sliceMs: 0, yieldNow: yields, onProgress: (n) => progress.push(n) });
    // 2^16 hashes on average, 256 per slice when a slice is 0 ms.
    expect(yields.mock.calls.length).toBeGreaterThan(0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('refuses a difficulty it cannot meet', async () => {
    await expect(solveChallenge('x', 33)).rejects.toThrow('difficulty: expected a whole number from 0 to 32');
    await expect(solveChallenge('x', 1.5)).rejects.toThrow(RangeError);
  });
});

describe('the API checks the work (lambdas/viewer-token.ts)', () => {
  it('a challenge: signed, asking for TOKEN_WORK_BITS, valid CHALLENGE_LIFETIME_MS (2 minutes)', async () => {
    const issued = await tokens(17).challenge(NOW);
    expect(issued).toEqual({
      challenge: expect.stringMatching(/^\d{13}\.17\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/),
      difficulty: 17,
      expires_at: '2030-01-01T12:02:00.000Z',
    });
    expect(CHALLENGE_LIFETIME_MS).toBe(120_000);
    expect(issued.challenge.startsWith(`${NOW.getTime()}.`)).toBe(true);
    expect((await tokens(17).challenge(NOW)).challenge).not.toBe(issued.challenge);
  });

  it('a solved challenge earns an identity: a UUID derived from the challenge, and its token', async () => {
    const api = tokens(10);
    const { challenge } = await api.challenge(NOW);
    const nonce = await solveChallenge(challenge, 10);
    const identity = await api.issue({ challenge, nonce }, at(1000));
    expect(identity.requestor_id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(identity.requestor_id).toMatch(REQUESTOR_ID);
    expect(identity.requestor_id).toBe(derivedRequestorId(TEST_SECRET, challenge));
    expect(identity.token).toBe(signViewerToken(TEST_SECRET, identity.requestor_id));
    await expect(api.verify(identity.requestor_id, `Bearer ${identity.token}`)).resolves.toBeUndefined();
  });

  it('"A replay is useless": the same challenge answered again, with the same nonce or another, earns the same identity', async () => {
    const api = tokens(6);
    const { challenge } = await api.challenge(NOW);
    const nonces: string[] = [];
    for (let n = 0; nonces.length < 2; n++) {
      if (leadingZeroBits(workDigest(challenge, String(n))) >= 6) nonces.push(String(n));
    }
    const first = await api.issue({ challenge, nonce: nonces[0]! }, at(1));
    expect(await api.issue({ challenge, nonce: nonces[0]! }, at(2))).toEqual(first);
    expect(await api.issue({ challenge, nonce: nonces[1]! }, at(3))).toEqual(first);
    const other = await api.challenge(NOW);
    const second = await api.issue(
      { challenge: other.challenge, nonce: await solveChallenge(other.challenge, 6) },
      at(4),
    );
    expect(second.requestor_id).not.toBe(first.requestor_id);
  });

  it('400 challenge_invalid for a challenge this API did not sign: altered, another secret, malformed, from the future', async () => {
    const api = tokens(4);
    const { challenge } = await api.challenge(NOW);
    const nonce = await solveChallenge(challenge, 4);
    const [issued, bits, random, mac] = challenge.split('.') as [string, string, string, string];
    const flip = (s: string) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [
      `${issued}.0.${random}.${mac}`, // asks for less work
      `${Number(issued) + 60_000}.${bits}.${random}.${mac}`, // lives longer
      `${issued}.${bits}.${flip(random)}.${mac}`,
      `${issued}.${bits}.${random}.${flip(mac)}`,
      (await tokens(4, 'another-secret'.padEnd(40, 'y')).challenge(NOW)).challenge,
      'nonsense',
      '',
      `${challenge}.`,
    ]) {
      expect(await refusal(api.issue({ challenge: bad, nonce }, at(1000)))).toEqual({
        status: 400,
        code: 'challenge_invalid',
        message: 'challenge: not one this API issued; get a new one from GET /requestor-challenge',
      });
    }
    const future = await api.challenge(at(CHALLENGE_CLOCK_SKEW_MS + 1));
    expect(
      await refusal(
        api.issue({ challenge: future.challenge, nonce: await solveChallenge(future.challenge, 4) }, NOW),
      ),
    ).toMatchObject({
      status: 400,
      code: 'challenge_invalid',
      message: expect.stringMatching(/^challenge: issued in the future/),
    });
    // Another container's clock a little ahead is fine.
    const ahead = await api.challenge(at(CHALLENGE_CLOCK_SKEW_MS));
    await expect(
      api.issue({ challenge: ahead.challenge, nonce: await solveChallenge(ahead.challenge, 4) }, NOW),
    ).resolves.toHaveProperty('token');
  });

  it('400 challenge_expired once its 2 minutes are over (valid up to the last millisecond)', async () => {
    const api = tokens(4);
    const { challenge } = await api.challenge(NOW);
    const nonce = await solveChallenge(challenge, 4);
    await expect(api.issue({ challenge, nonce }, at(CHALLENGE_LIFETIME_MS))).resolves.toHaveProperty('token');
    expect(await refusal(api.issue({ challenge, nonce }, at(CHALLENGE_LIFETIME_MS + 1)))).toEqual({
      status: 400,
      code: 'challenge_expired',
      message:
        'challenge: expired 2030-01-01T12:02:00.000Z (valid 120 s); get a new one from GET /requestor-challenge',
    });
  });

  it('400 work_insufficient when SHA-256(challenge + nonce) has too few zero bits, naming the nonce', async () => {
    const api = tokens(12);
    const { challenge } = await api.challenge(NOW);
    const nonce = wrongNonce(challenge, 12);
    const found = leadingZeroBits(workDigest(challenge, nonce));
    expect(await refusal(api.issue({ challenge, nonce }, at(1)))).toEqual({
      status: 400,
      code: 'work_insufficient',
      message: `nonce: SHA-256(challenge + nonce) starts with ${found} zero bits; the challenge asks for 12`,
    });
  });

  it('the work a challenge asks for is the setting when it was issued (signed into it)', async () => {
    const before = await tokens(3).challenge(NOW);
    const nonce = await solveChallenge(before.challenge, 3);
    // The setting raised since: a challenge already handed out is still honoured for its 2 minutes.
    await expect(tokens(20).issue({ challenge: before.challenge, nonce }, at(1))).resolves.toHaveProperty(
      'token',
    );
  });

  it('every new code is in the contract', () => {
    for (const code of ['work_required', 'challenge_invalid', 'challenge_expired', 'work_insufficient']) {
      expect(API_ERROR_CODES).toContain(code);
    }
  });
});

describe('TOKEN_WORK_BITS', () => {
  const env = { TABLE_NAME: 't' };
  it('"On by default": unset, the API asks for DEFAULT_TOKEN_WORK_BITS (17)', () => {
    expect(DEFAULT_TOKEN_WORK_BITS).toBe(17);
    expect(apiConfigFromEnv(env).tokenWorkBits).toBe(17);
  });

  it('settable from 0 (no work) to 24; anything else fails at cold start naming the variable', () => {
    expect(apiConfigFromEnv({ ...env, TOKEN_WORK_BITS: '0' }).tokenWorkBits).toBe(0);
    expect(apiConfigFromEnv({ ...env, TOKEN_WORK_BITS: '24' }).tokenWorkBits).toBe(24);
    expect(MAX_TOKEN_WORK_BITS).toBe(24);
    for (const bad of ['25', '-1', '2.5', 'hard']) {
      expect(() => apiConfigFromEnv({ ...env, TOKEN_WORK_BITS: bad })).toThrow(ConfigError);
      expect(() => apiConfigFromEnv({ ...env, TOKEN_WORK_BITS: bad })).toThrow(
        `TOKEN_WORK_BITS: expected a whole number from 0 to 24, got "${bad}"`,
      );
    }
    expect(() => tokens(25)).toThrow('TOKEN_WORK_BITS: expected a whole number from 0 to 24, got 25');
  });
});

describe('the routes (lambdas/api.ts, the real handler)', () => {
  const handler = apiHandler({ tokenWorkBits: 8 });

  it('GET /requestor-challenge: 200, never cached, no query taken', async () => {
    const got = await invoke(handler, 'GET', '/requestor-challenge');
    expect(got).toMatchObject({ status: 200, json: { difficulty: 8 } });
    expect(got.headers['Cache-Control']).toBe('no-store');
    expect(await invoke(handler, 'GET', '/requestor-challenge', { query: { bits: '0' } })).toMatchObject({
      status: 400,
      json: { error: { code: 'bad_request', message: 'bits: unknown field' } },
    });
  });

  it('POST /requestor-token {challenge, nonce}: 201 once solved', async () => {
    const { challenge } = (await invoke(handler, 'GET', '/requestor-challenge')).json as TokenChallenge;
    const nonce = await solveChallenge(challenge, 8);
    const got = await invoke(handler, 'POST', '/requestor-token', {
      body: JSON.stringify({ challenge, nonce }),
    });
    expect(got).toMatchObject({
      status: 201,
      json: { requestor_id: derivedRequestorId(TEST_SECRET, challenge) },
    });
  });

  it('arbitrary bodies and forged work never earn an identity and never a 5xx (fast-check)', async () => {
    const { challenge } = (await invoke(handler, 'GET', '/requestor-challenge')).json as TokenChallenge;
    const forged = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.constant(challenge),
      fc
        .nat({ max: challenge.length - 1 })
        .chain((i) =>
          fc
            .string({ minLength: 1, maxLength: 1 })
            .map((c) => challenge.slice(0, i) + c + challenge.slice(i + 1)),
        ),
    );
    const body = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.record({ challenge: forged, nonce: fc.string({ maxLength: 40 }) }).map((b) => JSON.stringify(b)),
      fc.string({ maxLength: 100 }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const got = await invoke(handler, 'POST', '/requestor-token', { body: text });
        if (got.status === 201) {
          // Only the real challenge with a nonce that does the work.
          const sent = JSON.parse(text) as { challenge: string; nonce: string };
          expect(sent.challenge).toBe(challenge);
          expect(leadingZeroBits(workDigest(sent.challenge, sent.nonce))).toBeGreaterThanOrEqual(8);
        } else {
          expect([400, 428]).toContain(got.status);
          expect(API_ERROR_CODES).toContain(got.json.error.code);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('428 work_required without the work (the old `{}`), naming the missing field; 400 for a malformed field', async () => {
    const { challenge } = (await invoke(handler, 'GET', '/requestor-challenge')).json as TokenChallenge;
    const post = (body: unknown) =>
      invoke(handler, 'POST', '/requestor-token', { body: JSON.stringify(body) });
    expect(await post({})).toEqual(
      expect.objectContaining({
        status: 428,
        json: {
          error: {
            code: 'work_required',
            message:
              'challenge: required: GET /requestor-challenge, find the nonce it asks for, then POST {challenge, nonce}',
          },
        },
      }),
    );
    expect((await post({ challenge })).json.error).toMatchObject({
      code: 'work_required',
      message: expect.stringMatching(/^nonce: required/),
    });
    for (const [body, message] of [
      [{ challenge, nonce: '' }, "nonce: expected 1–32 letters, digits, '-' or '_'"],
      [{ challenge, nonce: 'a b' }, "nonce: expected 1–32 letters, digits, '-' or '_'"],
      [{ challenge, nonce: '1'.repeat(33) }, "nonce: expected 1–32 letters, digits, '-' or '_'"],
      [{ challenge: 5, nonce: '1' }, 'challenge: expected a string (from GET /requestor-challenge)'],
      [{ challenge: 'c'.repeat(257), nonce: '1' }, 'challenge: too long'],
      [{ challenge, nonce: '1', requestor_id: 'mine' }, 'requestor_id: unknown field'],
      [[], 'body: expected a JSON object'],
    ] as const) {
      expect((await post(body)).json.error).toEqual({ code: 'bad_request', message });
    }
  });
});

describe("the site's identity flow (site/src/lib/api.ts) against the real handler", () => {
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  it('fetches a challenge, solves it, and gets an identity the API then takes for votes', async () => {
    const handler = apiHandler({ tokenWorkBits: 10 });
    const calls: string[] = [];
    const answer = handlerFetch(handler, 'http://api.test/api');
    globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
      return answer(input, init);
    }) as typeof fetch;
    const identity = await new ApiClient('http://api.test/api').identity();
    expect(calls).toEqual(['GET /api/requestor-challenge', 'POST /api/requestor-token']);
    await expect(
      viewerTokens(async () => TEST_SECRET, { workBits: 10 }).verify(
        identity.requestor_id,
        `Bearer ${identity.token}`,
      ),
    ).resolves.toBeUndefined();
  });

  it("a challenge that ran out (a phone asleep mid-solve) is replaced by a new one, once; then the failure is the viewer's to see", async () => {
    const handler = apiHandler({ tokenWorkBits: 4 });
    const answer = handlerFetch(handler, 'http://api.test/api');
    let refusals = 1;
    const calls: string[] = [];
    globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
      if (init?.method === 'POST' && refusals-- > 0) {
        return Response.json(
          { error: { code: 'challenge_expired', message: 'challenge: expired' } },
          { status: 400 },
        );
      }
      return answer(input, init);
    }) as typeof fetch;
    await expect(new ApiClient('http://api.test/api').identity()).resolves.toHaveProperty('token');
    expect(calls).toEqual([
      'GET /api/requestor-challenge',
      'POST /api/requestor-token',
      'GET /api/requestor-challenge',
      'POST /api/requestor-token',
    ]);
    refusals = 2;
    const failure = await new ApiClient('http://api.test/api').identity().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiFailure);
    expect((failure as ApiFailure).code).toBe('challenge_expired');
    expect((failure as ApiFailure).words).toBe("Couldn't join the show. Reload the page and try again.");
  });
});
