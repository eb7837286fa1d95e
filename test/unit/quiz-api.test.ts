// Issue 22 at the unit tier: the show file's `points` and `scoring`, the poll cue's new fields and
// the leaderboard cue's reader, and the viewer API's PUT /requestor-name and `elapsed_ms` over the
// in-memory store. The same over the local stack is test/integration/quiz.test.ts's.
import { describe, expect, it } from '@jest/globals';
import { API_ROUTES, type HistoryPage, type PollView } from '../../contract/api.ts';
import { decodeCue, MAX_CUE_BYTES, type LeaderboardCue } from '../../contract/cues.ts';
import { encodeCue, pollCue } from '../../core/cues.ts';
import { makePollId } from '../../core/ids.ts';
import { leaderboardOf } from '../../core/leaderboard.ts';
import { planShow } from '../../core/plan.ts';
import { formatIssues, MAX_POINTS, pollCueBytes, validateShow } from '../../core/show.ts';
import { createApiHandler, NAME_LOCK_CACHE_MS, type ApiConfig } from '../../lambdas/api.ts';
import { signViewerToken, viewerTokens } from '../../lambdas/viewer-token.ts';
import { invoke } from '../support/api-handler.ts';
import { MemoryStore } from './memory-store.ts';

const poll = (over: Record<string, unknown> = {}) => ({
  id: 'q1',
  at: 30,
  question: 'Cats sleep 12–16 hours a day.',
  answers: ['True', 'False'],
  ...over,
});
const show = (over: Record<string, unknown> = {}) => ({
  id: 'cats',
  title: 'Cat Facts',
  polls: [poll()],
  ...over,
});
const issues = (input: unknown) => {
  const result = validateShow(input);
  if (result.ok) throw new Error('expected the show to be rejected');
  return formatIssues(result.issues);
};

describe('show file: points and scoring', () => {
  it('a quiz question is worth `points`, 1,000 by default; the plan carries points, speed and the title', () => {
    const checked = validateShow(
      show({
        scoring: { speed: true },
        polls: [
          poll({ correct: 0 }),
          poll({ id: 'q2', at: 90, correct: 1, points: 250 }),
          poll({ id: 'p', at: 150 }),
        ],
      }),
    );
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    const plan = planShow({ ...checked.value }, 'cats-1', new Date('2030-01-01T00:00:00Z'));
    expect(plan.polls.map((p) => [p.points, p.speed, p.title])).toEqual([
      [1000, true, 'Cat Facts'],
      [250, true, 'Cat Facts'],
      [undefined, undefined, 'Cat Facts'],
    ]);
  });

  it('refuses points on a poll, points out of range and a bad scoring object, all at once in file order', () => {
    expect(
      issues(
        show({
          scoring: { speed: 'yes', extra: 1 },
          polls: [
            poll({ points: 10 }),
            poll({ id: 'q2', at: 90, correct: 0, points: MAX_POINTS + 1 }),
            poll({ id: 'q3', at: 150, correct: 0, points: 1.5 }),
          ],
        }),
      ),
    ).toBe(
      [
        'polls[0].points: only a quiz question (one with "correct") scores points',
        `polls[1].points: expected at most ${MAX_POINTS}`,
        'polls[2].points: expected whole points',
        'scoring.speed: expected true or false',
        'scoring.extra: unknown field',
      ].join('\n'),
    );
  });

  it('the cue-size rule measures the real poll cue: title, points and speed included', () => {
    const question = 'x'.repeat(300);
    const answers = Array.from({ length: 6 }, (_, i) => `${i}`.padEnd(80, 'y'));
    const longTitle = '猫'.repeat(120);
    const quiz = poll({ question, answers, correct: 0, points: 100_000 });
    // Without the title the cue fits; with a 360-byte title it does not.
    expect(validateShow(show({ polls: [quiz] })).ok).toBe(true);
    expect(issues(show({ title: longTitle, scoring: { speed: true }, polls: [quiz] }))).toMatch(
      /^polls\[0\]: its poll cue would be \d+ bytes, over the 1024-byte IVS limit/,
    );
    const valid = validateShow(show({ polls: [quiz] }));
    if (valid.ok)
      expect(pollCueBytes(valid.value.polls[0]!, { title: longTitle })).toBeGreaterThan(MAX_CUE_BYTES);
  });
});

describe('cues: the poll cue and the leaderboard cue', () => {
  it('the poll cue carries title, points and speed, never correct; decodeCue reads them back', () => {
    const text = encodeCue(
      pollCue('r:q', {
        question: 'Q',
        answers: ['a', 'b'],
        duration: 10,
        title: 'T',
        points: 500,
        speed: true,
      }),
    );
    expect(JSON.parse(text)).toEqual({
      v: 1,
      type: 'poll',
      poll_id: 'r:q',
      question: 'Q',
      answers: ['a', 'b'],
      duration: 10,
      title: 'T',
      points: 500,
      speed: true,
    });
    expect(decodeCue(text)).toMatchObject({ title: 'T', points: 500, speed: true });
    expect(decodeCue(text.replace('"speed":true', '"speed":false'))).toBeUndefined();
  });

  it('decodeCue accepts a leaderboard cue leaderboardOf builds and refuses malformed ones', () => {
    const players = Array.from({ length: 12 }, (_, i) => ({
      requestorId: `p${i}`,
      score: 1000 - i * 10,
      totalAnswerMs: 0,
      firstAnsweredAt: 0,
      name: i % 2 ? null : `Name ${i}`,
    }));
    const cue = leaderboardOf(players, { pollId: 'r:q', final: true });
    const text = encodeCue(cue);
    expect(decodeCue(text)).toEqual(cue);
    const bad = (change: (c: LeaderboardCue) => unknown) =>
      decodeCue(JSON.stringify(change(structuredClone(cue))));
    expect(bad((c) => ({ ...c, players: -1 }))).toBeUndefined();
    expect(
      bad((c) => ({ ...c, top: c.top.map((e, i) => (i === 3 ? { ...e, rank: 9 } : e)) })),
    ).toBeUndefined();
    expect(bad((c) => ({ ...c, top: [{ rank: 1, name: 5, score: 1 }] }))).toBeUndefined();
    expect(bad((c) => ({ ...c, thresholds: { ...c.thresholds, 50: 'x' } }))).toBeUndefined();
    expect(bad((c) => ({ ...c, final: false }))).toBeUndefined();
    expect(bad((c) => ({ ...c, players: 2 }))).toBeUndefined(); // more listed than players
  });
});

