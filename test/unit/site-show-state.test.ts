// The viewer's state (site/src/lib/show.svelte.ts and the parts it wires: question, history,
// playback, connection), compiled by Svelte as the site is, driven through their methods with a
// fake video, player and API: questions from the stream on their
// frame, the countdown in video time, answers, live and final results, the next question, and
// how far behind live the stream plays.
// The root tsconfig does not load Svelte's ambient rune declarations ($state, $derived) that the
// imported module uses; svelte-check does, for the site.
/// <reference types="svelte" />
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { FakeVideo } from '../support/fake-video.ts';
import { encodeCue, pollCue, resultsCue, tallyCue } from '../../core/cues.ts';
import type { PollView } from '../../contract/api.ts';
import { ViewerFailure, type ShowApi } from '../../site/src/lib/api.ts';
import type { SiteConfig } from '../../site/src/lib/config.ts';
import type { LatencyPlan } from '../../site/src/lib/latency.ts';
import type { PlayerEvents, PlayerFactory, PlayerOptions } from '../../site/src/lib/player/types.ts';
import { RESULTS_AFTER_CLOSE_S } from '../../site/src/lib/question.svelte.ts';
import { ShowState } from '../../site/src/lib/show.svelte.ts';
import { DEFAULT_LATENCY_GRACE_SECONDS } from '../../core/show.ts';

const NOW = Date.parse('2030-01-01T12:00:00Z');
const VIEWER = { requestor_id: 'viewer-1', token: 'token-1' };

/** An identity store as localStorage keeps it, holding `identity` (or none yet). */
function knownViewer(identity: typeof VIEWER | null = VIEWER) {
  const saved: Array<typeof VIEWER> = [];
  return Object.assign({ load: () => identity, save: (i: typeof VIEWER) => void saved.push(i) }, { saved });
}
const STREAM: SiteConfig = {
  apiUrl: 'http://api.test',
  cachedApiUrl: 'http://api.test',
  channel: 'local',
  playbackUrl: 'http://live.test/index.m3u8',
  player: 'hls.js',
};

function view(pollId: string, fields: Partial<PollView> = {}): PollView {
  return {
    poll_id: pollId,
    question: `Question ${pollId}`,
    answers: ['A', 'B', 'C'],
    state: 'open',
    counts: [0, 0, 0],
    total: 0,
    closes_at: new Date(Date.now() + 60_000).toISOString(),
    ...fields,
  };
}

/** Lets pending promise callbacks run (timers are fake; setImmediate is not). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

let show: ShowState | undefined;

async function setup(
  options: { latency?: number | null; ivs?: boolean; identities?: ReturnType<typeof knownViewer> } = {},
) {
  const api = {
    identity: jest.fn<ShowApi['identity']>(async () => ({ requestor_id: 'new-viewer', token: 'new-token' })),
    answer: jest.fn<ShowApi['answer']>(async () => ({})),
    poll: jest.fn<ShowApi['poll']>(async (pollId) => view(pollId)),
    current: jest.fn<ShowApi['current']>(async () => null),
    history: jest.fn<ShowApi['history']>(async () => ({ items: [], next_cursor: null })),
    nickname: jest.fn<ShowApi['nickname']>(async (viewer, nickname) => ({
      requestor_id: viewer.requestor_id,
      nickname,
    })),
  };
  const video = new FakeVideo();
  const player = {
    events: null as PlayerEvents | null,
    options: null as PlayerOptions | null,
    setLatency: jest.fn<(plan: LatencyPlan) => void>(),
  };
  const factory: PlayerFactory = async (_video, _url, events, playerOptions) => {
    player.events = events;
    player.options = playerOptions ?? null;
    return {
      video: _video,
      destroy: () => undefined,
      ...(options.ivs ? {} : { setLatency: player.setLatency }),
    };
  };
  show = new ShowState(options.identities ?? knownViewer(), {
    latency: options.latency ?? null,
    api: () => api,
    player: async () => factory,
  });
  await show.start(STREAM, video as unknown as HTMLVideoElement);
  await settle();
  /** A cue in the stream, stamped on the frame at `mediaTime`. */
  const cue = (mediaTime: number, payload: string, programTime: number | null = null) =>
    player.events!.cue({ mediaTime, payload, programTime });
  return { show, api, video, player, cue };
}

