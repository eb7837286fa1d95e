// Viewer tokens: the API issues a viewer {requestor_id, token} for a solved proof of work; votes and
// history reads need the token of the requestor_id they name — 401 without one, 403 with another
// viewer's — so a script cannot vote under ids it makes up, nor read someone else's answers, and each
// identity costs 2^TOKEN_WORK_BITS hashes. Against the local stack as a user starts it, through its
// own routes (the checks of each field with a clock of the test's choosing: test/unit/viewer-work.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TokenChallenge, ViewerIdentity } from '../../contract/api.ts';
import { DEFAULT_TOKEN_WORK_BITS } from '../../lambdas/config.ts';
import {
  CHALLENGE_LIFETIME_MS,
  leadingZeroBits,
  viewerTokens,
  workDigest,
} from '../../lambdas/viewer-token.ts';
import { DEFAULT_CHANNEL_ARN } from '../../local/ivs/index.ts';
import { VIEWER_SECRET_FILE } from '../../local/viewer-secret.ts';
import { solveChallenge } from '../../site/src/lib/identity.ts';
import { stackTable, type StackTable } from '../support/aws.ts';
import { api, startStack, type StackProcess } from '../support/stack.ts';
import { fetchChallenge, mintViewer } from '../support/viewer.ts';

let stack: StackProcess;
let table: StackTable;
let pollId: string;

beforeAll(async () => {
  stack = await startStack();
  table = stackTable(stack);
  ({ pollId } = await table.lifecycle.open(
    {
      id: 'q1',
      runId: 'token-test',
      pollId: 'token-test:q1',
      question: 'Tokens?',
      answers: ['Yes', 'No'],
      duration: 600,
      latencyGraceSeconds: 0,
    },
    new Date(),
    DEFAULT_CHANNEL_ARN,
  ));
}, 60_000);

afterAll(async () => {
  table?.destroy();
  await stack?.stop();
});

const bearer = (identity: ViewerIdentity) => `Bearer ${identity.token}`;

const newViewer = (): Promise<ViewerIdentity> => mintViewer(stack.apiUrl);

const vote = (requestor_id: string, authorization: string | null, answer = 0) =>
  api(stack, 'POST', '/requestor-put', { poll_id: pollId, requestor_id, answer }, { authorization });
const history = (requestor_id: string, authorization: string | null) =>
  api(stack, 'GET', `/requestor-get?requestor_id=${requestor_id}`, undefined, { authorization });

