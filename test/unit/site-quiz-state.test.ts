// The viewer page's quiz (issue 22), compiled by Svelte as the site is and driven through
// ShowState with a fake video, player and API: a quiz question's title, points and countdown share,
// the elapsed video time sent with the answer, "You were right (+850)" / "The answer was …",
// a poll's winners, the history's points and running totals, the leaderboard cue on its frame with
// the viewer's own place from their own score, the podium, and the nickname.
/// <reference types="svelte" />
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { FakeVideo } from '../support/fake-video.ts';
import { encodeCue, pollCue, resultsCue } from '../../core/cues.ts';
import { displayName, leaderboardOf, type PlayerStanding } from '../../core/leaderboard.ts';
import { scoreVote } from '../../core/scoring.ts';
import type { HistoryEntry } from '../../contract/api.ts';
import { ViewerFailure, type ShowApi } from '../../site/src/lib/api.ts';
import type { SiteConfig } from '../../site/src/lib/config.ts';
import type { NicknameStore } from '../../site/src/lib/identity.ts';
import type { PlayerEvents, PlayerFactory } from '../../site/src/lib/player/types.ts';
import { ShowState } from '../../site/src/lib/show.svelte.ts';

const NOW = Date.parse('2030-01-01T12:00:00Z');
const RUN = 'quiz-20300101T120000Z';
const VIEWER = { requestor_id: 'viewer-1', token: 'token-1' };
const STREAM: SiteConfig = {
  apiUrl: 'http://api.test',
  cachedApiUrl: 'http://api.test',
  channel: 'local',
  playbackUrl: 'http://live.test/index.m3u8',
  player: 'hls.js',
};

const settle = async () => {
  for (let i = 0; i < 6; i++) await new Promise((resolve) => setImmediate(resolve));
};

type Entry = HistoryEntry;

let show: ShowState | undefined;

async function setup(options: { history?: Entry[]; names?: NicknameStore } = {}) {
  const history: { items: Entry[] } = { items: options.history ?? [] };
  const api = {
    identity: jest.fn<ShowApi['identity']>(async () => VIEWER),
    answer: jest.fn<ShowApi['answer']>(async () => ({})),
    poll: jest.fn<ShowApi['poll']>(async (pollId) => ({
      poll_id: pollId,
      question: `Question ${pollId}`,
      answers: ['A', 'B', 'C'],
      state: 'closed',
      counts: [0, 0, 0],
      total: 0,
      closes_at: new Date(NOW).toISOString(),
    })),
    current: jest.fn<ShowApi['current']>(async () => null),
    history: jest.fn<ShowApi['history']>(async () => ({ items: history.items, next_cursor: null })),
    nickname: jest.fn<ShowApi['nickname']>(async (viewer, nickname) => ({
      requestor_id: viewer.requestor_id,
      nickname,
    })),
  };
  const video = new FakeVideo();
  const player = { events: null as PlayerEvents | null };
  const factory: PlayerFactory = async (v, _url, events) => {
    player.events = events;
    return { video: v, destroy: () => undefined, setLatency: () => undefined };
  };
  show = new ShowState(
    { load: () => VIEWER, save: () => undefined },
    {
      api: () => api,
      player: async () => factory,
      ...(options.names ? { nicknames: options.names } : {}),
    },
  );
  await show.start(STREAM, video as unknown as HTMLVideoElement);
  await settle();
  const cue = (mediaTime: number, payload: string) =>
    player.events!.cue({ mediaTime, payload, programTime: null });
  return { show, api, video, cue, history };
}

const quiz = (id: string, extra: { points?: number; speed?: boolean; duration?: number } = {}) =>
  encodeCue(
    pollCue(`${RUN}:${id}`, {
      question: `Question ${id}`,
      answers: ['A', 'B', 'C'],
      duration: extra.duration ?? 20,
      title: 'Cat Facts Live',
      points: extra.points ?? 1000,
      speed: extra.speed,
    }),
  );

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  jest.setSystemTime(NOW);
});

afterEach(() => {
  show?.destroy();
  show = undefined;
  jest.useRealTimers();
});