const ask = (pollId: string, duration = 20, answers = ['A', 'B', 'C']) =>
  encodeCue(pollCue(pollId, { question: `Question ${pollId}`, answers, duration }));

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  jest.setSystemTime(NOW);
});

afterEach(() => {
  show?.destroy();
  show = undefined;
  jest.useRealTimers();
});

describe('ShowState: questions from the stream', () => {
  it('shows a question on the frame its cue is stamped on, with the whole countdown', async () => {
    const { show, video, cue } = await setup();
    cue(10, ask('run:q1'), NOW - 1000);
    video.present(9.9);
    expect(show.question.poll).toBeNull();
    video.present(10);
    expect(show.question.poll).toMatchObject({
      pollId: 'run:q1',
      question: 'Question run:q1',
      answers: ['A', 'B', 'C'],
      cueTime: 10,
      frameTime: 10,
      programTime: NOW - 1000,
      shownAt: NOW,
    });
    expect(show.question.phase).toBe('answering');
    expect(show.question.remaining).toBe(20);
    expect(show.question.announcement).toBe('New question: Question run:q1');
  });

  it('counts down in video time: not while the video stalls, and time is up after the duration of video', async () => {
    const { show, video, cue } = await setup();
    cue(10, ask('run:q1', 20));
    video.present(10);
    video.present(15.2);
    expect(show.question.remaining).toBe(15);
    jest.advanceTimersByTime(30_000); // wall time passes, no frame: the viewer's show is stalled
    expect(show.question.remaining).toBe(15);
    expect(show.question.phase).toBe('answering');
    video.present(29.99);
    expect(show.question.remaining).toBe(1);
    video.present(30);
    expect(show.question.remaining).toBe(0);
    expect(show.question.phase).toBe('timeup');
    expect(show.question.announcement).toBe("Time's up. Results are coming.");
  });

  it('ignores a poll cue older than its own duration (seeking back into an old poll)', async () => {
    const { show, video, cue } = await setup();
    video.present(100);
    cue(50, ask('run:old', 20));
    video.present(100.04);
    expect(show.question.poll).toBeNull();
  });

  it('replaces the question whole: a replayed cue re-times a new poll, the old one is untouched', async () => {
    const { show, video, cue } = await setup();
    cue(10, ask('run:q1'));
    video.present(10);
    const before = show.question.poll!;
    cue(12, ask('run:q1'));
    video.present(12);
    expect(show.question.poll).not.toBe(before);
    expect(show.question.poll).toMatchObject({ pollId: 'run:q1', cueTime: 12 });
    expect(before.cueTime).toBe(10);
  });
});

