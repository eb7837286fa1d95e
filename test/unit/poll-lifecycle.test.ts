// The state machine's Lambda (lambdas/poll-lifecycle.ts pollLifecycle), driven through `handle` as
// the state machine and the EventBridge rule call it, over an in-memory store and a fake IVS: Plan's
// checks and its claim on the channel, Open, Close's recount, LiveTally's cues, and the end of a
// stopped run. The same Lambda on the local stack is test/integration's (live-tally, honest-state,
// one-show-per-channel).
import { describe, expect, it } from '@jest/globals';
import {
  AccessDeniedException,
  PutMetadataCommand,
  ThrottlingException,
  type IvsClient,
} from '@aws-sdk/client-ivs';
import { decodeCue, type LeaderboardCue, type PollCue } from '../../contract/cues.ts';
import type {
  CloseResult,
  EndRunResult,
  OpenResult,
  ShowPlan,
  TallyResult,
} from '../../contract/state-machine.ts';
import { encodeCue, pollCue, resultsCue, tallyCue } from '../../core/cues.ts';
import { makePollId } from '../../core/ids.ts';
import { planShow } from '../../core/plan.ts';
import { displayName } from '../../core/leaderboard.ts';
import { closingTime, countAnswers } from '../../core/poll.ts';
import { DEFAULT_POINTS } from '../../core/scoring.ts';
import { summarizeIssues, validateExecutionInput } from '../../core/show.ts';
import {
  pollLifecycle,
  LifecycleInputError,
  type PollLifecycleConfig,
} from '../../lambdas/poll-lifecycle.ts';
import { MemoryStore } from './memory-store.ts';

const CHANNEL = 'arn:aws:ivs:us-east-1:000000000000:channel/local';
const OTHER_CHANNEL = 'arn:aws:ivs:us-east-1:000000000000:channel/other';
const CONFIG: PollLifecycleConfig = {
  tableName: 'unused',
  voteSettleMs: 0,
  voteShards: 4,
  pollCacheMs: 0,
  cueChannelArns: [],
};
const SHOW = {
  id: 'cats',
  title: 'Cat Facts Live',
  latencyGraceSeconds: 2,
  polls: [
    { id: 'q1', at: 30, question: 'Cats sleep 12–16 hours a day.', answers: ['True', 'False'], correct: 0 },
    { id: 'q2', at: 'manual', question: 'Best cat?', answers: ['Tabby', 'Siamese', 'Maine Coon'] },
  ],
};

/** IVS PutMetadata as a list: each call's input, or the error `fail` says for it. */
function fakeIvs(fail: (call: number) => Error | undefined = () => undefined) {
  const sent: Array<{ channelArn?: string; metadata?: string }> = [];
  let calls = 0;
  const ivs = {
    async send(command: PutMetadataCommand) {
      const error = fail(calls++);
      if (error) throw error;
      sent.push(command.input);
      return {};
    },
  } as unknown as Pick<IvsClient, 'send'>;
  return { ivs, sent };
}

function setup(config: Partial<PollLifecycleConfig> = {}, ivs = fakeIvs()) {
  const store = new MemoryStore();
  const lifecycle = pollLifecycle({ store, ivs: ivs.ivs, config: { ...CONFIG, ...config } });
  return { store, lifecycle, sent: ivs.sent };
}

/** The run's plan as core makes it from a valid input. */
function planOf(input: unknown, runId: string, now: Date): ShowPlan {
  const checked = validateExecutionInput(input);
  if (!checked.ok) throw new Error(`invalid test input: ${checked.issues[0]!.message}`);
  return planShow(checked.value, runId, now);
}

const planEvent = (runId: string, input: unknown, now: string, over: object = {}) => ({
  action: 'plan',
  input,
  runId,
  now,
  executionArn: `arn:aws:states:us-east-1:000000000000:execution:show:${runId}`,
  stackChannelArn: CHANNEL,
  ...over,
});

