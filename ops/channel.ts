// One running show per channel, as the producer's tools see it. The state machine's Plan step takes
// the channel's claim (store/channels.ts) and refuses a second run with ChannelBusy; the tools look
// first, so a busy channel is a fast, clear refusal before any run starts, and they can do what the
// state machine cannot: ask Step Functions whether the claim's holder still runs. A holder that has
// ended is given a grace to finish its end (its open question settles, recounts and sends its
// results, then its claim goes); a claim still there after that was left by a crash, and is freed.
// `replace` stops the holder first and waits until its end has given the channel back.
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionDoesNotExist,
  type ExecutionStatus,
} from '@aws-sdk/client-sfn';
import { STATES } from '../contract/state-machine.ts';
import { channelIdOf } from '../core/ids.ts';
import { ChannelClaims, type ChannelClaim } from '../store/channels.ts';
import { systemClock, type Clock } from './clock.ts';
import { ChannelBusyError } from './errors.ts';
import { stop } from './stop.ts';
import type { Target } from './target.ts';

/**
 * How long a claim may outlive its holder's end: the end closes the question open then (votes
 * settle: at most MAX_VOTE_SETTLE_MS, 30 s, plus POLL_CACHE_MS ≤ 60 s), sends its results cue and gives the
 * channel back. A claim still held by a run that ended longer ago than this was left behind.
 */
export const RELEASE_GRACE_MS = 120_000;
/** How often a start that waits for the channel looks again. */
const WAIT_STEP_MS = 250;

/** The claim's holder, with what Step Functions says of its execution. */
export interface ChannelHolder extends ChannelClaim {
  /** Undefined when the execution is unknown (another stack's, or deleted). */
  status?: ExecutionStatus;
  stopDate?: Date;
}

/** The run that holds the channel, as a refusal names it. */
export function holderInfo(holder: ChannelClaim) {
  const { channelId, runId, title, showId, executionArn } = holder;
  return { channelId, runId, title, showId, executionArn };
}

/**
 * The stack's channel, where runs without a channelArn send their cues: the target's (the stack's
 * output in AWS, the producer Lambda's CHANNEL_ARN), else the one the state machine's definition
 * names (the local stack's).
 */
export async function stackChannelArn(target: Target): Promise<string | undefined> {
  if (target.channelArn) return target.channelArn;
  const { definition } = await target.sfn.send(
    new DescribeStateMachineCommand({ stateMachineArn: target.stateMachineArn }),
  );
  try {
    const machine = JSON.parse(definition ?? '{}') as {
      States?: Record<string, { Parameters?: { channelArn?: unknown } }>;
    };
    const arn = machine.States?.[STATES.UseStackChannel]?.Parameters?.channelArn;
    return typeof arn === 'string' && arn.startsWith('arn:') ? arn : undefined;
  } catch {
    return undefined;
  }
}

async function describeHolder(target: Target, claim: ChannelClaim): Promise<ChannelHolder> {
  if (!claim.executionArn) return claim;
  try {
    const run = await target.sfn.send(new DescribeExecutionCommand({ executionArn: claim.executionArn }));
    return {
      ...claim,
      ...(run.status ? { status: run.status } : {}),
      ...(run.stopDate ? { stopDate: run.stopDate } : {}),
    };
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return claim;
    throw error;
  }
}

/** Who holds the channel now, and whether that run still runs. */
export async function channelHolder(target: Target, channelArn: string): Promise<ChannelHolder | undefined> {
  const claim = await new ChannelClaims(target.db, target.tableName).holder(channelIdOf(channelArn));
  return claim ? describeHolder(target, claim) : undefined;
}

/**
 * Whether a claim is still its holder's to give back: the holder runs, or ended so recently that
 * its end may still be closing its question. Without an execution to ask about, its lease decides.
 */
export function holds(holder: ChannelHolder, now: Date): boolean {
  if (now.getTime() >= Date.parse(holder.leaseUntil)) return false;
  if (!holder.executionArn) return true;
  if (holder.status === 'RUNNING') return true;
  if (holder.status === undefined) return false;
  return now.getTime() - (holder.stopDate?.getTime() ?? 0) < RELEASE_GRACE_MS;
}

export interface MakeRoomOptions {
  /** Stop the running show first (and wait until its end has given the channel back). */
  replace?: boolean;
  /** The run about to start (its own claim, from a retried start, is no obstacle). */
  runId?: string;
  /** Kept in the replaced run's execution history. */
  cause?: string;
  /**
   * The longest to wait for a show that has ended to give the channel back (default: until its
   * grace is over); past it, a ChannelBusyError that says the show is ending.
   */
  waitMs?: number;
  clock?: Clock;
}

/**
 * Returns once the channel is free for a new run: at once when nobody holds it; after the end of a
 * run that just ended has given it back; after stopping the running show when `replace` says so
 * (that show is returned). A running show without `replace` is a ChannelBusyError. A claim left by a
 * run that ended longer ago than RELEASE_GRACE_MS (or past its lease) is released.
 */
export async function makeRoom(
  target: Target,
  channelArn: string,
  options: MakeRoomOptions = {},
): Promise<ChannelHolder | undefined> {
  const clock = options.clock ?? systemClock;
  const channelId = channelIdOf(channelArn);
  const claims = new ChannelClaims(target.db, target.tableName);
  const deadline = Date.now() + (options.waitMs ?? RELEASE_GRACE_MS * 2);
  let replaced: ChannelHolder | undefined;
  for (;;) {
    const claim = await claims.holder(channelId);
    if (!claim || claim.runId === options.runId) return replaced;
    const holder = await describeHolder(target, claim);
    // Real time, whatever the caller's clock says: leases and stop dates are.
    if (!holds(holder, new Date())) {
      // Left behind: only this holder's claim goes, never one a new run took meanwhile.
      await claims.release(channelId, holder.runId);
      continue;
    }
    if (holder.status === 'RUNNING' || !holder.executionArn) {
      // A claim naming no execution cannot be stopped from here: it lapses at its lease.
      if (!options.replace || !holder.executionArn) throw new ChannelBusyError(holderInfo(holder));
      if (replaced?.runId !== holder.runId) {
        await stop(target, {
          run: holder.executionArn,
          cause: options.cause ?? `replaced by another show on channel ${channelId}`,
        });
        replaced = holder;
        continue;
      }
    }
    // Ended (or stopped just now): its end closes its question, sends the results and gives the
    // channel back within RELEASE_GRACE_MS.
    if (Date.now() >= deadline) throw new ChannelBusyError(holderInfo(holder), true);
    await clock.sleep(WAIT_STEP_MS);
  }
}