describe('ShowState: answers and results', () => {
  it('sends an answer, draws live bars from tally cues on their frames, then the final results from the stream', async () => {
    const { show, api, video, cue } = await setup();
    cue(10, ask('run:q1'));
    video.present(10);
    // A tally cue before the viewer answers is kept, not drawn (the card shows bars once answered).
    cue(11, encodeCue(tallyCue('run:q1', [1, 3, 0])));
    video.present(11);
    expect(show.question.counts).toEqual([1, 3, 0]);

    const sent = show.question.answer(1);
    expect(show.question.sending).toBe(true);
    await sent;
    // With the video time from the question's frame to the tap (the speed bonus's measure).
    expect(api.answer).toHaveBeenCalledWith('run:q1', VIEWER, 1, 1000);
    expect(show.question.sending).toBe(false);
    expect(show.question.phase).toBe('answered');
    expect(show.question.myAnswer).toBe(1);
    expect(show.question.announcement).toBe('Your answer: B');
    await settle();
    expect(api.history).toHaveBeenCalledTimes(2); // on start, and with the new answer

    // The next count changes on the frame its cue is stamped on, not before.
    cue(13, encodeCue(tallyCue('run:q1', [2, 6, 1])));
    video.present(12.9);
    expect(show.question.counts).toEqual([1, 3, 0]);
    video.present(13.02);
    expect(show.question.counts).toEqual([2, 6, 1]);
    expect(show.question.total).toBe(9);
    expect(show.question.tallyTiming).toEqual({ cueTime: 13, frameTime: 13.02 });
    // Live bars cost the API nothing: no poll reads, however long the question stays open.
    jest.advanceTimersByTime(20_000);
    await settle();
    expect(api.poll).not.toHaveBeenCalled();

    cue(40, encodeCue(resultsCue('run:q1', [3, 6, 1], 0)));
    video.present(40);
    expect(show.question.phase).toBe('revealed');
    expect(show.question.counts).toEqual([3, 6, 1]);
    expect(show.question.total).toBe(10);
    expect(show.question.correct).toBe(0);
    expect(show.question.remaining).toBeNull();
    expect(show.question.myAnswer).toBe(1);
    expect(show.question.announcement).toBe(
      'Results: 10 votes, 60% top answer. The answer: A. You answered B.',
    );

    // A late tally cue (replayed, or sent before the close) no longer overwrites the final count.
    cue(41, encodeCue(tallyCue('run:q1', [3, 5, 1])));
    video.present(41);
    expect(show.question.counts).toEqual([3, 6, 1]);
  });

  it("ignores another poll's tally cue", async () => {
    const { show, video, cue } = await setup();
    cue(10, ask('run:q2'));
    video.present(10);
    cue(11, encodeCue(tallyCue('run:q1', [5, 5, 5])));
    video.present(11);
    expect(show.question.counts).toBeNull();
  });

  it('a new viewer gets an identity from the API once, keeps it, and answers and reads history with it', async () => {
    const identities = knownViewer(null);
    const { show, api, video, cue } = await setup({ identities });
    cue(10, ask('run:q1'));
    video.present(10);
    await show.question.answer(0);
    const issued = { requestor_id: 'new-viewer', token: 'new-token' };
    expect(api.identity).toHaveBeenCalledTimes(1);
    expect(identities.saved).toEqual([issued]);
    expect(api.answer).toHaveBeenCalledWith('run:q1', issued, 0, 0);
    expect(api.history).toHaveBeenLastCalledWith(issued, null);
  });

  it('a token the API no longer takes (401) is replaced by a new identity once, and the answer sent again', async () => {
    const identities = knownViewer();
    const { show, api, video, cue } = await setup({ identities });
    api.answer.mockRejectedValueOnce(
      new ViewerFailure(401, 'unauthorized', 'authorization: expected "Bearer <token>"'),
    );
    cue(10, ask('run:q1'));
    video.present(10);
    await show.question.answer(2);
    expect(api.answer.mock.calls.map((c) => c[1])).toEqual([
      VIEWER,
      { requestor_id: 'new-viewer', token: 'new-token' },
    ]);
    expect(show.question.myAnswer).toBe(2);
  });

  it('answers only while answering, once', async () => {
    const { show, api, video, cue } = await setup();
    cue(10, ask('run:q1', 20));
    video.present(10);
    await Promise.all([show.question.answer(0), show.question.answer(2)]);
    expect(api.answer).toHaveBeenCalledTimes(1);
    cue(60, ask('run:q2', 20));
    video.present(60);
    video.present(80);
    await show.question.answer(0);
    expect(api.answer).toHaveBeenCalledTimes(1);
  });

  it('says in words when the API refuses an answer as too late, and ends the question', async () => {
    const { show, api, video, cue } = await setup();
    api.answer.mockRejectedValue(new ViewerFailure(409, 'poll_closed', 'poll run:q1 is closed'));
    cue(10, ask('run:q1'));
    video.present(10);
    await show.question.answer(0);
    expect(show.question.phase).toBe('timeup');
    expect(show.question.notice).toBe('Too late — this question is closed.');
    expect(show.question.announcement).toBe('Too late — this question is closed.');
    expect(show.question.myAnswer).toBeNull();
  });

  it('the next question replaces everything about the last one', async () => {
    const { show, api, video, cue } = await setup();
    api.answer.mockRejectedValueOnce(new ViewerFailure(409, 'already_answered', 'dup'));
    cue(10, ask('run:q1'));
    video.present(10);
    await show.question.answer(2);
    expect(show.question.notice).toBe('You already answered this question.');
    cue(40, encodeCue(resultsCue('run:q1', [1, 0, 5], 2)));
    video.present(40);
    expect(show.question.phase).toBe('revealed');

    cue(50, ask('run:q2', 30, ['Yes', 'No']));
    video.present(50);
    expect(show.question.poll).toMatchObject({ pollId: 'run:q2', answers: ['Yes', 'No'], cueTime: 50 });
    expect(show.question.phase).toBe('answering');
    expect(show.question.myAnswer).toBeNull();
    expect(show.question.counts).toBeNull();
    expect(show.question.total).toBe(0);
    expect(show.question.correct).toBeUndefined();
    expect(show.question.notice).toBeNull();
    expect(show.question.sending).toBe(false);
    expect(show.question.remaining).toBe(30);
  });

  it('an answer that comes back after the next question started leaves the new one alone', async () => {
    const { show, api, video, cue } = await setup();
    let accept: (value: unknown) => void = () => undefined;
    api.answer.mockImplementationOnce(() => new Promise((resolve) => (accept = resolve)));
    cue(10, ask('run:q1'));
    video.present(10);
    const sent = show.question.answer(0);
    cue(50, ask('run:q2'));
    video.present(50);
    accept({});
    await sent;
    expect(show.question.poll?.pollId).toBe('run:q2');
    expect(show.question.phase).toBe('answering');
    expect(show.question.myAnswer).toBeNull();
    expect(show.question.sending).toBe(false);
  });

  it('shows the results of a question asked before the viewer joined, with its text from the API', async () => {
    const { show, api, video, cue } = await setup();
    cue(5, encodeCue(resultsCue('run:q0', [2, 1, 1])));
    video.present(5);
    await settle();
    expect(api.poll).toHaveBeenCalledWith('run:q0');
    expect(show.question.poll?.question).toBe('Question run:q0');
    expect(show.question.phase).toBe('revealed');
    expect(show.question.announcement).toBe('Results: 4 votes, 50% top answer.');
  });
});

