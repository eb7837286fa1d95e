// "A restart keeps the show": the local stack as `npm start` runs it, a show with two timed
// questions and a manual one, votes on the first, then the stack goes down between the first and
// the second question — kill -9, or Ctrl-C — and comes back on the same data directory while the
// second question's time passes. The run must still be RUNNING on the same execution, ask the
// second question at once (late by the downtime, which `showrunner history` shows), take its cue for
// the manual question from the token issued before the restart, SUCCEED, and count every vote.
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { CUE_RESOURCE } from '../../contract/state-machine.ts';
import { CUE_ITEM_KEY } from '../../contract/table.ts';
import { localClientConfig } from '../../local/server.ts';
import { systemClock } from '../../ops/clock.ts';
import { followRun, type FollowEvent } from '../../ops/follow.ts';
import { connectLocal } from '../../ops/target.ts';
import { stackTable, TABLE_NAME } from '../support/aws.ts';
import { api, ROOT, startStack, type StackProcess } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';

const run = promisify(execFile);
const stacks: StackProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const s of stacks) await s.kill9();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A short settle keeps the test short; the rules it checks are the same. */
const ENV = { VOTE_SETTLE_MS: '5000' };
/** q2's time: the stack is down across it. */
const Q2_AT = 12;
const SHOW = {
  id: 'restart',
  title: 'A restart keeps the show',
  latencyGraceSeconds: 0,
  polls: [
    { id: 'q1', at: 2, question: 'Before the restart?', answers: ['A', 'B', 'C'], correct: 1, duration: 5 },
    { id: 'q2', at: Q2_AT, question: 'After the restart?', answers: ['Yes', 'No'], duration: 5 },
    { id: 'm', at: 'manual', question: 'Cued after it?', answers: ['Up', 'Down'], duration: 5 },
  ],
};

async function showrunner(stack: StackProcess, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['cli/showrunner.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, EDGE_URL: stack.edgeUrl, AWS_ENDPOINT_URL: '' },
  });
  return stdout;
}

