// "A restart keeps the show", at the local Step Functions' level (stub Task integrations): a run
// that was RUNNING when the engine stopped is resumed by the next one on the same execution. Saved
// steps are not run again (no cue twice, saved failures replayed without calling), a task in flight
// runs again, overdue waits fall through and show their lateness, a waiting task token stays valid
// until its original deadline, the history is one record with an ExecutionRedriven event, and a run
// keeps the definition it started with. A run that cannot be replayed ends FAILED saying why.
import { describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  SendTaskSuccessCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { DEFINITION_FILE } from '../../local/sfn/definition.ts';
import { CANNOT_RESUME_CAUSE } from '../../local/sfn/index.ts';
import { readTimeline } from '../../ops/timeline.ts';
import { finished, harnessPerTest, history, poll, start, StubAws, waitFor, type Harness } from './stubs.ts';

const harness = harnessPerTest();

const show = (polls: unknown[]) => ({ id: 'restart-show', title: 'Restart', latencyGraceSeconds: 0, polls });

/** The show's poll id (q1) a state event of an iteration is about. */
function pollOf(e: HistoryEvent): string | undefined {
  const input = e.stateEnteredEventDetails?.input;
  if (!input) return undefined;
  return (JSON.parse(input) as { poll?: { id?: string } }).poll?.id;
}

/** A copy of statemachine/show.asl.json changed by `edit`, in the harness's data directory. */
async function definitionFile(dir: string, name: string, edit: (text: string) => string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, edit(await readFile(DEFINITION_FILE, 'utf8')));
  return file;
}

const executionFile = (h: Harness, name: string) => join(h.dataDir, 'executions', `${name}.json`);