describe('ShowState: joining mid-poll, history, errors', () => {
  it('a viewer who joins mid-poll gets it from the API, counted down in wall time; the count comes from the stream', async () => {
    const { show, api } = await setupJoining(new Date(NOW + 30_000).toISOString());
    expect(api.current).toHaveBeenCalled();
    expect(show.question.counts).toBeNull();
    expect(show.playback.status).toEqual({
      kind: 'offline',
      message: 'No stream is configured for this show.',
    });
    expect(show.question.poll).toMatchObject({ pollId: 'run:q1', cueTime: null, closesAt: NOW + 30_000 });
    expect(show.question.remaining).toBe(30);
    jest.advanceTimersByTime(10_000);
    expect(show.question.remaining).toBe(20);
    jest.advanceTimersByTime(20_000);
    expect(show.question.phase).toBe('timeup');
  });

  it('loads the history: a reset replaces it, "more" appends the next page', async () => {
    const { show, api } = await setup();
    const item = (n: number) => ({
      poll_id: `run:q${n}`,
      answer: 0,
      answered_at: new Date(NOW).toISOString(),
    });
    api.history.mockResolvedValueOnce({ items: [item(3), item(2)], next_cursor: 'c1' });
    await show.history.load(true);
    expect(show.history.items.map((i) => i.poll_id)).toEqual(['run:q3', 'run:q2']);
    expect(show.history.cursor).toBe('c1');
    api.history.mockResolvedValueOnce({ items: [item(1)], next_cursor: null });
    await show.history.load(false);
    expect(api.history).toHaveBeenLastCalledWith(VIEWER, 'c1');
    expect(show.history.items.map((i) => i.poll_id)).toEqual(['run:q3', 'run:q2', 'run:q1']);
    expect(show.history.cursor).toBeNull();
    api.history.mockRejectedValueOnce(new Error('boom'));
    await show.history.load(true);
    expect(show.history.error).toBe('Your history could not be loaded.');
    expect(show.history.items).toHaveLength(3);
  });

  it('shows one banner while the API is unreachable, and clears it once a retry gets through', async () => {
    const { show, api } = await setup();
    api.history.mockRejectedValueOnce(new ViewerFailure(0, 'unreachable', 'network error', true));
    await show.history.load(true);
    expect(show.connection.down).toBe(true);
    expect(show.history.error).toBe("Can't reach the show server. Check your connection — we keep trying.");
    jest.advanceTimersByTime(3000);
    await settle();
    expect(show.connection.down).toBe(false);
    expect(show.history.error).toBeNull();
  });

  it('says the page is not set up when its config cannot be read', () => {
    const state = new ShowState(knownViewer(), { player: async () => Promise.reject(new Error('unused')) });
    expect(state.fatal).toBeNull();
    state.configFailed(new Error('config.json: HTTP 404'));
    expect(state.fatal).toBe('This page is not set up correctly (config.json: HTTP 404). Try again later.');
  });
});

