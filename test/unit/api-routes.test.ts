// The viewer API's routes (lambdas/api.ts apiRoutes, behind createApiHandler's middlewares) over an
// in-memory store: what each route answers — status, body, headers — for votes, refusals, reads and
// failures, without a table or a stack. The same handler over HTTP and DynamoDB is
// test/integration/api.test.ts's.
import { describe, expect, it, jest } from '@jest/globals';
import {
  API_ROUTES,
  POLL_VIEW_MAX_AGE_SECONDS,
  type PollView,
  type VoteResponse,
} from '../../contract/api.ts';
import { makePollId } from '../../core/ids.ts';
import { viewPoll, voteRefusal, type PollRecord } from '../../core/poll.ts';
import { RefusedError } from '../../core/refusal.ts';
import { apiRoutes, createApiHandler, type ApiConfig } from '../../lambdas/api.ts';
import { signViewerToken, viewerTokens } from '../../lambdas/viewer-token.ts';
import { invoke } from '../support/api-handler.ts';
import { MemoryStore } from './memory-store.ts';

const SECRET = 'unit-secret-'.padEnd(40, 'x');
const CONFIG: ApiConfig = {
  tableName: 'unused',
  corsOrigins: ['*'],
  maxBodyBytes: 4096,
  pollCacheMs: 0,
  tokenWorkBits: 0,
};
const RUN = 'quiz-20300101T000000Z';
const bearer = (requestorId: string) => ({ authorization: `Bearer ${signViewerToken(SECRET, requestorId)}` });

function setup(config: Partial<ApiConfig> = {}) {
  const store = new MemoryStore();
  const errors: unknown[] = [];
  const deps = {
    store,
    config: { ...CONFIG, ...config },
    tokens: viewerTokens(async () => SECRET, { workBits: 0 }),
  };
  const handler = createApiHandler(deps);
  // Errors not exposed are logged (the console here): collected instead.
  jest.spyOn(console, 'error').mockImplementation((error: unknown) => void errors.push(error));
  return { store, handler, errors, routes: apiRoutes(deps) };
}

async function openPoll(store: MemoryStore, id: string, over: Partial<PollRecord> = {}): Promise<PollRecord> {
  const now = Date.now();
  return store.openPoll({
    pollId: makePollId(RUN, id),
    runId: RUN,
    question: `${id}?`,
    answers: ['A', 'B', 'C'],
    correct: 1,
    state: 'open',
    openedAt: new Date(now).toISOString(),
    closesAt: new Date(now + 60_000).toISOString(),
    ...over,
  });
}

const vote = (handler: ReturnType<typeof setup>['handler'], body: object, requestorId: string) =>
  invoke(handler, 'POST', API_ROUTES.vote, { body: JSON.stringify(body), headers: bearer(requestorId) });