describe('GET /requestor-challenge', () => {
  it('"On by default": the local stack asks for DEFAULT_TOKEN_WORK_BITS (17) with no setting, valid 2 minutes, never cached', async () => {
    const response = await fetch(`${stack.apiUrl}/requestor-challenge`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const challenge = (await response.json()) as TokenChallenge;
    expect(DEFAULT_TOKEN_WORK_BITS).toBe(17);
    expect(challenge).toEqual({
      challenge: expect.stringMatching(/^\d{13}\.17\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/),
      difficulty: DEFAULT_TOKEN_WORK_BITS,
      expires_at: expect.any(String),
    });
    const lifetime = Date.parse(challenge.expires_at) - Number(challenge.challenge.split('.')[0]);
    expect(lifetime).toBe(CHALLENGE_LIFETIME_MS);
  });
});

describe('POST /requestor-token', () => {
  it('issues an identity for a solved challenge: a UUID and a 43-character token, a new one for each challenge', async () => {
    const a = await newViewer();
    const b = await newViewer();
    expect(a.requestor_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b.requestor_id).not.toBe(a.requestor_id);
    expect(b.token).not.toBe(a.token);
  });

  it('"A replay is useless": the same solved challenge sent again earns the same identity, not a second one', async () => {
    const { challenge, difficulty } = await fetchChallenge(stack.apiUrl);
    const nonce = await solveChallenge(challenge, difficulty);
    const first = await api(stack, 'POST', '/requestor-token', { challenge, nonce });
    const again = await api(stack, 'POST', '/requestor-token', { challenge, nonce });
    expect(first.status).toBe(201);
    expect(again).toEqual(first);
  });

  it('428 work_required without the work (the old `{}`); 400 for work that does not count, each naming its field', async () => {
    expect(await api(stack, 'POST', '/requestor-token', {})).toMatchObject({
      status: 428,
      json: { error: { code: 'work_required', message: expect.stringMatching(/^challenge: required/) } },
    });
    const { challenge, difficulty } = await fetchChallenge(stack.apiUrl);
    let wrong = 0;
    while (leadingZeroBits(workDigest(challenge, String(wrong))) >= difficulty) wrong++;
    expect(await api(stack, 'POST', '/requestor-token', { challenge, nonce: String(wrong) })).toMatchObject({
      status: 400,
      json: { error: { code: 'work_insufficient', message: expect.stringMatching(/^nonce: /) } },
    });
    const forged = challenge.replace(/\.17\./, '.1.');
    expect(await api(stack, 'POST', '/requestor-token', { challenge: forged, nonce: '1' })).toMatchObject({
      status: 400,
      json: { error: { code: 'challenge_invalid', message: expect.stringMatching(/^challenge: /) } },
    });
    // A challenge this stack signed three minutes ago (with its own secret, from its data directory).
    const secret = readFileSync(join(stack.dataDir, VIEWER_SECRET_FILE), 'utf8').trim();
    const old = await viewerTokens(async () => secret, { workBits: 4 }).challenge(
      new Date(Date.now() - 180_000),
    );
    const stale = { challenge: old.challenge, nonce: await solveChallenge(old.challenge, 4) };
    expect(await api(stack, 'POST', '/requestor-token', stale)).toMatchObject({
      status: 400,
      json: { error: { code: 'challenge_expired', message: expect.stringMatching(/^challenge: expired/) } },
    });
  });

  it('is a JSON POST like every other: text/plain 415, an unknown field 400', async () => {
    const plain = await fetch(`${stack.apiUrl}/requestor-token`, { method: 'POST', body: '{}' });
    expect(plain.status).toBe(415);
    const { challenge } = await fetchChallenge(stack.apiUrl);
    expect(
      (await api(stack, 'POST', '/requestor-token', { challenge, nonce: '1', requestor_id: 'mine' })).json
        .error.message,
    ).toBe('requestor_id: unknown field');
  });
});

describe('"Votes and history reads require the token for that requestor_id (401 without, 403 for another\'s)"', () => {
  it('the issued viewer votes and reads their history with their token', async () => {
    const viewer = await newViewer();
    expect((await vote(viewer.requestor_id, bearer(viewer))).status).toBe(201);
    const read = await history(viewer.requestor_id, bearer(viewer));
    expect(read).toMatchObject({ status: 200, json: { items: [{ poll_id: pollId, answer: 0 }] } });
  });

  it('401 unauthorized without a token, or with something that is not one', async () => {
    const viewer = await newViewer();
    for (const authorization of [
      null,
      viewer.token,
      `Basic ${viewer.token}`,
      'Bearer',
      'Bearer short',
      `Bearer ${viewer.token} x`,
    ]) {
      const refused = await vote(viewer.requestor_id, authorization);
      expect({ authorization, status: refused.status, code: refused.json.error.code }).toEqual({
        authorization,
        status: 401,
        code: 'unauthorized',
      });
      expect((await history(viewer.requestor_id, authorization)).status).toBe(401);
    }
    expect((await vote(viewer.requestor_id, null)).json.error.message).toMatch(
      /^authorization: expected "Bearer <token>"/,
    );
  });

  it("403 forbidden with another viewer's token, or a token altered by one character: nothing is counted or shown", async () => {
    const mallory = await newViewer();
    const alice = await newViewer();
    expect((await vote(alice.requestor_id, bearer(alice), 1)).status).toBe(201);
    const forged = await vote(alice.requestor_id, bearer(mallory), 0);
    expect(forged).toMatchObject({ status: 403, json: { error: { code: 'forbidden' } } });
    const made = await vote('made-up-viewer-1', bearer(mallory));
    expect(made.status).toBe(403);
    const altered = `${mallory.token.slice(0, -1)}${mallory.token.endsWith('A') ? 'B' : 'A'}`;
    expect((await vote(mallory.requestor_id, `Bearer ${altered}`)).status).toBe(403);
    expect((await history(alice.requestor_id, bearer(mallory))).status).toBe(403);
    const poll = await api(stack, 'GET', `/poll-get?poll_id=${pollId}`);
    expect(poll.json.counts[1]).toBeGreaterThanOrEqual(1);
    expect(await table.store.history('made-up-viewer-1', 10)).toMatchObject({ items: [] });
  });

  it('a cross-site page cannot send the token without a preflight the API refuses for other origins', async () => {
    const preflight = await fetch(`${stack.apiUrl}/requestor-put`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://elsewhere.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).not.toBe('https://elsewhere.example');
    const own = await fetch(`${stack.apiUrl}/requestor-put`, {
      method: 'OPTIONS',
      headers: {
        origin: stack.appUrl,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(own.headers.get('access-control-allow-origin')).toBe(stack.appUrl);
    expect(own.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
  });
});

describe('the local secret', () => {
  it("is kept in the data directory (owner-only), so a viewer's token still works after a restart", async () => {
    const viewer = await newViewer();
    const { stat } = await import('node:fs/promises');
    expect((await stat(`${stack.dataDir}/viewer-token-secret`)).mode & 0o777).toBe(0o600);
    table.destroy();
    expect(await stack.stop()).toBe(0);
    stack = await startStack({ dataDir: stack.dataDir });
    table = stackTable(stack);
    expect((await vote(viewer.requestor_id, bearer(viewer), 1)).status).toBe(201);
  }, 60_000);
});