describe('the quiz card', () => {
  it('shows the title and points before answering, the share of time left on every frame, and sends the video time it took', async () => {
    const { show, api, video, cue } = await setup();
    cue(10, quiz('q1', { points: 1000, speed: true }));
    video.present(10);
    expect(show.question.poll).toMatchObject({ title: 'Cat Facts Live', points: 1000, speed: true });
    expect(show.question.timeLeft).toBe(1);
    video.present(15);
    expect(show.question.timeLeft).toBeCloseTo(0.75);
    expect(show.question.remaining).toBe(15);
    await show.question.answer(0);
    expect(api.answer).toHaveBeenCalledWith(`${RUN}:q1`, VIEWER, 0, 5000);
    expect(show.question.elapsedMs).toBe(5000);
    video.present(25);
    expect(show.question.phase).toBe('answered');
    expect(show.question.timeLeft).toBeCloseTo(0.25);
    video.present(30);
    expect(show.question.phase).toBe('timeup');
    expect(show.question.timeLeft).toBe(0);
  });

  it('a plain poll has no quiz fields', async () => {
    const { show, video, cue } = await setup();
    cue(10, encodeCue(pollCue(`${RUN}:p1`, { question: 'Best cat?', answers: ['A', 'B'], duration: 20 })));
    video.present(10);
    expect(show.question.poll).toMatchObject({ title: null, points: null, speed: false });
  });

  it('after the reveal: "You were right (+N)" with the points scoreVote gives for the time sent', async () => {
    const { show, video, cue } = await setup();
    cue(10, quiz('q1', { points: 1000, speed: true }));
    video.present(10);
    video.present(14.2);
    await show.question.answer(2);
    cue(40, encodeCue(resultsCue(`${RUN}:q1`, [1, 1, 3], 2)));
    video.present(40);
    const points = scoreVote({
      correct: 2,
      answer: 2,
      points: 1000,
      speed: true,
      durationMs: 20_000,
      elapsedMs: 4200,
    });
    expect(points).toBe(895);
    expect(show.question.outcome).toEqual({ kind: 'right', points: 895 });
    expect(show.question.announcement).toBe(
      'Results: 5 votes, 60% top answer. The answer: C. You were right (+895).',
    );
  });

  it('without the speed bonus a right answer earns the points; a wrong one gets the right answer', async () => {
    const { show, video, cue } = await setup();
    cue(10, quiz('q1', { points: 500 }));
    video.present(10);
    await show.question.answer(0);
    cue(40, encodeCue(resultsCue(`${RUN}:q1`, [1, 4, 0], 0)));
    video.present(40);
    expect(show.question.outcome).toEqual({ kind: 'right', points: 500 });

    cue(50, quiz('q2', { points: 500 }));
    video.present(50);
    await show.question.answer(1);
    cue(80, encodeCue(resultsCue(`${RUN}:q2`, [1, 4, 0], 2)));
    video.present(80);
    expect(show.question.outcome).toEqual({ kind: 'wrong', correct: 'C', answered: true });

    cue(90, quiz('q3'));
    video.present(90);
    cue(120, encodeCue(resultsCue(`${RUN}:q3`, [1, 4, 0], 1)));
    video.present(120);
    expect(show.question.outcome).toEqual({ kind: 'wrong', correct: 'B', answered: false });
  });

  it('an answer sent before a reload is recalled from the history, with the API’s points', async () => {
    const { show, video, cue } = await setup({
      history: [{ poll_id: `${RUN}:q1`, answer: 1, answered_at: new Date(NOW).toISOString(), points: 740 }],
    });
    cue(10, quiz('q1'));
    video.present(10);
    cue(40, encodeCue(resultsCue(`${RUN}:q1`, [0, 1, 0], 1)));
    video.present(40);
    expect(show.question.myAnswer).toBeNull();
    expect(show.question.outcome).toEqual({ kind: 'right', points: 740 });
  });

  it("a poll's results label its winner, and every answer tied for the most votes", async () => {
    const { show, video, cue } = await setup();
    cue(
      10,
      encodeCue(pollCue(`${RUN}:p1`, { question: 'Best cat?', answers: ['A', 'B', 'C'], duration: 20 })),
    );
    video.present(10);
    cue(40, encodeCue(resultsCue(`${RUN}:p1`, [2, 5, 1])));
    video.present(40);
    expect(show.question.outcome).toEqual({ kind: 'poll', winners: [1] });

    cue(50, encodeCue(pollCue(`${RUN}:p2`, { question: 'Tie?', answers: ['A', 'B', 'C'], duration: 20 })));
    video.present(50);
    cue(80, encodeCue(resultsCue(`${RUN}:p2`, [3, 1, 3])));
    video.present(80);
    expect(show.question.outcome).toEqual({ kind: 'poll', winners: [0, 2] });
  });
});

