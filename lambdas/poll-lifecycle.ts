// The state machine's Lambda: plans a show run, opens a poll and closes it.
//   {action:"plan",  input, runId, executionArn?, now?, stackChannelArn?} → ShowPlan (absolute ask
//     times); takes the run's channel (one running show per channel) or fails with ChannelBusy
//   {action:"open",  poll: PlannedPoll}  → OpenResult {pollId, openedAt, closesAt, cue}
//   {action:"tally", pollId, closesAt, channelArn} → TallyResult {pollId, done, sent, skipped}
//   {action:"endRun", runId?, pollIds, channelArn?, reason?} → EndRunResult: a failed run's Catch
//   EventBridge "Step Functions Execution Status Change" (FAILED, ABORTED, TIMED_OUT) → EndRunResult:
//     a stopped or timed-out run, which no Catch sees (the local Step Functions sends the same event)
//   {action:"close", pollId}             → CloseResult {pollId, counts, total, correct?, cue}
//   {action:"release", runId, channelArn} → ReleaseResult {released}: a run that succeeded
// Every end of a run closes its open question as Close does (votes settle, recount), sends that
// question's results cue itself (the state machine's ResultsCue will not run) and gives the channel
// back. The results are the state machine's contract (contract/state-machine.ts). The cue strings are
// ready for IVS PutMetadata's `Metadata`; the tally cues this Lambda sends itself. Built by createPollLifecycleHandler from its
// dependencies; nothing here runs at import. The Lambda entry (lambdas/handlers/poll-lifecycle.ts)
// builds them from its environment, the local stack from its own store and settings.
import {
  AccessDeniedException,
  IvsClient,
  PutMetadataCommand,
  ResourceNotFoundException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-ivs';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { DEFAULT_VOTE_SETTLE_MS, EARLY_END_SETTLE_MS, VOTE_CLOSE_DEADLINE_MS } from '../contract/api.ts';
import { LAMBDA_ENV } from '../contract/lambda-env.ts';
import {
  CHANNEL_BUSY_ERROR,
  MANUAL_CUE_TIMEOUT_SECONDS,
  RUN_END_REASONS,
  RUN_ID,
  SHOW_VALIDATION_ERROR,
  type CloseResult,
  type EndRunResult,
  type LifecycleResult,
  type OpenResult,
  type PlannedPoll,
  type ReleaseResult,
  type RunEndReason,
  type ShowPlan,
  type TallyResult,
} from '../contract/state-machine.ts';
import { DEFAULT_VOTE_SHARDS, MAX_VOTE_SHARDS } from '../contract/table.ts';
import { encodeCue, pollCue, resultsCue, tallyCue } from '../core/cues.ts';
import { LEADERBOARD_TOP, leaderboardOf } from '../core/leaderboard.ts';
import { channelIdOf, makePollId, POLL_ID } from '../core/ids.ts';
import { planShow } from '../core/plan.ts';
import { closingTime, type PollRecord } from '../core/poll.ts';
import { DEFAULT_POINTS } from '../core/scoring.ts';
import { MAX_POLLS, summarizeIssues, validateExecutionInput } from '../core/show.ts';
import type { ChannelClaim, ChannelClaims } from '../store/channels.ts';
import { PollStore } from '../store/polls.ts';
import type { ScoreStore } from '../store/scores.ts';
import { documentClient } from '../store/clients.ts';
import { getIntFromEnv, getPollCacheMsFromEnv, getStringFromEnv, type Env } from './config.ts';
import type { LifecycleAction, Observability } from './observability.ts';

/** Named like an ASL error so the state machine can Catch it and show the producer the message. */
export class ShowValidationError extends Error {
  override readonly name = SHOW_VALIDATION_ERROR;
}
export class LifecycleInputError extends Error {
  override readonly name = 'LifecycleInputError';
}
/**
 * Another run holds the channel (one running show per channel): Plan fails with it and the run ends
 * FAILED with this error name, its message (the execution's Cause) naming the running show.
 */
export class ChannelBusyError extends Error {
  override readonly name = CHANNEL_BUSY_ERROR;
  readonly holder: ChannelClaim | undefined;
  constructor(channelId: string, holder: ChannelClaim | undefined) {
    super(
      holder
        ? `channel ${channelId} is running ${holder.runId} (${holder.title}): stop it with showrunner stop ${holder.runId} (or Stop in the control room), or start with --replace. If that run has ended without giving the channel back, the channel is free from ${holder.leaseUntil}; showrunner start frees it at once.`
        : `channel ${channelId} is taken by another run: try again`,
    );
    this.holder = holder;
  }
}

/**
 * The longest VOTE_SETTLE_MS may be: Close's state (statemachine/show.asl.json) times out after 60 s
 * — the Lambda's own timeout (15 min, for the tally loop's slices; cdk/lib/showrunner-stack.ts
 * LIFECYCLE_TIMEOUT_SECONDS) is longer, so the state's 60 s is the bound; the Wait before it may end
 * up to 1 s early (timestamps are truncated to seconds), and the recount of every shard needs the rest.
 */
export const MAX_VOTE_SETTLE_MS = 30_000;

/** How often an open poll's tally is read and, when it changed, sent as a cue. */
export const TALLY_INTERVAL_MS = 1000;
/**
 * The longest one `tally` invocation runs: the state machine calls it again until closesAt, and
 * each call is 7 events of the execution's history, so slices are long (docs/show-limits.md).
 * Below the Lambda's 15-minute timeout; also bounded by the invocation's remaining time.
 */
export const TALLY_SLICE_MS = 14 * 60_000;
/** Left of the invocation's time when a slice ends, to return the result. */
const TALLY_RETURN_MARGIN_MS = 5000;
/**
 * A channel claim's lease runs this long past the latest its run's plan could still be running
 * (cue retries, slow steps): a run that ended without giving the channel back frees it then.
 */
export const CLAIM_LEASE_MARGIN_MS = 15 * 60_000;
/**
 * A results cue the end of a run sends is the question's last word to viewers: IVS's 5 calls/s
 * per channel may refuse it for a moment (another show's cues, a tally still in flight), so it is
 * tried this many times, with jittered backoff (about 6 s in all), before it is given up.
 */
export const END_RESULTS_ATTEMPTS = 6;
/**
 * PutMetadata errors that no later tick can fix: the slice fails (the state machine goes on to
 * close the poll). Anything else — throttling (5 calls/s per channel: asks and results come first),
 * a channel not broadcasting, a network error — skips the tick.
 */
const isPermanentCueError = (error: unknown) =>
  error instanceof AccessDeniedException ||
  error instanceof ValidationException ||
  error instanceof ResourceNotFoundException;

export interface PollLifecycleConfig {
  tableName: string;
  /**
   * How long after closesAt the recount waits: until every vote checked before closesAt has been
   * written or can no longer be acknowledged (VOTE_DEADLINE_MS), plus CLOCK_MARGIN_MS (contract/api.ts).
   */
  voteSettleMs: number;
  /** How many shards a poll's answers and counters are spread over, stored with the poll at open. */
  voteShards: number;
  /** POLL_CACHE_MS, the API Lambda's: a poll ended early is recounted once no cached copy can take a vote. */
  pollCacheMs: number;
  /**
   * CUE_CHANNEL_ARNS: IVS channels the state machine may send cues to besides the stack's default
   * (the stack grants ivs:PutMetadata on these). Plan refuses an input channelArn outside them,
   * instead of failing with AccessDenied at the first question.
   */
  cueChannelArns: string[];
}

/**
 * The lifecycle Lambda's settings, read and checked once: TABLE_NAME, VOTE_SETTLE_MS (never below
 * VOTE_CLOSE_DEADLINE_MS), VOTE_SHARDS (1–100; default sized for the design peak, contract/table.ts
 * voteShardsFor), CUE_CHANNEL_ARNS (comma-separated).
 */
export function pollLifecycleConfigFromEnv(env: Env): PollLifecycleConfig {
  return {
    tableName: getStringFromEnv(env, LAMBDA_ENV.TABLE_NAME),
    voteSettleMs: getIntFromEnv(
      env,
      LAMBDA_ENV.VOTE_SETTLE_MS,
      DEFAULT_VOTE_SETTLE_MS,
      VOTE_CLOSE_DEADLINE_MS,
      MAX_VOTE_SETTLE_MS,
    ),
    voteShards: getIntFromEnv(env, LAMBDA_ENV.VOTE_SHARDS, DEFAULT_VOTE_SHARDS, 1, MAX_VOTE_SHARDS),
    pollCacheMs: getPollCacheMsFromEnv(env),
    cueChannelArns: getStringFromEnv(env, LAMBDA_ENV.CUE_CHANNEL_ARNS, '')
      .split(',')
      .map((arn) => arn.trim())
      .filter(Boolean),
  };
}

/** What the lifecycle reads and writes of the table: the store's (store/polls.ts, store/channels.ts), or a test's fake. */
export type LifecycleStore = Pick<
  PollStore,
  | 'requirePoll'
  | 'getPoll'
  | 'openPoll'
  | 'setCurrentPoll'
  | 'liveCounts'
  | 'closePoll'
  | 'endPoll'
  | 'markResultsSent'
> & {
  channels: Pick<ChannelClaims, 'putRunChannel' | 'claim' | 'release' | 'runChannel'>;
  scores: Pick<ScoreStore, 'recordRunQuiz' | 'runScoreShards' | 'closeQuizQuestion' | 'standings'>;
};

export interface PollLifecycleDeps {
  store: LifecycleStore;
  /** Sends the tally cues (the other cues are sent by the state machine). No SDK retries: a throttled tally is skipped. */
  ivs: Pick<IvsClient, 'send'>;
  config: PollLifecycleConfig;
  /** Logs, metrics and traces (lambdas/observability.ts): the entry and the local stack pass them; tests may not. */
  observability?: Observability;
}

/** What the Lambda entry runs on: the settings from `env`, the table and IVS through the SDK's default clients. */
export function pollLifecycleDepsFromEnv(env: Env): PollLifecycleDeps {
  const config = pollLifecycleConfigFromEnv(env);
  return {
    config,
    store: new PollStore(documentClient(), config.tableName),
    ivs: new IvsClient({ maxAttempts: 1 }),
  };
}

const PlannedPollSchema = z.object({
  id: z.string(),
  runId: z.string().regex(RUN_ID),
  pollId: z.string().regex(POLL_ID),
  question: z.string(),
  answers: z.array(z.string()).min(2),
  correct: z.number().int().min(0).optional(),
  duration: z.number().int().positive(),
  latencyGraceSeconds: z.number().int().min(0),
  points: z.number().int().min(0).optional(),
  speed: z.boolean().optional(),
  title: z.string().optional(),
});

const LifecycleEvent = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('plan'),
    input: z.unknown(),
    runId: z.string().regex(RUN_ID, { error: 'expected a Step Functions execution name' }),
    /** $$.Execution.Id: kept with the channel claim, so the producer's tools can ask whether it still runs. */
    executionArn: z.string().startsWith('arn:').optional(),
    now: z.iso.datetime({ offset: true }).optional(),
    /** The definition's default channel (${ChannelArn}), always one the stack may send cues to. */
    stackChannelArn: z.string().optional(),
  }),
  z.object({ action: z.literal('open'), poll: PlannedPollSchema, channelArn: z.string().startsWith('arn:') }),
  z.object({
    action: z.literal('tally'),
    pollId: z.string().regex(POLL_ID),
    closesAt: z.iso.datetime({ offset: true }),
    channelArn: z.string().startsWith('arn:'),
  }),
  z.object({ action: z.literal('close'), pollId: z.string().regex(POLL_ID) }),
  z.object({
    action: z.literal('endRun'),
    pollIds: z.array(z.string().regex(POLL_ID)).max(MAX_POLLS),
    runId: z.string().regex(RUN_ID).optional(),
    channelArn: z.string().startsWith('arn:').optional(),
    reason: z.enum(RUN_END_REASONS).optional(),
  }),
  z.object({
    action: z.literal('release'),
    runId: z.string().regex(RUN_ID),
    channelArn: z.string().startsWith('arn:'),
  }),
]);

