// start: checks a show with its start time and channel as the state machine's Plan step will,
// plans it (core/plan.ts: the run id, each question's ask time) and starts the run. Nothing starts
// when the show, the start time or the channel is wrong.
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { RUN_ID, type ShowPlan } from '../contract/state-machine.ts';
import { makeRunId } from '../core/ids.ts';
import { planShow } from '../core/plan.ts';
import { validateExecutionInput } from '../core/show.ts';
import { OpError, RunExistsError } from './errors.ts';
import type { Target } from './target.ts';

/** Local stacks wait with timers, which Node caps at 2^31 − 1 ms (about 24.8 days). */
export const LOCAL_MAX_WAIT_MS = 24 * 24 * 3600 * 1000;

export interface StartRequest {
  /** The show as parsed JSON, as written (it becomes the execution input). */
  show: unknown;
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

export interface Started {
  runId: string;
  executionArn: string;
  /** ISO 8601. */
  startAt: string;
  /** The request's channel, else the stack's (AWS; the local state machine has its own default). */
  channelArn?: string;
  plan: ShowPlan;
}

export function checkRunId(runId: string): void {
  if (!RUN_ID.test(runId)) {
    throw new OpError('invalid', {
      field: 'runId',
      message: `expected 1–80 letters, digits, '-' or '_', got "${runId}"`,
    });
  }
}

/** Checks the request and plans the run without starting it; throws OpError naming each field at fault. */
export function prepareStart(request: StartRequest, now: Date): PreparedStart {
  const show = request.show;
  if (typeof show !== 'object' || show === null || Array.isArray(show))
    throw new OpError('invalid', { field: 'show', message: 'expected a show (a JSON object)' });
  if (request.runId !== undefined) checkRunId(request.runId);
  const startAt = request.startAt ?? now;
  if (Number.isNaN(startAt.getTime()))
    throw new OpError('invalid', { field: 'startAt', message: 'expected a date-time' });
  const input: Record<string, unknown> = { ...show, startAt: startAt.toISOString() };
  if (request.channelArn !== undefined) input.channelArn = request.channelArn;
  // The same check the state machine's Plan step makes.
  const checked = validateExecutionInput(input);
  if (!checked.ok)
    throw new OpError(
      'invalid',
      checked.issues.map((i) => ({ field: i.path, message: i.message })),
    );
  const runId = request.runId ?? makeRunId(checked.value.id, now);
  return {
    input,
    plan: planShow(checked.value, runId, now),
    ...(request.channelArn !== undefined ? { channelArn: request.channelArn } : {}),
    now,
  };
}

/** Starts a prepared run (RunExistsError when its name is taken). */
export async function start(target: Target, prepared: PreparedStart): Promise<Started> {
  const { plan, now } = prepared;
  const lastAsk = Math.max(
    Date.parse(plan.startAt),
    ...plan.polls.map((p) => (p.askAt === null ? 0 : Date.parse(p.askAt))),
  );
  if (target.kind === 'local' && lastAsk - now.getTime() > LOCAL_MAX_WAIT_MS) {
    throw new OpError('invalid', {
      field: 'startAt',
      message: 'the local stack can wait at most 24 days for a question',
    });
  }
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
    if ((error as Error).name === 'ExecutionAlreadyExists') throw new RunExistsError(plan.runId);
    throw error;
  }
  const channelArn = prepared.channelArn ?? target.channelArn;
  return {
    runId: plan.runId,
    executionArn,
    startAt: plan.startAt,
    ...(channelArn ? { channelArn } : {}),
    plan,
  };
}

/** prepareStart, then start. */
export function startShow(target: Target, request: StartRequest, now = new Date()): Promise<Started> {
  return start(target, prepareStart(request, now));
}
