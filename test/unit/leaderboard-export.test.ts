// The producer's leaderboard (issue 22): the export both the CLI and the control room write
// (contract/producer.ts leaderboardCsv/leaderboardJson), the CLI's table, the standings → leaderboard
// step of ops/leaderboard.ts, and the points column of `results` and `history`.
import { describe, expect, it } from '@jest/globals';
import {
  LEADERBOARD_CSV_COLUMNS,
  RESULTS_CSV_COLUMNS,
  leaderboardCsv,
  leaderboardJson,
  resultsCsv,
  type RunHistory,
  type RunLeaderboard,
  type RunResults,
} from '../../contract/producer.ts';
import { displayName } from '../../core/leaderboard.ts';
import { renderHistory } from '../../cli/render/history.ts';
import { answerTime, renderLeaderboard, renderNameHidden } from '../../cli/render/leaderboard.ts';
import { pointsCell, renderResults } from '../../cli/render/results.ts';
import { checkHideName, isFinal, leaderboardOf } from '../../ops/leaderboard.ts';
import { OpError } from '../../ops/errors.ts';
import type { Standing } from '../../store/scores.ts';
import type { RunTimeline } from '../../ops/timeline.ts';
import type { PollRecord } from '../../core/poll.ts';

const RUN = 'quiz-20300101T120000Z';

const standing = (
  requestorId: string,
  score: number,
  totalAnswerMs: number,
  nickname: string | null,
  hidden = false,
): Standing => ({
  requestorId,
  name: displayName(nickname, hidden, requestorId),
  nickname,
  hidden,
  score,
  totalAnswerMs,
  firstAnsweredAt: 1_000,
});

const STANDINGS: Standing[] = [
  standing('viewer-a', 1750, 4_321, 'Ada'),
  standing('viewer-b', 1000, 2_000, '=HYPERLINK("http://x")', true),
  standing('viewer-c', 1000, 9_999, null),
];

describe('leaderboardOf (ops/leaderboard.ts): standings best first → the producer’s leaderboard', () => {
  it('ranks 1, 2, 3…, shows the name viewers see and keeps the hidden nickname for the producer', () => {
    const board = leaderboardOf(RUN, STANDINGS, false);
    expect(board).toMatchObject({ runId: RUN, players: 3, final: false });
    expect(board.standings.map((s) => [s.rank, s.requestor_id, s.name, s.nickname, s.hidden])).toEqual([
      [1, 'viewer-a', 'Ada', 'Ada', false],
      [2, 'viewer-b', displayName(null, true, 'viewer-b'), '=HYPERLINK("http://x")', true],
      [3, 'viewer-c', displayName(null, false, 'viewer-c'), null, false],
    ]);
    expect(board.standings[0]).toMatchObject({ score: 1750, total_answer_ms: 4_321 });
    const top = leaderboardOf(RUN, STANDINGS, false, 2);
    expect([top.players, top.standings.map((s) => s.rank)]).toEqual([3, [1, 2]]);
    expect(leaderboardOf(RUN, [], true)).toEqual({ runId: RUN, players: 0, final: true, standings: [] });
  });

  it('is final once every quiz question of the run is closed (polls do not count)', () => {
    const timeline = {
      polls: [
        { id: 'q1', pollId: `${RUN}:q1`, correct: 0 },
        { id: 'q2', pollId: `${RUN}:q2` },
        { id: 'q3', pollId: `${RUN}:q3`, correct: 1 },
      ],
      cues: [],
    } as unknown as RunTimeline;
    const records = (states: Record<string, PollRecord['state'] | undefined>) =>
      new Map(
        Object.entries(states).map(([id, state]) => [
          `${RUN}:${id}`,
          state === undefined ? undefined : ({ state } as PollRecord),
        ]),
      );
    expect(isFinal(timeline, records({ q1: 'closed', q2: 'open', q3: 'closed' }))).toBe(true);
    expect(isFinal(timeline, records({ q1: 'closed', q2: 'closed', q3: 'open' }))).toBe(false);
    expect(isFinal(timeline, records({ q1: 'closed', q2: 'closed', q3: undefined }))).toBe(false);
    // Once the run has ended, a question it never asked does not keep the standings open.
    expect(isFinal(timeline, records({ q1: 'closed', q2: undefined, q3: undefined }), true)).toBe(true);
    expect(isFinal(timeline, records({ q1: 'closed', q2: undefined, q3: 'open' }), true)).toBe(false);
    expect(isFinal({ polls: [], cues: [] }, new Map())).toBe(true);
  });

  it('hide-name requests name the field at fault', () => {
    expect(checkHideName({ requestorId: 'viewer-1', hidden: true })).toEqual({
      requestorId: 'viewer-1',
      hidden: true,
    });
    const issue = (request: { requestorId: unknown; hidden: unknown }) => {
      try {
        checkHideName(request);
      } catch (error) {
        return (error as OpError).issues[0]!.path;
      }
      return undefined;
    };
    expect(issue({ requestorId: '#poll', hidden: true })).toBe('requestorId');
    expect(issue({ requestorId: 'x'.repeat(65), hidden: true })).toBe('requestorId');
    expect(issue({ requestorId: 'viewer-1', hidden: 'yes' })).toBe('hidden');
  });
});

