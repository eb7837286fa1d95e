// leaderboard: the standings of a run's players (issue 22), as the producer sees them — every
// player best first, with the nickname even when it is hidden — and hiding a player's nickname.
// The standings are the score store's (store/scores.ts: one score item per player per run, read
// with strongly consistent Queries of every score shard), the same the close reads for the
// `leaderboard` cue, so the producer's table and the viewers' cue agree.
import type { LeaderboardStanding, NameHidden, RunLeaderboard } from '../contract/producer.ts';
import { REQUESTOR_ID } from '../core/ids.ts';
import { displayName } from '../core/leaderboard.ts';
import { PollStore } from '../store/polls.ts';
import { ScoreStore, type Standing } from '../store/scores.ts';
import { readPollRecords, type PollRecords } from './ended.ts';
import { OpError } from './errors.ts';
import { executionArnFor, loadRun, runIdOf } from './runs.ts';
import type { Target } from './target.ts';
import type { RunTimeline } from './timeline.ts';

// The producer API's shapes too: defined once, in the contract.
export type { NameHidden, RunLeaderboard } from '../contract/producer.ts';

export interface LeaderboardOptions {
  /** Only the best `top` players (their names alone are read); default every player. */
  top?: number;
}

export async function leaderboard(
  target: Target,
  run: string,
  options: LeaderboardOptions = {},
): Promise<RunLeaderboard> {
  const executionArn = executionArnFor(target.stateMachineArn, run);
  const { execution, timeline } = await loadRun(target.sfn, executionArn);
  const runId = runIdOf(executionArn);
  const polls = new PollStore(target.db, target.tableName);
  const quiz = quizQuestions(timeline);
  const [records, standings] = await Promise.all([
    readPollRecords(polls, quiz),
    new ScoreStore(target.db, target.tableName).standings(
      runId,
      options.top !== undefined ? { namesFor: options.top } : {},
    ),
  ]);
  const final = isFinal(timeline, records, execution.status !== 'RUNNING');
  return leaderboardOf(runId, standings, final, options.top);
}

/** A run's quiz questions: those with a right answer (a poll scores nothing). */
export function quizQuestions(timeline: RunTimeline): RunTimeline['polls'] {
  return timeline.polls.filter((p) => p.correct !== undefined);
}

/**
 * The standings will not change: every quiz question of the run is closed (recounted, its points
 * given) — or, once the run has ended (`ended`), was never asked. A run without quiz questions has
 * no player, and its (empty) standings are final too.
 */
export function isFinal(timeline: RunTimeline, records: PollRecords, ended = false): boolean {
  return quizQuestions(timeline).every((p) => {
    const record = records.get(p.pollId);
    return record ? record.state === 'closed' : ended;
  });
}

/**
 * The leaderboard of standings read best first (ScoreStore.standings): ordinal ranks 1, 2, 3… (the
 * tie-breaks make the order total), the name viewers see (displayName: "Player 7K3Q" when hidden
 * or without a nickname), and the nickname itself for the producer; the best `top` only when
 * given (`players` still counts all). Pure.
 */
export function leaderboardOf(
  runId: string,
  standings: readonly Standing[],
  final: boolean,
  top?: number,
): RunLeaderboard {
  const listed = top === undefined ? standings : standings.slice(0, top);
  return {
    runId,
    players: standings.length,
    final,
    standings: listed.map((s, i): LeaderboardStanding => ({
      rank: i + 1,
      requestor_id: s.requestorId,
      name: displayName(s.nickname ?? s.name, s.hidden, s.requestorId),
      nickname: s.nickname,
      hidden: s.hidden,
      score: s.score,
      total_answer_ms: s.totalAnswerMs,
    })),
  };
}

export interface HideNameRequest {
  requestorId: string;
  /** True: shown as "Player 7K3Q"; false: the nickname again. */
  hidden: boolean;
}

/** Checks a hide-name request; the errors name the field (`requestorId: …`). */
export function checkHideName(request: { requestorId: unknown; hidden: unknown }): HideNameRequest {
  const { requestorId, hidden } = request;
  if (typeof requestorId !== 'string' || !REQUESTOR_ID.test(requestorId))
    throw new OpError('invalid', {
      path: 'requestorId',
      message: `expected a viewer id (letters, digits, - and _, at most 64), got ${JSON.stringify(requestorId)}`,
    });
  if (typeof hidden !== 'boolean')
    throw new OpError('invalid', { path: 'hidden', message: 'expected true or false' });
  return { requestorId, hidden };
}

/**
 * Hides a player's nickname (or shows it again) in every later leaderboard of every run: the next
 * `leaderboard` cue and the producer's standings show "Player 7K3Q" instead. A cue already in the
 * stream stays as it was sent.
 */
export async function hideName(target: Target, request: HideNameRequest): Promise<NameHidden> {
  const { requestorId, hidden } = checkHideName(request);
  await new ScoreStore(target.db, target.tableName).setHidden(requestorId, hidden);
  return { requestorId, hidden };
}