async function setupJoining(closesAt: string) {
  const api = {
    identity: jest.fn<ShowApi['identity']>(async () => ({ requestor_id: 'new-viewer', token: 'new-token' })),
    answer: jest.fn<ShowApi['answer']>(async () => ({})),
    poll: jest.fn<ShowApi['poll']>(async (pollId) => view(pollId)),
    current: jest.fn<ShowApi['current']>(async () =>
      view('run:q1', { closes_at: closesAt, counts: [2, 0, 1], total: 3 }),
    ),
    history: jest.fn<ShowApi['history']>(async () => ({ items: [], next_cursor: null })),
    nickname: jest.fn<ShowApi['nickname']>(async (viewer, nickname) => ({
      requestor_id: viewer.requestor_id,
      nickname,
    })),
  };
  show = new ShowState(knownViewer(), {
    api: () => api,
    player: async () => Promise.reject(new Error('no player')),
  });
  await show.start({ ...STREAM, playbackUrl: null }, new FakeVideo() as unknown as HTMLVideoElement);
  await settle();
  return { show, api };
}

describe('ShowState: how far behind live', () => {
  it('hands the player a legal plan for ?latency, then caps it to the stream window and says so', async () => {
    const { show, player } = await setup({ latency: 20 });
    expect(player.options?.latency).toMatchObject({ seconds: 20, cappedBy: null });
    expect(player.options!.latency!.maxSeconds).toBeGreaterThan(20);
    expect(show.playback.latencyNotice).toBeNull();

    player.events!.window!({ seconds: 15, targetDuration: 1, sliding: true });
    expect(player.setLatency).toHaveBeenCalledTimes(1);
    expect(player.setLatency).toHaveBeenLastCalledWith({
      requested: 20,
      seconds: 10,
      maxSeconds: 12,
      cappedBy: 'stream',
    });
    expect(show.playback.latencyNotice).toBe('Playing 10 s behind live (the most this stream allows).');

    // Playlist refreshes that change nothing are not handed on again.
    player.events!.window!({ seconds: 14.5, targetDuration: 1, sliding: true });
    player.events!.window!({ seconds: 15, targetDuration: 1, sliding: true });
    expect(player.setLatency).toHaveBeenCalledTimes(1);
  });

  it('caps ?latency to the show’s grace, learnt from the first poll’s closing time', async () => {
    const { show, api, player, video, cue } = await setup({ latency: 9 });
    player.events!.window!({ seconds: 15, targetDuration: 1, sliding: true });
    expect(show.playback.latencyNotice).toBeNull();
    const askedAt = NOW - 9000;
    api.poll.mockImplementation(async (pollId) =>
      view(pollId, { closes_at: new Date(askedAt + (20 + 10) * 1000).toISOString() }),
    );
    cue(10, ask('run:q1', 20), askedAt);
    video.present(10);
    await settle();
    expect(api.poll).toHaveBeenCalledWith('run:q1');
    expect(show.playback.latency).toEqual({ requested: 9, seconds: 6, maxSeconds: 8, cappedBy: 'grace' });
    expect(player.setLatency).toHaveBeenLastCalledWith(show.playback.latency);
    expect(show.playback.latencyNotice).toBe(
      'Playing 6 s behind live (the most that still lets your answers count).',
    );
  });

  it('asks the API nothing extra for a viewer at the default latency, and never tells them anything', async () => {
    const { show, api, player, video, cue } = await setup();
    player.events!.window!({ seconds: 15, targetDuration: 1, sliding: true });
    expect(player.setLatency).toHaveBeenLastCalledWith({
      requested: null,
      seconds: 1,
      maxSeconds: 12,
      cappedBy: null,
    });
    cue(10, ask('run:q1'), NOW);
    video.present(10);
    await settle();
    expect(api.poll).not.toHaveBeenCalled();
    expect(show.playback.latencyNotice).toBeNull();
  });

  it('plans nothing for a player that picks its own latency (IVS)', async () => {
    const { show, player } = await setup({ latency: 20, ivs: true });
    player.events!.window?.({ seconds: 15, targetDuration: 1, sliding: true });
    expect(show.playback.latency.requested).toBeNull();
    expect(show.playback.latencyNotice).toBeNull();
  });
});

