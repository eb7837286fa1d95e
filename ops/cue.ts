// cue: fires the next manual question waiting in a run (or the one named): claims its cue item
// once, then hands its task token back to Step Functions (SendTaskSuccess).
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CUE_ITEM_KEY } from '../contract/table.ts';
import { systemClock, type Clock } from './clock.ts';
import { OpError } from './errors.ts';
import { executionArnFor, loadRun, runIdOf } from './runs.ts';
import type { Target } from './target.ts';

export interface CueRequest {
  /** Run id or execution ARN. */
  run: string;
  /** The show's id of the manual question to cue; default the next one waiting. */
  poll?: string;
  /** Who cued it (kept in the execution history). Default "producer". */
  cuedBy?: string;
}

export interface Cued {
  runId: string;
  /** The show's id of the question (q2). */
  poll: string;
  pollId: string;
  /** ISO 8601. */
  cuedAt: string;
  question: string;
}

export async function cue(target: Target, request: CueRequest, clock: Clock = systemClock): Promise<Cued> {
  const executionArn = executionArnFor(target.stateMachineArn, request.run);
  const runId = runIdOf(executionArn);
  const wanted = request.poll;
  const deadline = Date.now() + 3000;
  for (;;) {
    const { execution, timeline } = await loadRun(target.sfn, executionArn);
    if (execution.status !== 'RUNNING')
      throw new OpError('conflict', {
        field: 'run',
        message: `${runId} is ${execution.status}, nothing to cue`,
      });
    const manual = timeline.polls.filter((p) => p.manual);
    if (wanted !== undefined && !manual.some((p) => p.id === wanted)) {
      throw new OpError('invalid', {
        field: 'poll',
        message: `${runId} has no manual question "${wanted}" (manual: ${manual.map((p) => p.id).join(', ') || 'none'})`,
      });
    }
    const candidates = manual.filter((p) => p.waitingForCue && (wanted === undefined || p.id === wanted));
    for (const poll of candidates) {
      const cuedAt = clock.now().toISOString();
      const taskToken = await claimCue(target, poll.pollId, cuedAt);
      if (!taskToken) continue;
      try {
        await target.sfn.send(
          new SendTaskSuccessCommand({
            taskToken,
            output: JSON.stringify({ cuedAt, cuedBy: request.cuedBy ?? 'producer' }),
          }),
        );
      } catch (error) {
        if (['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken'].includes((error as Error).name)) continue;
        throw error;
      }
      return { runId, poll: poll.id, pollId: poll.pollId, cuedAt, question: poll.question };
    }
    // The history can show a question waiting a moment before its cue item is written.
    if (candidates.length > 0 && Date.now() < deadline) {
      await clock.sleep(200);
      continue;
    }
    const done = manual.filter((p) => p.cuedAt !== undefined).map((p) => p.id);
    throw new OpError('conflict', {
      field: 'run',
      message:
        `no manual question of ${runId} is waiting for its cue` +
        (wanted ? ` named "${wanted}"` : '') +
        (manual.length === 0
          ? ' (the show has none)'
          : done.length > 0
            ? ` (already cued: ${done.join(', ')})`
            : ''),
    });
  }
}

/** Claims the cue item once (two producers pressing at once fire one question each, never one twice). */
async function claimCue(target: Target, pollId: string, cuedAt: string): Promise<string | undefined> {
  const { Item } = await target.db.send(
    new GetCommand({ TableName: target.tableName, Key: { poll_id: pollId, requestor_id: CUE_ITEM_KEY } }),
  );
  if (!Item || typeof Item.task_token !== 'string' || Item.cued_at !== undefined) return undefined;
  try {
    await target.db.send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: { poll_id: pollId, requestor_id: CUE_ITEM_KEY },
        UpdateExpression: 'SET cued_at = :t',
        ConditionExpression: 'task_token = :token AND attribute_not_exists(cued_at)',
        ExpressionAttributeValues: { ':t': cuedAt, ':token': Item.task_token },
      }),
    );
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return undefined;
    throw error;
  }
  return Item.task_token;
}
