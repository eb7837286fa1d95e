// The REST API through the whole local path (HTTP → API Gateway event → Middy Lambda → dynalite),
// with the real SDK for setup; the poll lifecycle Lambda runs in this process against the stack.
import { DEFAULT_CHANNEL_ARN } from '../../local/ivs/index.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { PollLifecycle } from '../../lambdas/poll-lifecycle.ts';
import type { PollStore } from '../../store/polls.ts';
import { stackTable, type StackTable } from '../support/aws.ts';
import { mintViewer, viewerAuthorization } from '../support/viewer.ts';
import { api, startStack, type StackProcess } from '../support/stack.ts';

let stack: StackProcess;
let table: StackTable;
let store: PollStore;
let lifecycle: PollLifecycle;
let seq = 0;

/** Opens a poll through the lifecycle Lambda, as the state machine does. */
async function openPoll(
  over: { duration?: number; latencyGraceSeconds?: number; answers?: string[]; correct?: number } = {},
) {
  const id = `q${++seq}`;
  return lifecycle.open(
    {
      id,
      runId: 'api-test',
      pollId: `api-test:${id}`,
      question: `Question ${id}?`,
      answers: over.answers ?? ['A', 'B', 'C'],
      duration: over.duration ?? 600,
      latencyGraceSeconds: over.latencyGraceSeconds ?? 0,
      ...(over.correct === undefined ? {} : { correct: over.correct }),
    },
    new Date(),
    DEFAULT_CHANNEL_ARN,
  );
}

/** A poll whose closing time has passed but whose close step has not run. */
async function expiredPoll() {
  const id = `q${++seq}`;
  const past = Date.now() - 60_000;
  await store.openPoll({
    pollId: `api-test:${id}`,
    runId: 'api-test',
    question: 'Expired?',
    answers: ['A', 'B'],
    state: 'open',
    openedAt: new Date(past - 30_000).toISOString(),
    closesAt: new Date(past).toISOString(),
  });
  return `api-test:${id}`;
}

/** A history cursor as the API encodes one (store/polls.ts): base64url of the GSI key. */
const cursorOf = (key: Record<string, unknown>) => Buffer.from(JSON.stringify(key)).toString('base64url');

const vote = (poll_id: string, requestor_id: string, answer: number) =>
  api(stack, 'POST', '/requestor-put', { poll_id, requestor_id, answer });

beforeAll(async () => {
  // With --metrics: one test reads the API Lambda's metric lines from the stack's output.
  stack = await startStack({ args: ['--metrics'] });
  table = stackTable(stack);
  ({ store, lifecycle } = table);
});

afterAll(async () => {
  table?.destroy();
  expect(await stack.stop()).toBe(0);
});

describe('local stack', () => {
  it('serves the table on the edge endpoint with the seed keys and GSI', async () => {
    const { Table } = await table.client.send(new DescribeTableCommand({ TableName: 'showrunner-polls' }));
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'poll_id', KeyType: 'HASH' },
      { AttributeName: 'requestor_id', KeyType: 'RANGE' },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema])).toEqual([
      [
        'requestor_id-timestamp_created-index',
        [
          { AttributeName: 'requestor_id', KeyType: 'HASH' },
          { AttributeName: 'timestamp_created', KeyType: 'RANGE' },
        ],
      ],
    ]);
  });

  it('serves /config.json with the API URL', async () => {
    const config = (await (await fetch(`${stack.appUrl}/config.json`)).json()) as Record<string, unknown>;
    expect(config.apiUrl).toBe(stack.apiUrl);
  });
});