/**
 * The EventBridge event Step Functions sends when an execution ends (the stack's rule passes
 * FAILED, ABORTED and TIMED_OUT of the show state machine). `input` is the execution input: the show.
 */
const ExecutionEnded = z.object({
  source: z.literal('aws.states'),
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({
    name: z.string().regex(RUN_ID),
    status: z.enum(['FAILED', 'ABORTED', 'TIMED_OUT']),
    input: z.string().nullish(),
  }),
});

/** What the polls of a run that ended so record: a stopped run's open question was "closed by a stop". */
const END_REASON: Record<z.output<typeof ExecutionEnded>['detail']['status'], RunEndReason> = {
  ABORTED: 'stop',
  FAILED: 'failure',
  TIMED_OUT: 'timeout',
};

/** The poll ids a run's input names (an input that is not a show has none: such a run opened none). */
function pollIdsOfRun(runId: string, input: string | null | undefined): string[] {
  let show: unknown;
  try {
    show = JSON.parse(input ?? 'null');
  } catch {
    return [];
  }
  const polls = (show as { polls?: unknown } | null)?.polls;
  if (!Array.isArray(polls)) return [];
  return polls
    .map((p) => (p as { id?: unknown } | null)?.id)
    .filter((id): id is string => typeof id === 'string')
    .map((id) => makePollId(runId, id))
    .filter((id) => POLL_ID.test(id))
    .slice(0, MAX_POLLS);
}
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

