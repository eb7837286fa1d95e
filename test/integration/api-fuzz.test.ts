// Property-based fuzzing of the REST API over HTTP: whatever arrives from outside, the answer is
// a 2xx or a 4xx with a JSON error (never a 5xx), and every poll's tally equals its recount.
import { viewerAuthorization } from '../support/viewer.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { tableClient } from '../../store/clients.ts';
import { PollStore } from '../../store/polls.ts';
import { startStack, type StackProcess } from '../support/stack.ts';

let stack: StackProcess;
let store: PollStore;
const polls = ['fuzz:a', 'fuzz:b', 'fuzz:c'];
const answerCounts = [2, 3, 6];

beforeAll(async () => {
  stack = await startStack();
  const { db } = tableClient({
    endpoint: stack.edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  store = new PollStore(db, 'showrunner-polls');
  const now = Date.now();
  for (const [i, pollId] of polls.entries()) {
    await store.openPoll({
      pollId,
      runId: 'fuzz',
      question: `Fuzz ${i}?`,
      answers: Array.from({ length: answerCounts[i]! }, (_, k) => `answer ${k}`),
      state: 'open',
      openedAt: new Date(now).toISOString(),
      closesAt: new Date(now + 3_600_000).toISOString(),
    });
  }
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const requestorId = fc.oneof(
  fc.uuid(),
  fc.constantFrom('#poll', '#tally', '', ' ', 'a'.repeat(65), 'ok-id', '../etc'),
  fc.string({ maxLength: 70 }),
);
const answer = fc.oneof(
  fc.integer({ min: -2, max: 8 }),
  fc.double(),
  fc.constantFrom('1', null, true, [], {}, 1e308, -0),
);
const pollId = fc.oneof(
  fc.constantFrom(...polls, 'fuzz:zzz', 'nocolon', ':', 'fuzz:A'),
  fc.string({ maxLength: 90 }),
);

const voteBody = fc.oneof(
  fc
    .record({ poll_id: pollId, requestor_id: requestorId, answer }, { requiredKeys: [] })
    .map((b) => JSON.stringify(b)),
  fc
    .record({ poll_id: pollId, requestor_id: requestorId, answer, extra: fc.anything() })
    .map((b) => JSON.stringify(b)),
  fc.json(),
  fc.string({ maxLength: 200 }),
  fc.constant(''),
);

const path = fc.oneof(
  fc.constantFrom(
    '/requestor-put',
    '/requestor-get',
    '/poll-get',
    '/poll-current',
    '/poll-current?channel=local',
    '/',
    '/requestor-put/',
    '/POLL-GET',
  ),
  fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
);
const query = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.tuple(
        fc.constantFrom('poll_id', 'requestor_id', 'limit', 'cursor', 'x', ''),
        fc.oneof(pollId, requestorId, fc.integer().map(String), fc.string({ maxLength: 40 })),
      ),
      { maxLength: 4 },
    )
    .map((pairs) => `?${new URLSearchParams(pairs)}`),
);

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
  path,
  query,
  body: voteBody,
  contentType: fc.constantFrom(
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    undefined,
  ),
});

describe('API fuzzing (fast-check)', () => {
  it('answers arbitrary requests with 2xx/4xx and a JSON error body, never 5xx', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const hasBody = r.method !== 'GET' && r.method !== 'HEAD';
        const response = await fetch(`${stack.apiUrl}${r.path}${r.query}`, {
          method: r.method,
          headers: r.contentType ? { 'content-type': r.contentType } : {},
          body: hasBody ? r.body : undefined,
        });
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status).toBeLessThan(500);
        if (response.status >= 400 && r.method !== 'HEAD') {
          expect(JSON.parse(text)).toEqual({
            error: { code: expect.any(String), message: expect.any(String) },
          });
        }
      }),
      { numRuns: 1500 },
    );
    expect(statuses.size).toBeGreaterThan(2); // the generator reaches several outcomes, not one
  }, 180_000);

  it('random votes: every tally equals the recount, and each requestor counts once', async () => {
    const vote = fc.record({
      poll: fc.integer({ min: 0, max: polls.length - 1 }),
      requestor: fc.integer({ min: 0, max: 60 }).map((n) => `voter-${n}`),
      answer: fc.integer({ min: -1, max: 6 }),
    });
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(vote, { minLength: 1, maxLength: 30 }), async (batch) => {
        const results = await Promise.all(
          batch.map((v) =>
            fetch(`${stack.apiUrl}/requestor-put`, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                // Every vote as the viewer it names (a generated requestor may not be a valid id: no token, 400 first).
                authorization: viewerAuthorization(stack, v.requestor),
              },
              body: JSON.stringify({ poll_id: polls[v.poll], requestor_id: v.requestor, answer: v.answer }),
            }).then((r) => r.status),
          ),
        );
        for (const s of results) expect([201, 400, 409]).toContain(s);
        accepted += results.filter((s) => s === 201).length;
      }),
      { numRuns: 150 },
    );
    let total = 0;
    for (const [i, id] of polls.entries()) {
      const tally = await store.tally(id, answerCounts[i]!);
      expect(tally).toEqual(await store.recount(id, answerCounts[i]!));
      total += tally.reduce((a, b) => a + b, 0);
    }
    expect(total).toBe(accepted);
    expect(accepted).toBeGreaterThan(0);
  }, 180_000);
});
