// history: a run as it happened, read from its execution history (the same locally and in AWS):
// each question scheduled, cued, asked, late by, closed, its votes, and the cues sent.
import { executionArnFor, loadRun, runInfo, type RunInfo } from './runs.ts';
import { PollStore } from '../store/polls.ts';
import type { Target } from './target.ts';
import type { PollTimeline } from './timeline.ts';

export interface RunHistory {
  run: RunInfo;
  polls: PollTimeline[];
  /** PutMetadata calls IVS accepted. */
  cuesSent: number;
  /** PutMetadata calls IVS throttled (each was retried). */
  throttled: number;
}

export async function history(target: Target, run: string): Promise<RunHistory> {
  const executionArn = executionArnFor(target.stateMachineArn, run);
  const { execution, timeline } = await loadRun(target.sfn, executionArn);
  // A run that failed or was stopped closes its open polls outside its own history (the lifecycle's
  // endRun): the table says when, so history agrees with /poll-get and results.
  if (execution.status !== 'RUNNING') {
    const store = new PollStore(target.db, target.tableName);
    for (const p of timeline.polls) {
      if (p.askedAt === undefined || p.closedAt !== undefined) continue;
      const record = await store.getPoll(p.pollId);
      if (record?.state === 'closed' && record.closedAt) p.closedAt = Date.parse(record.closedAt);
    }
  }
  return {
    run: runInfo(execution),
    polls: timeline.polls,
    cuesSent: timeline.cues.length,
    throttled: timeline.polls.reduce((n, p) => n + p.throttled, 0),
  };
}