describe('the history', () => {
  it("shows each quiz answer's points and the run's running total, oldest first", async () => {
    const at = (s: number) => new Date(NOW + s * 1000).toISOString();
    const { show } = await setup({
      history: [
        { poll_id: `${RUN}:q3`, answer: 0, answered_at: at(3), points: 0, correct: 1 },
        { poll_id: `${RUN}:p1`, answer: 0, answered_at: at(2) },
        { poll_id: `${RUN}:q2`, answer: 0, answered_at: at(1), points: 850, correct: 0 },
        { poll_id: 'other-run:q1', answer: 0, answered_at: at(0), points: 1000, correct: 0 },
        { poll_id: `${RUN}:q1`, answer: 0, answered_at: at(-1), points: 1000, correct: 0 },
      ],
    });
    expect(show.history.rows.map((r) => [r.entry.poll_id, r.points, r.total])).toEqual([
      [`${RUN}:q3`, 0, 1850],
      [`${RUN}:p1`, undefined, undefined],
      [`${RUN}:q2`, 850, 1850],
      ['other-run:q1', 1000, 1000],
      [`${RUN}:q1`, 1000, 1000],
    ]);
  });
});

/** Players for a leaderboard cue: `n` players with falling scores, named P1…, and the viewer's own entry if given. */
function players(n: number, own?: { score: number; name: string }): PlayerStanding[] {
  const list: PlayerStanding[] = Array.from({ length: n }, (_, i) => ({
    requestorId: `p${i + 1}`,
    name: `P${i + 1}`,
    score: (n - i) * 100,
    totalAnswerMs: 1000,
    firstAnsweredAt: NOW,
  }));
  if (own)
    list.push({
      requestorId: VIEWER.requestor_id,
      name: own.name,
      score: own.score,
      totalAnswerMs: 1,
      firstAnsweredAt: NOW,
    });
  return list;
}

describe('the leaderboard', () => {
  it('comes on its frame, with the top 10, the players and the viewer’s own rank from their own score', async () => {
    const { show, video, cue } = await setup();
    cue(10, quiz('q1', { points: 1000 }));
    video.present(10);
    await show.question.answer(0);
    cue(40, encodeCue(resultsCue(`${RUN}:q1`, [1, 0, 0], 0)));
    video.present(40);
    expect(show.scoreboard.cue).toBeNull();
    // The viewer is #4 (1,000 points; above them 1,300, 1,200, 1,100).
    const me = displayName(null, false, VIEWER.requestor_id);
    cue(41, encodeCue(leaderboardOf(players(13, { score: 1000, name: me }), { pollId: `${RUN}:q1` })));
    video.present(40.9);
    expect(show.scoreboard.cue).toBeNull();
    video.present(41);
    expect(show.scoreboard.cue?.players).toBe(14);
    expect(show.scoreboard.cue?.top).toHaveLength(10);
    expect(show.scoreboard.score).toBe(1000);
    expect(show.scoreboard.played).toBe(true);
    expect(show.scoreboard.place).toEqual({ kind: 'rank', rank: 4 });
    expect(show.scoreboard.final).toBe(false);
    // The leaderboard means the first quiz question closed: names are fixed.
    expect(show.nickname.locked).toBe(true);
  });

  it('outside the top 10: "top p %" from the thresholds', async () => {
    const { show, video, cue } = await setup();
    cue(10, quiz('q1', { points: 150 }));
    video.present(10);
    await show.question.answer(0);
    cue(40, encodeCue(resultsCue(`${RUN}:q1`, [1, 0, 0], 0)));
    video.present(40);
    // 200 players scoring 100…20,000; the viewer's 150 beats 199 - 1 of them: not top 50 %.
    cue(41, encodeCue(leaderboardOf(players(200), { pollId: `${RUN}:q1`, final: true })));
    video.present(41);
    expect(show.scoreboard.place).toEqual({ kind: 'none' });

    cue(50, quiz('q2', { points: 19_000 }));
    video.present(50);
    await show.question.answer(0);
    cue(80, encodeCue(resultsCue(`${RUN}:q2`, [1, 0, 0], 0)));
    video.present(80);
    cue(81, encodeCue(leaderboardOf(players(200), { pollId: `${RUN}:q2`, final: true })));
    video.present(81);
    // 19,150 points: players 1–8 score more (20,000…19,300): inside the top 5 % (10 places).
    expect(show.scoreboard.score).toBe(19_150);
    expect(show.scoreboard.place).toEqual({ kind: 'top', percent: 5 });
    expect(show.scoreboard.final).toBe(true);
  });

  it('a viewer who played no quiz question has no place', async () => {
    const { show, video, cue } = await setup();
    cue(41, encodeCue(leaderboardOf(players(3), { pollId: `${RUN}:q1` })));
    video.present(41);
    expect(show.scoreboard.played).toBe(false);
    expect(show.scoreboard.place).toEqual({ kind: 'none' });
  });

  it('prefers the API’s points from the history to its own count', async () => {
    const { show, video, cue, history } = await setup();
    cue(10, quiz('q1', { points: 1000, speed: true }));
    video.present(10);
    video.present(12);
    await show.question.answer(0);
    await settle(); // the answer's own read of the history
    history.items = [
      { poll_id: `${RUN}:q1`, answer: 0, answered_at: new Date(NOW).toISOString(), points: 930 },
    ];
    cue(40, encodeCue(resultsCue(`${RUN}:q1`, [1, 0, 0], 0)));
    video.present(40);
    expect(show.question.outcome).toEqual({ kind: 'right', points: 950 });
    await settle(); // the results read the history again
    cue(41, encodeCue(leaderboardOf(players(2), { pollId: `${RUN}:q1` })));
    video.present(41);
    expect(show.scoreboard.score).toBe(930);
  });
});

