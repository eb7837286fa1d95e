// `showrunner leaderboard` and `showrunner hide-name` on the local stack (issue 22): the standings
// of a run as the producer reads them, byte-identical to the control room's export for --csv and
// --json; and `results`/`history` saying which questions were scored and the points they gave.
import { viewerAuthorization } from '../support/viewer.ts';
import { waitFor } from '../support/wait.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { leaderboardCsv, leaderboardJson, type RunLeaderboard } from '../../contract/producer.ts';
import { DEFAULT_VOTE_SHARDS, TABLE } from '../../contract/table.ts';
import { displayName } from '../../core/leaderboard.ts';
import { tableClient, type TableClient } from '../../store/clients.ts';
import { ScoreStore } from '../../store/scores.ts';
import { cli, composeStack, type TestStack } from './local-stack.ts';

let stack: TestStack;
let env: Record<string, string>;
let dir: string;
let table: TableClient;
let scores: ScoreStore;

beforeAll(async () => {
  stack = await composeStack();
  env = { EDGE_URL: stack.edgeUrl };
  dir = await mkdtemp(join(tmpdir(), 'showrunner-leaderboard-'));
  table = tableClient({
    endpoint: stack.edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  scores = new ScoreStore(table.db, TABLE.defaultName);
}, 60_000);
afterAll(async () => {
  table?.destroy();
  await stack?.close();
}, 30_000);

async function start(name: string, show: unknown): Promise<{ runId: string; executionArn: string }> {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(show));
  const started = await cli(['start', file, '--json', '--replace'], env);
  expect(started.stderr).toBe('');
  return JSON.parse(started.stdout);
}

async function runStatus(executionArn: string) {
  return (await stack.client.send(new DescribeExecutionCommand({ executionArn }))).status;
}

describe('showrunner leaderboard and hide-name', () => {
  it('lists every player best first; --csv and --json are the export byte for byte; hide-name hides a nickname', async () => {
    // A quiz question nobody cues: the scores are written with the store's own vote-path write.
    const { runId, executionArn } = await start('scored', {
      id: 'cli-board',
      title: 'Leaderboard',
      polls: [
        { id: 'q1', at: 'manual', question: 'Right?', answers: ['Yes', 'No'], correct: 0, duration: 5 },
      ],
    });
    const now = new Date();
    const shards = await scores.runScoreShards(runId, DEFAULT_VOTE_SHARDS, now);
    const write = (requestorId: string, points: number, elapsedMs: number) =>
      scores.addScore({ runId, pollId: `${runId}:q1`, requestorId, shards, points, elapsedMs, at: now });
    await write('viewer-ada', 900, 2_000);
    await write('viewer-bob', 900, 1_500); // same score, faster: ranks first
    await write('viewer-cy', 0, 4_000);
    await scores.setNickname('viewer-ada', 'Ada', now);
    await scores.setNickname('viewer-bob', '=Bob', now);

    const json = await cli(['leaderboard', runId, '--json'], env);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const board = JSON.parse(json.stdout) as RunLeaderboard;
    expect(board).toMatchObject({ runId, players: 3, final: false });
    expect(board.standings.map((s) => [s.rank, s.requestor_id, s.name, s.score, s.total_answer_ms])).toEqual([
      [1, 'viewer-bob', '=Bob', 900, 1_500],
      [2, 'viewer-ada', 'Ada', 900, 2_000],
      [3, 'viewer-cy', displayName(null, false, 'viewer-cy'), 0, 4_000],
    ]);
    // The same functions as the control room's download: identical bytes.
    expect(json.stdout).toBe(leaderboardJson(board));
    const csv = await cli(['leaderboard', runId, '--csv'], env);
    expect(csv.stdout).toBe(leaderboardCsv(board));
    expect(csv.stdout.split('\r\n')[1]).toBe(`${runId},1,viewer-bob,"'=Bob","'=Bob",no,900,1500,no`);

    const text = await cli(['leaderboard', runId], env);
    expect(text.stdout).toContain(`${runId}  3 players, so far`);
    expect(text.stdout).toMatch(/RANK\s+NAME\s+SCORE\s+ANSWER TIME\s+REQUESTOR ID/);
    expect(text.stdout).toMatch(/1\s+=Bob\s+900\s+1\.500 s\s+viewer-bob/);

    // Hide Bob's nickname: viewers see "Player XXXX"; the producer still sees what it was.
    const hidden = await cli(['hide-name', 'viewer-bob', '--json'], env);
    expect(hidden.stderr).toBe('');
    expect([hidden.code, hidden.stdout]).toEqual([0, '{"requestorId":"viewer-bob","hidden":true}\n']);
    const after = JSON.parse((await cli(['leaderboard', runId, '--json'], env)).stdout) as RunLeaderboard;
    expect(after.standings[0]).toMatchObject({
      requestor_id: 'viewer-bob',
      name: displayName('=Bob', true, 'viewer-bob'),
      nickname: '=Bob',
      hidden: true,
    });
    expect((await cli(['leaderboard', runId], env)).stdout).toContain(
      `${displayName(null, true, 'viewer-bob')} (hidden: =Bob)`,
    );
    expect((await cli(['hide-name', 'viewer-bob', '--show'], env)).stdout).toContain('shown again');
    expect((await scores.getName('viewer-bob'))?.hidden).toBe(false);

    // Usage errors name the argument; a run that does not exist is named.
    expect(await cli(['hide-name'], env)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/REQUESTOR_ID: missing/),
    });
    expect(await cli(['hide-name', '#poll'], env)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/REQUESTOR_ID: expected a viewer id/),
    });
    expect(await cli(['leaderboard', runId, '--csv', '--json'], env)).toMatchObject({ code: 2 });
    expect(await cli(['leaderboard', 'no-such-run'], env)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no run no-such-run'),
    });

    // Stopped before its quiz question was asked: the standings will not change any more.
    await cli(['stop', runId], env);
    await waitFor('the run to stop', async () =>
      (await runStatus(executionArn)) === 'RUNNING' ? undefined : true,
    );
    expect(JSON.parse((await cli(['leaderboard', runId, '--json'], env)).stdout).final).toBe(true);
  }, 60_000);

  it('a real quiz run: votes score, results and history show the points given, the leaderboard is final', async () => {
    const { runId, executionArn } = await start('quiz', {
      id: 'cli-quiz',
      title: 'Quiz',
      latencyGraceSeconds: 1,
      polls: [
        { id: 'q1', at: 1, question: 'Right?', answers: ['Yes', 'No'], correct: 0, points: 500, duration: 5 },
        { id: 'q2', at: 8, question: 'Poll?', answers: ['A', 'B'], duration: 5 },
      ],
    });
    const vote = async (requestorId: string, answer: number) => {
      const res = await fetch(`${stack.appUrl}/api/requestor-put`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: viewerAuthorization(stack, requestorId),
        },
        body: JSON.stringify({ poll_id: `${runId}:q1`, requestor_id: requestorId, answer, elapsed_ms: 1000 }),
      });
      await res.arrayBuffer();
      return res.status;
    };
    await waitFor('q1 to open', async () => {
      const res = await fetch(`${stack.appUrl}/api/poll-get?poll_id=${encodeURIComponent(`${runId}:q1`)}`);
      const body = (await res.json()) as { state?: string };
      return res.ok && body.state === 'open' ? true : undefined;
    });
    expect([await vote('quiz-a', 0), await vote('quiz-b', 0), await vote('quiz-c', 1)]).toEqual([
      201, 201, 201,
    ]);
    await waitFor(
      'the run to end',
      async () => ((await runStatus(executionArn)) === 'RUNNING' ? undefined : true),
      30_000,
    );

    const board = JSON.parse((await cli(['leaderboard', runId, '--json'], env)).stdout) as RunLeaderboard;
    expect(board).toMatchObject({ runId, players: 3, final: true });
    expect(board.standings.map((s) => [s.requestor_id, s.score]).sort()).toEqual([
      ['quiz-a', 500],
      ['quiz-b', 500],
      ['quiz-c', 0],
    ]);

    const results = JSON.parse((await cli(['results', runId, '--json'], env)).stdout);
    expect(results.polls[0]).toMatchObject({ poll: 'q1', points: 500, points_given: 1000 });
    expect(results.polls[1]).not.toHaveProperty('points');
    expect((await cli(['results', runId], env)).stdout).toMatch(/q1 Right\?.*500 each, 1000 given/);
    const history = await cli(['history', runId], env);
    expect(history.stdout).toMatch(/q1 Right\?.*500 each, 1000 given/);
    expect(history.stdout).toMatch(/q2 Poll\?.*–$/m);
  }, 60_000);
});
