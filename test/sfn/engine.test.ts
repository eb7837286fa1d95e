// The local Step Functions through @aws-sdk/client-sfn, with stub Task integrations (no DynamoDB,
// no IVS): the definition's flow, history shape, task tokens, stop, restart and the API's errors.
import { describe, expect, it } from '@jest/globals';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidArn,
  InvalidExecutionInput,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  TaskDoesNotExist,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { CANNOT_RESUME_CAUSE } from '../../local/sfn/index.ts';
import {
  CHANNEL_ARN,
  EXTRA_CHANNEL_ARN,
  sleep,
  harnessPerTest,
  poll,
  StubAws,
  waitFor,
  start,
  finished,
  history,
} from './stubs.ts';

const harness = harnessPerTest();

function show(polls: unknown[], extra: Record<string, unknown> = {}) {
  return { id: 'test-show', title: 'Test show', latencyGraceSeconds: 0, polls, ...extra };
}

/** The state output of each exit of `stateName`, with its time. */
function exits(events: HistoryEvent[], stateName: string) {
  return events
    .filter((e) => e.stateExitedEventDetails?.name === stateName)
    .map((e) => ({ at: e.timestamp!, output: JSON.parse(e.stateExitedEventDetails!.output!) }));
}

describe('local Step Functions (stub integrations)', () => {
  it('asks timed polls at their absolute time, waits for the cue on manual ones, and records a Step Functions history', async () => {
    const h = await harness();
    const arn = await start(h, show([poll('q1', 1), poll('q2', 'manual'), poll('q3', 2)]));

    const token = await waitFor('the manual poll to store its task token', () =>
      h.aws.cueItems.get(`${arn.split(':').pop()}:q2`),
    );
    expect(token.requestor_id).toEqual({ S: '#cue' });
    await waitFor(
      'q1 and q3 to be asked',
      () => h.aws.cues.filter((c) => c.type === 'poll').length >= 2 || undefined,
    );
    expect(h.aws.cues.some((c) => c.pollId.endsWith(':q2'))).toBe(false);

    await h.client.send(
      new SendTaskSuccessCommand({ taskToken: token.task_token!.S, output: '{"cuedBy":"test"}' }),
    );
    await expect(
      h.client.send(new SendTaskSuccessCommand({ taskToken: token.task_token!.S, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskDoesNotExist);
    const done = await finished(h.client, arn);
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output!);
    expect(output).toMatchObject({ showId: 'test-show', channelArn: CHANNEL_ARN });
    expect(output.polls.map((p: { id: string }) => p.id)).toEqual(['q1', 'q2', 'q3']);

    // Every poll: its question cue then its results cue, on the stack's channel.
    expect(h.aws.cues.map((c) => `${c.pollId.split(':')[1]}:${c.type}`).sort()).toEqual(
      ['q1:poll', 'q1:results', 'q2:poll', 'q2:results', 'q3:poll', 'q3:results'].sort(),
    );
    expect(new Set(h.aws.cues.map((c) => c.channelArn))).toEqual(new Set([CHANNEL_ARN]));

    const events = await history(h.client, arn, 25);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]).toMatchObject({ type: 'ExecutionStarted', previousEventId: 0 });
    expect(events.at(-1)!.type).toBe('ExecutionSucceeded');
    const types = new Set(events.map((e) => e.type));
    for (const type of [
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'TaskSubmitted',
      'WaitStateEntered',
      'WaitStateExited',
      'ChoiceStateEntered',
      'MapStateEntered',
      'MapStateStarted',
      'MapIterationStarted',
      'MapIterationSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'PassStateEntered',
    ])
      expect(types).toContain(type);
    const scheduled = events.find(
      (e) => e.type === 'TaskScheduled' && e.taskScheduledEventDetails?.resource === 'putMetadata',
    )!;
    expect(scheduled.taskScheduledEventDetails).toMatchObject({
      resourceType: 'aws-sdk:ivs',
      region: 'us-east-1',
    });
    expect(JSON.parse(scheduled.taskScheduledEventDetails!.parameters!)).toMatchObject({
      ChannelArn: CHANNEL_ARN,
    });
    expect(events.find((e) => e.type === 'MapStateStarted')!.mapStateStartedEventDetails).toEqual({
      length: 3,
    });
    // Events of one iteration chain through previousEventId back to their MapIterationStarted.
    const byId = new Map(events.map((e) => [e.id!, e]));
    const askQ3 = events.find(
      (e) =>
        e.type === 'TaskStateEntered' &&
        e.stateEnteredEventDetails?.name === 'AskCue' &&
        e.stateEnteredEventDetails.input!.includes('"id":"q3"'),
    )!;
    let cursor = askQ3;
    while (cursor.type !== 'MapIterationStarted') cursor = byId.get(cursor.previousEventId!)!;
    expect(cursor.mapIterationStartedEventDetails).toEqual({ name: 'RunPolls', index: 2 });

    // Timed asks land within a second of their absolute time; the task events are ordered within their state.
    for (const exit of exits(events, 'AskCue')) {
      if (exit.output.poll.manual) continue;
      const late = exit.at.getTime() - Date.parse(exit.output.poll.askAt);
      expect(late).toBeGreaterThanOrEqual(-5);
      expect(late).toBeLessThan(1000);
    }
    const reversed = await h.client.send(
      new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 1 }),
    );
    expect(reversed.events![0]!.type).toBe('ExecutionSucceeded');
    expect(reversed.nextToken).toBeDefined();
  });

  it('asks six polls cued in the same second: IVS throttles past 5/s and the cues are retried until all are sent', async () => {
    const h = await harness();
    const ids = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
    const arn = await start(h, show(ids.map((id) => poll(id, 'manual'))));
    const runId = arn.split(':').pop();
    const items = await waitFor('six cue tokens', () =>
      h.aws.cueItems.size === 6 ? [...h.aws.cueItems.values()] : undefined,
    );
    await Promise.all(
      items.map((item) =>
        h.client.send(new SendTaskSuccessCommand({ taskToken: item.task_token!.S, output: '{}' })),
      ),
    );
    const done = await finished(h.client, arn);
    expect(done.status).toBe('SUCCEEDED');
    const asks = h.aws.cues.filter((c) => c.type === 'poll');
    expect(asks.map((c) => c.pollId).sort()).toEqual(ids.map((id) => `${runId}:${id}`));
    expect(h.aws.throttled).toBeGreaterThan(0);
    // Every refusal is in the history as a retried task failure. How long the retries took is not
    // asserted: FULL jitter makes it random (a timed bound here flaked in CI at 3.1 s); the
    // schedule benchmark measures lateness.
    const failures = (await history(h.client, arn, 25)).filter((e) => e.type === 'TaskFailed');
    const throttles = failures.filter((e) => e.taskFailedEventDetails!.error === 'Ivs.ThrottlingException');
    expect(throttles).toHaveLength(h.aws.throttled);
  });

  it('StopExecution mid-show aborts it: ABORTED with the given cause, and no cue is sent afterwards', async () => {
    const h = await harness();
    const arn = await start(h, show([poll('q1', 0), poll('q2', 5)]));
    await waitFor('q1 to be asked', () => h.aws.cues.find((c) => c.type === 'poll'));
    await h.client.send(
      new StopExecutionCommand({ executionArn: arn, error: 'Stopped', cause: 'producer stopped the show' }),
    );
    const cuesAtStop = h.aws.cues.length;
    const stopped = await h.client.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(stopped).toMatchObject({
      status: 'ABORTED',
      error: 'Stopped',
      cause: 'producer stopped the show',
    });
    await sleep(5500); // past q2's time and q1's close
    expect(h.aws.cues.length).toBe(cuesAtStop);
    const events = await history(h.client, arn, 25);
    expect(events.at(-1)).toMatchObject({ type: 'ExecutionAborted' });
    expect(events.filter((e) => e.type === 'ExecutionAborted')).toHaveLength(1);
  });

  it('keeps executions and history across a restart; one that was running is resumed, not cut off', async () => {
    const aws = new StubAws();
    const first = await harness({ aws });
    const doneArn = await start(first, show([poll('q1', 0)]), 'finished-run');
    await finished(first.client, doneArn);
    const runningArn = await start(first, show([poll('q1', 'manual')]), 'waiting-run');
    const item = await waitFor('the manual poll to wait', () => aws.cueItems.get('waiting-run:q1'));
    const before = await history(first.client, doneArn, 25);
    await first.stop();

    const second = await harness({ dataDir: first.dataDir, aws });
    const listed = await second.client.send(
      new ListExecutionsCommand({ stateMachineArn: second.sfn.stateMachineArn }),
    );
    expect(listed.executions!.map((e) => [e.name, e.status])).toEqual([
      ['waiting-run', 'RUNNING'],
      ['finished-run', 'SUCCEEDED'],
    ]);
    expect(await history(second.client, doneArn, 25)).toEqual(before);
    // The token issued before the restart still cues the question.
    await second.client.send(
      new SendTaskSuccessCommand({ taskToken: item.task_token!.S, output: '{"cuedBy":"test"}' }),
    );
    const done = await finished(second.client, runningArn);
    expect(done).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
    expect(CANNOT_RESUME_CAUSE).toMatch(/could not resume/);
  });

  it('a bad show fails the execution at Plan with the path-named validation message', async () => {
    const h = await harness();
    const arn = await start(h, show([{ ...poll('q1', 0), answers: ['only one'] }]));
    const done = await finished(h.client, arn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'ShowValidationError' });
    expect(done.cause).toContain('polls[0].answers: expected 2–6 answers, got 1');
    expect(h.aws.cues).toEqual([]);
  });

  it('retries a cue while the channel is not broadcasting, then fails with a cause a producer can act on', async () => {
    const aws = new StubAws();
    aws.broadcasting = false;
    const h = await harness({ aws, retryIntervalOverrides: { AskCue: 20 } });
    const arn = await start(h, show([poll('q1', 0)]));
    const done = await finished(h.client, arn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'ChannelNotBroadcasting' });
    expect(done.cause).toContain(`The IVS channel ${CHANNEL_ARN} is not live`);
    expect(done.cause).toContain('question q1');
    const failures = (await history(h.client, arn, 25)).filter((e) => e.type === 'TaskFailed');
    expect(failures).toHaveLength(11); // the first try and 10 retries
  });

  it('uses the channel the execution input names', async () => {
    const h = await harness();
    const other = 'arn:aws:ivs:us-east-1:000000000000:channel/other';
    const arn = await start(h, show([poll('q1', 0)], { channelArn: other }));
    const done = await finished(h.client, arn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!).channelArn).toBe(other);
    expect(new Set(h.aws.cues.map((c) => c.channelArn))).toEqual(new Set([other]));
  });

  it('"A channel outside the stack\'s grant fails at Plan", not at the first question: ShowValidationError naming channelArn, nothing asked', async () => {
    const h = await harness();
    const foreign = 'arn:aws:ivs:us-east-1:000000000000:channel/foreign';
    const arn = await start(h, show([poll('q1', 3600)], { channelArn: foreign }));
    const done = await finished(h.client, arn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'ShowValidationError' });
    expect(done.cause).toBe(
      `channelArn: ${foreign} is not a channel this stack may send cues to (${CHANNEL_ARN}, ${EXTRA_CHANNEL_ARN}): ` +
        "deploy the stack with it in -c extraChannelArns=…, or leave channelArn out to use the stack's channel",
    );
    const events = await history(h.client, arn, 25);
    expect(events.some((e) => e.type === 'MapStateEntered')).toBe(false);
    expect(h.aws.cues).toEqual([]);
    // The stack's own channel, named explicitly, is accepted (Plan gets it from ${ChannelArn}).
    const own = await start(h, show([poll('q1', 0)], { channelArn: CHANNEL_ARN }), 'own-channel');
    expect((await finished(h.client, own)).status).toBe('SUCCEEDED');
  });

  it('"IVS AccessDenied is caught with a clear cause": a denied PutMetadata ends the show as ChannelAccessDenied, naming the channel', async () => {
    const aws = new StubAws();
    aws.deniedChannels.add(EXTRA_CHANNEL_ARN);
    const h = await harness({ aws });
    const arn = await start(h, show([poll('q1', 0), poll('q2', 3600)], { channelArn: EXTRA_CHANNEL_ARN }));
    const done = await finished(h.client, arn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'ChannelAccessDenied' });
    expect(done.cause).toContain(`may not send cues to the IVS channel ${EXTRA_CHANNEL_ARN}`);
    expect(done.cause).toContain('-c extraChannelArns');
    expect(done.cause).toContain('not authorized to perform: ivs:PutMetadata');
    const failures = (await history(h.client, arn, 25)).filter((e) => e.type === 'TaskFailed');
    expect(failures.map((e) => e.taskFailedEventDetails!.error)).toEqual(['Ivs.AccessDeniedException']);
  });

  it('"A validation failure\'s Cause is capped": a show with many issues fails with the first 20 and "and N more"', async () => {
    const h = await harness();
    const polls = Array.from({ length: 40 }, (_, i) => ({
      ...poll(`q${i}`, i * 60),
      answers: ['only'],
      question: '',
    }));
    const arn = await start(h, show(polls));
    const done = await finished(h.client, arn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'ShowValidationError' });
    const lines = done.cause!.split('\n');
    expect(lines).toHaveLength(21);
    expect(lines[0]).toBe('polls[0].question: a question must not be empty');
    expect(lines[20]).toBe('… and 60 more issues');
  });

  it('answers API errors the way @aws-sdk/client-sfn expects', async () => {
    const h = await harness();
    const arnOf = (name: string) =>
      h.sfn.stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
    await expect(
      h.client.send(new DescribeExecutionCommand({ executionArn: arnOf('nope') })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(
      h.client.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' })),
    ).rejects.toBeInstanceOf(InvalidArn);
    await expect(
      h.client.send(
        new StartExecutionCommand({
          stateMachineArn: h.sfn.stateMachineArn.replace('showrunner-show', 'other'),
          input: '{}',
        }),
      ),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(
      h.client.send(
        new StartExecutionCommand({ stateMachineArn: h.sfn.stateMachineArn, input: '{not json' }),
      ),
    ).rejects.toBeInstanceOf(InvalidExecutionInput);
    await expect(
      h.client.send(new SendTaskSuccessCommand({ taskToken: 'no-such-token', output: '{}' })),
    ).rejects.toBeInstanceOf(TaskDoesNotExist);
    const input = JSON.stringify(show([poll('q1', 'manual')]));
    await h.client.send(
      new StartExecutionCommand({ stateMachineArn: h.sfn.stateMachineArn, name: 'dup', input }),
    );
    // Same name and input while running: idempotent. Different input: ExecutionAlreadyExists.
    await h.client.send(
      new StartExecutionCommand({ stateMachineArn: h.sfn.stateMachineArn, name: 'dup', input }),
    );
    await expect(
      h.client.send(
        new StartExecutionCommand({ stateMachineArn: h.sfn.stateMachineArn, name: 'dup', input: '{}' }),
      ),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    await expect(
      h.client.send(
        new ListExecutionsCommand({ stateMachineArn: h.sfn.stateMachineArn, statusFilter: 'BOGUS' as never }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });

    const machines = await h.client.send(new ListStateMachinesCommand({}));
    expect(machines.stateMachines).toEqual([
      expect.objectContaining({ name: 'showrunner-show', type: 'STANDARD' }),
    ]);
    const described = await h.client.send(
      new DescribeStateMachineCommand({ stateMachineArn: h.sfn.stateMachineArn }),
    );
    expect(described.definition).toContain(CHANNEL_ARN);
    expect(described.definition).not.toContain('${');
  });
});
