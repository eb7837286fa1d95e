// Issue 22 end to end on the local stack as a user starts it: a quiz show run through the local
// Step Functions (the one ASL), dozens of players with nicknames voting through the REST API with
// `elapsed_ms`, and after each quiz question a `leaderboard` cue in the HLS stream — read back from
// the segments the way a player reads ID3 cues — with the expected top 10, player count and
// thresholds; `final` after the last quiz question. Also: points in history only after the reveal,
// names refused by the filter, hidden by the producer (ScoreStore.setHidden), and locked once the
// first quiz question closed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SFNClient, StartExecutionCommand, DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { API_ROUTES } from '../../contract/api.ts';
import { decodeCue, type Cue, type LeaderboardCue } from '../../contract/cues.ts';
import { STATE_MACHINE_NAME } from '../../contract/state-machine.ts';
import { displayName, thresholdsOf } from '../../core/leaderboard.ts';
import { compareStandings, scoreVote } from '../../core/scoring.ts';
import { localClientConfig } from '../../local/server.ts';
import { ScoreStore } from '../../store/scores.ts';
import { demux, readPrivFrames } from '../ivs/ts-reader.ts';
import { stackTable, TABLE_NAME, type StackTable } from '../support/aws.ts';
import { api, startStack, type StackProcess } from '../support/stack.ts';
import { viewerAuthorization } from '../support/viewer.ts';
import { waitFor } from '../support/wait.ts';

let stack: StackProcess;
let sfn: SFNClient;
let table: StackTable;
let scores: ScoreStore;

beforeAll(async () => {
  stack = await startStack();
  sfn = new SFNClient(localClientConfig(stack.edgeUrl));
  table = stackTable(stack);
  scores = new ScoreStore(table.db, TABLE_NAME);
}, 60_000);

afterAll(async () => {
  sfn?.destroy();
  table?.destroy();
  expect(await stack.stop()).toBe(0);
});

const RUN = 'quiz-e2e';
const DURATION = 6;
const GRACE = 6;
const SHOW = {
  id: 'quiz',
  title: 'Friday Night Quiz',
  latencyGraceSeconds: GRACE,
  scoring: { speed: true },
  polls: [
    {
      id: 'q1',
      at: 2,
      question: 'Capital of France?',
      answers: ['Paris', 'Lyon', 'Nice'],
      correct: 0,
      duration: DURATION,
    },
    { id: 'p1', at: 16, question: 'Having fun?', answers: ['Yes', 'No'], duration: DURATION },
    {
      id: 'q2',
      at: 30,
      question: '2 + 2?',
      answers: ['3', '4'],
      correct: 1,
      points: 500,
      duration: DURATION,
    },
  ],
};
const QUIZ = { q1: SHOW.polls[0]!, q2: SHOW.polls[2]! };

const PLAYERS = Array.from({ length: 30 }, (_, i) => ({ id: `fan-${String(i).padStart(2, '0')}`, i }));
/** The nickname each player asks for: one with markup, one the filter refuses, one with none. */
function nicknameOf(i: number): string | undefined {
  if (i === 29) return '<b>x</b>';
  if (i === 28) return 'fuck face';
  if (i === 27) return undefined;
  return `Fan ${i}`;
}
/** The player the producer hides. */
const HIDDEN = 'fan-25';

/** Each quiz question's votes: [answer, elapsed_ms] per player, or none. Distinct answer times keep the order exact. */
function voteOf(question: 'q1' | 'q2', i: number): [number, number] | undefined {
  if (question === 'q1') return [i % 3 === 0 ? 1 : 0, i * 100];
  if (i >= 26) return undefined; // four players skip q2
  return [i % 2 === 0 ? 1 : 0, i * 37];
}

function expectedStandings(through: Array<'q1' | 'q2'>) {
  const players = new Map<
    string,
    { requestorId: string; score: number; totalAnswerMs: number; firstAnsweredAt: number }
  >();
  for (const q of through) {
    const poll = QUIZ[q];
    for (const { id, i } of PLAYERS) {
      const vote = voteOf(q, i);
      if (!vote) continue;
      const points = scoreVote({
        correct: poll.correct,
        answer: vote[0],
        points: poll.points ?? 1000,
        speed: true,
        durationMs: DURATION * 1000,
        elapsedMs: vote[1],
      });
      const p = players.get(id) ?? { requestorId: id, score: 0, totalAnswerMs: 0, firstAnsweredAt: 0 };
      p.score += points;
      p.totalAnswerMs += vote[1];
      players.set(id, p);
    }
  }
  return [...players.values()].sort(compareStandings);
}

