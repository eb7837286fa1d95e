// Honest state: a run that ends before its poll closes — stopped by the producer, or
// failed — closes that poll, so /poll-get, the viewer's history and /poll-current agree with the run.
// The local stack as a user starts it; the run through the local Step Functions API, as the CLI
// and the console start it.
import { waitFor } from '../support/wait.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { STATE_MACHINE_NAME } from '../../contract/state-machine.ts';
import { localClientConfig } from '../../local/server.ts';
import { stackTable, type StackTable } from '../support/aws.ts';
import { api, startStack, type StackProcess } from '../support/stack.ts';

const GHOST_CHANNEL = 'arn:aws:ivs:us-east-1:000000000000:channel/ghost';
let stack: StackProcess;
let sfn: SFNClient;
let table: StackTable;

beforeAll(async () => {
  // A short settle keeps the test short; the rule it checks is the same.
  stack = await startStack({ env: { VOTE_SETTLE_MS: '5000', CUE_CHANNEL_ARNS: GHOST_CHANNEL } });
  sfn = new SFNClient(localClientConfig(stack.edgeUrl));
  table = stackTable(stack);
}, 60_000);

afterAll(async () => {
  sfn?.destroy();
  table?.destroy();
  expect(await stack.stop()).toBe(0);
});

async function startRun(name: string, show: unknown): Promise<string> {
  const out = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${STATE_MACHINE_NAME}`,
      name,
      input: JSON.stringify(show),
    }),
  );
  return out.executionArn!;
}

describe('a run that ends early closes its open poll', () => {
  it('"Stopping a run mid-poll closes it and the history says closed": votes before the stop count, votes after are refused', async () => {
    const executionArn = await startRun('honest-stop', {
      id: 'honest',
      title: 'Stopped mid-poll',
      latencyGraceSeconds: 0,
      polls: [{ id: 'q1', at: 1, question: 'Still open?', answers: ['Yes', 'No'], duration: 600 }],
    });
    const pollId = 'honest-stop:q1';
    await waitFor('q1 to open', async () => {
      const current = await api(stack, 'GET', '/poll-current?channel=local');
      return current.json.poll_id === pollId ? true : undefined;
    });
    expect(
      (await api(stack, 'POST', '/requestor-put', { poll_id: pollId, requestor_id: 'viewer-a', answer: 0 }))
        .status,
    ).toBe(201);

    await sfn.send(
      new StopExecutionCommand({ executionArn, error: 'Stopped', cause: 'producer stopped the show' }),
    );
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('ABORTED');

    // Refused once the API's cached poll item (1 s) has expired; every vote acknowledged till then counts.
    let acknowledged = 1;
    const late = await waitFor(
      'votes to be refused',
      async () => {
        const vote = await api(stack, 'POST', '/requestor-put', {
          poll_id: pollId,
          requestor_id: `viewer-late-${acknowledged}`,
          answer: 1,
        });
        if (vote.status !== 201) return vote;
        acknowledged += 1;
        return undefined;
      },
      5000,
    );
    expect(late).toMatchObject({ status: 409, json: { error: { code: 'poll_closed' } } });

    // …and recounted once every vote that could still land has: the same state everywhere.
    const recounted = await waitFor('the poll to be recounted', async () => {
      const poll = await table.store.getPoll(pollId);
      return poll?.finalCounts ? poll : undefined;
    });
    expect(recounted).toMatchObject({ state: 'closed', finalCounts: [1, acknowledged - 1] });
    const view = await api(stack, 'GET', `/poll-get?poll_id=${encodeURIComponent(pollId)}`);
    expect(view.json).toMatchObject({ state: 'closed', counts: [1, acknowledged - 1], total: acknowledged });
    const history = await api(stack, 'GET', '/requestor-get?requestor_id=viewer-a');
    expect(history.json.items[0]).toMatchObject({ poll_id: pollId, state: 'closed', answer: 0 });
    const current = await api(stack, 'GET', '/poll-current?channel=local');
    expect(current.json).toMatchObject({ poll_id: pollId, state: 'closed' });
    // …and the producer's history (what `showrunner history` and the control room show) says when.
    const token = /\/control\/#token=([A-Za-z0-9_-]+)/.exec(stack.output())![1];
    const run = await api(stack, 'GET', '/producer/history?runId=honest-stop', undefined, {
      authorization: `Bearer ${token}`,
    });
    expect(run.json.run.status).toBe('ABORTED');
    expect(run.json.polls[0].closedAt).toBe(Date.parse(recounted.closedAt!));
  }, 60_000);

  it('"A failed run closes its open polls": a question opened but never aired (IVS refused its cue) is closed, and the run fails with IVS\'s error', async () => {
    const executionArn = await startRun('honest-fail', {
      id: 'honest',
      title: 'Fails at the first ask',
      latencyGraceSeconds: 0,
      polls: [{ id: 'q1', at: 1, question: 'Never aired?', answers: ['Yes', 'No'], duration: 600 }],
      // In the grant (CUE_CHANNEL_ARNS) but not a channel IVS has: Open runs, then AskCue fails.
      channelArn: GHOST_CHANNEL,
    });
    const done = await waitFor('the run to end', async () => {
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return d.status === 'RUNNING' ? undefined : d;
    });
    expect(done).toMatchObject({ status: 'FAILED', error: 'Ivs.ResourceNotFoundException' });
    const view = await api(stack, 'GET', `/poll-get?poll_id=${encodeURIComponent('honest-fail:q1')}`);
    expect(view.json).toMatchObject({ state: 'closed', counts: [0, 0], total: 0 });
    const current = await api(stack, 'GET', '/poll-current?channel=ghost');
    expect(current.json).toMatchObject({ poll_id: 'honest-fail:q1', state: 'closed' });
  }, 60_000);
});
