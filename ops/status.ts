// status: what is running now (each running show's progress), or where one run is.
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { PlanOutput } from '../contract/state-machine.ts';
import { readEndedPolls } from './ended.ts';
import { executionArnFor, loadRun, runInfo, type RunInfo } from './runs.ts';
import type { Target } from './target.ts';
import type { PollTimeline, RunTimeline } from './timeline.ts';

export interface Progress {
  /** Questions asked so far, of `total`. */
  asked: number;
  total: number;
  /** The question open now. */
  open?: PollTimeline;
  /** The next timed question. */
  next?: PollTimeline;
  /** Manual questions waiting for their cue. */
  waiting: PollTimeline[];
  /** Questions the run's end closed while they were open (stopped, failed, timed out), with their counts. */
  closedByEnd?: PollTimeline[];
}

export function progress(timeline: RunTimeline): Progress {
  const asked = timeline.polls.filter((p) => p.askedAt !== undefined).length;
  const open = timeline.polls.find(
    (p) => p.askedAt !== undefined && p.closedAt === undefined && !timeline.ended,
  );
  const next = timeline.ended
    ? undefined
    : timeline.polls
        .filter((p) => !p.manual && p.askedAt === undefined && p.scheduledAt !== undefined)
        .sort((a, b) => a.scheduledAt! - b.scheduledAt!)[0];
  return {
    asked,
    total: timeline.polls.length,
    ...(open ? { open } : {}),
    ...(next ? { next } : {}),
    waiting: timeline.polls.filter((p) => p.waitingForCue),
  };
}

export interface RunningShow {
  run: RunInfo;
  progress: Progress;
}

/** Every running show (up to 100). */
export async function runningShows(target: Target): Promise<RunningShow[]> {
  const { executions = [] } = await target.sfn.send(
    new ListExecutionsCommand({
      stateMachineArn: target.stateMachineArn,
      statusFilter: 'RUNNING',
      maxResults: 100,
    }),
  );
  const rows: RunningShow[] = [];
  for (const e of executions) {
    const { timeline } = await loadRun(target.sfn, e.executionArn!);
    rows.push({ run: runInfo(e), progress: progress(timeline) });
  }
  return rows;
}

export interface RunStatus {
  run: RunInfo;
  /** The show's plan (from the run's Plan step, or its input before that). */
  plan?: PlanOutput;
  progress: Progress;
}

export async function runStatus(target: Target, run: string): Promise<RunStatus> {
  const executionArn = executionArnFor(target.stateMachineArn, run);
  const { execution, timeline } = await loadRun(target.sfn, executionArn);
  await readEndedPolls(target, timeline, execution.status === 'RUNNING');
  const ended = timeline.polls.filter((p) => p.closedBy !== undefined);
  return {
    run: { ...runInfo(execution), executionArn },
    ...(timeline.plan ? { plan: timeline.plan } : {}),
    progress: { ...progress(timeline), ...(ended.length ? { closedByEnd: ended } : {}) },
  };
}
