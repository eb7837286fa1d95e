// The producer API's routes (lambdas/producer.ts producerRoutes, behind createProducerHandler's
// middlewares and its signedIn check) over fake operations, and over the real operations on a target
// that no request reaches: who may call them, what each route hands its operation, and how every
// refusal of the operations is answered (the same table as the viewer API's). The API over HTTP on a
// running stack is test/integration/producer-api.test.ts's.
import { describe, expect, it, jest } from '@jest/globals';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import {
  CHANNEL_BUSY_CODE,
  PRODUCER_ROUTES,
  type RunInfo,
  type RunLeaderboard,
  type RunState,
  type Started,
} from '../../contract/producer.ts';
import { formatIssues, pollCueBytes, validateExecutionInput, validateShow } from '../../core/show.ts';
import {
  createProducerHandler,
  START_WAIT_MS,
  targetOperations,
  type ProducerOperations,
} from '../../lambdas/producer.ts';
import { ChannelBusyError, OpError, RunExistsError, RunNotFoundError } from '../../ops/errors.ts';
import type { Target } from '../../ops/target.ts';
import { invoke } from '../support/api-handler.ts';

const RUN = 'cats-20300101T120000Z';
const PRODUCER = { sub: 'user-1', 'cognito:username': 'pat', email: 'pat@example.com' };
const SHOW = {
  id: 'cats',
  title: 'Cat Facts Live',
  polls: [
    { id: 'q1', at: 30, question: 'Cats sleep 12–16 hours a day.', answers: ['True', 'False'], correct: 0 },
    { id: 'q2', at: 'manual', question: 'Best cat?', answers: ['Tabby', 'Siamese'] },
  ],
};

type Calls = Array<{ op: keyof ProducerOperations; args: unknown[] }>;

/** Operations that record their calls and answer what `answers` says (or throw it). */
function fakeOperations(answers: Partial<Record<keyof ProducerOperations, unknown>> = {}) {
  const calls: Calls = [];
  const op =
    (name: keyof ProducerOperations) =>
    async (...args: unknown[]) => {
      calls.push({ op: name, args });
      const answer = answers[name];
      if (answer instanceof Error) throw answer;
      return answer;
    };
  const operations = Object.fromEntries(
    (
      [
        'start',
        'cue',
        'stop',
        'list',
        'status',
        'history',
        'results',
        'state',
        'leaderboard',
        'hideName',
      ] as const
    ).map((name) => [name, op(name)]),
  ) as unknown as ProducerOperations;
  return { operations, calls };
}

function handlerOver(operations: ProducerOperations) {
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  return createProducerHandler({
    operations,
    config: { corsOrigins: ['*'], maxBodyBytes: 256 * 1024 },
  }) as Parameters<typeof invoke>[0];
}

const post = (handler: Parameters<typeof invoke>[0], path: string, body: unknown, claims = PRODUCER) =>
  invoke(handler, 'POST', path, { body: JSON.stringify(body), claims });
const get = (handler: Parameters<typeof invoke>[0], path: string, query: Record<string, string>) =>
  invoke(handler, 'GET', path, { query, claims: PRODUCER });

/** A target no request may reach: the checks before any call are what is tested with it. */
const unreachable = (): Target => {
  const send = () => Promise.reject(new Error('a unit test reached AWS'));
  return {
    kind: 'aws',
    description: 'nowhere',
    sfn: { send } as unknown as SFNClient,
    db: { send } as unknown as DynamoDBDocumentClient,
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:show',
    tableName: 'polls',
    channelArn: 'arn:aws:ivs:us-east-1:000000000000:channel/local',
    close: () => undefined,
  };
};