describe('the leaderboard export (contract/producer.ts): one function for the CLI and the control room', () => {
  const board: RunLeaderboard = leaderboardOf(RUN, STANDINGS, true);

  it('CSV: a header, one CRLF row per player best first; viewers’ text that a spreadsheet would run is neutralised', () => {
    const csv = leaderboardCsv(board);
    const lines = csv.split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toBe(LEADERBOARD_CSV_COLUMNS.join(','));
    expect(lines[1]).toBe(`${RUN},1,viewer-a,Ada,Ada,no,1750,4321,yes`);
    // The hidden formula nickname: quoted, a leading ', quotes doubled.
    expect(lines[2]).toBe(
      `${RUN},2,viewer-b,${displayName(null, true, 'viewer-b')},"'=HYPERLINK(""http://x"")",yes,1000,2000,yes`,
    );
    expect(lines[3]).toBe(`${RUN},3,viewer-c,${displayName(null, false, 'viewer-c')},,no,1000,9999,yes`);
    for (const start of ['+1', '-1', '@SUM(A1)', '\tx', '\rx']) {
      const one = leaderboardCsv({
        ...board,
        standings: [{ ...board.standings[0]!, name: start, nickname: start }],
      });
      expect(one.split('\r\n')[1]).toContain(`"'${start}"`);
    }
  });

  it('JSON: the contract’s fields in its order, two-space indented, one trailing newline', () => {
    const json = leaderboardJson({
      ...board,
      standings: board.standings.map((s) => ({ extra: 1, ...s }) as typeof s),
    });
    expect(json.endsWith('}\n')).toBe(true);
    const parsed = JSON.parse(json) as RunLeaderboard;
    expect(parsed).toEqual(board);
    expect(Object.keys(parsed)).toEqual(['runId', 'players', 'final', 'standings']);
    expect(Object.keys(parsed.standings[0]!)).toEqual([
      'rank',
      'requestor_id',
      'name',
      'nickname',
      'hidden',
      'score',
      'total_answer_ms',
    ]);
    expect(json).toBe(leaderboardJson(board));
  });

  it('`showrunner leaderboard --csv/--json` print the export byte for byte', () => {
    expect(renderLeaderboard(board, 'csv')).toBe(leaderboardCsv(board));
    expect(renderLeaderboard(board, 'json')).toBe(leaderboardJson(board));
  });

  it('the table: rank, the name viewers see (a hidden nickname beside it), score, answer time, id', () => {
    const text = renderLeaderboard({ ...board, final: false }, 'table');
    const lines = text.split('\n');
    expect(lines[0]).toBe(`${RUN}  3 players, so far (quiz questions still to close)`);
    expect(lines[2]).toMatch(/^RANK\s+NAME\s+SCORE\s+ANSWER TIME\s+REQUESTOR ID$/);
    expect(lines[3]).toMatch(/^\s+1\s+Ada\s+1750\s+4\.321 s\s+viewer-a$/);
    expect(lines[4]).toContain(`${displayName(null, true, 'viewer-b')} (hidden: =HYPERLINK("http://x"))`);
    expect(lines[5]).toMatch(/^\s+3\s+Player \w{4}\s+1000\s+9\.999 s\s+viewer-c$/);
    expect(renderLeaderboard(leaderboardOf(RUN, [], true), 'table')).toBe(
      `${RUN}  0 players, final\n\nNo player yet: nobody has answered a quiz question of this run.\n`,
    );
    expect(answerTime(0)).toBe('0.000 s');
  });

  it('hide-name says what viewers will see', () => {
    expect(renderNameHidden({ requestorId: 'viewer-b', hidden: true }, false)).toBe(
      `viewer-b's nickname is hidden: later leaderboards show them as "${displayName(null, true, 'viewer-b')}"\n`,
    );
    expect(renderNameHidden({ requestorId: 'viewer-b', hidden: false }, true)).toBe(
      '{"requestorId":"viewer-b","hidden":false}\n',
    );
  });
});

