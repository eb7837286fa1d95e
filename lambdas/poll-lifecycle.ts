// The state machine's Lambda: plans a show run, opens a poll and closes it.
//   {action:"plan",  input, runId, now?, stackChannelArn?} → ShowPlan (absolute ask times)
//   {action:"open",  poll: PlannedPoll}  → OpenResult {pollId, openedAt, closesAt, cue}
//   {action:"close", pollId}             → CloseResult {pollId, counts, total, correct?, cue}
// The results are the state machine's contract (contract/state-machine.ts). The cue strings are
// ready for IVS PutMetadata's `Metadata`.
import middy from '@middy/core';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  RUN_ID,
  SHOW_VALIDATION_ERROR,
  type CloseResult,
  type LifecycleResult,
  type OpenResult,
  type PlannedPoll,
  type ShowPlan,
} from '../contract/state-machine.ts';
import { encodeCue, pollCue, resultsCue } from '../core/cues.ts';
import { POLL_ID } from '../core/ids.ts';
import { planShow } from '../core/plan.ts';
import { closingTime, type PollRecord } from '../core/poll.ts';
import { summarizeIssues, validateExecutionInput } from '../core/show.ts';
import { PollStore } from '../store/polls.ts';
import { getIntFromEnv, getStringFromEnv } from './config.ts';

/** Named like an ASL error so the state machine can Catch it and show the producer the message. */
export class ShowValidationError extends Error {
  override readonly name = SHOW_VALIDATION_ERROR;
}
export class LifecycleInputError extends Error {
  override readonly name = 'LifecycleInputError';
}

const config = {
  tableName: getStringFromEnv(process.env, 'TABLE_NAME'),
  /** How long after closesAt the recount waits for votes that were accepted just before it. */
  voteSettleMs: getIntFromEnv(process.env, 'VOTE_SETTLE_MS', 1000, 0, 10_000),
  /**
   * CUE_CHANNEL_ARNS: comma-separated IVS channels the state machine may send cues to (the stack
   * grants ivs:PutMetadata on these). Plan refuses an input channelArn outside them and the stack's
   * default channel, instead of failing with AccessDenied at the first question.
   */
  cueChannelArns: getStringFromEnv(process.env, 'CUE_CHANNEL_ARNS', '')
    .split(',')
    .map((arn) => arn.trim())
    .filter(Boolean),
};

const store = new PollStore(
  DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
  config.tableName,
);

const PlannedPollSchema = z.object({
  id: z.string(),
  runId: z.string().regex(RUN_ID),
  pollId: z.string().regex(POLL_ID),
  question: z.string(),
  answers: z.array(z.string()).min(2),
  correct: z.number().int().min(0).optional(),
  duration: z.number().int().positive(),
  latencyGraceSeconds: z.number().int().min(0),
});

const LifecycleEvent = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('plan'),
    input: z.unknown(),
    runId: z.string().regex(RUN_ID, { error: 'expected a Step Functions execution name' }),
    now: z.iso.datetime({ offset: true }).optional(),
    /** The definition's default channel (${ChannelArn}), always one the stack may send cues to. */
    stackChannelArn: z.string().optional(),
  }),
  z.object({ action: z.literal('open'), poll: PlannedPollSchema }),
  z.object({ action: z.literal('close'), pollId: z.string().regex(POLL_ID) }),
]);
export type LifecycleEvent = z.input<typeof LifecycleEvent>;

/** Validates the execution input against the run's context and plans it; the error message fits a Step Functions Cause. */
export function plan(
  input: unknown,
  runId: string,
  now: Date,
  channelArns: readonly string[] = [],
): ShowPlan {
  const checked = validateExecutionInput(input, { now, channelArns });
  if (!checked.ok) throw new ShowValidationError(summarizeIssues(checked.issues));
  return planShow(checked.value, runId, now);
}

export async function open(
  poll: Pick<PlannedPoll, keyof z.output<typeof PlannedPollSchema>>,
  now: Date,
): Promise<OpenResult> {
  const record: PollRecord = {
    pollId: poll.pollId,
    runId: poll.runId,
    question: poll.question,
    answers: poll.answers,
    state: 'open',
    openedAt: now.toISOString(),
    closesAt: closingTime(now, poll.duration, poll.latencyGraceSeconds).toISOString(),
  };
  if (poll.correct !== undefined) record.correct = poll.correct;
  const stored = await store.openPoll(record);
  await store.setCurrentPoll(stored.pollId);
  const cue = encodeCue(pollCue(stored.pollId, { ...stored, duration: poll.duration }));
  return {
    pollId: stored.pollId,
    openedAt: stored.openedAt,
    closesAt: stored.closesAt,
    cue,
  } satisfies OpenResult;
}

export async function close(pollId: string): Promise<CloseResult> {
  const poll = await store.requirePoll(pollId);
  // A vote checked just before closesAt may still be writing; recount only once it has landed.
  const settleUntil = Date.parse(poll.closesAt) + config.voteSettleMs;
  const wait = settleUntil - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const closed = await store.closePoll(pollId, new Date());
  const counts = closed.finalCounts ?? [];
  const cue = resultsCue(pollId, counts, closed.correct);
  const result: CloseResult = { pollId, counts, total: cue.total, cue: encodeCue(cue) };
  if (closed.correct !== undefined) result.correct = closed.correct;
  return result;
}

export async function lifecycle(event: unknown): Promise<LifecycleResult> {
  const parsed = LifecycleEvent.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LifecycleInputError(`${issue.path.join('.') || 'event'}: ${issue.message}`);
  }
  const e = parsed.data;
  switch (e.action) {
    case 'plan':
      return plan(e.input, e.runId, e.now ? new Date(e.now) : new Date(), [
        ...(e.stackChannelArn ? [e.stackChannelArn] : []),
        ...config.cueChannelArns,
      ]);
    case 'open':
      return open(e.poll, new Date());
    case 'close':
      return close(e.pollId);
  }
}

export const handler = middy<unknown, LifecycleResult>().handler(lifecycle);