describe('producerRoutes: signed in', () => {
  it('answers 401 on every route without a producer, and calls no operation', async () => {
    const { operations, calls } = fakeOperations();
    const handler = handlerOver(operations);
    const methods: Record<string, string> = {
      validate: 'POST',
      start: 'POST',
      cue: 'POST',
      stop: 'POST',
      hideName: 'POST',
    };
    for (const [name, path] of Object.entries(PRODUCER_ROUTES)) {
      const method = methods[name] ?? 'GET';
      const got = await invoke(handler, method, path, method === 'POST' ? { body: '{}' } : {});
      expect([name, got.status, got.json.error.code]).toEqual([name, 401, 'unauthorized']);
      expect(got.json.error.message).toMatch(/^authorization: /);
    }
    // Claims without a subject are nobody's.
    const noSub = await invoke(handler, 'GET', PRODUCER_ROUTES.list, { claims: { email: 'x@example.com' } });
    expect(noSub.status).toBe(401);
    expect(calls).toEqual([]);
  });

  it('keeps a path no route answers a 404, signed in or not (the router decides before the sign-in)', async () => {
    const handler = handlerOver(fakeOperations().operations);
    for (const claims of [undefined, PRODUCER]) {
      const options = claims ? { claims } : {};
      expect((await invoke(handler, 'GET', '/producer/nothing', options)).json.error.code).toBe('not_found');
      expect((await invoke(handler, 'GET', PRODUCER_ROUTES.start, options)).json.error.code).toBe(
        'not_found',
      );
      expect((await invoke(handler, 'GET', `${PRODUCER_ROUTES.run}/`, options)).json.error.code).toBe(
        'not_found',
      );
    }
  });
});

