// Stub Task integrations for testing the local Step Functions without the rest of the stack: the
// lifecycle Lambda over the real core planner with polls in memory, an IVS that enforces the 5/s
// PutMetadata limit, and a DynamoDB PutItem that keeps the manual-cue items.
import { afterEach } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { decodeCue } from '../../contract/cues.ts';
import type { PlannedPoll } from '../../contract/state-machine.ts';
import { leaderboardOf } from '../../core/leaderboard.ts';
import { encodeCue, pollCue, resultsCue } from '../../core/cues.ts';
import { planShow } from '../../core/plan.ts';
import { summarizeIssues, validateExecutionInput } from '../../core/show.ts';
import { closeServer, createEdgeServer, listen } from '../../local/http.ts';
import { TaskFailure } from '../../local/sfn/errors.ts';
import { waitFor as waitForEnd } from '../support/wait.ts';
import {
  createLocalStepFunctions,
  type LocalStepFunctions,
  type TaskIntegrations,
} from '../../local/sfn/index.ts';

export const CHANNEL_ARN = 'arn:aws:ivs:us-east-1:000000000000:channel/localchannel';
/** A further channel the stub stack may send cues to (the cloud's CUE_CHANNEL_ARNS / extraChannelArns). */
export const EXTRA_CHANNEL_ARN = 'arn:aws:ivs:us-east-1:000000000000:channel/other';

export interface Cue {
  at: number;
  channelArn: string;
  metadata: string;
  type: string;
  pollId: string;
}

export class StubAws implements TaskIntegrations {
  cues: Cue[] = [];
  throttled = 0;
  /** '#cue' items by poll id: what `showrunner cue` reads. */
  cueItems = new Map<string, Record<string, { S: string }>>();
  votes = new Map<string, number[]>();
  broadcasting = true;
  /** Like the lifecycle Lambda's CUE_CHANNEL_ARNS: channels besides the stack's own that Plan accepts. */
  cueChannelArns: string[] = [EXTRA_CHANNEL_ARN];
  /** Channels whose PutMetadata IVS denies (the state machine's role has no grant on them). */
  deniedChannels = new Set<string>();
  /** How long a poll stays open, in place of duration + grace seconds (keeps tests short). */
  openMs: number;
  /** PutMetadata calls still to refuse as ChannelNotBroadcasting (then it broadcasts). */
  notBroadcastingFor = 0;
  /** Every call of a Task state, in order ('lambda:open', 'ivs:putMetadata'…). */
  calls: string[] = [];
  /** The end-of-run events delivered (the stack's EventBridge rule), by execution name and status. */
  ended: Array<{ name: string; status: string; cause: string | null }> = [];
  #calls: number[] = [];
  #polls = new Map<string, PlannedPoll & { closesAt: string }>();

  constructor(openMs = 300) {
    this.openMs = openMs;
  }

