// stop: stops a running show (StopExecution): no further questions are asked.
import { StopExecutionCommand, type ExecutionStatus } from '@aws-sdk/client-sfn';
import type { Stopped } from '../contract/producer.ts';
import { describeRun, executionArnFor, runIdOf } from './runs.ts';
import type { Target } from './target.ts';

// The producer API's shape too: defined once, in the contract.
export type { Stopped } from '../contract/producer.ts';

export interface StopRequest {
  /** Run id or execution ARN. */
  run: string;
  /** Why (kept in the execution history). Default "stopped by the producer". */
  cause?: string;
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
  return {
    runId,
    ...statusOf(after.status),
    stopped: true,
    ...(stopDate ? { stopDate: stopDate.toISOString() } : {}),
  };
}

const statusOf = (status: ExecutionStatus | undefined) => (status ? { status } : {});