describe('results and history say which questions were scored and the points they gave', () => {
  const results: RunResults = {
    runId: RUN,
    polls: [
      {
        poll: 'q1',
        pollId: `${RUN}:q1`,
        question: 'Cats sleep 12–16 hours a day.',
        answers: ['True', 'False'],
        state: 'closed',
        counts: [3, 1],
        total: 4,
        correct: 0,
        winner: ['True'],
        points: 1000,
        points_given: 2750,
      },
      {
        poll: 'q2',
        pollId: `${RUN}:q2`,
        question: 'Best cat?',
        answers: ['Tabby', 'Siamese'],
        state: 'closed',
        counts: [1, 1],
        total: 2,
        winner: ['Tabby', 'Siamese'],
      },
    ],
  };

  it('the points cell: – for a poll, the worth, and the points given once closed', () => {
    expect(pointsCell(undefined, undefined)).toBe('–');
    expect(pointsCell(1000, undefined)).toBe('1000 each');
    expect(pointsCell(1000, 2750)).toBe('1000 each, 2750 given');
  });

  it('results: a POINTS column in the table, points and points_given in the CSV and JSON', () => {
    const table = renderResults(results, 'table').split('\n');
    expect(table[2]).toMatch(/POINTS$/);
    expect(table[3]).toMatch(/1000 each, 2750 given$/);
    expect(table[4]).toMatch(/–$/);
    const csv = resultsCsv(results).split('\r\n');
    expect(csv[0]).toBe(RESULTS_CSV_COLUMNS.join(','));
    expect(csv[0]!.endsWith(',points,points_given')).toBe(true);
    expect(csv[1]!.endsWith(',1000,2750')).toBe(true);
    expect(csv[3]!.endsWith(',,')).toBe(true);
    expect(JSON.parse(renderResults(results, 'json')).polls[0]).toMatchObject({
      points: 1000,
      points_given: 2750,
    });
  });

  it('history: a POINTS column, and points/pointsGiven in its JSON for quiz questions only', () => {
    const poll = (id: string, extra: object) => ({
      id,
      pollId: `${RUN}:${id}`,
      question: id,
      answers: ['a', 'b'],
      manual: false,
      waitingForCue: false,
      throttled: 0,
      ...extra,
    });
    const h: RunHistory = {
      run: { runId: RUN, executionArn: 'arn', status: 'SUCCEEDED' },
      polls: [poll('q1', { correct: 0, points: 500, pointsGiven: 900 }), poll('q2', {})],
      cuesSent: 0,
      throttled: 0,
    };
    const lines = renderHistory(h, false).split('\n');
    expect(lines[2]).toMatch(/POINTS$/);
    expect(lines[3]).toMatch(/500 each, 900 given$/);
    expect(lines[4]).toMatch(/–$/);
    const json = JSON.parse(renderHistory(h, true));
    expect(json.polls[0]).toMatchObject({ points: 500, pointsGiven: 900 });
    expect(json.polls[1]).not.toHaveProperty('points');
  });
});