/** An open poll of `runId` whose votes are in and whose closing time has passed. */
async function closedByTime(store: MemoryStore, runId: string, votes: number[]) {
  const now = Date.now();
  const poll = await store.openPoll({
    pollId: makePollId(runId, 'q1'),
    runId,
    question: 'Q?',
    answers: ['A', 'B', 'C'],
    correct: 2,
    state: 'open',
    openedAt: new Date(now - 60_000).toISOString(),
    closesAt: new Date(now + 60_000).toISOString(),
  });
  for (const [i, answer] of votes.entries()) await store.recordVote(poll, `v${i}`, answer, new Date());
  store.polls.get(poll.pollId)!.closesAt = new Date(now - 1).toISOString();
  return poll;
}

describe('pollLifecycle: plan', () => {
  it('plans the run as core plans it and takes the channel for it', async () => {
    const { store, lifecycle } = setup();
    const now = '2030-01-01T12:00:00.000Z';
    const plan = (await lifecycle.handle(planEvent('cats-1', SHOW, now))) as ShowPlan;
    expect(plan).toEqual(planOf(SHOW, 'cats-1', new Date(now)));
    expect(store.channels.holder('local')).toMatchObject({
      runId: 'cats-1',
      showId: SHOW.id,
      title: SHOW.title,
      channelArn: CHANNEL,
    });
    expect(await store.channels.runChannel('cats-1')).toMatchObject({ channelArn: CHANNEL });
  });

  it('refuses an invalid input with a ShowValidationError whose message is the issues as a Cause holds them', async () => {
    const { store, lifecycle } = setup();
    const now = '2030-01-01T12:00:00.000Z';
    const input = {
      ...SHOW,
      channelArn: OTHER_CHANNEL,
      polls: [{ ...SHOW.polls[0], answers: ['True'] }, SHOW.polls[1]],
    };
    const checked = validateExecutionInput(input, { now: new Date(now), channelArns: [CHANNEL] });
    if (checked.ok) throw new Error('the input is invalid');
    await expect(lifecycle.handle(planEvent('cats-1', input, now))).rejects.toMatchObject({
      name: 'ShowValidationError',
      message: summarizeIssues(checked.issues),
    });
    expect(store.channels.holder('local')).toBeUndefined();
  });

  it('takes a channel in the stack’s CUE_CHANNEL_ARNS, and no other', async () => {
    const { store, lifecycle } = setup({ cueChannelArns: [OTHER_CHANNEL] });
    const now = '2030-01-01T12:00:00.000Z';
    await lifecycle.handle(planEvent('cats-1', { ...SHOW, channelArn: OTHER_CHANNEL }, now));
    expect(store.channels.holder('other')?.runId).toBe('cats-1');
    const foreign = 'arn:aws:ivs:us-east-1:000000000000:channel/foreign';
    await expect(
      lifecycle.handle(planEvent('cats-2', { ...SHOW, channelArn: foreign }, now)),
    ).rejects.toMatchObject({ name: 'ShowValidationError', message: expect.stringMatching(/^channelArn: /) });
  });

  it('fails with ChannelBusy while another run holds the channel; the same run planning again keeps it', async () => {
    const { store, lifecycle } = setup();
    const now = new Date().toISOString();
    await lifecycle.handle(planEvent('first', SHOW, now));
    await expect(lifecycle.handle(planEvent('second', SHOW, now))).rejects.toMatchObject({
      name: 'ChannelBusy',
      holder: expect.objectContaining({ runId: 'first' }),
      message: expect.stringContaining('first (Cat Facts Live)'),
    });
    // A retried Plan of the holder is no obstacle.
    await expect(lifecycle.handle(planEvent('first', SHOW, now))).resolves.toMatchObject({ runId: 'first' });
    // Once the holder gives the channel back, the next run takes it.
    expect(
      (await lifecycle.handle({ action: 'release', runId: 'first', channelArn: CHANNEL })) as object,
    ).toEqual({ released: true });
    await lifecycle.handle(planEvent('second', SHOW, now));
    expect(store.channels.holder('local')?.runId).toBe('second');
  });

  it('takes the channel from a holder past its lease', async () => {
    const { store, lifecycle } = setup();
    await store.channels.claim(
      {
        channelId: 'local',
        channelArn: CHANNEL,
        runId: 'ghost',
        executionArn: '',
        showId: 'ghost',
        title: 'Ghost',
        startAt: '2020-01-01T00:00:00.000Z',
        claimedAt: '2020-01-01T00:00:00.000Z',
        leaseUntil: new Date(Date.now() - 1000).toISOString(),
      },
      new Date(0),
    );
    await lifecycle.handle(planEvent('cats-1', SHOW, new Date().toISOString()));
    expect(store.channels.holder('local')?.runId).toBe('cats-1');
  });
});

