// The control room's state (site/src/control/lib/control.svelte.ts and the parts it wires: session,
// runs, run on screen, actions, draft, preview), compiled by Svelte as the site is, driven through
// their methods with a fake producer API, player and video: nothing fetched
// without a session, the run picked and polled every 2 s while it runs, Ask next and Stop, a 401
// signing the producer out, the show checked by the CLI's schema before it starts, live counts from
// the preview's stream, and the results export matching `showrunner results --csv/--json`. The
// sign-in (site/src/control/lib/auth.ts, and keeping a Cognito session alive) is control-auth.test.ts's.
// The root tsconfig does not load Svelte's ambient rune declarations ($state, $derived) that the
// imported module uses; svelte-check does, for the site.
/// <reference types="svelte" />
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { FakeVideo } from '../support/fake-video.ts';
import { renderResults } from '../../cli/render/results.ts';
import { encodeCue, pollCue, resultsCue, tallyCue } from '../../core/cues.ts';
import type { SiteConfig } from '../../site/src/lib/config.ts';
import type { PlayerEvents, PlayerFactory } from '../../site/src/lib/player/types.ts';
import type { Session } from '../../site/src/control/lib/auth.ts';
import { ControlState } from '../../site/src/control/lib/control.svelte.ts';
import { checkDraft, emptyDraft } from '../../site/src/control/lib/draft.ts';
import { resultsCsv, resultsJson } from '../../site/src/control/lib/figures.ts';
import { leaderboardCsv, leaderboardJson } from '../../contract/producer.ts';
import { displayName } from '../../core/leaderboard.ts';
import type {
  LeaderboardStanding,
  RunHistory,
  RunInfo,
  RunResults,
  RunStatus,
} from '../../contract/producer.ts';
import type { ShowPlan } from '../../contract/state-machine.ts';
import { ProducerFailure, type ProducerApi } from '../../site/src/control/lib/producer-api.ts';

const NOW = Date.parse('2030-01-01T12:00:00Z');
const CONFIG: SiteConfig = {
  apiUrl: 'http://api.test',
  cachedApiUrl: 'http://api.test',
  channel: 'local',
  playbackUrl: 'http://live.test/index.m3u8',
  player: 'hls.js',
  control: { signIn: 'local' },
};
const SESSION: Session = { token: 'local-token', kind: 'local', expiresAt: null, who: null };
const RUN = 'cats-20300101T115900Z';
const OLD = 'cats-20291231T200000Z';

const SHOW = {
  id: 'cats',
  title: 'Cat Facts Live',
  polls: [
    { id: 'q1', at: 30, question: 'Cats sleep 12–16 hours a day.', answers: ['True', 'False'], correct: 0 },
    { id: 'q2', at: 'manual', question: 'Best cat?', answers: ['Tabby', 'Siamese', 'Maine Coon'] },
  ],
};

