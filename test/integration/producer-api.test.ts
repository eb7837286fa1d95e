// The producer API on the local stack as `npm start` runs it: the routes under
// /api/producer/ call the same operations as the CLI, behind the control room's sign-in — the token
// the stack prints, checked by the local API Gateway, which hands the Lambda Cognito's claims shape.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MAX_JSON_DEPTH } from '../../lambdas/http-request.ts';
import { api, startStack, type StackProcess } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';

let stack: StackProcess;
let token: string;

beforeAll(async () => {
  stack = await startStack();
  token = /\/control\/#token=([A-Za-z0-9_-]+)/.exec(stack.output())![1]!;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const as = (authorization: string | null) => ({ authorization });
const producer = (method: 'GET' | 'POST', path: string, body?: unknown) =>
  api(stack, method, `/producer${path}`, body, as(`Bearer ${token}`));

const show = {
  id: 'control',
  title: 'Control room test',
  latencyGraceSeconds: 0,
  polls: [{ id: 'q1', at: 'manual', question: 'Ready?', answers: ['Yes', 'No'], duration: 30 }],
};

describe('producer API sign-in', () => {
  it('"The page without a token, or with a wrong one, gets nothing": 401 before any operation runs', async () => {
    for (const authorization of [null, 'Bearer wrong', `Bearer ${token}x`, token]) {
      for (const [method, path, body] of [
        ['GET', '/list', undefined],
        ['POST', '/start', { show }],
        ['GET', '/results?runId=x', undefined],
      ] as const) {
        const got = await api(stack, method, `/producer${path}`, body, as(authorization));
        expect({ authorization, path, status: got.status, code: got.json.error?.code }).toEqual({
          authorization,
          path,
          status: 401,
          code: 'unauthorized',
        });
      }
    }
    expect((await producer('GET', '/list')).json.runs).toEqual([]);
  });
});

describe('producer API operations', () => {
  it("validates a show in the page's words: issues at their path, cue sizes when it is right", async () => {
    const bad = await producer('POST', '/validate', {
      show: { ...show, polls: [{ ...show.polls[0], answers: ['Only'] }] },
    });
    expect(bad).toMatchObject({ status: 200, json: { ok: false } });
    expect(bad.json.issues[0]).toMatch(/^polls\[0\]\.answers: /);
    const good = await producer('POST', '/validate', { show });
    expect(good.json).toMatchObject({ ok: true, issues: [], polls: [{ id: 'q1', at: 'manual' }] });
    expect(good.json.polls[0].cueBytes).toBeGreaterThan(50);
  });

  it('a body nested deeper than MAX_JSON_DEPTH is a 400 before any work on it, on every POST route', async () => {
    const deep = `{"show":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    for (const path of ['/validate', '/start', '/cue', '/stop']) {
      const got = await producer('POST', path, deep);
      expect({ path, status: got.status, error: got.json.error }).toEqual({
        path,
        status: 400,
        error: { code: 'bad_request', message: `body: nested deeper than ${MAX_JSON_DEPTH} levels` },
      });
    }
    // A string holding brackets is not nesting.
    const text = await producer('POST', '/validate', { show: { ...show, title: '[[[{{{'.repeat(100) } });
    expect(text).toMatchObject({ status: 200, json: { ok: false } });
    expect(text.json.issues).toEqual(['title: a title is longer than 120 characters (600)']);
  });

  it('starts a show, asks its manual question, stops it, and reads the same figures as the CLI', async () => {
    const started = await producer('POST', '/start', { show });
    expect(started.status).toBe(201);
    const { runId } = started.json as { runId: string };
    expect(runId).toMatch(/^control-\d{8}T\d{6}Z$/);
    expect((await producer('GET', '/list')).json.runs[0]).toMatchObject({ runId, status: 'RUNNING' });

    // The run reaches its manual question's wait a moment after the start: the cue is retried until then.
    const cued = await waitFor('the cue to be taken', async () => {
      const got = await producer('POST', '/cue', { runId });
      return got.status === 200 ? got : undefined;
    });
    expect(cued.json).toMatchObject({ runId, poll: 'q1', pollId: `${runId}:q1`, question: 'Ready?' });
    // The signed-in producer is named in the execution history as the one who cued it.
    const asked = await waitFor('q1 to be asked', async () => {
      const h = await producer('GET', `/history?runId=${runId}`);
      const poll = h.json.polls?.[0];
      return poll?.askedAt ? poll : undefined;
    });
    expect(asked).toMatchObject({ id: 'q1' });
    expect(
      (
        await api(stack, 'POST', '/requestor-put', {
          poll_id: `${runId}:q1`,
          requestor_id: 'viewer-x',
          answer: 0,
        })
      ).status,
    ).toBe(201);

    const stopped = await producer('POST', '/stop', { runId, cause: 'end of rehearsal' });
    expect(stopped).toMatchObject({ status: 200, json: { runId, stopped: true, status: 'ABORTED' } });
    expect((await producer('POST', '/cue', { runId })).status).toBe(409);
    const results = await waitFor(
      "the stopped run's poll to be closed",
      async () => {
        const r = await producer('GET', `/results?runId=${runId}`);
        return r.json.polls?.[0]?.state === 'closed' ? r.json : undefined;
      },
      30_000,
    );
    expect(results.polls[0]).toMatchObject({ poll: 'q1', counts: [1, 0], total: 1 });

    // What the control room polls: status, history and results from one read of the run, the same
    // figures as the three routes (once the stop's results cue is on air, nothing changes any more).
    const state = await waitFor("the stopped run's results cue", async () => {
      const got = await producer('GET', `/run?runId=${runId}`);
      return got.json.history?.polls?.[0]?.resultsAt !== undefined ? got : undefined;
    });
    expect(state.status).toBe(200);
    expect(state.json).toEqual({
      status: (await producer('GET', `/status?runId=${runId}`)).json,
      history: (await producer('GET', `/history?runId=${runId}`)).json,
      results: (await producer('GET', `/results?runId=${runId}`)).json,
    });
    expect(state.json.results).toEqual(results);
  }, 60_000);

  it('refuses bad requests naming the field: 400 for a bad run id or show, 404 for an unknown run', async () => {
    expect((await producer('GET', '/status?runId=has%20space')).json.error.message).toMatch(/^runId: /);
    expect((await producer('GET', '/status?runId=nope')).status).toBe(404);
    expect((await producer('GET', '/run?runId=nope')).json.error.code).toBe('not_found');
    expect((await producer('POST', '/start', { show: { id: 'x' } })).status).toBe(400);
    expect((await producer('POST', '/cue', {})).json.error.message).toBe('runId: required');
  });
});

describe('the console a person reads', () => {
  it('"Metric lines are off locally unless asked for": after a run, no EMF JSON and no Node warning in the output', () => {
    // The run above planned, asked and closed a question: each step would print a metric line.
    const output = stack.output();
    expect(output).toMatch(/showrunner local stack/);
    expect(output.split('\n').filter((line) => line.startsWith('{"_aws"'))).toEqual([]);
    expect(output).not.toMatch(/\bWarning\b/);
  });
});