/**
 * The latest time a run planned so could still be running, plus CLAIM_LEASE_MARGIN_MS: its last
 * question's close (a manual one may be cued up to MANUAL_CUE_TIMEOUT_SECONDS after the start), the
 * longest vote settle and the recount. A channel claim past it is free: its holder has ended, even
 * if nothing gave the channel back.
 */
export function claimLease(show: ShowPlan, startedAt: Date): Date {
  let last = Math.max(Date.parse(show.startAt), startedAt.getTime());
  for (const poll of show.polls) {
    const ask =
      poll.askAt !== null ? Date.parse(poll.askAt) : startedAt.getTime() + MANUAL_CUE_TIMEOUT_SECONDS * 1000;
    last = Math.max(last, ask + (poll.duration + poll.latencyGraceSeconds) * 1000);
  }
  return new Date(last + MAX_VOTE_SETTLE_MS + CLAIM_LEASE_MARGIN_MS);
}

/** The channel an execution input names, once validated (else the stack's). */
function inputChannelArn(input: unknown): string | undefined {
  const arn = (input as { channelArn?: unknown } | null)?.channelArn;
  return typeof arn === 'string' ? arn : undefined;
}

/** What ends a run early: its polls, why, and (when the caller knows it) its channel. */
export interface RunEnd {
  /** Its run: whose claim is given back (default: the run the poll ids name). */
  runId?: string;
  pollIds: readonly string[];
  /** Where its results cues go and whose claim is given back (default: the channel its Plan recorded). */
  channelArn?: string;
  /** What the polls it closes record as `closed_by` (default: failure). */
  reason?: RunEndReason;
}