describe("ShowState: time's up, results coming", () => {
  it('keeps the viewer’s answer and counts down to the expected results in video time, then says any moment', async () => {
    const { show, api, video, cue } = await setup();
    cue(10, ask('run:q1', 20));
    video.present(10);
    await show.question.answer(2);
    expect(show.question.phase).toBe('answered');
    expect(show.question.resultsIn).toBeNull();
    video.present(30);
    // Time's up for an answered viewer too: no frozen "0 s left".
    expect(show.question.remaining).toBe(0);
    expect(show.question.phase).toBe('timeup');
    expect(show.question.myAnswer).toBe(2);
    expect(show.question.poll?.question).toBe('Question run:q1');
    expect(show.question.announcement).toBe("Time's up. Your answer: C. Results are coming.");
    // No program date-time, so the grace is not learnt: the default grace and the settle estimate.
    const expected = 10 + 20 + DEFAULT_LATENCY_GRACE_SECONDS + RESULTS_AFTER_CLOSE_S;
    expect(show.question.resultsIn).toBe(Math.ceil(expected - 30));
    video.present(expected - 1.5);
    expect(show.question.resultsIn).toBe(2);
    video.present(expected + 0.2);
    expect(show.question.resultsIn).toBe(0); // late: "Results any moment…"
    expect(show.question.phase).toBe('timeup');
    await settle();
    expect(api.poll).not.toHaveBeenCalled();
    cue(expected + 1, encodeCue(resultsCue('run:q1', [0, 1, 4])));
    video.present(expected + 1);
    expect(show.question.phase).toBe('revealed');
    expect(show.question.resultsIn).toBeNull();
  });

  it('learns the show’s grace from /poll-get once, when time is up, and counts down to close + settle', async () => {
    const { show, api, video, cue } = await setup();
    // Stamped on a frame asked at NOW − 1 s; the poll closes 20 s + a 4 s grace after it.
    const asked = NOW - 1000;
    api.poll.mockResolvedValue(view('run:q1', { closes_at: new Date(asked + 24_000).toISOString() }));
    cue(10, ask('run:q1', 20), asked);
    video.present(10);
    video.present(20);
    expect(api.poll).not.toHaveBeenCalled(); // nothing asked while answering
    video.present(30);
    expect(show.question.phase).toBe('timeup');
    await settle();
    video.present(30.5);
    video.present(31);
    expect(api.poll).toHaveBeenCalledTimes(1);
    expect(show.question.poll?.closesAfter).toBe(24);
    expect(show.question.resultsIn).toBe(Math.ceil(10 + 24 + RESULTS_AFTER_CLOSE_S - 31));
    // The viewer's latency plan is left alone: they asked for none.
    expect(show.playback.latency.requested).toBeNull();
  });

  it('a poll from the API counts down to results in wall time', async () => {
    const { show } = await setupJoining(new Date(NOW + 5_000).toISOString());
    jest.advanceTimersByTime(5_000);
    expect(show.question.phase).toBe('timeup');
    expect(show.question.resultsIn).toBe(Math.ceil(RESULTS_AFTER_CLOSE_S));
    jest.advanceTimersByTime(RESULTS_AFTER_CLOSE_S * 1000 + 250);
    expect(show.question.resultsIn).toBe(0);
  });
});
