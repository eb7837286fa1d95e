// How the operations refuse a request: typed errors that name the request field at fault (`run`,
// `poll`, `startAt`, `channelArn`, `runId`, `status`, `limit`, or a path in the show such as
// `polls[2].answers`). Callers map fields to their own words: the CLI to its flags and arguments,
// an HTTP API to a 400/404/409 body.

export interface FieldIssue {
  field: string;
  message: string;
}

/** invalid: the request is wrong; not_found: the run does not exist; conflict: the run's state refuses it. */
export type OpErrorKind = 'invalid' | 'not_found' | 'conflict';

export class OpError extends Error {
  override readonly name: string = 'OpError';
  readonly kind: OpErrorKind;
  readonly issues: readonly FieldIssue[];
  constructor(kind: OpErrorKind, issues: FieldIssue | readonly FieldIssue[]) {
    const list = Array.isArray(issues) ? [...(issues as readonly FieldIssue[])] : [issues as FieldIssue];
    super(list.map((i) => `${i.field}: ${i.message}`).join('\n'));
    this.kind = kind;
    this.issues = list;
  }
  /** The (first) field at fault. */
  get field(): string {
    return this.issues[0]?.field ?? '';
  }
}

export class RunNotFoundError extends OpError {
  override readonly name = 'RunNotFoundError';
  readonly runId: string;
  constructor(runId: string) {
    super('not_found', { field: 'run', message: `no run ${runId}` });
    this.runId = runId;
  }
}

/** A run with this id exists already (run ids are unique per state machine, even after the run ended). */
export class RunExistsError extends OpError {
  override readonly name = 'RunExistsError';
  readonly runId: string;
  constructor(runId: string) {
    super('conflict', { field: 'runId', message: `a run named ${runId} already exists` });
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
    super('conflict', {
      field: 'channelArn',
      message: ending
        ? `channel ${holder.channelId} is still ending ${holder.runId} (${holder.title}): its last results are going out, try again in a few seconds`
        : `channel ${holder.channelId} is running ${holder.runId} (${holder.title})`,
    });
    this.holder = holder;
    this.ending = ending;
  }
}

/** The target (local stack or AWS stack) cannot be reached or is not set up; the message says how to fix it. */
export class TargetError extends Error {
  override readonly name = 'TargetError';
}