describe('pollLifecycle: a question', () => {
  it('open writes the poll (closing after duration + grace), points late joiners at it and returns its cue', async () => {
    const { store, lifecycle } = setup();
    const plan = planOf(SHOW, 'cats-1', new Date('2030-01-01T12:00:00Z'));
    const poll = plan.polls[0]!;
    const before = Date.now();
    const opened = (await lifecycle.handle({ action: 'open', poll, channelArn: CHANNEL })) as OpenResult;
    const openedAt = new Date(opened.openedAt);
    expect(openedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(opened.closesAt).toBe(
      closingTime(openedAt, poll.duration, poll.latencyGraceSeconds).toISOString(),
    );
    const stored = await store.requirePoll(poll.pollId);
    expect(stored).toMatchObject({ state: 'open', voteShards: CONFIG.voteShards, correct: poll.correct });
    expect(opened.cue).toBe(encodeCue(pollCue(poll.pollId, { ...stored, duration: poll.duration })));
    expect(decodeCue(opened.cue)).not.toHaveProperty('correct');
    expect((await store.getCurrentPoll('local'))?.pollId).toBe(poll.pollId);
    // A retried Open is the same poll.
    const again = (await lifecycle.handle({ action: 'open', poll, channelArn: CHANNEL })) as OpenResult;
    expect(again).toEqual(opened);
  });

  it('close recounts every vote once closes_at has passed and returns the results cue, with the correct answer', async () => {
    const { store, lifecycle } = setup();
    const votes = [2, 0, 2, 1, 2];
    const poll = await closedByTime(store, 'cats-1', votes);
    const closed = (await lifecycle.handle({ action: 'close', pollId: poll.pollId })) as CloseResult;
    const counts = countAnswers(votes, poll.answers.length);
    const { leaderboardCue, ...rest } = closed;
    expect(rest).toEqual({
      pollId: poll.pollId,
      counts,
      total: votes.length,
      correct: poll.correct,
      cue: encodeCue(resultsCue(poll.pollId, counts, poll.correct)),
      pointsGiven: 3 * DEFAULT_POINTS,
    });
    // A quiz question's leaderboard: three right answers (v0, v2, v4), two wrong; not final (the
    // run's Plan did not list its quiz questions here).
    const board = decodeCue(leaderboardCue!) as LeaderboardCue;
    expect(board).toMatchObject({ type: 'leaderboard', poll_id: poll.pollId, players: 5 });
    expect(board.top.map((e) => e.score)).toEqual([1000, 1000, 1000, 0, 0]);
    expect(board.final).toBeUndefined();
    expect(await store.requirePoll(poll.pollId)).toMatchObject({ state: 'closed', finalCounts: counts });
  });

  it('LiveTally sends the count when it changes, skips a tick IVS throttles and stops at closes_at', async () => {
    const ivs = fakeIvs((call) =>
      call === 0 ? new ThrottlingException({ message: 'slow down', $metadata: {} }) : undefined,
    );
    const { store, lifecycle, sent } = setup({}, ivs);
    const poll = await closedByTime(store, 'cats-1', [1, 1]);
    const closesAt = new Date(Date.now() + 2200);
    store.polls.get(poll.pollId)!.closesAt = closesAt.toISOString();
    const result = (await lifecycle.handle({
      action: 'tally',
      pollId: poll.pollId,
      closesAt: closesAt.toISOString(),
      channelArn: CHANNEL,
    })) as TallyResult;
    expect(Date.now()).toBeGreaterThanOrEqual(closesAt.getTime());
    expect(result).toEqual({ pollId: poll.pollId, done: true, sent: 1, skipped: 1 });
    expect(sent).toEqual([
      { channelArn: CHANNEL, metadata: encodeCue(tallyCue(poll.pollId, countAnswers([1, 1], 3))) },
    ]);
  });

  it('LiveTally fails the slice on an error no later tick can fix (access denied)', async () => {
    const denied = new AccessDeniedException({ message: 'no', $metadata: {} });
    const { store, lifecycle } = setup(
      {},
      fakeIvs(() => denied),
    );
    const poll = await closedByTime(store, 'cats-1', [0]);
    const closesAt = new Date(Date.now() + 1500);
    store.polls.get(poll.pollId)!.closesAt = closesAt.toISOString();
    await expect(
      lifecycle.handle({
        action: 'tally',
        pollId: poll.pollId,
        closesAt: closesAt.toISOString(),
        channelArn: CHANNEL,
      }),
    ).rejects.toBe(denied);
  });
});

describe('pollLifecycle: the end of a run', () => {
  it('a stopped run (the EventBridge event) closes its open question, sends its results and gives the channel back', async () => {
    const { store, lifecycle, sent } = setup();
    const runId = 'cats-1';
    await lifecycle.handle(planEvent(runId, SHOW, new Date().toISOString()));
    const poll = await closedByTime(store, runId, [0, 0, 1]);
    store.polls.get(poll.pollId)!.closesAt = new Date(Date.now() + 60_000).toISOString();
    const result = (await lifecycle.handle({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: { name: runId, status: 'ABORTED', input: JSON.stringify(SHOW) },
    })) as EndRunResult;
    expect(result).toEqual({
      ended: [poll.pollId],
      resultsSent: [poll.pollId],
      leaderboardsSent: [poll.pollId],
      released: true,
    });
    const closed = await store.requirePoll(poll.pollId);
    const counts = countAnswers([0, 0, 1], poll.answers.length);
    expect(closed).toMatchObject({ state: 'closed', closedBy: 'stop', finalCounts: counts });
    expect(closed.resultsAt).toBeDefined();
    // The results, then the quiz question's leaderboard: final, since the run is over.
    expect(sent).toHaveLength(2);
    expect(sent[0]).toEqual({
      channelArn: CHANNEL,
      metadata: encodeCue(resultsCue(poll.pollId, counts, poll.correct)),
    });
    expect(decodeCue(sent[1]!.metadata!)).toMatchObject({
      type: 'leaderboard',
      poll_id: poll.pollId,
      players: 3,
      final: true,
    });
    expect(store.channels.holder('local')).toBeUndefined();
  });

  it('a failed run’s EndRunPolls closes only what is still open, and records the failure', async () => {
    const { store, lifecycle } = setup();
    const open = await closedByTime(store, 'cats-1', [1]);
    store.polls.get(open.pollId)!.closesAt = new Date(Date.now() + 60_000).toISOString();
    const never = makePollId('cats-1', 'q2');
    const result = (await lifecycle.handle({
      action: 'endRun',
      pollIds: [open.pollId, never],
      runId: 'cats-1',
      channelArn: CHANNEL,
    })) as EndRunResult;
    expect(result.ended).toEqual([open.pollId]);
    expect(await store.requirePoll(open.pollId)).toMatchObject({ state: 'closed', closedBy: 'failure' });
    expect(await store.getPoll(never)).toBeUndefined();
  });
});

describe('pollLifecycle: events it does not know', () => {
  it('throws a LifecycleInputError naming the field at fault, and does nothing', async () => {
    const { store, lifecycle } = setup();
    const error = await lifecycle
      .handle({ action: 'close', pollId: 'not a poll id' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LifecycleInputError);
    expect((error as Error).message).toMatch(/^pollId: /);
    expect((error as Error).cause).toBeDefined();
    await expect(lifecycle.handle({ action: 'dance' })).rejects.toBeInstanceOf(LifecycleInputError);
    expect(store.polls.size).toBe(0);
  });
});

describe('pollLifecycle: a quiz run (issue 22)', () => {
  const QUIZ = {
    id: 'quiz',
    title: 'Friday Quiz',
    latencyGraceSeconds: 0,
    scoring: { speed: true },
    polls: [
      { id: 'q1', at: 10, question: 'One?', answers: ['A', 'B'], correct: 0, points: 100, duration: 10 },
      { id: 'p1', at: 30, question: 'Mood?', answers: ['Good', 'Bad'], duration: 10 },
      { id: 'q2', at: 50, question: 'Two?', answers: ['A', 'B'], correct: 1, duration: 10 },
    ],
  };

  it('the poll cue says the title, the points and the speed bonus; the leaderboard follows each quiz question, final after the last', async () => {
    const { store, lifecycle } = setup();
    const plan = (await lifecycle.handle(planEvent('quiz-1', QUIZ, new Date().toISOString()))) as ShowPlan;
    const [q1, p1, q2] = plan.polls;
    expect(q1).toMatchObject({ points: 100, speed: true, title: QUIZ.title });
    expect(q2).toMatchObject({ points: DEFAULT_POINTS, speed: true });
    expect(p1).not.toHaveProperty('points');

    const boards: Array<LeaderboardCue | null> = [];
    const votes: Record<string, Array<[string, number, number]>> = {
      // [viewer, answer, elapsed_ms]
      q1: [
        ['ann', 0, 0],
        ['bob', 0, 5000],
        ['cy', 1, 0],
      ],
      p1: [['ann', 1, 0]],
      q2: [
        ['bob', 1, 0],
        ['cy', 1, 10_000],
        ['dee', 0, 0],
      ],
    };
    await store.scores.setNickname('ann', 'Ann');
    await store.scores.setNickname('bob', 'Bob');
    await store.scores.setHidden('bob', true);
    for (const poll of [q1!, p1!, q2!]) {
      const opened = (await lifecycle.handle({ action: 'open', poll, channelArn: CHANNEL })) as OpenResult;
      const cue = decodeCue(opened.cue) as PollCue;
      expect(cue.title).toBe(QUIZ.title);
      if (poll.correct === undefined) expect(cue).not.toHaveProperty('points');
      else expect(cue).toMatchObject({ points: poll.points, speed: true });
      const stored = await store.requirePoll(poll.pollId);
      // The votes arrive at once: the claims stand (the bound allows any claim above arrival − open).
      for (const [who, answer, elapsed] of votes[poll.id]!) {
        await store.recordVote(stored, who, answer, new Date(Date.parse(stored.openedAt)), elapsed);
      }
      store.polls.get(poll.pollId)!.closesAt = new Date(Date.now() - 1).toISOString();
      const closed = (await lifecycle.handle({ action: 'close', pollId: poll.pollId })) as CloseResult;
      boards.push(
        closed.leaderboardCue === null ? null : (decodeCue(closed.leaderboardCue) as LeaderboardCue),
      );
      if (poll.id === 'q1') expect(closed.pointsGiven).toBe(100 + 75);
      if (poll.id === 'p1') expect(closed).not.toHaveProperty('pointsGiven');
    }
    const [after1, afterPoll, after2] = boards;
    expect(afterPoll).toBeNull();
    // q1 (100 points, speed): ann right at once 100, bob right at half time 50 + 25 = 75, cy wrong.
    expect(after1!.top).toEqual([
      { rank: 1, name: 'Ann', score: 100 },
      { rank: 2, name: displayName('Bob', true, 'bob'), score: 75 },
      { rank: 3, name: displayName(null, false, 'cy'), score: 0 },
    ]);
    expect(after1!.final).toBeUndefined();
    // q2 (1,000): bob 1,000 at once, cy right at the end (the base 500), dee wrong.
    expect(after2).toMatchObject({ players: 4, final: true });
    expect(after2!.top.map((e) => [e.name, e.score])).toEqual([
      [displayName('Bob', true, 'bob'), 1075],
      [displayName(null, false, 'cy'), 500],
      ['Ann', 100],
      [displayName(null, false, 'dee'), 0],
    ]);
    expect(after2!.thresholds).toEqual({ 1: 1075, 5: 1075, 10: 1075, 25: 1075, 50: 500 });
  });
});