describe('apiRoutes: POST /requestor-put', () => {
  it('stores an answer and answers 201 with it; the same viewer again is 409 already_answered', async () => {
    const { store, handler } = setup();
    const poll = await openPoll(store, 'q1');
    const first = await vote(handler, { poll_id: poll.pollId, requestor_id: 'v1', answer: 2 }, 'v1');
    expect(first.status).toBe(201);
    const stored = first.json as VoteResponse;
    expect(stored).toMatchObject({ poll_id: poll.pollId, requestor_id: 'v1', answer: 2 });
    expect(stored.timestamp_ttl).toBeGreaterThan(stored.timestamp_created / 1000);
    expect(await store.liveCounts(poll)).toEqual([0, 0, 1]);

    const again = await vote(handler, { poll_id: poll.pollId, requestor_id: 'v1', answer: 0 }, 'v1');
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('already_answered');
    expect(again.json.error.message).toMatch(/^requestor_id: v1 /);
    expect(await store.liveCounts(poll)).toEqual([0, 0, 1]);
  });

  it("refuses an answer the poll does not have (400) and a poll past its closing time (409), in core's words", async () => {
    const { store, handler } = setup();
    const open = await openPoll(store, 'q1');
    const late = await openPoll(store, 'q2', { closesAt: new Date(Date.now() - 1000).toISOString() });

    const outOfRange = await vote(handler, { poll_id: open.pollId, requestor_id: 'v1', answer: 3 }, 'v1');
    expect(outOfRange.status).toBe(400);
    expect(outOfRange.json.error).toEqual({
      code: 'bad_request',
      message: voteRefusal(open, 3, new Date())!.message,
    });

    const closed = await vote(handler, { poll_id: late.pollId, requestor_id: 'v1', answer: 0 }, 'v1');
    expect(closed.status).toBe(409);
    expect(closed.json.error).toEqual({
      code: 'poll_closed',
      message: voteRefusal(late, 0, new Date())!.message,
    });
    expect(store.answers.size).toBe(0);
  });

  it('answers 404 unknown_poll for a poll never opened, and checks the body before the poll', async () => {
    const { handler } = setup();
    const unknown = await vote(
      handler,
      { poll_id: makePollId(RUN, 'nope'), requestor_id: 'v1', answer: 0 },
      'v1',
    );
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('unknown_poll');

    const badBody = await vote(handler, { poll_id: 'not a poll id', requestor_id: 'v1', answer: 0 }, 'v1');
    expect(badBody.status).toBe(400);
    expect(badBody.json.error.message).toMatch(/^poll_id: /);

    const extra = await vote(
      handler,
      { poll_id: makePollId(RUN, 'q'), requestor_id: 'v1', answer: 0, x: 1 },
      'v1',
    );
    expect(extra.status).toBe(400);
    expect(extra.json.error.message).toBe('x: unknown field');
  });

  it("needs the viewer's own token: none is 401, another viewer's is 403, and nothing is stored", async () => {
    const { store, handler } = setup();
    const poll = await openPoll(store, 'q1');
    const body = JSON.stringify({ poll_id: poll.pollId, requestor_id: 'v1', answer: 0 });
    const none = await invoke(handler, 'POST', API_ROUTES.vote, { body });
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('unauthorized');
    const other = await invoke(handler, 'POST', API_ROUTES.vote, { body, headers: bearer('v2') });
    expect(other.status).toBe(403);
    expect(other.json.error.code).toBe('forbidden');
    expect(store.answers.size).toBe(0);
  });

  it('answers 415 for a body that is not JSON, before reading it', async () => {
    const { handler } = setup();
    const form = await invoke(handler, 'POST', API_ROUTES.vote, {
      body: 'poll_id=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...bearer('v1') },
    });
    expect(form.status).toBe(415);
    expect(form.json.error.code).toBe('unsupported_media_type');
  });

  it('answers a store failure that is not a refusal with a bare 500, and logs it', async () => {
    const { store, handler, errors } = setup();
    const poll = await openPoll(store, 'q1');
    const failure = new Error('disk on fire');
    store.recordVote = async () => {
      throw failure;
    };
    const got = await vote(handler, { poll_id: poll.pollId, requestor_id: 'v1', answer: 0 }, 'v1');
    expect(got.status).toBe(500);
    expect(got.json).toEqual({ error: { code: 'internal_error', message: 'internal error' } });
    expect(errors).toContain(failure);
  });
});