function shownName(id: string, i: number): string {
  const asked = nicknameOf(i);
  const stored = asked === undefined || i === 28 ? null : asked;
  return displayName(stored, id === HIDDEN, id);
}

const putName = async (requestorId: string, nickname: string) => {
  const response = await fetch(`${stack.apiUrl}${API_ROUTES.name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: viewerAuthorization(stack, requestorId) },
    body: JSON.stringify({ requestor_id: requestorId, nickname }),
  });
  return { status: response.status, json: (await response.json()) as any };
};

/** Every cue in the stream so far, in stream order (segments read once each, as a player reads them). */
const seen = new Map<string, Cue[]>();
async function cuesInStream(): Promise<Cue[]> {
  const playlist = await (await fetch(`${stack.appUrl}/live/local/index.m3u8`)).text();
  for (const line of playlist.split('\n')) {
    if (!line || line.startsWith('#') || seen.has(line)) continue;
    const segment = Buffer.from(
      await (await fetch(new URL(line, `${stack.appUrl}/live/local/`))).arrayBuffer(),
    );
    seen.set(
      line,
      demux(segment)
        .pes.filter((p) => p.streamId === 0xbd)
        .flatMap((p) => readPrivFrames(p.payload))
        .map((f) => decodeCue(f.data.toString('utf8')))
        .filter((c): c is Cue => c !== undefined),
    );
  }
  return [...seen.values()].flat();
}

async function waitOpen(pollId: string) {
  await waitFor(
    `${pollId} to open`,
    async () => (await api(stack, 'GET', '/poll-current?channel=local')).json.poll_id === pollId || undefined,
    40_000,
  );
}

async function voteAll(question: 'q1' | 'q2') {
  const pollId = `${RUN}:${question}`;
  await Promise.all(
    PLAYERS.map(async ({ id, i }) => {
      const vote = voteOf(question, i);
      if (!vote) return;
      const r = await api(stack, 'POST', '/requestor-put', {
        poll_id: pollId,
        requestor_id: id,
        answer: vote[0],
        elapsed_ms: vote[1],
      });
      expect(r.status).toBe(201);
      expect(r.json).not.toHaveProperty('points');
    }),
  );
}

async function leaderboardAfter(question: 'q1' | 'q2'): Promise<{ board: LeaderboardCue; cues: Cue[] }> {
  const pollId = `${RUN}:${question}`;
  return waitFor(
    `the leaderboard cue after ${question}`,
    async () => {
      const cues = await cuesInStream();
      const board = cues.find((c): c is LeaderboardCue => c.type === 'leaderboard' && c.poll_id === pollId);
      return board ? { board, cues } : undefined;
    },
    40_000,
    250,
  );
}

function expectBoard(board: LeaderboardCue, through: Array<'q1' | 'q2'>) {
  const expected = expectedStandings(through);
  expect(board.players).toBe(expected.length);
  expect(board.top).toEqual(
    expected.slice(0, 10).map((p, k) => ({
      rank: k + 1,
      name: shownName(p.requestorId, Number(p.requestorId.slice(4))),
      score: p.score,
    })),
  );
  expect(board.thresholds).toEqual(thresholdsOf(expected.map((p) => p.score)));
}

describe('a quiz show on the local stack', () => {
  it('scores votes, sends the leaderboard after each quiz question (final after the last), keeps points secret until the reveal and locks names', async () => {
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${STATE_MACHINE_NAME}`,
        name: RUN,
        input: JSON.stringify(SHOW),
      }),
    );

    // Names, before the first quiz question closes.
    for (const { id, i } of PLAYERS) {
      const nickname = nicknameOf(i);
      if (nickname === undefined) continue;
      const r = await putName(id, nickname);
      if (i === 28) {
        expect(r.status).toBe(400);
        expect(r.json.error.message).toMatch(/^nickname: /);
      } else {
        expect(r).toEqual({ status: 200, json: { requestor_id: id, nickname } });
      }
    }
    await scores.setHidden(HIDDEN, true);
    expect(await scores.getName(HIDDEN)).toEqual({ requestorId: HIDDEN, nickname: 'Fan 25', hidden: true });

    // q1: the poll cue and the view carry the title, the points and the speed flag.
    await waitOpen(`${RUN}:q1`);
    const view = await api(stack, 'GET', `/poll-get?poll_id=${encodeURIComponent(`${RUN}:q1`)}`);
    expect(view.json).toMatchObject({ title: SHOW.title, points: 1000, speed: true });
    expect(view.json).not.toHaveProperty('correct');
    await voteAll('q1');
    // Before the reveal, history says nothing of the points.
    const before = await api(stack, 'GET', '/requestor-get?requestor_id=fan-01');
    expect(before.json.items[0]).toMatchObject({ poll_id: `${RUN}:q1`, answer: 0 });
    expect(before.json.items[0]).not.toHaveProperty('points');

    const first = await leaderboardAfter('q1');
    expectBoard(first.board, ['q1']);
    expect(first.board.final).toBeUndefined();
    // The leaderboard follows the question's results in the stream.
    const order = first.cues.map((c) => `${c.type}:${c.poll_id}`);
    expect(order.indexOf(`leaderboard:${RUN}:q1`)).toBeGreaterThan(order.indexOf(`results:${RUN}:q1`));
    const poll = first.cues.find((c) => c.type === 'poll' && c.poll_id === `${RUN}:q1`);
    expect(poll).toMatchObject({ title: SHOW.title, points: 1000, speed: true });

    // After the reveal: history shows what the answer earned.
    const after = await api(stack, 'GET', '/requestor-get?requestor_id=fan-01');
    expect(after.json.items[0]).toMatchObject({
      poll_id: `${RUN}:q1`,
      correct: 0,
      points: scoreVote({
        correct: 0,
        answer: 0,
        points: 1000,
        speed: true,
        durationMs: DURATION * 1000,
        elapsedMs: 100,
      }),
    });

    // Names are locked now that the first quiz question closed.
    await new Promise((r) => setTimeout(r, 1100)); // the API reads the lock at most once a second
    const locked = await putName('fan-01', 'Renamed');
    expect(locked.status).toBe(409);
    expect(locked.json.error.code).toBe('name_locked');

    // p1, a poll: no points, no leaderboard.
    await waitOpen(`${RUN}:p1`);
    await Promise.all(
      PLAYERS.slice(0, 5).map(({ id }) =>
        api(stack, 'POST', '/requestor-put', { poll_id: `${RUN}:p1`, requestor_id: id, answer: 0 }),
      ),
    );

    await waitOpen(`${RUN}:q2`);
    await voteAll('q2');
    const last = await leaderboardAfter('q2');
    expectBoard(last.board, ['q1', 'q2']);
    expect(last.board.final).toBe(true);
    expect(last.cues.some((c) => c.type === 'leaderboard' && c.poll_id === `${RUN}:p1`)).toBe(false);
    const markup = last.board.top.find((e) => e.name === '<b>x</b>');
    if (markup) expect(markup.name).toBe('<b>x</b>'); // stored as written: the page escapes it

    const history = await api(stack, 'GET', '/requestor-get?requestor_id=fan-00');
    const p1 = history.json.items.find((e: { poll_id: string }) => e.poll_id === `${RUN}:p1`);
    expect(p1).not.toHaveProperty('points');

    const done = await waitFor('the run to succeed', async () => {
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn! }));
      return d.status === 'RUNNING' ? undefined : d;
    });
    expect(done.status).toBe('SUCCEEDED');
    // The producer's view of the standings is the same order.
    const standings = await scores.standings(RUN);
    expect(standings.map((s) => s.requestorId)).toEqual(
      expectedStandings(['q1', 'q2']).map((p) => p.requestorId),
    );
    expect(standings.find((s) => s.requestorId === HIDDEN)).toMatchObject({
      nickname: 'Fan 25',
      hidden: true,
    });
  }, 120_000);
});
