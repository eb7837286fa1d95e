// How the operations refuse a request: RefusedErrors (core/refusal.ts, the refusals both APIs map to
// HTTP in one place) that name the request field at fault (`run`, `poll`, `startAt`, `channelArn`,
// `runId`, `status`, `limit`, or a path in the show such as `polls[2].answers`). Callers map fields
// to their own words: the CLI to its flags and arguments, the producer API to a 400/404/409 body.
import { RefusedError } from '../core/refusal.ts';
import type { ShowIssue } from '../core/show.ts';

/** A field of the request (or a path in its show) and what is wrong with it: a show issue's shape. */
export type FieldIssue = ShowIssue;

/** invalid: the request is wrong; not_found: the run does not exist; conflict: the run's state refuses it. */
export type OpRefusal = 'invalid' | 'not_found' | 'conflict' | 'channel_busy';

export class OpError extends RefusedError {
  override readonly name: string = 'OpError';
  readonly issues: readonly FieldIssue[];
  constructor(reason: OpRefusal, issues: FieldIssue | readonly FieldIssue[], options?: ErrorOptions) {
    const list = Array.isArray(issues) ? [...(issues as readonly FieldIssue[])] : [issues as FieldIssue];
    super({ reason, message: list.map((i) => `${i.path}: ${i.message}`).join('\n') }, options);
    this.issues = list;
  }
}

export class RunNotFoundError extends OpError {
  override readonly name = 'RunNotFoundError';
  readonly runId: string;
  constructor(runId: string, options?: ErrorOptions) {
    super('not_found', { path: 'run', message: `no run ${runId}` }, options);
    this.runId = runId;
  }
}

/** A run with this id exists already (run ids are unique per state machine, even after the run ended). */
export class RunExistsError extends OpError {
  override readonly name = 'RunExistsError';
  readonly runId: string;
  constructor(runId: string, options?: ErrorOptions) {
    super('conflict', { path: 'runId', message: `a run named ${runId} already exists` }, options);
    this.runId = runId;
  }
}

/** The run that holds a channel, as a refusal names it. */
export interface ChannelHolderInfo {
  /** The channel's id (the last part of its ARN: `local`). */
  channelId: string;
  runId: string;
  title: string;
  showId: string;
  executionArn: string;
}

/**
 * Another show runs on the channel (one running show per channel): stop it, or start with replace.
 * Callers word the way out in their own terms (the CLI's `--replace`, the control room's choice).
 */
export class ChannelBusyError extends OpError {
  override readonly name = 'ChannelBusyError';
  readonly holder: ChannelHolderInfo;
  /**
   * The show has ended (or was just stopped to make room) but is still closing its last question
   * and sending its results: the channel is free in a few seconds.
   */
  readonly ending: boolean;
  constructor(holder: ChannelHolderInfo, ending = false) {
    super('channel_busy', {
      path: 'channelArn',
      message: ending
        ? `channel ${holder.channelId} is still ending ${holder.runId} (${holder.title}): its last results are going out, try again in a few seconds`
        : `channel ${holder.channelId} is running ${holder.runId} (${holder.title})`,
    });
    this.holder = holder;
    this.ending = ending;
  }
}

/**
 * A command line's arguments or environment are wrong (a flag, a port): the CLI and `npm start` print
 * the message with their usage and exit 2. Here, beside the operations' errors both of them read.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The target (local stack or AWS stack) cannot be reached or is not set up; the message says how to fix it. */
export class TargetError extends Error {
  override readonly name = 'TargetError';
}