describe('the nickname', () => {
  const store = () => {
    const saved = new Map<string, string>();
    return Object.assign(
      {
        load: (id: string) => saved.get(id) ?? null,
        save: (id: string, name: string) => void saved.set(id, name),
      },
      { saved },
    );
  };

  it('is checked, saved with the API, kept, and shown', async () => {
    const names = store();
    const { show, api } = await setup({ names });
    await expect(show.nickname.save('  Ada   Lovelace ')).resolves.toBe(true);
    expect(api.nickname).toHaveBeenCalledWith(VIEWER, 'Ada Lovelace');
    expect(show.nickname.saved).toBe('Ada Lovelace');
    expect(names.saved.get(VIEWER.requestor_id)).toBe('Ada Lovelace');
    show.destroy();
    const again = await setup({ names });
    expect(again.show.nickname.saved).toBe('Ada Lovelace');
  });

  it('says in words what is wrong, before asking the API or from its answer', async () => {
    const { show, api } = await setup();
    await expect(show.nickname.save('x'.repeat(21))).resolves.toBe(false);
    expect(show.nickname.error).toBe('Expected 1–20 characters, got 21.');
    await show.nickname.save('Player 7K3Q');
    expect(show.nickname.error).toMatch(/^"Player 7K3Q" is how players without a nickname are shown/);
    expect(api.nickname).not.toHaveBeenCalled();

    api.nickname.mockRejectedValueOnce(
      new ViewerFailure(400, 'bad_request', 'nickname: refused by the profanity filter; choose another'),
    );
    await show.nickname.save('Rude');
    expect(show.nickname.error).toBe('Refused by the profanity filter; choose another.');
    expect(show.nickname.locked).toBe(false);

    api.nickname.mockRejectedValueOnce(
      new ViewerFailure(409, 'name_locked', 'names are fixed once the first quiz question has closed'),
    );
    await show.nickname.save('Late');
    expect(show.nickname.locked).toBe(true);
    expect(show.nickname.error).toBe('Names are fixed once the first quiz question has closed.');
  });

  it('is fixed once a quiz question has closed', async () => {
    const { show, video, cue } = await setup();
    cue(10, quiz('q1'));
    video.present(10);
    expect(show.nickname.locked).toBe(false);
    cue(40, encodeCue(resultsCue(`${RUN}:q1`, [0, 0, 0], 0)));
    video.present(40);
    expect(show.nickname.locked).toBe(true);
  });
});
