// list: past and running runs, newest first.
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { RunInfo } from '../contract/producer.ts';
import { EXECUTION_STATUSES, type ExecutionStatus } from '../contract/state-machine.ts';
import { OpError } from './errors.ts';
import { runInfo } from './runs.ts';
import type { Target } from './target.ts';

export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 1000;

export interface ListRequest {
  /** One of EXECUTION_STATUSES, any case; default every status. */
  status?: string;
  /** At most this many runs (1 to LIST_MAX_LIMIT); default LIST_DEFAULT_LIMIT. */
  limit?: number;
}

export interface ListQuery {
  status?: ExecutionStatus;
  limit: number;
}

/** The request checked (OpError naming `status` or `limit`). */
export function checkListRequest(request: ListRequest): ListQuery {
  const limit = request.limit ?? LIST_DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX_LIMIT) {
    throw new OpError('invalid', {
      path: 'limit',
      message: `expected a whole number from 1 to ${LIST_MAX_LIMIT}, got "${limit}"`,
    });
  }
  const status = request.status?.toUpperCase();
  if (status !== undefined && !(EXECUTION_STATUSES as readonly string[]).includes(status)) {
    throw new OpError('invalid', {
      path: 'status',
      message: `expected one of ${EXECUTION_STATUSES.join(', ').toLowerCase()}, got "${request.status}"`,
    });
  }
  return { limit, ...(status ? { status: status as ExecutionStatus } : {}) };
}

export async function list(target: Target, request: ListRequest = {}): Promise<RunInfo[]> {
  const query = checkListRequest(request);
  const { executions = [] } = await target.sfn.send(
    new ListExecutionsCommand({
      stateMachineArn: target.stateMachineArn,
      maxResults: query.limit,
      ...(query.status ? { statusFilter: query.status } : {}),
    }),
  );
  return executions.map(runInfo);
}