function runInfo(runId: string, status: RunInfo['status'], startDate: string): RunInfo {
  return {
    runId,
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:showrunner:${runId}`,
    status,
    startDate,
    ...(status === 'RUNNING' ? {} : { stopDate: '2029-12-31T20:10:00.000Z' }),
  };
}

/** One run as the API describes it, which the tests move along. */
class FakeRun {
  status: RunInfo['status'] = 'RUNNING';
  q1: Partial<RunHistory['polls'][number]> = {};
  q2: Partial<RunHistory['polls'][number]> = { waitingForCue: true };
  votes: Record<string, number[]> = {};
  standings: LeaderboardStanding[] = [];

  info(): RunInfo {
    return runInfo(RUN, this.status, '2030-01-01T11:59:00.000Z');
  }
  history(): RunHistory {
    const scheduledAt = NOW + 30_000;
    return {
      run: this.info(),
      polls: [
        {
          id: 'q1',
          pollId: `${RUN}:q1`,
          question: SHOW.polls[0]!.question,
          answers: ['True', 'False'],
          correct: 0,
          manual: false,
          scheduledAt,
          waitingForCue: false,
          throttled: 0,
          ...this.q1,
        },
        {
          id: 'q2',
          pollId: `${RUN}:q2`,
          question: 'Best cat?',
          answers: ['Tabby', 'Siamese', 'Maine Coon'],
          manual: true,
          waitingForCue: false,
          throttled: 0,
          ...this.q2,
        },
      ],
      cuesSent: 0,
      throttled: 0,
    };
  }
  runStatus(): RunStatus {
    const polls = this.history().polls;
    return {
      run: this.info(),
      plan: { runId: RUN, showId: 'cats', title: 'Cat Facts Live', startAt: '2030-01-01T11:59:00.000Z' },
      progress: {
        asked: polls.filter((p) => p.askedAt !== undefined).length,
        total: 2,
        waiting: polls.filter((p) => p.waitingForCue),
      },
    };
  }
  results(): RunResults {
    return {
      runId: RUN,
      polls: this.history().polls.map((p) => {
        const counts = this.votes[p.id] ?? p.answers.map(() => 0);
        const total = counts.reduce((a, b) => a + b, 0);
        const top = Math.max(...counts);
        return {
          poll: p.id,
          pollId: p.pollId,
          question: p.question,
          answers: p.answers,
          state: p.askedAt === undefined ? 'not asked' : p.closedAt === undefined ? 'open' : 'closed',
          counts,
          total,
          ...(p.correct !== undefined ? { correct: p.correct } : {}),
          winner: top === 0 ? [] : p.answers.filter((_, i) => counts[i] === top),
        };
      }),
    };
  }
}

/** Lets pending promise callbacks run (timers are fake; setImmediate is not). */
const settle = async () => {
  for (let i = 0; i < 8; i++) await new Promise((resolve) => setImmediate(resolve));
};

let control: ControlState | undefined;

/** What a start answers with (the page reads none of it but the run id). */
const plan = (): ShowPlan => ({
  runId: RUN,
  showId: 'cat-facts',
  title: 'Cat Facts Live',
  startAt: new Date(NOW).toISOString(),
  latencyGraceSeconds: 5,
  polls: [],
});

function setup(options: { runs?: RunInfo[] } = {}) {
  const run = new FakeRun();
  const runs = () => options.runs ?? [runInfo(OLD, 'SUCCEEDED', '2029-12-31T20:00:00.000Z'), run.info()];
  const api = {
    list: jest.fn<ProducerApi['list']>(async () => ({ runs: runs() })),
    start: jest.fn<ProducerApi['start']>(async () => ({
      runId: RUN,
      executionArn: run.info().executionArn,
      startAt: new Date(NOW).toISOString(),
      plan: plan(),
    })),
    cue: jest.fn<ProducerApi['cue']>(async ({ runId }) => {
      run.q2 = { cuedAt: Date.now(), askedAt: Date.now() + 50, closesAt: Date.now() + 40_000 };
      return {
        runId,
        poll: 'q2',
        pollId: `${RUN}:q2`,
        cuedAt: new Date().toISOString(),
        question: 'Best cat?',
      };
    }),
    stop: jest.fn<ProducerApi['stop']>(async ({ runId }) => {
      run.status = 'ABORTED';
      return { runId, status: 'ABORTED', stopped: true, stopDate: new Date().toISOString() };
    }),
    run: jest.fn<ProducerApi['run']>(async () => ({
      status: run.runStatus(),
      history: run.history(),
      results: run.results(),
    })),
    leaderboard: jest.fn<ProducerApi['leaderboard']>(async (runId) => ({
      runId,
      players: run.standings.length,
      final: run.status !== 'RUNNING',
      standings: run.standings,
    })),
    hideName: jest.fn<ProducerApi['hideName']>(async ({ requestorId, hidden }) => {
      run.standings = run.standings.map((s) => (s.requestor_id === requestorId ? { ...s, hidden } : s));
      return { requestorId, hidden };
    }),
  };
  const forgetSession = jest.fn<() => void>();
  const player = { events: null as PlayerEvents | null, destroyed: false };
  const factory: PlayerFactory = async (video, _url, events) => {
    player.events = events;
    return { video, destroy: () => void (player.destroyed = true) };
  };
  const made: Array<{ config: SiteConfig; session: Session }> = [];
  control = new ControlState({
    api: (config, session) => {
      made.push({ config, session });
      return api;
    },
    player: async () => factory,
    forgetSession,
  });
  return { control, api, run, made, forgetSession, player };
}

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  jest.setSystemTime(NOW);
});

afterEach(() => {
  control?.destroy();
  control = undefined;
  jest.useRealTimers();
});

describe('ControlState: signing in', () => {
  it('fetches nothing without a session, and shows why it needs one', async () => {
    const { control, api, made } = setup();
    control.start(CONFIG, null, 'Your sign-in has expired. Sign in again.');
    await settle();
    jest.advanceTimersByTime(60_000);
    await settle();
    expect(made).toEqual([]);
    for (const call of Object.values(api)) expect(call).not.toHaveBeenCalled();
    expect(control.session.current).toBeNull();
    expect(control.session.signInProblem).toBe('Your sign-in has expired. Sign in again.');
  });

  it('with a session: lists the runs newest first and puts the newest running one on screen', async () => {
    const { control, api, made } = setup();
    control.start(CONFIG, SESSION);
    await settle();
    expect(made).toEqual([{ config: CONFIG, session: SESSION }]);
    expect(control.runs.items.map((r) => r.runId)).toEqual([RUN, OLD]);
    expect(control.run.runId).toBe(RUN);
    expect(control.run.running).toBe(true);
    // One call a poll for the whole run: status, history and results read once.
    expect(api.run).toHaveBeenCalledWith(RUN);
    expect(control.run.questions.map((q) => [q.id, q.phase, q.votes])).toEqual([
      ['q1', 'scheduled', null],
      ['q2', 'waiting', null],
    ]);
    expect(control.run.nextManual?.id).toBe('q2');
    expect(control.actions.canAsk).toBe(true);
  });

  it('a 401 signs the producer out with "Sign in again", forgets the token and stops polling', async () => {
    const { control, api, forgetSession } = setup();
    control.start(CONFIG, SESSION);
    await settle();
    api.run.mockRejectedValueOnce(new ProducerFailure(401, 'unauthorized', 'authorization: sign in'));
    jest.advanceTimersByTime(2000);
    await settle();
    expect(control.session.current).toBeNull();
    expect(control.session.signInProblem).toMatch(/Sign in again/);
    expect(control.announcer.words).toMatch(/Sign in again/);
    expect(control.run.runId).toBeNull();
    expect(forgetSession).toHaveBeenCalledTimes(1);
    const calls = api.run.mock.calls.length + api.list.mock.calls.length;
    jest.advanceTimersByTime(60_000);
    await settle();
    expect(api.run.mock.calls.length + api.list.mock.calls.length).toBe(calls);
  });
});

describe('ControlState: a 401 on an action', () => {
  it('signs out with "Sign in again", not an error beside a button that is gone', async () => {
    const { control, api } = setup();
    control.start(CONFIG, SESSION);
    await settle();
    api.cue.mockRejectedValueOnce(new ProducerFailure(401, 'unauthorized', 'authorization: sign in'));
    await control.actions.askNext();
    expect(control.session.current).toBeNull();
    expect(control.actions.error).toBeNull();
    expect(control.actions.busy).toBeNull();
    expect(control.session.signInProblem).toMatch(/Sign in again/);
  });
});

describe('ControlState: the running show', () => {
  it('reads the run every 2 s while it runs, says what changed, and stops when it ends', async () => {
    const { control, api, run } = setup();
    control.start(CONFIG, SESSION);
    await settle();
    expect(api.run).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(1999);
    await settle();
    expect(api.run).toHaveBeenCalledTimes(1);

    run.q1 = { askedAt: NOW + 30_120, lateMs: 120, closesAt: NOW + 60_000 };
    run.votes.q1 = [2, 1];
    jest.advanceTimersByTime(1);
    await settle();
    expect(api.run).toHaveBeenCalledTimes(2);
    expect(control.announcer.words).toBe('Asked q1: Cats sleep 12–16 hours a day.');
    const q1 = control.run.questions[0]!;
    expect(q1).toMatchObject({ phase: 'open', votes: 3, lateMs: 120, correct: 0 });
    expect(q1.bars).toEqual({ counts: [2, 1], total: 3, source: 'count' });
    expect(q1.result).toBe('✓ True 67%');

    run.q1 = { ...run.q1, closedAt: NOW + 61_000, counts: [2, 1], total: 3 };
    run.status = 'SUCCEEDED';
    jest.advanceTimersByTime(2000);
    await settle();
    expect(control.run.running).toBe(false);
    expect(control.announcer.words).toBe(`q1 closed with 3 votes. The run ${RUN} ended: SUCCEEDED.`);
    expect(control.run.questions.map((q) => q.phase)).toEqual(['closed', 'not asked']);
    const reads = api.run.mock.calls.length;
    jest.advanceTimersByTime(10_000);
    await settle();
    expect(api.run).toHaveBeenCalledTimes(reads);
  });

  it('a run stopped with a question open is read until that question closes', async () => {
    const { control, api, run } = setup();
    control.start(CONFIG, SESSION);
    await settle();
    run.q2 = { cuedAt: NOW, askedAt: NOW, closesAt: NOW + 30_000 };
    run.votes.q2 = [0, 1, 0];
    await control.actions.stop();
    expect(control.run.running).toBe(false);
    expect(control.run.questions[1]).toMatchObject({ phase: 'open', votes: 1 });
    run.q2 = { ...run.q2, closedAt: NOW + 30_000, counts: [0, 1, 0], total: 1 };
    jest.advanceTimersByTime(2000);
    await settle();
    expect(control.run.questions[1]).toMatchObject({ phase: 'closed', votes: 1 });
    expect(control.announcer.words).toBe('q2 closed with 1 vote.');
    const reads = api.run.mock.calls.length;
    jest.advanceTimersByTime(10_000);
    await settle();
    expect(api.run).toHaveBeenCalledTimes(reads);
  });

  it('Ask next cues the next manual question of the run on screen, then reads the run at once', async () => {
    const { control, api } = setup();
    control.start(CONFIG, SESSION);
    await settle();
    const asking = control.actions.askNext();
    expect(control.actions.busy).toBe('asking');
    expect(control.actions.canAsk).toBe(false);
    await asking;
    expect(api.cue).toHaveBeenCalledWith({ runId: RUN, poll: 'q2' });
    expect(control.actions.busy).toBeNull();
    expect(api.run).toHaveBeenCalledTimes(2);
    expect(control.run.questions[1]).toMatchObject({ id: 'q2', phase: 'open', votes: 0 });
    expect(control.run.nextManual).toBeNull();
    expect(control.announcer.words).toBe('Asked q2: Best cat?');
  });

  it('the producer picks the question: every waiting manual question can be asked, not only the next', async () => {
    const { control, api, run } = setup();
    run.q1 = { manual: true, waitingForCue: true };
    control.start(CONFIG, SESSION);
    await settle();
    expect(control.run.waitingManual.map((q) => q.id)).toEqual(['q1', 'q2']);
    expect(control.run.nextManual?.id).toBe('q1');
    await control.actions.ask('q2');
    expect(api.cue).toHaveBeenCalledWith({ runId: RUN, poll: 'q2' });
    // A question that is not waiting is never sent.
    api.cue.mockClear();
    await control.actions.ask('q9');
    await control.actions.ask(undefined);
    expect(api.cue).not.toHaveBeenCalled();
  });

  it('says why a cue was refused', async () => {
    const { control, api } = setup();
    control.start(CONFIG, SESSION);
    await settle();
    api.cue.mockRejectedValueOnce(
      new ProducerFailure(409, 'conflict', `run: no manual question of ${RUN} is waiting for its cue`),
    );
    await control.actions.askNext();
    expect(control.actions.error).toEqual({
      action: 'asking',
      message: `run: no manual question of ${RUN} is waiting for its cue`,
    });
    expect(control.announcer.words).toBe(control.actions.error!.message);
  });

  it('Stop stops the run on screen and reads it and the list again', async () => {
    const { control, api } = setup();
    control.start(CONFIG, SESSION);
    await settle();
    const lists = api.list.mock.calls.length;
    await control.actions.stop();
    expect(api.stop).toHaveBeenCalledWith({ runId: RUN, cause: 'stopped in the control room' });
    expect(control.run.running).toBe(false);
    expect(api.list.mock.calls.length).toBeGreaterThan(lists);
    expect(control.announcer.words).toMatch(new RegExp(`Stopped ${RUN}\\.|ended: ABORTED`));
    expect(control.actions.canAsk).toBe(false);
  });

  it('a past run: its timeline and results, no polling, and the export the CLI writes', async () => {
    const { control, api, run } = setup();
    control.start(CONFIG, SESSION);
    await settle();
    run.status = 'SUCCEEDED';
    run.q1 = { askedAt: NOW + 30_100, lateMs: 100, closedAt: NOW + 70_000, counts: [5, 3], total: 8 };
    run.q2 = {
      cuedAt: NOW + 80_000,
      askedAt: NOW + 80_050,
      closedAt: NOW + 120_000,
      counts: [1, 1, 0],
      total: 2,
    };
    run.votes = { q1: [5, 3], q2: [1, 1, 0] };
    await control.run.select(OLD);
    expect(control.run.runId).toBe(OLD);
    expect(control.run.running).toBe(false);
    expect(control.run.questions.map((q) => [q.id, q.phase, q.votes, q.result])).toEqual([
      ['q1', 'closed', 8, '✓ True 63%'],
      ['q2', 'closed', 2, 'Tabby 50% = Siamese 50%'],
    ]);
    const results = control.run.results!;
    expect(resultsCsv(results)).toBe(renderResults(results as RunResults, 'csv'));
    expect(resultsJson(results)).toBe(renderResults(results as RunResults, 'json'));
    const csv = decodeURIComponent(
      control.run.downloads!.csv.href.replace(/^data:text\/csv;charset=utf-8,/, ''),
    );
    expect(csv).toBe(renderResults(results as RunResults, 'csv'));
    expect(csv.split('\r\n')[0]).toBe(
      'run_id,poll,question,state,answer_index,answer,votes,total,share,correct,winner,closed_by,points,points_given',
    );
    expect(control.run.downloads!.csv.filename).toBe(`${RUN}-results.csv`);
    const reads = api.run.mock.calls.length;
    jest.advanceTimersByTime(10_000);
    await settle();
    expect(api.run).toHaveBeenCalledTimes(reads);
  });
});

describe('ControlState: the preview', () => {
  it('reads the stream as viewers see it: the question on air, live counts, then the results', async () => {
    const { control, run, player } = setup();
    control.start(CONFIG, SESSION);
    await settle();
    const video = new FakeVideo();
    const stop = control.preview.attach(video as unknown as HTMLVideoElement);
    await settle();
    run.q2 = { cuedAt: NOW, askedAt: NOW, closesAt: NOW + 30_000 };
    await control.run.refresh();
    const cue = (mediaTime: number, payload: string) => player.events!.cue({ mediaTime, payload });
    cue(
      5,
      encodeCue(
        pollCue(`${RUN}:q2`, {
          question: 'Best cat?',
          answers: ['Tabby', 'Siamese', 'Maine Coon'],
          duration: 20,
        }),
      ),
    );
    cue(6, encodeCue(tallyCue(`${RUN}:q2`, [0, 2, 1])));
    video.present(5);
    expect(control.preview.onAir).toEqual({
      pollId: `${RUN}:q2`,
      question: 'Best cat?',
      answers: ['Tabby', 'Siamese', 'Maine Coon'],
    });
    // Before the tally is on air: the API's count.
    expect(control.run.questions[1]!.bars).toEqual({ counts: [0, 0, 0], total: 0, source: 'count' });
    video.present(6);
    expect(control.run.questions[1]!.bars).toEqual({ counts: [0, 2, 1], total: 3, source: 'stream' });
    cue(30, encodeCue(resultsCue(`${RUN}:q2`, [1, 2, 1])));
    cue(31, encodeCue(tallyCue(`${RUN}:q2`, [0, 2, 1]))); // a late tally never replaces the results
    video.present(31);
    expect(control.preview.streamCount(`${RUN}:q2`)).toEqual({ counts: [1, 2, 1], total: 4, final: true });
    stop();
    expect(player.destroyed).toBe(true);
  });

  it('says so when the site has no stream', () => {
    const { control } = setup();
    control.start({ ...CONFIG, playbackUrl: null }, SESSION);
    control.preview.attach(new FakeVideo() as unknown as HTMLVideoElement);
    expect(control.preview.status).toEqual({
      kind: 'offline',
      message: 'No stream is configured for this site.',
    });
  });
});

describe('ControlState: starting a show', () => {
  it('checks the show by the CLI schema: issues at their path, nothing to start', async () => {
    const { control, api } = setup();
    control.start(CONFIG, SESSION);
    await settle();
    control.draft.set({
      text: JSON.stringify({ ...SHOW, polls: [{ ...SHOW.polls[0], answers: ['Only one'] }] }),
    });
    expect(control.draft.check.issues).toEqual([
      { path: 'polls[0].answers', message: 'expected 2–6 answers, got 1' },
    ]);
    expect(control.draft.check.text).toBe('polls[0].answers: expected 2–6 answers, got 1');
    expect(control.draft.check.body).toBeNull();
    await control.actions.startShow();
    expect(api.start).not.toHaveBeenCalled();

    control.draft.set({ text: '{ "id": ' });
    expect(control.draft.check.issues[0]).toMatchObject({ path: '(root)', message: /^not valid JSON/ });
  });

  it('shows each question with its cue size, and starts it at the chosen time on the chosen channel', async () => {
    const { control, api } = setup({ runs: [] });
    control.start(CONFIG, SESSION);
    await settle();
    expect(control.run.runId).toBeNull();
    const text = JSON.stringify(SHOW, null, 2);
    control.draft.set({ text, fileName: 'cats.json' });
    const check = control.draft.check;
    expect(check.issues).toEqual([]);
    expect(check.questions.map((q) => [q.id, q.at, q.manual, q.quiz])).toEqual([
      ['q1', '30', false, true],
      ['q2', 'manual', true, false],
    ]);
    for (const q of check.questions) expect(q.cueBytes).toBeGreaterThan(100);
    expect(check.questions[1]!.cueBytes).toBeLessThan(1024);

    control.draft.set({ when: 'at', startAt: '' });
    expect(control.draft.check.issues).toEqual([{ path: 'startAt', message: 'choose a date and time' }]);
    control.draft.set({ startAt: '2030-01-01T18:30', channelArn: 'not-an-arn' });
    expect(control.draft.check.issues.map((i) => i.path)).toEqual(['channelArn']);
    const arn = 'arn:aws:ivs:us-east-1:123456789012:channel/AbCd1234';
    control.draft.set({ channelArn: arn });
    expect(control.draft.check.body).toEqual({
      show: SHOW,
      startAt: new Date('2030-01-01T18:30').toISOString(),
      channelArn: arn,
    });

    await control.actions.startShow();
    expect(api.start).toHaveBeenCalledWith(control.draft.check.body!);
    expect(control.run.runId).toBe(RUN);
    expect(control.announcer.words).toMatch(`Started ${RUN}.`);
  });

  it('shows the API refusing a start, in its words', async () => {
    const { control, api } = setup();
    control.start(CONFIG, SESSION);
    await settle();
    control.draft.set({ text: JSON.stringify(SHOW) });
    api.start.mockRejectedValueOnce(
      new ProducerFailure(400, 'bad_request', 'channelArn: not a channel this stack may send cues to'),
    );
    await control.actions.startShow();
    expect(control.actions.error).toEqual({
      action: 'starting',
      message: 'channelArn: not a channel this stack may send cues to',
    });
    control.draft.set({ channelArn: '' });
    expect(control.actions.error).toBeNull();
  });

  it('a busy channel: the refusal names the running show, and "Replace the running show" starts again with replace', async () => {
    const { control, api } = setup();
    control.start(CONFIG, SESSION);
    await settle();
    control.draft.set({ text: JSON.stringify(SHOW) });
    api.start.mockRejectedValueOnce(
      new ProducerFailure(
        409,
        'channel_busy',
        `channel local is running ${OLD} (Cat Facts Live): stop it first, or start with replace to stop it and start this show`,
      ),
    );
    await control.actions.startShow();
    expect(control.actions.error).toEqual({
      action: 'starting',
      message: `Channel local is running ${OLD} (Cat Facts Live). Stop it first, or replace it with this show.`,
      replaceable: true,
    });
    expect(api.start).toHaveBeenLastCalledWith({ show: SHOW });

    // The stopped show may still be sending its last results when the API's wait is over: tried again.
    api.start
      .mockRejectedValueOnce(
        new ProducerFailure(
          409,
          'channel_busy',
          `channel local is still ending ${OLD} (Cat Facts Live): its last results are going out, try again in a few seconds`,
        ),
      )
      .mockResolvedValueOnce({
        runId: RUN,
        executionArn: 'arn:aws:states:us-east-1:000000000000:execution:showrunner:' + RUN,
        startAt: new Date(NOW).toISOString(),
        plan: plan(),
        replaced: { runId: OLD, title: 'Cat Facts Live' },
      });
    const replacing = control.actions.startShow(true);
    await settle();
    expect(control.actions.busy).toBe('starting');
    jest.advanceTimersByTime(3000);
    await replacing;
    expect(api.start.mock.calls.slice(-2)).toEqual([
      [{ show: SHOW, replace: true }],
      [{ show: SHOW, replace: true }],
    ]);
    expect(control.actions.error).toBeNull();
    expect(control.announcer.words).toBe(`Replaced ${OLD}. Started ${RUN}.`);
    expect(control.run.runId).toBe(RUN);
  });

  it('opens on the running show, even when newer runs have ended and it is past the first page', async () => {
    const aborted = runInfo('cats-20300101T115950Z', 'ABORTED', '2030-01-01T11:59:50.000Z');
    const { control, api, run } = setup({ runs: [aborted] });
    api.list.mockImplementation(async (_limit, status) => ({
      runs: status === 'RUNNING' ? [run.info()] : [aborted],
    }));
    control.start(CONFIG, SESSION);
    await settle();
    expect(api.list).toHaveBeenCalledWith(10, 'RUNNING');
    expect(control.run.runId).toBe(RUN);
    expect(control.run.running).toBe(true);
  });

  it('a question the stop closed says so, with its final count', async () => {
    const { control, run } = setup();
    control.start(CONFIG, SESSION);
    await settle();
    run.q2 = { cuedAt: NOW, askedAt: NOW, closesAt: NOW + 30_000 };
    run.votes.q2 = [0, 2, 0];
    await control.actions.stop();
    run.q2 = { ...run.q2, closedAt: NOW + 7000, closedBy: 'stop', counts: [0, 2, 0], total: 2 };
    jest.advanceTimersByTime(2000);
    await settle();
    expect(control.run.questions[1]).toMatchObject({ phase: 'closed', closedBy: 'stop', votes: 2 });
    expect(control.announcer.words).toBe('q2 closed with 2 votes.');
  });

  it('checkDraft: an empty draft is no error', () => {
    expect(checkDraft(emptyDraft)).toMatchObject({ empty: true, issues: [], body: null });
  });
});

describe('ControlState: the standings', () => {
  const standing = (rank: number, nickname: string | null, score: number, hidden = false) => ({
    rank,
    requestor_id: `player-${rank}`,
    name: displayName(nickname, hidden, `player-${rank}`),
    nickname,
    hidden,
    score,
    total_answer_ms: 4000 * rank,
  });

  it('reads them beside the run on every cycle, hides a name, and exports them as the CLI does', async () => {
    const { control, api, run } = setup();
    run.standings = [standing(1, 'Ada', 1900), standing(2, null, 1000), standing(3, 'Rude', 850)];
    control.start(CONFIG, SESSION);
    await settle();
    expect(control.run.runId).toBe(RUN);
    expect(control.run.leaderboard?.players).toBe(3);
    const cycles = api.run.mock.calls.length;
    expect(api.leaderboard).toHaveBeenCalledTimes(cycles);
    jest.advanceTimersByTime(2000);
    await settle();
    // One more read of each per cycle, no more.
    expect(api.run.mock.calls.length).toBe(cycles + 1);
    expect(api.leaderboard).toHaveBeenCalledTimes(cycles + 1);

    await control.run.hideName('player-3', true);
    expect(api.hideName).toHaveBeenCalledWith({ requestorId: 'player-3', hidden: true });
    const hidden = control.run.leaderboard!.standings[2]!;
    expect(hidden).toMatchObject({
      hidden: true,
      nickname: 'Rude',
      name: displayName(null, true, 'player-3'),
    });
    expect(control.announcer.words).toBe(`Name hidden: now shown as ${hidden.name}.`);

    const board = control.run.leaderboard!;
    const csv = decodeURIComponent(
      control.run.leaderboardDownloads!.csv.href.replace(/^data:text\/csv;charset=utf-8,/, ''),
    );
    expect(csv).toBe(leaderboardCsv(board));
    const json = decodeURIComponent(
      control.run.leaderboardDownloads!.json.href.replace(/^data:application\/json;charset=utf-8,/, ''),
    );
    expect(json).toBe(leaderboardJson(board));
    expect(control.run.leaderboardDownloads!.csv.filename).toBe(`${RUN}-leaderboard.csv`);
  });

  it('a failed read keeps the last standings with a word; an API without them shows none', async () => {
    const { control, api, run } = setup();
    run.standings = [standing(1, 'Ada', 1900)];
    control.start(CONFIG, SESSION);
    await settle();
    api.leaderboard.mockRejectedValueOnce(new ProducerFailure(500, 'internal_error', 'boom'));
    jest.advanceTimersByTime(2000);
    await settle();
    expect(control.run.leaderboard?.players).toBe(1);
    expect(control.run.leaderboardError).toBe('The show server had a problem. Try again.');
    api.leaderboard.mockRejectedValueOnce(new ProducerFailure(404, 'not_found', 'no route'));
    jest.advanceTimersByTime(2000);
    await settle();
    expect(control.run.leaderboard).toBeNull();
    expect(control.run.leaderboardError).toBeNull();
  });
});