describe('POST /requestor-put', () => {
  it('201 once, 409 already_answered for the same requestor, and the tally counts it once', async () => {
    const { pollId } = await openPoll();
    const first = await vote(pollId, 'viewer-1', 1);
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ poll_id: pollId, requestor_id: 'viewer-1', answer: 1 });
    const again = await vote(pollId, 'viewer-1', 2);
    expect(again).toMatchObject({ status: 409, json: { error: { code: 'already_answered' } } });
    const poll = await api(stack, 'GET', `/poll-get?poll_id=${pollId}`);
    expect(poll).toMatchObject({
      status: 200,
      json: { poll_id: pollId, state: 'open', counts: [0, 1, 0], total: 1 },
    });
    expect(poll.json).not.toHaveProperty('correct');
  });

  it('"Metrics lines appear for a vote": the API Lambda prints CloudWatch EMF for votes accepted and refused (by reason), with the poll id as metadata', async () => {
    const { pollId } = await openPoll();
    expect((await vote(pollId, 'viewer-emf', 0)).status).toBe(201);
    expect((await vote(pollId, 'viewer-emf', 1)).status).toBe(409);
    const emf = () =>
      stack
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{"_aws"') && line.includes(pollId))
        .map((line) => JSON.parse(line) as Record<string, any>);
    for (let i = 0; i < 50 && emf().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const [accepted, refused] = emf();
    expect(accepted!._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'showrunner',
      Metrics: [{ Name: 'VotesAccepted', Unit: 'Count' }],
    });
    expect(accepted).toMatchObject({ VotesAccepted: 1, pollId, service: 'showrunner-api' });
    expect(refused).toMatchObject({ VotesRefused: 1, reason: 'already_answered', pollId });
  });

  it('404 unknown_poll for a poll that was never opened', async () => {
    expect(await vote('api-test:nope', 'viewer-1', 0)).toMatchObject({
      status: 404,
      json: { error: { code: 'unknown_poll' } },
    });
  });

  it('409 poll_closed after close, with the recounted result and the correct answer revealed', async () => {
    const id = `q${++seq}`;
    const pollId = `api-test:${id}`;
    const now = Date.now();
    // Opened with a closing time 300 ms ahead, so close() recounts without a long wait.
    await store.openPoll({
      pollId,
      runId: 'api-test',
      question: 'Quiz?',
      answers: ['A', 'B'],
      correct: 1,
      state: 'open',
      openedAt: new Date(now).toISOString(),
      closesAt: new Date(now + 300).toISOString(),
    });
    expect((await vote(pollId, 'early', 1)).status).toBe(201);
    const closed = await lifecycle.close(pollId);
    expect(closed).toMatchObject({ pollId, counts: [0, 1], total: 1, correct: 1 });
    expect(JSON.parse(closed.cue)).toEqual({
      v: 1,
      type: 'results',
      poll_id: pollId,
      counts: [0, 1],
      total: 1,
      correct: 1,
    });
    expect(await vote(pollId, 'late', 0)).toMatchObject({
      status: 409,
      json: { error: { code: 'poll_closed' } },
    });
    expect((await api(stack, 'GET', `/poll-get?poll_id=${pollId}`)).json).toMatchObject({
      state: 'closed',
      counts: [0, 1],
      correct: 1,
    });
  });

  it('409 poll_closed past closes_at even before the close step runs', async () => {
    const pollId = await expiredPoll();
    expect(await vote(pollId, 'viewer-1', 0)).toMatchObject({
      status: 409,
      json: { error: { code: 'poll_closed' } },
    });
    expect((await api(stack, 'GET', `/poll-get?poll_id=${pollId}`)).json).toMatchObject({ state: 'closed' });
  });

  it.each([
    [
      'answer out of range',
      { requestor_id: 'v', answer: 3 },
      400,
      /^answer: expected an index from 0 to 2, got 3$/,
    ],
    ['negative answer', { requestor_id: 'v', answer: -1 }, 400, /^answer: /],
    ['answer as text', { requestor_id: 'v', answer: '1' }, 400, /^answer: expected the index of an answer/],
    ['fractional answer', { requestor_id: 'v', answer: 1.5 }, 400, /^answer: expected a whole number/],
    ['missing answer', { requestor_id: 'v' }, 400, /^answer: required$/],
    ['missing requestor_id', { answer: 0 }, 400, /^requestor_id: required$/],
    ['requestor_id with a reserved #', { requestor_id: '#poll', answer: 0 }, 400, /^requestor_id: /],
    ['requestor_id as number', { requestor_id: 7, answer: 0 }, 400, /^requestor_id: expected a string/],
    ['extra field', { requestor_id: 'v', answer: 0, admin: true }, 400, /^admin: unknown field$/],
  ])('400 for %s, naming the field', async (_name, fields, status, message) => {
    const { pollId } = await openPoll();
    const response = await api(stack, 'POST', '/requestor-put', { poll_id: pollId, ...fields });
    expect(response.status).toBe(status);
    expect(response.json.error.code).toBe('bad_request');
    expect(response.json.error.message).toMatch(message);
  });

  it.each([
    ['poll_id missing', JSON.stringify({ requestor_id: 'v', answer: 0 }), 400, /^poll_id: required$/],
    ['poll_id malformed', JSON.stringify({ poll_id: 'x', requestor_id: 'v', answer: 0 }), 400, /^poll_id: /],
    ['non-JSON', 'answer=1', 400, /^body: not valid JSON$/],
    ['an empty body', '', 400, /^body: required/],
    ['a JSON array', '[1,2]', 400, /^body: expected a JSON object$/],
    ['JSON null', 'null', 400, /^body: expected a JSON object$/],
    ["a 12 MB body (over API Gateway's 10 MB)", 'x'.repeat(12 << 20), 413, /^body: /],
    [
      'a 1 MB body',
      JSON.stringify({ poll_id: 'a:b', requestor_id: 'v', answer: 0, pad: 'x'.repeat(1 << 20) }),
      413,
      /^body: /,
    ],
  ])('%s → 400/413 with a JSON error', async (_name, body, status, message) => {
    const response = await api(stack, 'POST', '/requestor-put', body);
    expect(response.status).toBe(status);
    expect(response.json.error.message).toMatch(message);
  });

  // A cross-site form or text/plain post needs no CORS preflight: only JSON is taken, so a page on
  // another site cannot make its visitors vote (the browser preflights JSON, and CORS refuses it).
  it.each([
    ['text/plain', 415],
    ['application/x-www-form-urlencoded', 415],
    ['multipart/form-data; boundary=x', 415],
    [undefined, 415],
    ['application/json; charset=utf-8', 201],
    ['Application/JSON', 201],
  ])('content-type %s → %i', async (contentType, status) => {
    const { pollId } = await openPoll();
    const response = await fetch(`${stack.apiUrl}/requestor-put`, {
      method: 'POST',
      headers: {
        origin: 'https://elsewhere.example',
        authorization: viewerAuthorization(stack, `ct-${status}-${seq}`),
        ...(contentType ? { 'content-type': contentType } : {}),
      },
      // Bytes, not a string: fetch would label a string text/plain itself.
      body: new TextEncoder().encode(
        JSON.stringify({ poll_id: pollId, requestor_id: `ct-${status}-${seq}`, answer: 0 }),
      ),
    });
    expect(response.status).toBe(status);
    if (status === 415) {
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(((await response.json()) as { error: { code: string; message: string } }).error).toEqual({
        code: 'unsupported_media_type',
        message: `content-type: expected application/json, got ${contentType ? JSON.stringify(contentType) : 'none'}`,
      });
      expect((await api(stack, 'GET', `/poll-get?poll_id=${pollId}`)).json.total).toBe(0);
    }
  });

  it('1,000 concurrent votes from distinct requestors: counts equal the 201s, and the recount agrees', async () => {
    const { pollId } = await openPoll({ answers: ['A', 'B', 'C', 'D'] });
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => vote(pollId, `crowd-${i}`, i % 4).then((r) => r.status)),
    );
    const accepted = results.filter((s) => s === 201).length;
    expect(results.filter((s) => s !== 201)).toEqual([]);
    const poll = (await api(stack, 'GET', `/poll-get?poll_id=${pollId}`)).json;
    expect(poll.total).toBe(accepted);
    expect(poll.counts).toEqual([250, 250, 250, 250]);
    expect(await store.recount(pollId, 4)).toEqual(poll.counts);
  }, 120_000);
});