export interface PollLifecycle {
  /**
   * Validates and plans the run, then takes its channel: the channel's claim names this run until
   * the run ends. Throws ShowValidationError, or ChannelBusyError while another run holds it.
   */
  plan(
    input: unknown,
    runId: string,
    startedAt: Date,
    options?: { executionArn?: string; stackChannelArn?: string },
  ): Promise<ShowPlan>;
  /** Opens the poll and points late joiners of `channelArn` at it. */
  open(
    poll: Pick<PlannedPoll, keyof z.output<typeof PlannedPollSchema>>,
    now: Date,
    channelArn: string,
  ): Promise<OpenResult>;
  /** Sends the live tally until closesAt or `until`, whichever comes first. */
  tally(pollId: string, channelArn: string, closesAt: Date, until: number): Promise<TallyResult>;
  close(pollId: string): Promise<CloseResult>;
  /**
   * A run that ends before its polls close (failed, stopped, timed out) closes those still open as
   * Close would, so /poll-get, history and the producer's tools agree that they are closed: votes
   * are refused at once (`closed_by` says why), the recount waits until no vote checked before can
   * still be written, and the question's results cue goes into the stream. Then the run's channel
   * is given back. A bare list of poll ids is a failure whose channel the run's Plan recorded.
   */
  endRun(end: RunEnd | readonly string[]): Promise<EndRunResult>;
  /** Gives the channel back if this run still holds it (a run that succeeded). */
  release(runId: string, channelArn: string): Promise<ReleaseResult>;
  /** The Lambda's event in, its result out (plan, open, tally or close). */
  handle(event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<LifecycleResult>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * Waits until the wall clock reads `time`. A timer may fire a millisecond before Date.now() gets
 * there (Node's timers run on a monotonic clock, rounded), so it waits again for what is left.
 */
async function sleepUntil(time: number): Promise<void> {
  while (Date.now() < time) await sleep(time - Date.now());
}

/** The lifecycle's steps over a store: plain functions, as the handler and the tests call them. */
export function pollLifecycle({ store, ivs, config, observability }: PollLifecycleDeps): PollLifecycle {
  const warn = (line: string) => (observability ? observability.logger.warn(line) : console.warn(line));

  async function planRun(
    input: unknown,
    runId: string,
    startedAt: Date,
    options: { executionArn?: string; stackChannelArn?: string } = {},
  ): Promise<ShowPlan> {
    const planned = plan(input, runId, startedAt, [
      ...(options.stackChannelArn ? [options.stackChannelArn] : []),
      ...config.cueChannelArns,
    ]);
    const channelArn = inputChannelArn(input) ?? options.stackChannelArn;
    if (!channelArn) return planned;
    const channelId = channelIdOf(channelArn);
    const executionArn = options.executionArn ?? '';
    // First where the run runs, so an end of the run racing this claim still finds the channel.
    const now = new Date();
    await store.channels.putRunChannel({ runId, channelArn, executionArn }, now);
    // The run's quiz questions, on the same run item: a close knows when the leaderboard is final.
    await store.scores.recordRunQuiz(
      runId,
      planned.polls.filter((p) => p.correct !== undefined).map((p) => p.pollId),
      now,
    );
    const claim: ChannelClaim = {
      channelId,
      channelArn,
      runId,
      executionArn,
      showId: planned.showId,
      title: planned.title,
      startAt: planned.startAt,
      claimedAt: now.toISOString(),
      leaseUntil: claimLease(planned, startedAt).toISOString(),
    };
    // The claim vanishing between the refused put and the read (its run just gave it back) is
    // worth another try; a holder seen is the answer.
    for (let attempt = 0; ; attempt++) {
      const outcome = await store.channels.claim(claim, new Date());
      if (outcome.claimed) return planned;
      if (outcome.holder || attempt >= 2) throw new ChannelBusyError(channelId, outcome.holder);
    }
  }

  async function open(
    poll: Pick<PlannedPoll, keyof z.output<typeof PlannedPollSchema>>,
    now: Date,
    channelArn: string,
  ): Promise<OpenResult> {
    const record: PollRecord = {
      pollId: poll.pollId,
      runId: poll.runId,
      question: poll.question,
      answers: poll.answers,
      state: 'open',
      openedAt: now.toISOString(),
      closesAt: closingTime(now, poll.duration, poll.latencyGraceSeconds).toISOString(),
      voteShards: config.voteShards,
      durationSeconds: poll.duration,
      graceSeconds: poll.latencyGraceSeconds,
    };
    if (poll.title !== undefined) record.title = poll.title;
    if (poll.correct !== undefined) {
      record.correct = poll.correct;
      record.points = poll.points ?? DEFAULT_POINTS;
      if (poll.speed === true) record.speed = true;
      // Every question of the run scores into the same items: the run fixes the shard count once.
      record.scoreShards = await store.scores.runScoreShards(poll.runId, config.voteShards, now);
    }
    const stored = await store.openPoll(record);
    await store.setCurrentPoll(channelIdOf(channelArn), stored.pollId);
    const cue = encodeCue(
      pollCue(stored.pollId, {
        question: stored.question,
        answers: stored.answers,
        duration: poll.duration,
        title: stored.title,
        points: stored.correct !== undefined ? stored.points : undefined,
        speed: stored.speed,
      }),
    );
    return {
      pollId: stored.pollId,
      openedAt: stored.openedAt,
      closesAt: stored.closesAt,
      cue,
    } satisfies OpenResult;
  }

  async function tally(
    pollId: string,
    channelArn: string,
    closesAt: Date,
    until: number,
  ): Promise<TallyResult> {
    const poll = await store.requirePoll(pollId);
    const end = Math.min(closesAt.getTime(), until);
    const result: TallyResult = { pollId, done: false, sent: 0, skipped: 0 };
    // Viewers start from zero bars: only a count that differs from the last one they got is sent.
    let onAir = poll.answers.map(() => 0).join();
    // Ticks on a fixed grid from the start, so a slow read or call never makes the cadence drift.
    for (let tick = Date.now(); tick < end; tick += TALLY_INTERVAL_MS) {
      await sleepUntil(tick);
      if (Date.now() >= end) break;
      // A run stopped or failed mid-poll ends it early and closes it (nothing stops this invocation):
      // stop with it, leaving IVS's calls to the results cue.
      const current = await store.getPoll(pollId);
      if (current?.state !== 'open' || Date.parse(current.closesAt) < closesAt.getTime())
        return { ...result, done: true };
      const counts = await store.liveCounts(poll);
      if (counts.join() === onAir) continue;
      try {
        await ivs.send(new PutMetadataCommand({ channelArn, metadata: encodeCue(tallyCue(pollId, counts)) }));
        onAir = counts.join();
        result.sent += 1;
      } catch (error) {
        if (isPermanentCueError(error)) throw error;
        // The IVS throttling alarm (cdk/lib/monitoring.ts) counts these lines.
        warn(`tally PutMetadata skipped (${(error as Error).name}) on ${channelArn}`);
        result.skipped += 1;
      }
    }
    // The slice ends at its end, not at its last tick: the state machine goes on to close on time.
    await sleepUntil(end);
    result.done = Date.now() >= closesAt.getTime();
    return result;
  }

  async function close(pollId: string): Promise<CloseResult> {
    const poll = await store.requirePoll(pollId);
    // A vote checked just before closesAt may still be writing: recount (strongly consistent, every
    // shard) only once it has landed or can no longer be acknowledged (VOTE_DEADLINE_MS).
    const settleUntil = Date.parse(poll.closesAt) + config.voteSettleMs;
    await sleepUntil(settleUntil);
    const closed = await store.closePoll(pollId, new Date());
    const counts = closed.finalCounts ?? [];
    const cue = resultsCue(pollId, counts, closed.correct);
    const result: CloseResult = {
      pollId,
      counts,
      total: cue.total,
      cue: encodeCue(cue),
      leaderboardCue: null,
    };
    if (closed.correct !== undefined) {
      result.correct = closed.correct;
      result.pointsGiven = closed.pointsGiven ?? 0;
      result.leaderboardCue = await leaderboardAfter(closed);
    }
    return result;
  }

  /**
   * The leaderboard cue after a quiz question closed (recounted: every acknowledged vote's score is
   * in): the question recorded closed on its run, then the standings with the top names. `final`
   * once every quiz question of the run is closed, or when the run has ended (`runEnded`).
   */
  async function leaderboardAfter(closed: PollRecord, runEnded = false): Promise<string> {
    const { final } = await store.scores.closeQuizQuestion(closed.runId, closed.pollId);
    const players = await store.scores.standings(closed.runId, { namesFor: LEADERBOARD_TOP });
    return encodeCue(leaderboardOf(players, { pollId: closed.pollId, final: final || runEnded }));
  }

  /**
   * The results cue of a question the end of a run closed, as ResultsCue would have sent it:
   * retried while IVS throttles it, given up (and logged) on anything else.
   */
  async function sendResults(channelArn: string, poll: PollRecord): Promise<boolean> {
    const metadata = encodeCue(resultsCue(poll.pollId, poll.finalCounts ?? [], poll.correct));
    return sendCue(channelArn, metadata, 'results', poll.pollId);
  }

  /** One cue the end of a run sends itself: retried while IVS throttles it, given up (and logged) on anything else. */
  async function sendCue(
    channelArn: string,
    metadata: string,
    kind: 'results' | 'leaderboard',
    pollId: string,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await ivs.send(new PutMetadataCommand({ channelArn, metadata }));
        return true;
      } catch (error) {
        if (!(error instanceof ThrottlingException) || attempt >= END_RESULTS_ATTEMPTS) {
          warn(`${kind} PutMetadata for ${pollId} not sent (${(error as Error).name}) on ${channelArn}`);
          return false;
        }
        // Full jitter, 0.25 s doubling up to 2 s.
        await sleep(Math.random() * Math.min(2000, 250 * 2 ** attempt));
      }
    }
  }

  /**
   * The recount after a run's end moved closes_at: votes checked against the old closes_at have
   * VOTE_DEADLINE_MS from their check (EARLY_END_SETTLE_MS), never less than the stack's settle.
   */
  const earlyEndSettleMs = Math.max(config.voteSettleMs, EARLY_END_SETTLE_MS);

  async function endRun(end: RunEnd | readonly string[]): Promise<EndRunResult> {
    const {
      pollIds,
      reason = 'failure',
      ...given
    }: RunEnd = Array.isArray(end) ? { pollIds: end as readonly string[] } : (end as RunEnd);
    const runId = given.runId ?? (pollIds[0] ? pollIds[0].slice(0, pollIds[0].lastIndexOf(':')) : undefined);
    const channelArn =
      given.channelArn ?? (runId ? (await store.channels.runChannel(runId))?.channelArn : undefined);
    const now = new Date();
    const ended: string[] = [];
    const resultsSent: string[] = [];
    const leaderboardsSent: string[] = [];
    let released = false;
    try {
      // Each question still open: ended now (closes_at moves to now), or already past its time with
      // the Close step that would have recounted it and sent its results gone with the run.
      const closing: Array<{ pollId: string; recountAt: number }> = [];
      for (const pollId of pollIds) {
        if (await store.endPoll(pollId, now, reason)) {
          ended.push(pollId);
          // Every vote checked against the old closes_at has been written or can no longer be
          // acknowledged, and no API container still holds the old closes_at in its cache.
          closing.push({ pollId, recountAt: now.getTime() + earlyEndSettleMs + config.pollCacheMs });
          continue;
        }
        const poll = await store.getPoll(pollId);
        if (poll?.state === 'open') {
          // Ended early by another end of this run (a stop during a failing run's EndRunPolls):
          // API containers may hold its old closes_at for the cache's time too.
          const settle = poll.closedBy ? earlyEndSettleMs + config.pollCacheMs : config.voteSettleMs;
          closing.push({ pollId, recountAt: Date.parse(poll.closesAt) + settle });
        }
      }
      closing.sort((a, b) => a.recountAt - b.recountAt);
      for (const { pollId, recountAt } of closing) {
        await sleepUntil(recountAt);
        const closed = await store.closePoll(pollId, new Date());
        if (channelArn && (await sendResults(channelArn, closed))) {
          resultsSent.push(pollId);
          await store.markResultsSent(pollId, new Date());
          // A quiz question's leaderboard follows its results; the run is over, so it is final.
          if (closed.correct !== undefined) {
            const metadata = await leaderboardAfter(closed, true);
            if (await sendCue(channelArn, metadata, 'leaderboard', pollId)) leaderboardsSent.push(pollId);
          }
        }
      }
    } finally {
      // Last, so the next show on the channel starts after this one's final results are on air;
      // however the closing went, the channel is given back.
      if (runId && channelArn) released = await store.channels.release(channelIdOf(channelArn), runId);
    }
    return { ended, resultsSent, ...(leaderboardsSent.length > 0 ? { leaderboardsSent } : {}), released };
  }

  async function release(runId: string, channelArn: string): Promise<ReleaseResult> {
    return { released: await store.channels.release(channelIdOf(channelArn), runId) };
  }

  async function handle(
    event: unknown,
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<LifecycleResult> {
    const started = performance.now();
    /** Runs one action and records how long it took, failed or not. */
    const timed = async <T>(action: LifecycleAction, work: () => T | Promise<T>): Promise<T> => {
      try {
        return await work();
      } finally {
        observability?.lifecycleTiming(action, performance.now() - started);
      }
    };
    const ending = ExecutionEnded.safeParse(event);
    if (ending.success) {
      const { name, input, status } = ending.data.detail;
      observability?.appendPollKeys({ runId: name });
      return timed('endRun', () =>
        endRun({ runId: name, pollIds: pollIdsOfRun(name, input), reason: END_REASON[status] }),
      );
    }
    const parsed = LifecycleEvent.safeParse(event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new LifecycleInputError(`${issue.path.join('.') || 'event'}: ${issue.message}`, {
        cause: parsed.error,
      });
    }
    const e = parsed.data;
    observability?.appendPollKeys(
      e.action === 'plan' || e.action === 'release'
        ? { runId: e.runId }
        : e.action === 'open'
          ? { pollId: e.poll.pollId }
          : e.action === 'endRun'
            ? e.runId
              ? { runId: e.runId }
              : {}
            : { pollId: e.pollId },
    );
    switch (e.action) {
      case 'plan':
        return timed('plan', () =>
          planRun(e.input, e.runId, e.now ? new Date(e.now) : new Date(), {
            ...(e.executionArn ? { executionArn: e.executionArn } : {}),
            ...(e.stackChannelArn ? { stackChannelArn: e.stackChannelArn } : {}),
          }),
        );
      case 'open':
        return timed('open', () => open(e.poll, new Date(), e.channelArn));
      case 'tally': {
        const now = Date.now();
        const remaining = context ? context.getRemainingTimeInMillis() - TALLY_RETURN_MARGIN_MS : Infinity;
        return timed('tally', async () => {
          const result = await tally(
            e.pollId,
            e.channelArn,
            new Date(e.closesAt),
            now + Math.min(TALLY_SLICE_MS, remaining),
          );
          observability?.tallyCuesSent(e.pollId, result.sent);
          observability?.tallyCuesSkipped(e.pollId, result.skipped);
          return result;
        });
      }
      case 'close':
        return timed('close', () => close(e.pollId));
      case 'endRun':
        return timed('endRun', () =>
          endRun({
            pollIds: e.pollIds,
            ...(e.runId ? { runId: e.runId } : {}),
            ...(e.channelArn ? { channelArn: e.channelArn } : {}),
            ...(e.reason ? { reason: e.reason } : {}),
          }),
        );
      case 'release':
        return timed('release', () => release(e.runId, e.channelArn));
    }
  }

  return { plan: planRun, open, tally, close, endRun, release, handle };
}

/** The state machine's Lambda handler. */
export function createPollLifecycleHandler(deps: PollLifecycleDeps) {
  const lifecycle = pollLifecycle(deps);
  return middy<unknown, LifecycleResult>()
    .use(deps.observability?.middlewares ?? [])
    .handler((event, context) => lifecycle.handle(event, context));
}
