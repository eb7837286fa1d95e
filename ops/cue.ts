// cue: fires the next manual question waiting in a run (or the one named): claims its cue item
// once, then hands its task token back to Step Functions (SendTaskSuccess).
import { InvalidToken, SendTaskSuccessCommand, TaskDoesNotExist, TaskTimedOut } from '@aws-sdk/client-sfn';
import type { Cued } from '../contract/producer.ts';
import { PollStore } from '../store/polls.ts';
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

// The producer API's shape too: defined once, in the contract.
export type { Cued } from '../contract/producer.ts';

export async function cue(target: Target, request: CueRequest, clock: Clock = systemClock): Promise<Cued> {
  const executionArn = executionArnFor(target.stateMachineArn, request.run);
  const runId = runIdOf(executionArn);
  const wanted = request.poll;
  const deadline = Date.now() + 3000;
  const store = new PollStore(target.db, target.tableName);
  for (;;) {
    const { execution, timeline } = await loadRun(target.sfn, executionArn);
    if (execution.status !== 'RUNNING')
      throw new OpError('conflict', {
        path: 'run',
        message: `${runId} is ${execution.status}, nothing to cue`,
      });
    const manual = timeline.polls.filter((p) => p.manual);
    if (wanted !== undefined && !manual.some((p) => p.id === wanted)) {
      throw new OpError('invalid', {
        path: 'poll',
        message: `${runId} has no manual question "${wanted}" (manual: ${manual.map((p) => p.id).join(', ') || 'none'})`,
      });
    }
    const candidates = manual.filter((p) => p.waitingForCue && (wanted === undefined || p.id === wanted));
    for (const poll of candidates) {
      const cuedAt = clock.now().toISOString();
      const taskToken = await store.claimCue(poll.pollId, cuedAt);
      if (!taskToken) continue;
      try {
        await target.sfn.send(
          new SendTaskSuccessCommand({
            taskToken,
            output: JSON.stringify({ cuedAt, cuedBy: request.cuedBy ?? 'producer' }),
          }),
        );
      } catch (error) {
        // The question stopped waiting meanwhile (the run ended, or its wait timed out): try the next.
        if (
          error instanceof TaskDoesNotExist ||
          error instanceof TaskTimedOut ||
          error instanceof InvalidToken
        )
          continue;
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
      path: 'run',
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