describe('a restart keeps the show (local Step Functions)', () => {
  it('resumes a run on the same execution: nothing saved runs twice, the task in flight runs again, the overdue question is asked late, the old token cues the manual one', async () => {
    // q1 stays open 2.5 s, so its LiveTally is in flight when the stack stops; its ask is refused
    // twice first (the channel is not live yet), and those saved failures must replay without a call.
    const aws = new StubAws(2500);
    aws.notBroadcastingFor = 2;
    const retry = { retryIntervalOverrides: { AskCue: 100 } };
    const first = await harness({ aws, ...retry });
    const arn = await start(first, show([poll('q1', 0), poll('q2', 6), poll('m', 'manual')]), 'resumed-run');
    const token = (await waitFor('the manual question to wait', () => aws.cueItems.get('resumed-run:m')))
      .task_token!.S!;
    const before = await waitFor('q1 to be asked and its tally running', async () => {
      const events = await history(first.client, arn);
      return events.some((e) => e.stateEnteredEventDetails?.name === 'LiveTally' && pollOf(e) === 'q1')
        ? events
        : undefined;
    });
    await first.stop();

    // Graceful stop: the run stays RUNNING on disk.
    const saved = JSON.parse(await readFile(executionFile(first, 'resumed-run'), 'utf8'));
    expect(saved.record.status).toBe('RUNNING');
    expect(saved.events.map((e: HistoryEvent) => e.type)).not.toContain('ExecutionFailed');
    const plan = JSON.parse(
      before.find((e) => e.stateExitedEventDetails?.name === 'Plan')!.stateExitedEventDetails!.output!,
    ).plan as { polls: Array<{ id: string; askAt?: string }> };
    const q2At = Date.parse(plan.polls.find((p) => p.id === 'q2')!.askAt!);
    // The stack stays down until q2's time has passed by a second.
    await waitFor('q2 to be overdue', () => Date.now() > q2At + 1000 || undefined, 10_000);
    const callsBefore = aws.calls.length;

    const restartedAt = Date.now();
    const second = await harness({ dataDir: first.dataDir, aws, ...retry });
    const resumed = await second.client.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(resumed).toMatchObject({ status: 'RUNNING', redriveCount: 1 });
    const q2Asked = await waitFor('q2 to be asked after the restart', () =>
      aws.cues.find((c) => c.pollId === 'resumed-run:q2' && c.type === 'poll'),
    );
    expect(q2Asked.at).toBeGreaterThanOrEqual(restartedAt);
    expect(q2Asked.at - restartedAt).toBeLessThan(3000); // overdue: asked at once, not at a new time
    await second.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"cuedBy":"test"}' }));
    const done = await finished(second.client, arn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!).polls.map((p: { id: string }) => p.id)).toEqual(['q1', 'q2', 'm']);

    // Every question and result exactly once: q1's ask was not sent again.
    expect(aws.cues.map((c) => `${c.pollId.split(':')[1]}:${c.type}`).sort()).toEqual(
      ['m:poll', 'm:results', 'q1:poll', 'q1:results', 'q2:poll', 'q2:results'].sort(),
    );
    // What the resumed run called: only what had not finished before the stop.
    const after = aws.calls.slice(callsBefore).sort();
    expect(after).toEqual(
      [
        'lambda:tally', // q1's slice, in flight at the stop, runs again
        'lambda:close',
        'ivs:putMetadata', // q1's results
        'lambda:open', // q2
        'ivs:putMetadata',
        'lambda:tally',
        'lambda:close',
        'ivs:putMetadata',
        'lambda:open', // m, once cued
        'ivs:putMetadata',
        'lambda:tally',
        'lambda:close',
        'ivs:putMetadata',
        'lambda:release', // the run gives its channel back
      ].sort(),
    );

    const events = await history(second.client, arn);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(events.every((e) => e.previousEventId! < e.id!)).toBe(true);
    // What a client read before the stop is there, unchanged.
    const key = (e: HistoryEvent) => `${e.id} ${e.previousEventId} ${e.type} ${e.timestamp!.getTime()}`;
    expect(events.slice(0, before.length).map(key)).toEqual(before.map(key));
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'ExecutionStarted')).toHaveLength(1);
    const restarts = events.filter((e) => e.type === 'ExecutionRedriven');
    expect(restarts).toHaveLength(1);
    expect(restarts[0]!.executionRedrivenEventDetails).toEqual({ redriveCount: 1 });
    expect(restarts[0]!.timestamp!.getTime()).toBeGreaterThanOrEqual(restartedAt - 1000);
    // No step recorded twice: each state of each question entered once, q1's tally scheduled once.
    const entered = events.filter((e) => e.stateEnteredEventDetails && pollOf(e));
    const keys = entered.map((e) => `${e.stateEnteredEventDetails!.name} ${pollOf(e)}`);
    expect(new Set(keys).size).toBe(keys.length);
    const q1Tally = events.filter(
      (e) =>
        e.type === 'TaskScheduled' &&
        e.taskScheduledEventDetails!.parameters!.includes('"action":"tally"') &&
        e.taskScheduledEventDetails!.parameters!.includes('resumed-run:q1'),
    );
    expect(q1Tally).toHaveLength(1);
    expect(q1Tally[0]!.id).toBeLessThan(restarts[0]!.id!);
    // The refused asks are the saved ones, before the restart.
    const failed = events.filter((e) => e.type === 'TaskFailed');
    expect(failed.map((e) => e.taskFailedEventDetails!.error)).toEqual([
      'Ivs.ChannelNotBroadcastingException',
      'Ivs.ChannelNotBroadcastingException',
    ]);
    expect(failed.every((e) => e.id! < restarts[0]!.id!)).toBe(true);

    // The producer's view: q2 late by the downtime past its time, q1 on time.
    const timeline = readTimeline(events);
    const byId = new Map(timeline.polls.map((p) => [p.id, p]));
    expect(byId.get('q1')!.lateMs!).toBeLessThan(1000);
    expect(byId.get('q2')!.lateMs!).toBeGreaterThanOrEqual(restartedAt - q2At);
    expect(byId.get('q2')!.lateMs!).toBe(byId.get('q2')!.askedAt! - q2At);
    expect(byId.get('m')!.cuedAt).toBeGreaterThan(restartedAt);
    expect(timeline.ended?.type).toBe('ExecutionSucceeded');
    expect(aws.ended).toEqual([]);
  }, 60_000);

  it('a waiting task keeps its deadline: a manual question whose 12 h (here 2 s) ran out during the downtime times out at once', async () => {
    const aws = new StubAws();
    const first = await harness({ aws });
    const definition = await definitionFile(first.dataDir, 'short-cue.asl.json', (text) =>
      text.replace('"TimeoutSeconds": 43200', '"TimeoutSeconds": 2'),
    );
    await first.stop();
    const withShortCue = await harness({ aws, dataDir: first.dataDir, definitionFile: definition });
    const arn = await start(withShortCue, show([poll('m', 'manual')]), 'short-cue');
    const token = (await waitFor('the manual question to wait', () => aws.cueItems.get('short-cue:m')))
      .task_token!.S!;
    const scheduled = await waitFor('its task to be scheduled', async () =>
      (await history(withShortCue.client, arn)).find((e) => e.type === 'TaskSubmitted'),
    );
    await withShortCue.stop();
    await waitFor(
      'the deadline to pass while stopped',
      () => Date.now() > scheduled.timestamp!.getTime() + 2500 || undefined,
    );

    const restartedAt = Date.now();
    const second = await harness({ aws, dataDir: first.dataDir, definitionFile: definition });
    const done = await finished(second.client, arn, 5000);
    expect(done).toMatchObject({ status: 'FAILED', error: 'ManualCueTimedOut' });
    expect(done.stopDate!.getTime() - restartedAt).toBeLessThan(3000);
    const events = await history(second.client, arn);
    const restart = events.findIndex((e) => e.type === 'ExecutionRedriven');
    expect(events.findIndex((e) => e.type === 'TaskTimedOut')).toBeGreaterThan(restart);
    await expect(
      second.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })),
    ).rejects.toMatchObject({ name: expect.stringMatching(/TaskDoesNotExist|TaskTimedOut/) });
    // Ended like any failed run: the stack's end-of-run rule closes its questions.
    expect(aws.ended).toEqual([expect.objectContaining({ name: 'short-cue', status: 'FAILED' })]);
  }, 30_000);

  it('a run resumes on the definition it started with, as Step Functions keeps an execution on its version', async () => {
    const aws = new StubAws();
    const first = await harness({ aws });
    const arn = await start(first, show([poll('m', 'manual')]), 'old-definition');
    const token = (await waitFor('the manual question to wait', () => aws.cueItems.get('old-definition:m')))
      .task_token!.S!;
    await first.stop();
    // The definition changed while the stack was down: a state renamed.
    const changed = await definitionFile(first.dataDir, 'changed.asl.json', (text) =>
      text.replaceAll('"PollDone"', '"PollFinished"'),
    );
    const second = await harness({ aws, dataDir: first.dataDir, definitionFile: changed });
    await second.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }));
    expect((await finished(second.client, arn)).status).toBe('SUCCEEDED');
    const names = (await history(second.client, arn)).map((e) => e.stateEnteredEventDetails?.name);
    expect(names).toContain('PollDone');
    expect(names).not.toContain('PollFinished');
    const own = await second.client.send(new DescribeStateMachineForExecutionCommand({ executionArn: arn }));
    expect(own.definition).toContain('"PollDone"');
    const current = await second.client.send(
      new DescribeStateMachineCommand({ stateMachineArn: second.sfn.stateMachineArn }),
    );
    expect(current.definition).toContain('"PollFinished"');
    // A run started now runs the new one.
    const fresh = await start(second, show([poll('q1', 0)]), 'new-definition');
    expect((await finished(second.client, fresh)).status).toBe('SUCCEEDED');
    const freshNames = (await history(second.client, fresh)).map((e) => e.stateEnteredEventDetails?.name);
    expect(freshNames).toContain('PollFinished');
  }, 30_000);

  it('a run that cannot be replayed ends FAILED with a cause that says why, and its end goes to the end-of-run handler', async () => {
    const aws = new StubAws();
    const first = await harness({ aws });
    const names = ['older-format', 'damaged-history', 'bad-definition', 'diverged'];
    for (const name of names) await start(first, show([poll('m', 'manual')]), name);
    await waitFor('every run to wait for its cue', () => aws.cueItems.size === names.length || undefined);
    await first.stop();

    const edit = async (name: string, change: (stored: Record<string, any>) => void) => {
      const stored = JSON.parse(await readFile(executionFile(first, name), 'utf8'));
      change(stored);
      await writeFile(executionFile(first, name), JSON.stringify(stored));
    };
    await edit('older-format', (s) => {
      delete s.threads;
      delete s.tokenSeed;
      delete s.definition;
    });
    await edit('damaged-history', (s) => {
      s.events[3].id = 99;
    });
    await edit('bad-definition', (s) => {
      s.definition = JSON.stringify({ StartAt: 'Nowhere', States: {} });
    });
    // The saved history says the iteration went through a state the definition does not have.
    await edit('diverged', (s) => {
      const entered = s.events.find(
        (e: HistoryEvent) => e.stateEnteredEventDetails?.name === 'IsManual',
      ) as HistoryEvent;
      entered.stateEnteredEventDetails!.name = 'WasManual';
    });

    const second = await harness({ aws, dataDir: first.dataDir });
    const arnOf = (name: string) =>
      second.sfn.stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
    const reasons: Record<string, RegExp> = {
      'older-format': /saved by a version of the local stack that did not keep what a resume needs/,
      'damaged-history': /its saved history is damaged/,
      'bad-definition': /the definition it started with no longer loads/,
      diverged: /the replay did not follow its saved history \(.*WasManual/,
    };
    for (const name of names) {
      const done = await finished(second.client, arnOf(name));
      expect(done).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
      expect(done.cause!.startsWith(`${CANNOT_RESUME_CAUSE}: `)).toBe(true);
      expect(done.cause).toMatch(reasons[name]!);
      const events = await history(second.client, arnOf(name));
      expect(events.at(-1)!.type).toBe('ExecutionFailed');
    }
    // The diverged run's history: the restart, then its end; what was saved is kept.
    const diverged = (await history(second.client, arnOf('diverged'))).map((e) => e.type);
    expect(diverged.slice(-2)).toEqual(['ExecutionRedriven', 'ExecutionFailed']);
    expect(diverged[0]).toBe('ExecutionStarted');
    await waitFor('every end to reach the handler', () => aws.ended.length === names.length || undefined);
    expect(aws.ended.map((e) => [e.name, e.status]).sort()).toEqual(names.map((n) => [n, 'FAILED']).sort());
    // Nothing was called again for them.
    expect(aws.cues).toEqual([]);
  }, 30_000);
});