describe('apiRoutes: reading polls', () => {
  it('GET /poll-get answers the poll as viewers see it (core viewPoll), cacheable for a second', async () => {
    const { store, handler } = setup();
    const poll = await openPoll(store, 'q1');
    for (const [id, answer] of [
      ['v1', 0],
      ['v2', 2],
      ['v3', 2],
    ] as const)
      expect((await vote(handler, { poll_id: poll.pollId, requestor_id: id, answer }, id)).status).toBe(201);
    const got = await invoke(handler, 'GET', API_ROUTES.poll, { query: { poll_id: poll.pollId } });
    expect(got.status).toBe(200);
    const view = got.json as PollView;
    expect(view).toEqual(viewPoll(poll, await store.liveCounts(poll), new Date()));
    expect(view.counts).toEqual([1, 0, 2]);
    expect(view.correct).toBeUndefined(); // not before the recount
    expect(got.headers['Cache-Control']).toBe(`public, max-age=${POLL_VIEW_MAX_AGE_SECONDS}`);

    const closed = await store.closePoll(poll.pollId, new Date());
    const after = await invoke(handler, 'GET', API_ROUTES.poll, { query: { poll_id: poll.pollId } });
    expect(after.json).toEqual(viewPoll(closed, [], new Date()));
    expect(after.json.correct).toBe(1);
  });

  it('GET /poll-current is 404 no_poll before any question on the channel, then the latest opened', async () => {
    const { store, handler } = setup();
    const before = await invoke(handler, 'GET', API_ROUTES.currentPoll, { query: { channel: 'local' } });
    expect(before.status).toBe(404);
    expect(before.json.error.code).toBe('no_poll');
    const poll = await openPoll(store, 'q1');
    await store.setCurrentPoll('local', poll.pollId);
    const after = await invoke(handler, 'GET', API_ROUTES.currentPoll, { query: { channel: 'local' } });
    expect(after.status).toBe(200);
    expect(after.json.poll_id).toBe(poll.pollId);
    const elsewhere = await invoke(handler, 'GET', API_ROUTES.currentPoll, { query: { channel: 'other' } });
    expect(elsewhere.status).toBe(404);
  });

  it('GET /requestor-get pages through a viewer’s own answers, newest first, with the token', async () => {
    const { store, handler } = setup();
    const q1 = await openPoll(store, 'q1');
    const q2 = await openPoll(store, 'q2');
    await vote(handler, { poll_id: q1.pollId, requestor_id: 'v1', answer: 0 }, 'v1');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await vote(handler, { poll_id: q2.pollId, requestor_id: 'v1', answer: 1 }, 'v1');
    await vote(handler, { poll_id: q2.pollId, requestor_id: 'v2', answer: 1 }, 'v2');

    const first = await invoke(handler, 'GET', API_ROUTES.history, {
      query: { requestor_id: 'v1', limit: '1' },
      headers: bearer('v1'),
    });
    expect(first.status).toBe(200);
    expect(first.json.items.map((i: { poll_id: string }) => i.poll_id)).toEqual([q2.pollId]);
    const second = await invoke(handler, 'GET', API_ROUTES.history, {
      query: { requestor_id: 'v1', limit: '1', cursor: first.json.next_cursor },
      headers: bearer('v1'),
    });
    expect(second.json).toEqual({
      items: [expect.objectContaining({ poll_id: q1.pollId, answer: 0 })],
      next_cursor: null,
    });

    const someoneElse = await invoke(handler, 'GET', API_ROUTES.history, {
      query: { requestor_id: 'v1' },
      headers: bearer('v2'),
    });
    expect(someoneElse.status).toBe(403);
  });

  it("answers each refusal of the store with its own status and the store's message", async () => {
    const { store, handler } = setup();
    const refusal = new RefusedError({ reason: 'invalid_cursor', message: 'cursor: made up by this test' });
    store.history = async () => {
      throw refusal;
    };
    const got = await invoke(handler, 'GET', API_ROUTES.history, {
      query: { requestor_id: 'v1', cursor: 'abc' },
      headers: bearer('v1'),
    });
    expect(got.status).toBe(400);
    expect(got.json.error).toEqual({ code: 'bad_request', message: refusal.message });
  });

  it('the routes are plain functions: a route called directly throws the refusal the handler maps', async () => {
    const { routes } = setup();
    const event = { queryStringParameters: { poll_id: makePollId(RUN, 'q9') }, headers: {} };
    await expect(routes.poll(event as never)).rejects.toMatchObject({ reason: 'unknown_poll' });
  });
});

describe('apiRoutes: a new viewer', () => {
  it('GET /requestor-challenge then POST /requestor-token gives an identity whose token the vote route takes', async () => {
    const { store, handler } = setup();
    const challenge = await invoke(handler, 'GET', API_ROUTES.challenge);
    expect(challenge.status).toBe(200);
    expect(challenge.json.difficulty).toBe(0);
    const issued = await invoke(handler, 'POST', API_ROUTES.token, {
      body: JSON.stringify({ challenge: challenge.json.challenge, nonce: 'n' }),
    });
    expect(issued.status).toBe(201);
    const { requestor_id, token } = issued.json as { requestor_id: string; token: string };
    expect(token).toBe(signViewerToken(SECRET, requestor_id));
    const poll = await openPoll(store, 'q1');
    const voted = await invoke(handler, 'POST', API_ROUTES.vote, {
      body: JSON.stringify({ poll_id: poll.pollId, requestor_id, answer: 1 }),
      headers: { authorization: `Bearer ${token}` },
    });
    expect(voted.status).toBe(201);
  });

  it('POST /requestor-token without the work is 428 work_required, naming the missing field', async () => {
    const { handler } = setup();
    const got = await invoke(handler, 'POST', API_ROUTES.token, { body: JSON.stringify({}) });
    expect(got.status).toBe(428);
    expect(got.json.error.code).toBe('work_required');
    expect(got.json.error.message).toMatch(/^challenge: required/);
  });
});
