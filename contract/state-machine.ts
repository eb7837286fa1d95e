// The state machine's contract: what statemachine/show.asl.json, the Lambda its Task states invoke
// (lambdas/poll-lifecycle.ts), the CDK stack, the local Step Functions (local/sfn) and the CLI
// (which reads runs back from the execution history) agree on. test/unit/contract.test.ts checks
// the names here against the definition.

/** The local stack names its state machine so, and the CLI finds it by this name. */
export const STATE_MACHINE_NAME = 'showrunner-show';
/** The poll lifecycle Lambda's function name in the local stack (its ${PollLifecycleFunctionArn} there). */
export const LOCAL_POLL_LIFECYCLE_FUNCTION = 'showrunner-poll-lifecycle';

// ---- DefinitionSubstitutions -----------------------------------------------------------------

/** Every `${Name}` DefinitionSubstitution the definition uses; CDK and the local stack provide exactly these. */
export const SUBSTITUTION_NAMES = ['PollLifecycleFunctionArn', 'ChannelArn', 'TableName'] as const;
export type SubstitutionName = (typeof SUBSTITUTION_NAMES)[number];
export type Substitutions = Record<SubstitutionName, string>;

/** A `${Name}` placeholder, as CloudFormation's DefinitionSubstitutions read them. */
export const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** Every `${Name}` placeholder in a definition's text, in order of first use. */
export function substitutionNames(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

// ---- states and errors the CLI reads from the execution history ------------------------------

export const STATES = {
  /** Validates the execution input and plans the run (Lambda `plan`): its output holds `plan`. */
  Plan: 'Plan',
  /**
   * Runs without a channelArn in their input use the stack's channel: this Pass state's
   * `Parameters.channelArn` (the ${ChannelArn} substitution), which the CLI's local target reads.
   */
  UseStackChannel: 'UseStackChannel',
  /** The inline Map: one iteration per poll (PollIterationState). */
  RunPolls: 'RunPolls',
  /** Manual polls wait here for `showrunner cue` (the table's '#cue' item holds the task token). */
  WaitForCue: 'WaitForCue',
  /** Writes the poll item (Lambda `open`): its output holds `opened`. */
  Open: 'Open',
  /** Sends the poll cue with IVS PutMetadata. */
  AskCue: 'AskCue',
  /**
   * While the poll is open, the Lambda (`tally`) sends its live count as a tally cue about once a
   * second when it changed; it returns after a slice of time, and the state machine calls it again
   * until closesAt. Its output holds `tally`.
   */
  LiveTally: 'LiveTally',
  /** Closes and recounts (Lambda `close`): its output holds `closed`. */
  Close: 'Close',
  /** Sends the results cue with IVS PutMetadata. */
  ResultsCue: 'ResultsCue',
  /** After a quiz question's results: whether Close returned a leaderboard cue. */
  HasLeaderboard: 'HasLeaderboard',
  /** Sends the leaderboard cue with IVS PutMetadata, right after the results cue (quiz questions only). */
  LeaderboardCue: 'LeaderboardCue',
  /** A run that fails after Plan closes its polls still open (Lambda `endRun`), then fails with the same error. */
  EndRunPolls: 'EndRunPolls',
  /** A run whose questions all ran gives its channel back (Lambda `release`) before it succeeds. */
  ReleaseChannel: 'ReleaseChannel',
} as const;

/** The error Plan's Catch names: the Lambda throws it for an invalid input, and the execution fails with it. */
export const SHOW_VALIDATION_ERROR = 'ShowValidationError';
/**
 * The error Plan fails with when another run holds the channel (one running show per channel): the
 * run ends FAILED with it, and its Cause names the running show and how to stop or replace it.
 */
export const CHANNEL_BUSY_ERROR = 'ChannelBusy';
/** How long WaitForCue waits for a manual question's cue before the run ends (its TimeoutSeconds). */
export const MANUAL_CUE_TIMEOUT_SECONDS = 12 * 3600;
/** How a run ended before its questions did, as its polls record it (`closed_by`): stopped, failed or timed out. */
export const RUN_END_REASONS = ['stop', 'failure', 'timeout'] as const;
export type RunEndReason = (typeof RUN_END_REASONS)[number];
/** The cue states call IVS PutMetadata; the history names the call by this resource… */
export const CUE_RESOURCE = 'putMetadata';
/** …and IVS's 5 calls/s limit by this error, which the cue states retry. */
export const CUE_THROTTLED_ERROR = 'Ivs.ThrottlingException';

// ---- run identity ----------------------------------------------------------------------------

/** Every status of a Step Functions execution (a run), as the API names them. */
export const EXECUTION_STATUSES = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** A run id is the execution name: 1–80 letters, digits, '-' and '_' (Step Functions' rule). */
export const RUN_ID_PATTERN = '[A-Za-z0-9_-]{1,80}';
export const RUN_ID = new RegExp(`^${RUN_ID_PATTERN}$`);

// ---- task results and what the states keep of them ------------------------------------------

/** One poll of a plan: what a RunPolls iteration works on. */
export interface PlannedPoll {
  id: string;
  runId: string;
  pollId: string;
  manual: boolean;
  /** Offset from show start in seconds; null for manual polls. */
  offsetSeconds: number | null;
  /** Absolute ISO time to ask; null for manual polls. */
  askAt: string | null;
  question: string;
  answers: string[];
  correct?: number;
  duration: number;
  latencyGraceSeconds: number;
  /** Quiz questions only: what a right answer is worth (the show's `points`, default 1,000). */
  points?: number;
  /** Quiz questions of a show with the speed bonus. */
  speed?: boolean;
  /** The show's title, which the poll cue carries. */
  title?: string;
}

/** Plan's result: absolute ask times computed once from the start, so hours of waiting never drift. */
export interface ShowPlan {
  runId: string;
  showId: string;
  title: string;
  startAt: string;
  latencyGraceSeconds: number;
  polls: PlannedPoll[];
}

/** Open's result: the poll item is written; `cue` is ready for PutMetadata's `Metadata`. */
export interface OpenResult {
  pollId: string;
  openedAt: string;
  closesAt: string;
  cue: string;
}

/**
 * Close's result: the recounted counts and the results cue; for a quiz question also the
 * leaderboard cue (sent right after the results) and the points its answers earned in all.
 */
export interface CloseResult {
  pollId: string;
  counts: number[];
  total: number;
  correct?: number;
  cue: string;
  /** The encoded leaderboard cue (≤ 1 KB) of a quiz question; null for a poll (the ASL's HasLeaderboard tests it). */
  leaderboardCue: string | null;
  /** Quiz questions only: the sum of the points its answers earned. */
  pointsGiven?: number;
}

/** LiveTally's result: one slice of the tally loop. `done` once closesAt has come. */
export interface TallyResult {
  pollId: string;
  done: boolean;
  /** Tally cues IVS accepted in this slice. */
  sent: number;
  /** Ticks whose cue IVS refused (5 calls/s per channel, or not broadcasting): skipped, never retried. */
  skipped: number;
}

/**
 * EndRunPolls' result (and the EventBridge rule's for stopped runs): the polls found open and
 * closed, those whose results cue IVS took, and whether the run's channel claim was given back.
 */
export interface EndRunResult {
  ended: string[];
  resultsSent?: string[];
  /** The quiz questions among `ended` whose (final) leaderboard cue IVS took after their results. */
  leaderboardsSent?: string[];
  released?: boolean;
}

/** ReleaseChannel's result: false when the claim was not this run's any more (or already gone). */
export interface ReleaseResult {
  released: boolean;
}

export type LifecycleResult =
  ShowPlan | OpenResult | TallyResult | CloseResult | EndRunResult | ReleaseResult;

/** The fields each task state keeps of its result (its ResultSelector), and where (its ResultPath). */
export const TASK_OUTPUTS = {
  Plan: {
    resultPath: '$.plan',
    fields: ['runId', 'showId', 'title', 'startAt', 'polls'] as const satisfies readonly (keyof ShowPlan)[],
  },
  Open: {
    resultPath: '$.opened',
    fields: ['pollId', 'openedAt', 'closesAt', 'cue'] as const satisfies readonly (keyof OpenResult)[],
  },
  LiveTally: {
    resultPath: '$.tally',
    fields: ['done', 'sent', 'skipped'] as const satisfies readonly (keyof TallyResult)[],
  },
  Close: {
    resultPath: '$.closed',
    fields: ['counts', 'total', 'cue', 'leaderboardCue'] as const satisfies readonly (keyof CloseResult)[],
  },
} as const;

type Kept<T, S extends keyof typeof TASK_OUTPUTS> = Pick<
  T,
  Extract<keyof T, (typeof TASK_OUTPUTS)[S]['fields'][number]>
>;
export type PlanOutput = Kept<ShowPlan, 'Plan'>;
export type OpenedOutput = Kept<OpenResult, 'Open'>;
export type TallyOutput = Kept<TallyResult, 'LiveTally'>;
export type ClosedOutput = Kept<CloseResult, 'Close'>;

/** The execution's state once Plan has run: the input, with the plan at `plan`. */
export interface PlannedState {
  plan: PlanOutput;
}

/** One RunPolls iteration's state: its ItemSelector's {poll, channelArn}, then Open's and Close's outputs. */
export interface PollIterationState {
  poll: PlannedPoll;
  channelArn: string;
  opened?: OpenedOutput;
  tally?: TallyOutput;
  closed?: ClosedOutput;
}

/** The keys of RunPolls' ItemSelector. */
export const ITERATION_FIELDS = [
  'poll',
  'channelArn',
] as const satisfies readonly (keyof PollIterationState)[];