describe('GET /requestor-get', () => {
  it('pages through more than 100 answers, newest first, with no duplicates or gaps', async () => {
    const pollIds: string[] = [];
    for (let i = 0; i < 120; i++) pollIds.push((await openPoll({ answers: ['A', 'B'] })).pollId);
    for (const pollId of pollIds) expect((await vote(pollId, 'historian', 1)).status).toBe(201);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/requestor-get?requestor_id=historian&limit=50${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api(stack, 'GET', query);
      expect(page.status).toBe(200);
      for (const item of page.json.items) {
        expect(item).toMatchObject({ answer: 1, answers: ['A', 'B'], state: 'open' });
        expect(item.question).toMatch(/^Question q\d+\?$/);
      }
      seen.push(...page.json.items.map((i: { poll_id: string }) => i.poll_id));
      cursor = page.json.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([...pollIds].reverse());
    expect(pages).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it.each([
    ['', /^requestor_id: required$/],
    ['?requestor_id=a&limit=0', /^limit: expected 1 to 100$/],
    ['?requestor_id=a&limit=101', /^limit: expected 1 to 100$/],
    ['?requestor_id=a&limit=ten', /^limit: expected a whole number/],
    ['?requestor_id=a&cursor=bm9wZQ', /^cursor: not a cursor this API returned$/],
    // Crafted cursors of the right shape but values no stored item holds: 4xx, never a failed query.
    ...[1e308, 1e-308, -1, 1.5].map((t) => [
      `?requestor_id=a&cursor=${cursorOf({ poll_id: 'run:q1', requestor_id: 'a', timestamp_created: t })}`,
      /^cursor: not a cursor this API returned$/,
    ]),
    ...['x', 'run:q1#100', 'run:q1#1#2', 'run:q1#-1'].map((poll_id) => [
      `?requestor_id=a&cursor=${cursorOf({ poll_id, requestor_id: 'a', timestamp_created: 1 })}`,
      /^cursor: not a cursor this API returned$/,
    ]),
    [
      `?requestor_id=a&cursor=${cursorOf({ poll_id: 'run:q1', requestor_id: 'b', timestamp_created: 1 })}`,
      /^cursor: not a cursor this API returned$/,
    ],
    ['?requestor_id=a&requestor_id=b', /^requestor_id: given more than once$/],
    ['?requestor_id=a&sort=asc', /^sort: unknown field$/],
  ])('400 for %s', async (query, message) => {
    const response = await api(stack, 'GET', `/requestor-get${query}`);
    expect(response.status).toBe(400);
    expect(response.json.error.message).toMatch(message);
  });
});

describe('GET /poll-get', () => {
  it('400 without a valid poll_id, 404 for an unknown poll', async () => {
    expect((await api(stack, 'GET', '/poll-get')).json.error.message).toBe('poll_id: required');
    expect((await api(stack, 'GET', '/poll-get?poll_id=x')).status).toBe(400);
    expect((await api(stack, 'GET', '/poll-get?poll_id=run:missing')).status).toBe(404);
  });

  it('a poll view is public for 1 s (a CDN may serve it), errors and viewer data are never cached', async () => {
    const { pollId } = await openPoll();
    const view = await fetch(`${stack.apiUrl}/poll-get?poll_id=${encodeURIComponent(pollId)}`);
    expect(view.status).toBe(200);
    expect(view.headers.get('cache-control')).toBe('public, max-age=1');
    const missing = await fetch(`${stack.apiUrl}/poll-get?poll_id=run:missing`);
    expect(missing.headers.get('cache-control')).toBe('no-store');
    const history = await fetch(`${stack.apiUrl}/requestor-get?requestor_id=viewer-a`, {
      headers: { authorization: viewerAuthorization(stack, 'viewer-a') },
    });
    expect(history.headers.get('cache-control')).toBe('no-store');
  });

  it("/poll-current gives late joiners the channel's latest opened poll, without the correct answer", async () => {
    const { pollId } = await openPoll({ answers: ['Yes', 'No'], correct: 0 });
    const current = await api(stack, 'GET', '/poll-current?channel=local');
    expect(current).toMatchObject({
      status: 200,
      json: { poll_id: pollId, state: 'open', answers: ['Yes', 'No'] },
    });
    expect(current.json).not.toHaveProperty('correct');
    expect((await api(stack, 'GET', '/poll-current?channel=local&x=1')).json.error.message).toBe(
      'x: unknown field',
    );
    expect((await api(stack, 'GET', '/poll-current')).json.error.message).toBe('channel: required');
    expect((await api(stack, 'GET', '/poll-current?channel=a/b')).status).toBe(400);
  });

  it('"Two runs on two channels each show their own current poll"', async () => {
    const other = 'arn:aws:ivs:us-east-1:000000000000:channel/second';
    const here = await openPoll({ answers: ['Here', 'There'] });
    const id = `q${++seq}`;
    const there = await lifecycle.open(
      {
        id,
        runId: 'other-run',
        pollId: `other-run:${id}`,
        question: 'On the second channel?',
        answers: ['Yes', 'No'],
        duration: 600,
        latencyGraceSeconds: 0,
      },
      new Date(),
      other,
    );
    expect((await api(stack, 'GET', '/poll-current?channel=local')).json.poll_id).toBe(here.pollId);
    expect((await api(stack, 'GET', '/poll-current?channel=second')).json.poll_id).toBe(there.pollId);
    expect((await api(stack, 'GET', '/poll-current?channel=third')).json.error.code).toBe('no_poll');
  });

  it('unknown routes and methods are JSON 404s', async () => {
    expect(await api(stack, 'GET', '/nope')).toMatchObject({
      status: 404,
      json: { error: { code: 'not_found' } },
    });
    expect((await api(stack, 'POST', '/poll-get', {})).status).toBe(404);
  });

  it('"Paths match one way everywhere": a route is answered at exactly one path, so the WAF rules that match it see every request', async () => {
    for (const [method, path] of [
      ['POST', '/requestor-token/'],
      ['GET', '/requestor-challenge/'],
      ['POST', '/requestor-put/'],
      ['POST', '//requestor-put'],
      ['POST', '/requestor-put//'],
      ['GET', '/poll-get/?poll_id=api-test:q1'],
      ['GET', '/REQUESTOR-GET?requestor_id=a'],
    ] as const) {
      const got = await api(stack, method, path, method === 'POST' ? {} : undefined);
      expect({ path, status: got.status, code: got.json.error?.code }).toEqual({
        path,
        status: 404,
        code: 'not_found',
      });
    }
    expect((await mintViewer(stack.apiUrl)).token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