  async invokeLambda(_functionName: string, payload: unknown): Promise<unknown> {
    const event = payload as {
      action: string;
      input?: unknown;
      runId?: string;
      now?: string;
      stackChannelArn?: string;
      poll?: PlannedPoll;
      pollId?: string;
      closesAt?: string;
    };
    const ending = payload as {
      source?: string;
      detail?: { name: string; status: string; cause: string | null };
    };
    if (ending.source === 'aws.states' && ending.detail) {
      const { name, status, cause } = ending.detail;
      this.ended.push({ name, status, cause });
      return { ended: [] };
    }
    this.calls.push(`lambda:${event.action}`);
    if (event.action === 'plan') {
      // As lambdas/poll-lifecycle.ts plans: the run's context, and a message that fits a Cause.
      const now = new Date(event.now ?? Date.now());
      const channelArns = [...(event.stackChannelArn ? [event.stackChannelArn] : []), ...this.cueChannelArns];
      const checked = validateExecutionInput(event.input, { now, channelArns });
      if (!checked.ok)
        throw Object.assign(new Error(summarizeIssues(checked.issues)), { name: 'ShowValidationError' });
      return planShow(checked.value, event.runId!, now);
    }
    if (event.action === 'open') {
      const poll = event.poll!;
      const openedAt = new Date();
      const closesAt = new Date(openedAt.getTime() + this.openMs).toISOString();
      if (!this.#polls.has(poll.pollId)) this.#polls.set(poll.pollId, { ...poll, closesAt });
      const stored = this.#polls.get(poll.pollId)!;
      return {
        pollId: poll.pollId,
        openedAt: openedAt.toISOString(),
        closesAt: stored.closesAt,
        cue: encodeCue(pollCue(poll.pollId, poll)),
      };
    }
    if (event.action === 'endRun') return { ended: [] };
    // The channel claim is the lifecycle's (store/channels.ts, tested on the real stack): here every
    // run has its channel, and giving it back always succeeds.
    if (event.action === 'release') return { released: true };
    if (event.action === 'tally') {
      // As the Lambda's slice does when closesAt comes first: returns done at closesAt (no cues: the
      // stub's votes are not live).
      const wait = Date.parse(event.closesAt!) - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      return { pollId: event.pollId, done: true, sent: 0, skipped: 0 };
    }
    const poll = this.#polls.get(event.pollId!)!;
    const counts = this.votes.get(poll.pollId) ?? poll.answers.map(() => 0);
    const cue = resultsCue(poll.pollId, counts, poll.correct);
    return {
      pollId: poll.pollId,
      counts,
      total: cue.total,
      ...(poll.correct !== undefined ? { correct: poll.correct } : {}),
      cue: encodeCue(cue),
      // A quiz question's leaderboard follows its results (LeaderboardCue); a poll's is null.
      leaderboardCue:
        poll.correct !== undefined ? encodeCue(leaderboardOf([], { pollId: poll.pollId })) : null,
    };
  }

  async callAws(service: string, action: string, parameters: Record<string, unknown>): Promise<unknown> {
    this.calls.push(`${service}:${action}`);
    if (service === 'dynamodb' && action === 'putItem') {
      const item = parameters.Item as Record<string, { S: string }>;
      this.cueItems.set(item.poll_id!.S, item);
      return {};
    }
    if (service === 'ivs' && action === 'putMetadata') {
      const now = Date.now();
      if (this.deniedChannels.has(String(parameters.ChannelArn)))
        throw new TaskFailure(
          'Ivs.AccessDeniedException',
          `User is not authorized to perform: ivs:PutMetadata on resource: ${String(parameters.ChannelArn)}`,
        );
      if (!this.broadcasting || this.notBroadcastingFor > 0) {
        this.notBroadcastingFor -= 1;
        throw new TaskFailure('Ivs.ChannelNotBroadcastingException', 'Channel is not broadcasting');
      }
      this.#calls = this.#calls.filter((t) => now - t < 1000);
      if (this.#calls.length >= 5) {
        this.throttled += 1;
        throw new TaskFailure(
          'Ivs.ThrottlingException',
          'Operation: ivs:PutMetadata exceeded call rate: 5 for resource',
        );
      }
      this.#calls.push(now);
      const metadata = String(parameters.Metadata);
      const cue = decodeCue(metadata);
      this.cues.push({
        at: now,
        channelArn: String(parameters.ChannelArn),
        metadata,
        type: cue?.type ?? '?',
        pollId: cue?.poll_id ?? '?',
      });
      return {};
    }
    throw new TaskFailure('States.Runtime', `stub has no ${service}:${action}`);
  }
}

export interface Harness {
  sfn: LocalStepFunctions;
  client: SFNClient;
  aws: StubAws;
  dataDir: string;
  edgeUrl: string;
  /** Stops the emulator (as a stack shutdown would) but keeps the data directory. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(
  options: {
    aws?: StubAws;
    dataDir?: string;
    retryIntervalOverrides?: Record<string, number | number[]>;
    /** Another definition file (a changed or a test-sized statemachine/show.asl.json). */
    definitionFile?: string;
  } = {},
): Promise<Harness> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'showrunner-sfn-')));
  const aws = options.aws ?? new StubAws();
  const sfn = await createLocalStepFunctions({
    dataDir,
    env: { tableName: 'showrunner-polls', channelArn: CHANNEL_ARN, edgeUrl: 'http://127.0.0.1:9' },
    integrations: aws,
    // The stack's EventBridge rule: the stub records what it gets.
    executionEndedFunction: 'showrunner-poll-lifecycle',
    ...(options.retryIntervalOverrides ? { retryIntervalOverrides: options.retryIntervalOverrides } : {}),
    ...(options.definitionFile ? { definitionFile: options.definitionFile } : {}),
  });
  const server = createEdgeServer([sfn.edge], () => {});
  const port = await listen(server, 0);
  const edgeUrl = `http://127.0.0.1:${port}`;
  const client = new SFNClient({
    endpoint: edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    client.destroy();
    await closeServer(server);
    await sfn.close();
  };
  return {
    sfn,
    client,
    aws,
    dataDir,
    edgeUrl,
    stop,
    async close() {
      await stop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export { waitFor } from '../support/wait.ts';

/** A two-answer question of 5 s asked at `at`, as the engine tests write them. */
export const poll = (id: string, at: number | string) => ({
  id,
  at,
  question: `Question ${id}?`,
  answers: ['Yes', 'No'],
  duration: 5,
});

/** `startHarness` for one test file: every harness a test starts is closed after that test. */
export function harnessPerTest(): (...args: Parameters<typeof startHarness>) => Promise<Harness> {
  const harnesses: Harness[] = [];
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.close();
  });
  return async (...args) => {
    const h = await startHarness(...args);
    harnesses.push(h);
    return h;
  };
}

/** StartExecution on the harness's state machine; the execution's ARN. */
export async function start(h: Harness, input: unknown, name = `run-${Date.now()}`): Promise<string> {
  const out = await h.client.send(
    new StartExecutionCommand({ stateMachineArn: h.sfn.stateMachineArn, name, input: JSON.stringify(input) }),
  );
  return out.executionArn!;
}

/** DescribeExecution once the execution has ended. */
export async function finished(client: SFNClient, executionArn: string, timeoutMs = 15_000) {
  return waitForEnd(
    'the execution to end',
    async () => {
      const out = await client.send(new DescribeExecutionCommand({ executionArn }));
      return out.status === 'RUNNING' ? undefined : out;
    },
    timeoutMs,
  );
}

/** The whole execution history, every page of `pageSize` events. */
export async function history(
  client: SFNClient,
  executionArn: string,
  pageSize = 1000,
): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const out = await client.send(
      new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: pageSize }),
    );
    events.push(...(out.events ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  return events;
}
