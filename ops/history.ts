// history: a run as it happened, read from its execution history (the same locally and in AWS):
// each question scheduled, cued, asked, late by, closed, its votes, and the cues sent.
import type { RunHistory } from '../contract/producer.ts';
import { PollStore } from '../store/polls.ts';
import { readEndedPolls, readPollRecords, type PollRecords } from './ended.ts';
import { applyPoints } from './points.ts';
import { executionArnFor, loadRun, runInfo, type LoadedRun } from './runs.ts';
import type { Target } from './target.ts';

// The producer API's shape too: defined once, in the contract.
export type { RunHistory } from '../contract/producer.ts';

export async function history(target: Target, run: string): Promise<RunHistory> {
  const executionArn = executionArnFor(target.stateMachineArn, run);
  const loaded = await loadRun(target.sfn, executionArn);
  const { endCues } = await readRunPolls(target, new PollStore(target.db, target.tableName), loaded);
  return historyOf(loaded, endCues);
}

/**
 * What a loaded run's history needs from the table, read once: each question's poll item. A run
 * that failed or was stopped closes its open polls outside its own history (the lifecycle's
 * endRun): the table says when, with what counts and why (`endCues` counts the results cues those
 * ends sent), so reports agree with /poll-get and results; and the quiz questions' points go onto
 * the timeline.
 */
export async function readRunPolls(
  target: Target,
  store: PollStore,
  loaded: LoadedRun,
): Promise<{ records: PollRecords; endCues: number }> {
  const records = await readPollRecords(store, loaded.timeline.polls);
  const endCues = await readEndedPolls(
    target,
    loaded.timeline,
    loaded.execution.status === 'RUNNING',
    records,
  );
  applyPoints(loaded.timeline.polls, records);
  return { records, endCues };
}

/** A loaded run's history, once the ends of its questions are read (`endCues`: readEndedPolls' count). */
export function historyOf({ execution, timeline }: LoadedRun, endCues: number): RunHistory {
  return {
    run: runInfo(execution),
    polls: timeline.polls,
    cuesSent: timeline.cues.length + endCues,
    throttled: timeline.polls.reduce((n, p) => n + p.throttled, 0),
  };
}
