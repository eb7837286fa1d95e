// stop: stops a running show (StopExecution): no further questions are asked.
import { StopExecutionCommand, type ExecutionStatus } from '@aws-sdk/client-sfn';
import { describeRun, executionArnFor, runIdOf } from './runs.ts';
import type { Target } from './target.ts';

export interface StopRequest {
  /** Run id or execution ARN. */
  run: string;
  /** Why (kept in the execution history). Default "stopped by the producer". */
  cause?: string;
}

export interface Stopped {
  runId: string;
  /** After the stop (ABORTED), or the status that made it a no-op. */
  status?: ExecutionStatus;
  /** False when the run had already ended. */
  stopped: boolean;
  stopDate?: Date;
}

export async function stop(target: Target, request: StopRequest): Promise<Stopped> {
  const executionArn = executionArnFor(target.stateMachineArn, request.run);
  const runId = runIdOf(executionArn);
  const before = await describeRun(target.sfn, executionArn);
  if (before.status !== 'RUNNING') return { runId, ...statusOf(before.status), stopped: false };
  const { stopDate } = await target.sfn.send(
    new StopExecutionCommand({
      executionArn,
      error: 'Stopped',
      cause: request.cause ?? 'stopped by the producer',
    }),
  );
  const after = await describeRun(target.sfn, executionArn);
  return { runId, ...statusOf(after.status), stopped: true, ...(stopDate ? { stopDate } : {}) };
}

const statusOf = (status: ExecutionStatus | undefined) => (status ? { status } : {});
