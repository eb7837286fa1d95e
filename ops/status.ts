// status: what is running now (each running show's progress), or where one run is.
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { Progress, RunInfo, RunStatus } from '../contract/producer.ts';
import { readEndedPolls } from './ended.ts';
import { executionArnFor, loadRun, runInfo, type LoadedRun } from './runs.ts';
import type { Target } from './target.ts';
import type { RunTimeline } from './timeline.ts';

// The producer API's shapes too: defined once, in the contract.
export type { Progress, RunStatus } from '../contract/producer.ts';

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

export async function runStatus(target: Target, run: string): Promise<RunStatus> {
  const executionArn = executionArnFor(target.stateMachineArn, run);
  const loaded = await loadRun(target.sfn, executionArn);
  await readEndedPolls(target, loaded.timeline, loaded.execution.status === 'RUNNING');
  return statusOf(loaded, executionArn);
}

/** A loaded run's status, once the ends of its questions are read (readEndedPolls). */
export function statusOf({ execution, timeline }: LoadedRun, executionArn: string): RunStatus {
  const ended = timeline.polls.filter((p) => p.closedBy !== undefined);
  return {
    run: { ...runInfo(execution), executionArn },
    ...(timeline.plan ? { plan: timeline.plan } : {}),
    progress: { ...progress(timeline), ...(ended.length ? { closedByEnd: ended } : {}) },
  };
}
