// Crash mid-show and mid-voting: kill -9 the local stack (as `npm start` runs it) while a run is
// waiting on an open poll and votes are coming in; after a restart every acknowledged vote is
// there, the run goes on (resumed on the same execution, its history intact and continued), and the
// open poll closes with every acknowledged vote. test/integration/restart.test.ts runs a whole show
// across a restart.
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { CUE_RESOURCE } from '../../contract/state-machine.ts';
import { api, ROOT, startStack, type StackProcess } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';

const run = promisify(execFile);
const stacks: StackProcess[] = [];
afterAll(async () => {
  for (const s of stacks) await s.kill9();
});

async function showrunner(stack: StackProcess, ...args: string[]) {
  const { stdout } = await run(process.execPath, ['cli/showrunner.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, EDGE_URL: stack.edgeUrl, AWS_ENDPOINT_URL: '' },
  });
  return stdout;
}

async function historyOf(stack: StackProcess, executionArn: string): Promise<HistoryEvent[] | undefined> {
  const sfn = new SFNClient({
    endpoint: stack.edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  try {
    return (await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events;
  } finally {
    sfn.destroy();
  }
}

describe('crash mid-show', () => {
  it('keeps acknowledged votes and the run history across kill -9, and the run goes on', async () => {
    const first = await startStack();
    stacks.push(first);
    const started = JSON.parse(await showrunner(first, 'start', 'shows/test-short.json', '--json')) as {
      runId: string;
      executionArn: string;
    };
    const pollId = `${started.runId}:q1`;

    // q1 is asked 2 s after the start and stays open 5 s + 1 s grace: vote while it is open.
    let open = false;
    for (let i = 0; i < 100 && !open; i++) {
      open = (await api(first, 'GET', `/poll-get?poll_id=${pollId}`)).status === 200;
      if (!open) await new Promise((r) => setTimeout(r, 100));
    }
    expect(open).toBe(true);
    const acknowledged: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await api(first, 'POST', '/requestor-put', {
        poll_id: pollId,
        requestor_id: `v${i}`,
        answer: i % 3,
      });
      if (r.status === 201) acknowledged.push(`v${i}`);
    }
    expect(acknowledged.length).toBe(20);
    // What the producer has been shown of the run before the crash: the asked question must survive
    // it. (The poll item is written by Open, a moment before AskCue's PutMetadata is recorded.)
    let before: HistoryEvent[] = [];
    for (let i = 0; i < 100; i++) {
      before = (await historyOf(first, started.executionArn)) ?? [];
      if (
        before.some(
          (e) => e.type === 'TaskSucceeded' && e.taskSucceededEventDetails?.resource === CUE_RESOURCE,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await first.kill9();

    const second = await startStack({ dataDir: first.dataDir });
    stacks.push(second);
    const poll = await api(second, 'GET', `/poll-get?poll_id=${pollId}`);
    expect(poll.json.total).toBe(acknowledged.length);

    const sfn = new SFNClient({
      endpoint: second.edgeUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(execution).toMatchObject({ status: 'RUNNING', redriveCount: 1 });
    // The open poll closes after the restart, counting every acknowledged vote.
    const closed = await waitFor('q1 to close after the restart', async () => {
      const view = await api(second, 'GET', `/poll-get?poll_id=${pollId}`);
      return view.json.state === 'closed' ? view.json : undefined;
    });
    expect(closed.total).toBe(acknowledged.length);
    const { events } = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: started.executionArn, maxResults: 1000 }),
    );
    // Every event a client read before the kill is there, unchanged, in the same order.
    const key = (e: HistoryEvent) => `${e.id} ${e.type}`;
    expect((events ?? []).slice(0, before.length).map(key)).toEqual(before.map(key));
    const types = (events ?? []).map((e) => e.type);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types.filter((t) => t === 'ExecutionStarted')).toHaveLength(1);
    expect(types).toContain('TaskSucceeded'); // the plan and the opened poll, from before the crash
    expect(types.slice(before.length)).toContain('ExecutionRedriven'); // the restart, after them
    expect(types.some((t) => /^Execution(Succeeded|Failed|Aborted)$/.test(t ?? ''))).toBe(false);
    expect(await showrunner(second, 'list')).toContain(started.runId);
    // `showrunner history` goes on from the same record: q1 asked before the crash, closed after it.
    const q1 = await waitFor('history to show q1 closed', async () => {
      const history = JSON.parse(await showrunner(second, 'history', started.runId, '--json')) as {
        status: string;
        polls: Array<{ poll: string; askedAt: string | null; votes: number | null }>;
      };
      expect(history.status).toBe('RUNNING');
      const found = history.polls.find((p) => p.poll === 'q1');
      return found?.votes !== null ? found : undefined;
    });
    expect(q1.askedAt).not.toBeNull();
    expect(q1.votes).toBe(acknowledged.length);
    sfn.destroy();
    expect(await second.stop()).toBe(0);
  }, 120_000);
});
