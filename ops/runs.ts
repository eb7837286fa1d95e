// Reading runs through the Step Functions API: run ids ↔ execution ARNs, whole histories, and the
// run's timeline (see timeline.ts). Shared by the operations.
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { RunInfo } from '../contract/producer.ts';
import { RunNotFoundError } from './errors.ts';
import { readTimeline, type RunTimeline } from './timeline.ts';

// A run as Step Functions describes it: the producer API's shape too, so it is defined in the contract.
export type { RunInfo } from '../contract/producer.ts';

export function runInfo(execution: DescribeExecutionCommandOutput | ExecutionListItem): RunInfo {
  const executionArn = execution.executionArn ?? '';
  const info: RunInfo = { runId: execution.name ?? runIdOf(executionArn), executionArn };
  if (execution.status) info.status = execution.status;
  if (execution.startDate) info.startDate = execution.startDate.toISOString();
  if (execution.stopDate) info.stopDate = execution.stopDate.toISOString();
  if ('error' in execution && execution.error) info.error = execution.error;
  if ('cause' in execution && execution.cause) info.cause = execution.cause;
  return info;
}

/** A run is named by its id (the execution name) or by its execution ARN. */
export function executionArnFor(stateMachineArn: string, run: string): string {
  if (run.startsWith('arn:')) return run;
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${run}`;
}

export function runIdOf(executionArn: string): string {
  return executionArn.slice(executionArn.lastIndexOf(':') + 1);
}

export async function describeRun(
  sfn: SFNClient,
  executionArn: string,
): Promise<DescribeExecutionCommandOutput> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) {
      throw new RunNotFoundError(runIdOf(executionArn), { cause: error });
    }
    throw error;
  }
}

/** Newer events than `afterId`, oldest first (reads newest-first pages and stops at the known ones). */
export async function eventsAfter(
  sfn: SFNClient,
  executionArn: string,
  afterId = 0,
): Promise<HistoryEvent[]> {
  const found: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1000, nextToken }),
    );
    for (const event of page.events ?? []) {
      if ((event.id ?? 0) <= afterId) return found.reverse();
      found.push(event);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return found.reverse();
}

/**
 * When the history has no plan yet (or the run failed before it), plan from the execution input.
 * The show schema (zod) loads only then: `showrunner cue` on a planned run does without it.
 */
export async function planFromInput(run: DescribeExecutionCommandOutput): Promise<RunTimeline['plan']> {
  const [{ planShow }, { validateExecutionInput }] = await Promise.all([
    import('../core/plan.ts'),
    import('../core/show.ts'),
  ]);
  try {
    const checked = validateExecutionInput(JSON.parse(run.input ?? 'null'));
    if (!checked.ok || !run.name) return undefined;
    return planShow(checked.value, run.name, run.startDate ?? new Date());
  } catch {
    return undefined;
  }
}

export interface LoadedRun {
  execution: DescribeExecutionCommandOutput;
  events: HistoryEvent[];
  timeline: RunTimeline;
}

export async function loadRun(sfn: SFNClient, executionArn: string): Promise<LoadedRun> {
  const execution = await describeRun(sfn, executionArn);
  const events = await eventsAfter(sfn, executionArn);
  const timeline = readTimeline(events);
  // The plan in the history wins over one from the input (readTimeline), so read the input only without it.
  if (timeline.plan) return { execution, events, timeline };
  return { execution, events, timeline: readTimeline(events, await planFromInput(execution)) };
}
