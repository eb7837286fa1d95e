// Viewer tokens (issue 13): the API issues a viewer {requestor_id, token}; votes and history reads
// need the token of the requestor_id they name — 401 without one, 403 with another viewer's — so a
// script cannot vote under ids it makes up, nor read someone else's answers. Against the local
// stack as a user starts it, through its own issuing route.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ViewerIdentity } from '../../contract/api.ts';
import { DEFAULT_CHANNEL_ARN } from '../../local/ivs/index.ts';
import { stackTable, type StackTable } from '../support/aws.ts';
import { api, startStack, type StackProcess } from '../support/stack.ts';

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

async function newViewer(): Promise<ViewerIdentity> {
  const issued = await api(stack, 'POST', '/requestor-token', {});
  expect(issued.status).toBe(201);
  return issued.json as ViewerIdentity;
}

const vote = (requestor_id: string, authorization: string | null, answer = 0) =>
  api(stack, 'POST', '/requestor-put', { poll_id: pollId, requestor_id, answer }, { authorization });
const history = (requestor_id: string, authorization: string | null) =>
  api(stack, 'GET', `/requestor-get?requestor_id=${requestor_id}`, undefined, { authorization });

describe('POST /requestor-token', () => {
  it('issues a new random requestor_id with a 43-character token, different every time', async () => {
    const a = await newViewer();
    const b = await newViewer();
    expect(a.requestor_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b.requestor_id).not.toBe(a.requestor_id);
    expect(b.token).not.toBe(a.token);
  });

  it('is a JSON POST like every other: text/plain 415, a body with fields 400', async () => {
    const plain = await fetch(`${stack.apiUrl}/requestor-token`, { method: 'POST', body: '{}' });
    expect(plain.status).toBe(415);
    expect((await api(stack, 'POST', '/requestor-token', { requestor_id: 'mine' })).json.error.message).toBe(
      'requestor_id: unknown field',
    );
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
