// start: checks a show with its start time and channel as the state machine's Plan step will,
// plans it (core/plan.ts: the run id, each question's ask time) and starts the run. Nothing starts
// when the show, the start time or the channel is wrong, or when another show runs on the channel
// (one running show per channel: ops/channel.ts; `replace` stops that show first). The run's Plan
// step takes the channel; start returns once it has, so two starts racing each other cannot both
// report success.
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Started } from '../contract/producer.ts';
import { CHANNEL_BUSY_ERROR, RUN_ID, STATES, type ShowPlan } from '../contract/state-machine.ts';
import { channelIdOf, makeRunId } from '../core/ids.ts';
import { planShow } from '../core/plan.ts';
import { checkRunInput, ValidShow } from '../core/show.ts';
import { ChannelClaims } from '../store/channels.ts';
import { holderInfo, makeRoom, stackChannelArn } from './channel.ts';
import { systemClock, type Clock } from './clock.ts';
import { ChannelBusyError, OpError, RunExistsError } from './errors.ts';
import { eventsAfter } from './runs.ts';
import type { Target } from './target.ts';

/** Local stacks wait with timers, which Node caps at 2^31 − 1 ms (about 24.8 days). */
export const LOCAL_MAX_WAIT_MS = 24 * 24 * 3600 * 1000;

export interface StartRequest {
  /**
   * The show: checked already (a ValidShow: the CLI and the demo read a file, then start it), or as
   * parsed JSON, as written (the producer API's body), checked here with the run's fields in one pass.
   * Either way it becomes the execution input as written.
   */
  show: ValidShow | unknown;
  /** The show's time zero; default now. */
  startAt?: Date;
  /** The IVS channel the cues go to; default the stack's. */
  channelArn?: string;
  /** The run's name; default `<show id>-<UTC time>`. */
  runId?: string;
}

export interface PreparedStart {
  /** The execution input: the show with startAt (and channelArn when the request names one). */
  input: Record<string, unknown>;
  plan: ShowPlan;
  /** The channel the request named. */
  channelArn?: string;
  now: Date;
}

// The producer API's shape too: defined once, in the contract.
export type { Started } from '../contract/producer.ts';

export interface StartOptions {
  /** Another show runs on the channel: stop it, wait until its end has given the channel back, then start. */
  replace?: boolean;
  /**
   * The longest to wait for a show that ended (or was replaced) to give the channel back: an API
   * behind a gateway's timeout answers "still ending, try again" rather than be cut off.
   */
  waitMs?: number;
  clock?: Clock;
}

/** How long start waits for the run's Plan step to take the channel before it answers anyway. */
const PLAN_WAIT_MS = 20_000;

export function checkRunId(runId: string): void {
  if (!RUN_ID.test(runId)) {
    throw new OpError('invalid', {
      path: 'runId',
      message: `expected 1–80 letters, digits, '-' or '_', got "${runId}"`,
    });
  }
}

/** Checks the request and plans the run without starting it; throws OpError naming each field at fault. */
export function prepareStart(request: StartRequest, now: Date): PreparedStart {
  const show = request.show;
  if (!(show instanceof ValidShow) && (typeof show !== 'object' || show === null || Array.isArray(show)))
    throw new OpError('invalid', { path: 'show', message: 'expected a show (a JSON object)' });
  if (request.runId !== undefined) checkRunId(request.runId);
  const startAt = request.startAt ?? now;
  if (Number.isNaN(startAt.getTime()))
    throw new OpError('invalid', { path: 'startAt', message: 'expected a date-time' });
  // The same check the state machine's Plan step makes (only the run's fields for a ValidShow).
  const checked = checkRunInput(show as ValidShow | Record<string, unknown>, {
    startAt: startAt.toISOString(),
    ...(request.channelArn !== undefined ? { channelArn: request.channelArn } : {}),
  });
  if (!checked.ok) throw new OpError('invalid', checked.issues);
  const { input, value } = checked.value;
  const runId = request.runId ?? makeRunId(value.id, now);
  return {
    input,
    plan: planShow(value, runId, now),
    ...(request.channelArn !== undefined ? { channelArn: request.channelArn } : {}),
    now,
  };
}

/**
 * Starts a prepared run: RunExistsError when its name is taken, ChannelBusyError while another show
 * runs on its channel (unless `replace`).
 */
export async function start(
  target: Target,
  prepared: PreparedStart,
  options: StartOptions = {},
): Promise<Started> {
  const { plan, now } = prepared;
  const clock = options.clock ?? systemClock;
  const lastAsk = Math.max(
    Date.parse(plan.startAt),
    ...plan.polls.map((p) => (p.askAt === null ? 0 : Date.parse(p.askAt))),
  );
  if (target.kind === 'local' && lastAsk - now.getTime() > LOCAL_MAX_WAIT_MS) {
    throw new OpError('invalid', {
      path: 'startAt',
      message: 'the local stack can wait at most 24 days for a question',
    });
  }
  const channelArn = prepared.channelArn ?? (await stackChannelArn(target));
  const replaced = channelArn
    ? await makeRoom(target, channelArn, {
        runId: plan.runId,
        clock,
        ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
        ...(options.replace ? { replace: true, cause: `replaced by ${plan.runId} (${plan.title})` } : {}),
      })
    : undefined;
  let executionArn: string;
  try {
    ({ executionArn = '' } = await target.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: target.stateMachineArn,
        name: plan.runId,
        input: JSON.stringify(prepared.input),
      }),
    ));
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists) throw new RunExistsError(plan.runId, { cause: error });
    throw error;
  }
  if (channelArn) await planned(target, executionArn, channelArn, clock);
  return {
    runId: plan.runId,
    executionArn,
    startAt: plan.startAt,
    ...(channelArn ? { channelArn } : {}),
    plan,
    ...(replaced ? { replaced: { runId: replaced.runId, title: replaced.title } } : {}),
  };
}

/**
 * Waits for the run's Plan step, which takes the channel: a run started at the same moment as
 * another on the same channel fails there (ChannelBusy), and that is this start's refusal too.
 */
async function planned(
  target: Target,
  executionArn: string,
  channelArn: string,
  clock: Clock,
): Promise<void> {
  // Real time, whatever the caller's clock says: Step Functions' steps take real time.
  const until = Date.now() + PLAN_WAIT_MS;
  let seen = 0;
  while (Date.now() < until) {
    const events = await eventsAfter(target.sfn, executionArn, seen);
    seen = events.at(-1)?.id ?? seen;
    if (events.some((e) => e.stateExitedEventDetails?.name === STATES.Plan)) return;
    const failed = events.find((e) => e.type === 'ExecutionFailed');
    if (failed?.executionFailedEventDetails?.error === CHANNEL_BUSY_ERROR) {
      const channelId = channelIdOf(channelArn);
      const holder = await new ChannelClaims(target.db, target.tableName).holder(channelId);
      throw new ChannelBusyError(
        holder
          ? holderInfo(holder)
          : { channelId, runId: 'another run', title: 'unknown', showId: '', executionArn: '' },
      );
    }
    if (events.some((e) => /^Execution(Failed|Aborted|TimedOut|Succeeded)$/.test(e.type ?? ''))) return;
    await clock.sleep(100);
  }
  // Slower than expected: the run is started; `status` and `history` say how Plan went.
}

/** prepareStart, then start. */
export function startShow(
  target: Target,
  request: StartRequest,
  now = new Date(),
  options: StartOptions = {},
): Promise<Started> {
  return start(target, prepareStart(request, now), options);
}
