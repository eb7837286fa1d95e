// history: a run as it happened, read from its execution history (the same locally and in AWS):
// each question scheduled, cued, asked, late by, closed, its votes, and the cues sent.
import { readEndedPolls } from './ended.ts';
import { executionArnFor, loadRun, runInfo, type RunInfo } from './runs.ts';
import type { Target } from './target.ts';
import type { PollTimeline } from './timeline.ts';

export interface RunHistory {
  run: RunInfo;
  polls: PollTimeline[];
  /** PutMetadata calls IVS accepted (the state machine's, and the results cues the end of a stopped or failed run sent). */
  cuesSent: number;
  /** PutMetadata calls IVS throttled (each was retried). */
  throttled: number;
}

export async function history(target: Target, run: string): Promise<RunHistory> {
  const executionArn = executionArnFor(target.stateMachineArn, run);
  const { execution, timeline } = await loadRun(target.sfn, executionArn);
  // A run that failed or was stopped closes its open polls outside its own history (the lifecycle's
  // endRun): the table says when, with what counts and why, so history agrees with /poll-get and results.
  const endCues = await readEndedPolls(target, timeline, execution.status === 'RUNNING');
  return {
    run: runInfo(execution),
    polls: timeline.polls,
    cuesSent: timeline.cues.length + endCues,
    throttled: timeline.polls.reduce((n, p) => n + p.throttled, 0),
  };
}