const SECRET = 'unit-secret-'.padEnd(40, 'x');
const CONFIG: ApiConfig = {
  tableName: 'unused',
  corsOrigins: ['*'],
  maxBodyBytes: 4096,
  pollCacheMs: 0,
  tokenWorkBits: 0,
  channelId: 'local',
};
const bearer = (id: string) => ({ authorization: `Bearer ${signViewerToken(SECRET, id)}` });

function setup() {
  const store = new MemoryStore();
  const handler = createApiHandler({
    store,
    config: CONFIG,
    tokens: viewerTokens(async () => SECRET, { workBits: 0 }),
    isProfane: (text) => /badword/i.test(text),
  });
  return { store, handler };
}
const putName = (handler: ReturnType<typeof setup>['handler'], body: object, as: string) =>
  invoke(handler, 'PUT', API_ROUTES.name, { body: JSON.stringify(body), headers: bearer(as) });

describe('PUT /requestor-name', () => {
  it('stores the normalised nickname; refuses a bad one (400 nickname: …), another viewer (403), and a locked channel (409 name_locked)', async () => {
    const { store, handler } = setup();
    const ok = await putName(handler, { requestor_id: 'v1', nickname: '  Ada   Lovelace ' }, 'v1');
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ requestor_id: 'v1', nickname: 'Ada Lovelace' });
    expect(store.scores.names.get('v1')?.nickname).toBe('Ada Lovelace');

    const rude = await putName(handler, { requestor_id: 'v1', nickname: 'BadWord' }, 'v1');
    expect(rude.status).toBe(400);
    expect(rude.json.error.code).toBe('bad_request');
    expect(rude.json.error.message).toMatch(/^nickname: /);

    const other = await putName(handler, { requestor_id: 'v1', nickname: 'Eve' }, 'v2');
    expect(other.status).toBe(403);

    const noToken = await invoke(handler, 'PUT', API_ROUTES.name, {
      body: JSON.stringify({ requestor_id: 'v1', nickname: 'Eve' }),
    });
    expect(noToken.status).toBe(401);

    store.scores.locked.add('local');
    // The API reads the lock at most once a second (NAME_LOCK_CACHE_MS).
    await new Promise((resolve) => setTimeout(resolve, NAME_LOCK_CACHE_MS + 50));
    const locked = await putName(handler, { requestor_id: 'v1', nickname: 'Grace' }, 'v1');
    expect(locked.status).toBe(409);
    expect(locked.json.error.code).toBe('name_locked');
    expect(store.scores.names.get('v1')?.nickname).toBe('Ada Lovelace');
  });
});

describe('POST /requestor-put with elapsed_ms; history and poll views', () => {
  it('scores a quiz vote, says nothing of it until the reveal, then history shows the points', async () => {
    const { store, handler } = setup();
    const runId = 'quiz-1';
    const now = Date.now();
    const poll = await store.openPoll({
      pollId: makePollId(runId, 'q1'),
      runId,
      question: 'Q?',
      answers: ['A', 'B'],
      correct: 1,
      points: 200,
      speed: true,
      title: 'Quiz',
      durationSeconds: 20,
      graceSeconds: 5,
      state: 'open',
      openedAt: new Date(now).toISOString(),
      closesAt: new Date(now + 60_000).toISOString(),
    });
    const voted = await invoke(handler, 'POST', API_ROUTES.vote, {
      body: JSON.stringify({ poll_id: poll.pollId, requestor_id: 'v1', answer: 1, elapsed_ms: 0 }),
      headers: bearer('v1'),
    });
    expect(voted.status).toBe(201);
    expect(Object.keys(voted.json).sort()).toEqual(
      ['answer', 'poll_id', 'requestor_id', 'timestamp_created', 'timestamp_ttl'].sort(),
    );
    const tooLong = await invoke(handler, 'POST', API_ROUTES.vote, {
      body: JSON.stringify({ poll_id: poll.pollId, requestor_id: 'v2', answer: 1, elapsed_ms: 3_600_001 }),
      headers: bearer('v2'),
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.error.message).toMatch(/^elapsed_ms: /);

    const view = (await invoke(handler, 'GET', API_ROUTES.poll, { query: { poll_id: poll.pollId } }))
      .json as PollView;
    expect(view).toMatchObject({ title: 'Quiz', points: 200, speed: true });
    expect(view).not.toHaveProperty('correct');

    const history = async () =>
      (
        (
          await invoke(handler, 'GET', API_ROUTES.history, {
            query: { requestor_id: 'v1' },
            headers: bearer('v1'),
          })
        ).json as HistoryPage
      ).items[0]!;
    expect(await history()).not.toHaveProperty('points');
    await store.closePoll(poll.pollId, new Date());
    expect(await history()).toMatchObject({ points: 200, correct: 1 });
  });
});