async function historyOf(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  return (await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events ?? [];
}

/** Votes `count` viewers (`<prefix>0`…) on the poll, answer i % answers; every vote must be acknowledged. */
async function vote(stack: StackProcess, pollId: string, prefix: string, count: number, answers: number) {
  const counts = new Array<number>(answers).fill(0);
  for (let i = 0; i < count; i++) {
    const r = await api(stack, 'POST', '/requestor-put', {
      poll_id: pollId,
      requestor_id: `${prefix}${i}`,
      answer: i % answers,
    });
    expect(r.status).toBe(201);
    counts[i % answers]! += 1;
  }
  return counts;
}

const isOpen = (stack: StackProcess, pollId: string) => async () =>
  (await api(stack, 'GET', `/poll-get?poll_id=${pollId}`)).json?.state === 'open' || undefined;

/** The show's poll id (q1) a state event of an iteration is about. */
function pollOf(e: HistoryEvent): string | undefined {
  const input = e.stateEnteredEventDetails?.input;
  return input ? (JSON.parse(input) as { poll?: { id?: string } }).poll?.id : undefined;
}

type Stop = (stack: StackProcess) => Promise<void>;

/** SIGKILL: what a crash looks like. */
const kill9: Stop = (stack) => stack.kill9();
/** Ctrl-C: a clean stop, exit 0. */
const ctrlC: Stop = async (stack) => {
  const exited = once(stack.child, 'exit');
  stack.child.kill('SIGINT');
  const [code] = (await exited) as [number | null];
  expect(code).toBe(0);
  expect(stack.output()).toContain('SIGINT: stopping');
};

async function restartMidShow(stop: Stop) {
  const showDir = await mkdtemp(join(tmpdir(), 'showrunner-restart-show-'));
  dirs.push(showDir);
  const showFile = join(showDir, 'restart.json');
  await writeFile(showFile, JSON.stringify(SHOW));

  const first = await startStack({ env: ENV });
  stacks.push(first);
  const started = JSON.parse(await showrunner(first, 'start', showFile, '--json')) as {
    runId: string;
    executionArn: string;
    startAt: string;
  };
  const { runId, executionArn } = started;
  const q2At = Date.parse(started.startAt) + Q2_AT * 1000;

  // Votes on q1 while it is open.
  await waitFor('q1 to open', isOpen(first, `${runId}:q1`));
  const cast: Record<string, number[]> = { q1: await vote(first, `${runId}:q1`, 'before-', 12, 3) };
  const firstTable = stackTable(first);
  const cueKey = { poll_id: `${runId}:m`, requestor_id: CUE_ITEM_KEY };
  const cueItem = await waitFor('the manual question to wait for its cue', async () => {
    const { Item } = await firstTable.db.send(new GetCommand({ TableName: TABLE_NAME, Key: cueKey }));
    return Item;
  });
  firstTable.destroy();
  // What the producer has been shown before the stop: q1 asked.
  const sfn1 = new SFNClient(localClientConfig(first.edgeUrl));
  const before = await waitFor('q1 to be asked in the history', async () => {
    const events = await historyOf(sfn1, executionArn);
    return events.some(
      (e) => e.type === 'TaskSucceeded' && e.taskSucceededEventDetails?.resource === CUE_RESOURCE,
    )
      ? events
      : undefined;
  });
  sfn1.destroy();
  expect(Date.now()).toBeLessThan(q2At); // the stop comes between q1 and q2

  const stoppedAt = Date.now();
  await stop(first);
  // Whatever the stop, the run is RUNNING on disk: a stop is not the run's end.
  const saved = JSON.parse(
    await readFile(join(first.dataDir, 'stepfunctions', 'executions', `${runId}.json`), 'utf8'),
  );
  expect(saved.record.status).toBe('RUNNING');
  // The stack stays down until q2's time has passed.
  await waitFor('q2 to be overdue', () => Date.now() > q2At + 1000 || undefined, 30_000);

  const second = await startStack({ dataDir: first.dataDir, env: ENV });
  stacks.push(second);
  const readyAt = Date.now();
  const sfn = new SFNClient(localClientConfig(second.edgeUrl));
  const table = stackTable(second);
  const target = await connectLocal({ edgeUrl: second.edgeUrl, region: 'us-east-1' });
  try {
    const resumed = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(resumed).toMatchObject({ status: 'RUNNING', redriveCount: 1 });
    const status = JSON.parse(await showrunner(second, 'status', runId, '--json'));
    expect(status).toMatchObject({ runId, status: 'RUNNING' });

    // A producer following the run from now on sees it from its start to its end.
    const followed: FollowEvent[] = [];
    const following = (async () => {
      for await (const event of followRun(target, executionArn, systemClock)) followed.push(event);
    })();

    // The manual question: `showrunner cue` with the token stored before the restart.
    const cued = JSON.parse(await showrunner(second, 'cue', runId, '--json'));
    expect(cued).toMatchObject({ runId, poll: 'm' });
    const { Item: claimed } = await table.db.send(new GetCommand({ TableName: TABLE_NAME, Key: cueKey }));
    expect(claimed?.task_token).toBe(cueItem.task_token);
    expect(claimed?.cued_at).toBe(cued.cuedAt);

    // q2 (overdue) and m are asked; votes on both.
    await waitFor('q2 to open', isOpen(second, `${runId}:q2`));
    cast.q2 = await vote(second, `${runId}:q2`, 'after-', 8, 2);
    await waitFor('m to open', isOpen(second, `${runId}:m`));
    cast.m = await vote(second, `${runId}:m`, 'cued-', 6, 2);

    const done = await waitFor(
      'the run to end',
      async () => {
        const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        return out.status === 'RUNNING' ? undefined : out;
      },
      60_000,
      250,
    );
    expect(done.status).toBe('SUCCEEDED');
    await following;

    // No vote lost: the results count exactly the votes cast, before and after the restart.
    const results = JSON.parse(await showrunner(second, 'results', runId, '--json')) as {
      polls: Array<{ poll: string; state: string; counts: number[]; total: number }>;
    };
    for (const id of ['q1', 'q2', 'm']) {
      const result = results.polls.find((p) => p.poll === id)!;
      expect({ id, state: result.state, counts: result.counts }).toEqual({
        id,
        state: 'closed',
        counts: cast[id],
      });
    }

    // One continuous history: what was read before the stop unchanged, one start, one restart, no
    // step recorded twice.
    const events = await historyOf(sfn, executionArn);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    const key = (e: HistoryEvent) => `${e.id} ${e.type} ${e.timestamp!.getTime()}`;
    expect(events.slice(0, before.length).map(key)).toEqual(before.map(key));
    expect(events.filter((e) => e.type === 'ExecutionStarted')).toHaveLength(1);
    const restarts = events.filter((e) => e.type === 'ExecutionRedriven');
    expect(restarts).toHaveLength(1);
    const restartAt = restarts[0]!.timestamp!.getTime();
    expect(restartAt).toBeGreaterThan(stoppedAt);
    expect(restartAt).toBeLessThanOrEqual(readyAt);
    const entered = events
      .filter((e) => e.stateEnteredEventDetails && pollOf(e))
      .map((e) => `${e.stateEnteredEventDetails!.name} ${pollOf(e)}`);
    expect(new Set(entered).size).toBe(entered.length);
    expect(events.at(-1)!.type).toBe('ExecutionSucceeded');

    // `showrunner history`: q1 on time, q2 late by the downtime past its time.
    const history = JSON.parse(await showrunner(second, 'history', runId, '--json')) as {
      status: string;
      polls: Array<{ poll: string; lateMs: number | null; askedAt: string | null; votes: number | null }>;
    };
    expect(history.status).toBe('SUCCEEDED');
    const byId = new Map(history.polls.map((p) => [p.poll, p]));
    expect(byId.get('q1')!.lateMs!).toBeLessThan(1500);
    const q2Late = byId.get('q2')!.lateMs!;
    expect(q2Late).toBeGreaterThanOrEqual(restartAt - q2At);
    // Asked at once on resume: within IVS's retry while the restarted stream comes up (3 s) and a margin.
    expect(q2Late).toBeLessThan(restartAt - q2At + 8000);
    expect(history.polls.map((p) => p.votes)).toEqual([12, 8, 6]);
    const text = await showrunner(second, 'history', runId);
    expect(text).toContain('LATE BY');
    expect(text).toMatch(/SUCCEEDED/);

    // follow: every question and result once, then the end.
    const cues = followed.flatMap((e) =>
      e.event === 'cue' && e.sent.cue ? [`${e.sent.localId} ${e.sent.cue.type}`] : [],
    );
    // q1 is the show's one quiz question: its leaderboard follows its results.
    expect(cues.sort()).toEqual(
      ['m poll', 'm results', 'q1 poll', 'q1 results', 'q1 leaderboard', 'q2 poll', 'q2 results'].sort(),
    );
    expect(followed.at(-1)).toMatchObject({ event: 'end', status: 'SUCCEEDED' });
  } finally {
    sfn.destroy();
    table.destroy();
    target.close();
    expect(await second.stop()).toBe(0);
  }
}

describe('a restart keeps the show', () => {
  it('kill -9 between two questions: the run resumes RUNNING, the overdue question is asked late, the manual one is cued with its old token, it SUCCEEDS with every vote', async () => {
    await restartMidShow(kill9);
  }, 180_000);

  it('Ctrl-C between two questions: the run is not failed or aborted, and resumes the same way', async () => {
    await restartMidShow(ctrlC);
  }, 180_000);
});