describe('producerRoutes: what each route asks of its operation', () => {
  it('start hands the show, start time, channel and replace on, and answers 201 with the run', async () => {
    const started = {
      runId: RUN,
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:show:${RUN}`,
      startAt: '2030-01-01T12:00:00.000Z',
    } as Started;
    const { operations, calls } = fakeOperations({ start: started });
    const handler = handlerOver(operations);
    const got = await post(handler, PRODUCER_ROUTES.start, {
      show: SHOW,
      startAt: started.startAt,
      channelArn: 'arn:aws:ivs:us-east-1:000000000000:channel/other',
      replace: true,
    });
    expect(got.status).toBe(201);
    expect(got.json).toEqual(started);
    expect(calls).toEqual([
      {
        op: 'start',
        args: [
          {
            show: SHOW,
            startAt: new Date(started.startAt),
            channelArn: 'arn:aws:ivs:us-east-1:000000000000:channel/other',
          },
          { replace: true, waitMs: START_WAIT_MS },
        ],
      },
    ]);
  });

  it('cue names who cued: the Cognito user name, else the email, else the subject', async () => {
    const { operations, calls } = fakeOperations({ cue: { runId: RUN } });
    const handler = handlerOver(operations);
    await post(handler, PRODUCER_ROUTES.cue, { runId: RUN, poll: 'q2' });
    await post(handler, PRODUCER_ROUTES.cue, { runId: RUN }, { sub: 's', email: 'e@example.com' } as never);
    await post(handler, PRODUCER_ROUTES.cue, { runId: RUN }, { sub: 's' } as never);
    expect(calls.map((c) => c.args[0])).toEqual([
      { run: RUN, poll: 'q2', cuedBy: PRODUCER['cognito:username'] },
      { run: RUN, cuedBy: 'e@example.com' },
      { run: RUN, cuedBy: 's' },
    ]);
  });

  it('the reads take ?runId= and answer 200 with what their operation returns; run is all three at once', async () => {
    const info: RunInfo = { runId: RUN, executionArn: 'arn', status: 'RUNNING' };
    const state: RunState = {
      status: { run: info, progress: { asked: 0, total: 2, waiting: [] } },
      history: { run: info, polls: [], cuesSent: 0, throttled: 0 },
      results: { runId: RUN, polls: [] },
    };
    const { operations, calls } = fakeOperations({
      status: state.status,
      history: state.history,
      results: state.results,
      state,
      list: [info],
    });
    const handler = handlerOver(operations);
    for (const [path, body] of [
      [PRODUCER_ROUTES.status, state.status],
      [PRODUCER_ROUTES.history, state.history],
      [PRODUCER_ROUTES.results, state.results],
      [PRODUCER_ROUTES.run, state],
    ] as const) {
      const got = await get(handler, path, { runId: RUN });
      expect([path, got.status, got.json]).toEqual([path, 200, body]);
    }
    expect(calls.map((c) => [c.op, c.args[0]])).toEqual([
      ['status', RUN],
      ['history', RUN],
      ['results', RUN],
      ['state', RUN],
    ]);
    const list = await get(handler, PRODUCER_ROUTES.list, { status: 'running', limit: '5' });
    expect(list.json).toEqual({ runs: [info] });
    expect(calls.at(-1)).toEqual({ op: 'list', args: [{ status: 'running', limit: 5 }] });
  });

  it('leaderboard takes ?runId= and answers the standings; hide-name hands {requestorId, hidden} on', async () => {
    const board: RunLeaderboard = {
      runId: RUN,
      players: 1,
      final: true,
      standings: [
        {
          rank: 1,
          requestor_id: 'viewer-1',
          name: 'Bob',
          nickname: 'Bob',
          hidden: false,
          score: 1000,
          total_answer_ms: 1234,
        },
      ],
    };
    const { operations, calls } = fakeOperations({
      leaderboard: board,
      hideName: { requestorId: 'viewer-1', hidden: true },
    });
    const handler = handlerOver(operations);
    const got = await get(handler, PRODUCER_ROUTES.leaderboard, { runId: RUN });
    expect([got.status, got.json]).toEqual([200, board]);
    const top = await get(handler, PRODUCER_ROUTES.leaderboard, { runId: RUN, top: '10' });
    expect(top.status).toBe(200);
    const hidden = await post(handler, PRODUCER_ROUTES.hideName, { requestorId: 'viewer-1', hidden: true });
    expect([hidden.status, hidden.json]).toEqual([200, { requestorId: 'viewer-1', hidden: true }]);
    expect(calls.map((c) => c.args)).toEqual([
      [RUN, {}],
      [RUN, { top: 10 }],
      [{ requestorId: 'viewer-1', hidden: true }],
    ]);
  });

  it('hide-name checks its body, naming the field: 400 and no operation', async () => {
    const { operations, calls } = fakeOperations();
    const handler = handlerOver(operations);
    const cases: Array<[unknown, RegExp]> = [
      [{ hidden: true }, /^requestorId: required/],
      [{ requestorId: '#score#x', hidden: true }, /^requestorId: expected a viewer id/],
      [{ requestorId: 'viewer-1' }, /^hidden: required/],
      [{ requestorId: 'viewer-1', hidden: 'yes' }, /^hidden: /],
      [{ requestorId: 'viewer-1', hidden: true, extra: 1 }, /^extra: unknown field/],
    ];
    for (const [body, message] of cases) {
      const got = await post(handler, PRODUCER_ROUTES.hideName, body);
      expect([got.status, got.json.error.message]).toEqual([400, expect.stringMatching(message)]);
    }
    const badTop = await get(handler, PRODUCER_ROUTES.leaderboard, { runId: RUN, top: '0' });
    expect(badTop.json.error.message).toMatch(/^top: expected a whole number from 1 to 100000/);
    expect((await get(handler, PRODUCER_ROUTES.leaderboard, {})).json.error.message).toMatch(
      /^runId: required/,
    );
    expect(calls).toEqual([]);
  });

  it('checks the query and body before any operation: the field at fault named, 400', async () => {
    const { operations, calls } = fakeOperations();
    const handler = handlerOver(operations);
    const missing = await get(handler, PRODUCER_ROUTES.run, {});
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toMatch(/^runId: required/);
    const badRun = await post(handler, PRODUCER_ROUTES.stop, { runId: 'no spaces allowed' });
    expect(badRun.json.error.message).toMatch(/^runId: /);
    const unknown = await post(handler, PRODUCER_ROUTES.cue, { runId: RUN, extra: true });
    expect(unknown.json.error.message).toBe('extra: unknown field');
    expect(calls).toEqual([]);
  });
});

describe('producerRoutes: validate', () => {
  it('answers 200 with the polls and their cue sizes for a valid show', async () => {
    const handler = handlerOver(fakeOperations().operations);
    const got = await post(handler, PRODUCER_ROUTES.validate, { show: SHOW });
    const checked = validateShow(SHOW);
    if (!checked.ok) throw new Error('the test show is valid');
    expect(got.status).toBe(200);
    expect(got.json).toEqual({
      ok: true,
      issues: [],
      polls: checked.value.polls.map((p) => ({
        id: p.id,
        at: p.at,
        cueBytes: pollCueBytes(p, checked.value),
      })),
    });
  });

  it('answers 200 with every issue, in file order, as `showrunner validate` words them', async () => {
    const handler = handlerOver(fakeOperations().operations);
    const bad = {
      ...SHOW,
      polls: [
        { ...SHOW.polls[0], answers: ['True'] },
        { ...SHOW.polls[1], id: 'q1', duration: 2 },
      ],
    };
    /** What `showrunner validate` prints for a show: its issues, one line each. */
    const issuesOf = (show: unknown) => {
      const checked = validateShow(show);
      if (checked.ok) throw new Error('expected issues');
      return formatIssues(checked.issues).split('\n');
    };
    const got = await post(handler, PRODUCER_ROUTES.validate, { show: bad });
    expect(got.status).toBe(200);
    expect(got.json).toEqual({ ok: false, issues: issuesOf(bad) });
    expect(got.json.issues.length).toBeGreaterThan(1);
    // A show that is not a show is a show with issues too; a body without one is a bad request.
    const none = await post(handler, PRODUCER_ROUTES.validate, { show: null });
    expect(none.json).toEqual({ ok: false, issues: issuesOf(null) });
    const without = await post(handler, PRODUCER_ROUTES.validate, {});
    expect(without.status).toBe(400);
    expect(without.json.error.message).toBe('show: required');
  });
});

describe("producerRoutes: the operations' refusals, answered as the viewer API answers its own", () => {
  const cases: Array<{ name: string; error: Error; status: number; code: string }> = [
    {
      name: 'invalid',
      error: new OpError('invalid', { path: 'poll', message: 'no such question' }),
      status: 400,
      code: 'bad_request',
    },
    { name: 'not found', error: new RunNotFoundError(RUN), status: 404, code: 'not_found' },
    {
      name: 'conflict',
      error: new OpError('conflict', { path: 'run', message: `${RUN} is SUCCEEDED` }),
      status: 409,
      code: 'conflict',
    },
    { name: 'run exists', error: new RunExistsError(RUN), status: 409, code: 'conflict' },
  ];
  it.each(cases)('$name → $status $code, with the operation’s message', async ({ error, status, code }) => {
    const handler = handlerOver(fakeOperations({ stop: error }).operations);
    const got = await post(handler, PRODUCER_ROUTES.stop, { runId: RUN });
    expect(got.status).toBe(status);
    expect(got.json.error).toEqual({ code, message: error.message });
  });

  it('a busy channel is 409 channel_busy naming the show and the ways on; a show still ending says so', async () => {
    const holder = {
      channelId: 'local',
      runId: 'other-run',
      title: 'Other Show',
      showId: 'other',
      executionArn: 'arn',
    };
    const busy = await post(
      handlerOver(fakeOperations({ start: new ChannelBusyError(holder) }).operations),
      PRODUCER_ROUTES.start,
      { show: SHOW },
    );
    expect(busy.status).toBe(409);
    expect(busy.json.error.code).toBe(CHANNEL_BUSY_CODE);
    expect(busy.json.error.message).toContain(`${holder.runId} (${holder.title})`);
    expect(busy.json.error.message).toMatch(/stop it .*replace/);

    const ending = new ChannelBusyError(holder, true);
    const still = await post(
      handlerOver(fakeOperations({ start: ending }).operations),
      PRODUCER_ROUTES.start,
      { show: SHOW },
    );
    expect(still.status).toBe(409);
    expect(still.json.error.code).toBe(CHANNEL_BUSY_CODE);
    expect(ending.message.endsWith(still.json.error.message)).toBe(true);
    expect(still.json.error.message).toMatch(/^channel local is still ending other-run/);
  });

  it('anything else is a bare 500', async () => {
    const handler = handlerOver(fakeOperations({ results: new Error('boom') }).operations);
    const got = await get(handler, PRODUCER_ROUTES.results, { runId: RUN });
    expect(got.status).toBe(500);
    expect(got.json).toEqual({ error: { code: 'internal_error', message: 'internal error' } });
  });
});

describe('producerRoutes over the real operations (targetOperations)', () => {
  it('start refuses a wrong show and channel with 400 and every issue the Plan step would name, before any call', async () => {
    const handler = handlerOver(targetOperations(unreachable()));
    const startAt = '2030-01-01T12:00:00.000Z';
    const channelArn = 'arn:not-an-ivs-channel';
    const show = { ...SHOW, polls: [{ ...SHOW.polls[0], correct: 5 }, SHOW.polls[1]] };
    const got = await post(handler, PRODUCER_ROUTES.start, { show, startAt, channelArn });
    const expected = validateExecutionInput({ ...show, startAt, channelArn });
    expect(expected.ok).toBe(false);
    expect(got.status).toBe(400);
    expect(got.json.error).toEqual({
      code: 'bad_request',
      message: formatIssues(expected.ok ? [] : expected.issues),
    });
    expect(got.json.error.message.split('\n')).toHaveLength(2);
  });

  it('start refuses a body whose show is not an object', async () => {
    const handler = handlerOver(targetOperations(unreachable()));
    const got = await post(handler, PRODUCER_ROUTES.start, { show: ['not', 'a', 'show'] });
    expect(got.status).toBe(400);
    expect(got.json.error.message).toMatch(/^show: /);
  });
});
