// Runs executions of the one local state machine with aws-local-stepfunctions and keeps what the
// Step Functions API reports about them: status, output, history, task tokens. The HTTP protocol is
// in service.ts; this module speaks in plain values and SfnApiError.
//
// What aws-local-stepfunctions lacks and this adds: Task integrations by Resource ARN (lambda:invoke,
// aws-sdk:*), `.waitForTaskToken` (a token per call, SendTaskSuccess/Failure), Task* history events,
// StopExecution with error/cause, persistence, and runs that outlive the process.
//
// A restart keeps the show: an execution still RUNNING on disk when the engine opens (the stack
// was stopped, or killed) is resumed on the same execution, as Step Functions in AWS keeps running
// whatever happens to its clients. The library cannot continue a run, so it runs again from its
// input, on the definition it started with, and the history replays it (history.ts): every saved
// event stays as it was and is not recorded twice, a Task call that finished before gets its saved
// result without running again (no cue is sent twice), one that was in flight runs again (the
// lifecycle's steps are idempotent), a waiting `.waitForTaskToken` call waits again for the same
// token (tokens derive from a per-execution seed and the call's place in its thread) until its
// original deadline, and Wait states with absolute timestamps fall through once past. What runs late
// is recorded when it happens, after an ExecutionRedriven event that marks the restart, so the
// lateness is in the history. A run whose file cannot be replayed ends FAILED saying why.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { LoadedDefinition } from './definition.ts';
import { lambdaFunctionError, SfnApiError, TaskFailure } from './errors.ts';
import {
  ExecutionHistory,
  indexStates,
  type HistoryEvent,
  type RecordedOutcome,
  type StateInfo,
  type TaskCall,
} from './history.ts';
import type { TaskIntegrations } from './integrations.ts';
import type { ExecutionRecord, ExecutionStatus, ExecutionStore, StoredExecution } from './store.ts';

/** What `$$.Task.Token` evaluates to inside the library; each Task call swaps in its own token. */
const TOKEN_PLACEHOLDER = 'local-sfn:task-token';
/** Step Functions execution names: 1–80 characters, no whitespace, brackets, wildcards or control characters. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what the rule forbids
const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;
const MAX_INPUT_BYTES = 256 * 1024;
/** The Cause of a run that was running when the local stack stopped and cannot be resumed. */
export const CANNOT_RESUME_CAUSE = 'the local stack restarted and could not resume this run';
/**
 * How long `open` waits for resumed runs to replay up to where they were, so a task token issued
 * before the restart is known again before the API answers. Replays use saved results and take
 * milliseconds; this only bounds a pathological one.
 */
const CATCH_UP_MS = 5000;

export interface EngineOptions {
  definition: LoadedDefinition;
  stateMachineArn: string;
  roleArn: string;
  region: string;
  createdAt: Date;
  store: ExecutionStore;
  integrations: TaskIntegrations;
  log: (line: string) => void;
  /** Test seams, passed to aws-local-stepfunctions (milliseconds, by state name). */
  retryIntervalOverrides?: Record<string, number | number[]>;
  waitTimeOverrides?: Record<string, number>;
  /**
   * What EventBridge would deliver to the stack's rule: an execution ended FAILED, ABORTED or
   * TIMED_OUT (including runs a restart cut off). Called once per such execution, not awaited.
   */
  onExecutionEnded?: (event: ExecutionStatusChangeEvent) => void;
}

/** EventBridge's "Step Functions Execution Status Change" event, as AWS sends it (the fields we read). */
export interface ExecutionStatusChangeEvent {
  version: '0';
  id: string;
  'detail-type': 'Step Functions Execution Status Change';
  source: 'aws.states';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    status: ExecutionStatus;
    startDate: number;
    stopDate: number | null;
    input: string;
    output: string | null;
    error: string | null;
    cause: string | null;
  };
}

/** A definition as the library runs it, with what the history needs to know of its states. */
interface Machine {
  text: string;
  machine: StateMachine;
  states: Map<string, StateInfo>;
}

interface Execution {
  record: ExecutionRecord;
  history: ExecutionHistory;
  /** The definition it started with (undefined for a file saved without it: it only lists). */
  definition: string | undefined;
  machine?: Machine;
  /** Task tokens are HMACs of the call's place under this per-execution secret (tokenFor). */
  tokenSeed: string;
  abort?: () => void;
  finished: Promise<void>;
  /** Per state: saved failures a replay has just thrown, so the library retries them at once. */
  replayedFailures: Map<string, number>;
}

/** A Task call's time is up: recorded as TaskTimedOut, caught as States.Timeout. */
class TaskTimeout extends TaskFailure {
  constructor(cause = '') {
    super('States.Timeout', cause);
  }
}

interface PendingToken {
  execution: Execution;
  call: { done: boolean };
  resolve(output: unknown): void;
  reject(error: Error): void;
}

function terminalStatus(type: string): ExecutionStatus | undefined {
  switch (type) {
    case 'ExecutionSucceeded':
      return 'SUCCEEDED';
    case 'ExecutionFailed':
      return 'FAILED';
    case 'ExecutionAborted':
      return 'ABORTED';
    case 'ExecutionTimedOut':
      return 'TIMED_OUT';
    default:
      return undefined;
  }
}

/** Why a saved running execution cannot be replayed, or undefined when it can. */
function resumeProblem(stored: StoredExecution): string | undefined {
  const { record, events, threads } = stored;
  try {
    JSON.parse(record.input);
  } catch {
    return 'its saved input is not JSON';
  }
  if (!Array.isArray(events) || !validEvents(events)) return 'its saved history is damaged';
  if (
    !Array.isArray(threads) ||
    threads.length !== events.length ||
    !threads.every((t) => typeof t === 'string') ||
    typeof stored.tokenSeed !== 'string' ||
    typeof stored.definition !== 'string'
  )
    return 'it was saved by a version of the local stack that did not keep what a resume needs';
  return undefined;
}

/** Ids 1…n in order, each with a type and a time, starting with ExecutionStarted. */
function validEvents(events: unknown[]): events is HistoryEvent[] {
  return (
    events.every((e, i) => {
      const event = e as Partial<HistoryEvent> | null;
      return (
        typeof event === 'object' &&
        event !== null &&
        event.id === i + 1 &&
        typeof event.type === 'string' &&
        typeof event.timestamp === 'number' &&
        typeof event.previousEventId === 'number'
      );
    }) && (events[0] as HistoryEvent | undefined)?.type === 'ExecutionStarted'
  );
}

/** Replaces the token placeholder wherever `$$.Task.Token` put it in the effective input. */
function withToken(value: unknown, token: string): unknown {
  if (value === TOKEN_PLACEHOLDER) return token;
  if (Array.isArray(value)) return value.map((v) => withToken(v, token));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withToken(v, token)]));
  }
  return value;
}

/** `arn:aws:states:::aws-sdk:ivs:putMetadata.waitForTaskToken` → parts. */
export function parseTaskResource(
  resource: string,
):
  | { kind: 'lambda'; waitForTaskToken: boolean }
  | { kind: 'aws-sdk'; service: string; action: string; waitForTaskToken: boolean }
  | { kind: 'function'; functionArn: string }
  | undefined {
  if (/^arn:aws[a-z-]*:lambda:/.test(resource)) return { kind: 'function', functionArn: resource };
  const match = /^arn:aws[a-z-]*:states:::(.+?)(\.waitForTaskToken)?$/.exec(resource);
  if (!match) return undefined;
  const waitForTaskToken = match[2] !== undefined;
  const path = match[1]!;
  if (path === 'lambda:invoke') return { kind: 'lambda', waitForTaskToken };
  const sdk = /^aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(path);
  if (sdk) return { kind: 'aws-sdk', service: sdk[1]!, action: sdk[2]!, waitForTaskToken };
  return undefined;
}

export class LocalStepFunctionsEngine {
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly definition: LoadedDefinition;
  readonly roleArn: string;
  readonly createdAt: Date;
  readonly #options: EngineOptions;
  /** Definitions by text: the current one, and those resumed runs started with. */
  readonly #machines = new Map<string, Machine>();
  readonly #executions = new Map<string, Execution>();
  readonly #tokens = new Map<string, PendingToken>();
  #closed = false;

  private constructor(options: EngineOptions) {
    this.#options = options;
    this.definition = options.definition;
    this.stateMachineArn = options.stateMachineArn;
    this.stateMachineName = options.stateMachineArn.split(':').pop()!;
    this.roleArn = options.roleArn;
    this.createdAt = options.createdAt;
    // Validated once here (asl-validator, ARNs and paths); the library skips it for Map iterations anyway.
    this.#machineFor(options.definition.text, options.definition.definition);
  }

  /**
   * Loads past executions and resumes those still RUNNING (see the top of this file). One that
   * cannot be replayed ends FAILED with CANNOT_RESUME_CAUSE and the reason, which the lifecycle's
   * end-of-run handler gets like any failed run. Resolves once the resumed runs have replayed up to
   * where they were: their waiting task tokens are valid again before the API answers.
   */
  static async open(options: EngineOptions): Promise<LocalStepFunctionsEngine> {
    const engine = new LocalStepFunctionsEngine(options);
    const resumed: Execution[] = [];
    for (const stored of await options.store.load()) {
      const problem = stored.record.status === 'RUNNING' ? resumeProblem(stored) : undefined;
      const execution = engine.#adopt(stored);
      if (execution.record.status !== 'RUNNING') continue;
      const why = problem ?? engine.#loadMachine(execution);
      if (why) {
        options.log(`local Step Functions: ${execution.record.name} cannot resume: ${why}`);
        execution.history.failed('States.Runtime', `${CANNOT_RESUME_CAUSE}: ${why}.`);
        await options.store.flush(execution.record.name, () => engine.#snapshot(execution));
        continue;
      }
      engine.#resume(execution);
      resumed.push(execution);
    }
    await Promise.race([
      Promise.all(resumed.map((e) => e.history.caughtUp)),
      new Promise((resolve) => setTimeout(resolve, CATCH_UP_MS).unref()),
    ]);
    return engine;
  }

  executionArn(name: string): string {
    return this.stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
  }

  start(name: string | undefined, input: string | undefined, stateMachineArn: string): ExecutionRecord {
    this.#assertOpen();
    this.#requireStateMachine(stateMachineArn);
    const executionName = name ?? randomUUID();
    if (!EXECUTION_NAME.test(executionName)) {
      throw new SfnApiError('InvalidName', `Invalid Name: '${executionName}'`);
    }
    const text = input ?? '{}';
    if (Buffer.byteLength(text) > MAX_INPUT_BYTES) {
      throw new SfnApiError(
        'InvalidExecutionInput',
        `Invalid execution input: larger than ${MAX_INPUT_BYTES} bytes`,
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new SfnApiError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: '${(error as Error).message}'`,
      );
    }
    const existing = this.#executions.get(executionName);
    if (existing) {
      // Standard workflows: the same name and input while it runs is an idempotent retry.
      if (existing.record.status === 'RUNNING' && existing.record.input === text) return existing.record;
      throw new SfnApiError(
        'ExecutionAlreadyExists',
        `Execution Already Exists: '${existing.record.executionArn}'`,
      );
    }

    const record: ExecutionRecord = {
      executionArn: this.executionArn(executionName),
      stateMachineArn: this.stateMachineArn,
      name: executionName,
      status: 'RUNNING',
      startDate: Date.now(),
      input: text,
    };
    const execution = this.#track(record, {
      definition: this.definition.text,
      tokenSeed: randomBytes(32).toString('base64url'),
    });
    execution.machine = this.#machines.get(this.definition.text)!;
    this.#run(execution, value);
    this.#options.store.schedule(executionName, () => this.#snapshot(execution));
    return record;
  }

  describe(executionArn: string): ExecutionRecord {
    return this.#require(executionArn).record;
  }

  /**
   * Writes the execution's pending changes now. The service calls it before it answers about an
   * execution, so what a client has been told (a run started, a cue asked) survives a kill -9; the
   * coalescing delay then only batches changes nobody has seen yet.
   */
  async persist(executionArn: string): Promise<void> {
    await this.#options.store.flush(this.#require(executionArn).record.name);
  }

  list(stateMachineArn: string, statusFilter?: string): ExecutionRecord[] {
    this.#requireStateMachine(stateMachineArn);
    return [...this.#executions.values()]
      .map((e) => e.record)
      .filter((r) => !statusFilter || r.status === statusFilter)
      .sort((a, b) => b.startDate - a.startDate || b.name.localeCompare(a.name));
  }

  history(executionArn: string): HistoryEvent[] {
    return this.#require(executionArn).history.events;
  }

  /** The definition the execution runs (DescribeStateMachineForExecution): the one it started with. */
  definitionOf(executionArn: string): string {
    return this.#require(executionArn).definition ?? this.definition.text;
  }

  stop(executionArn: string, error?: string, cause?: string): ExecutionRecord {
    this.#assertOpen();
    const execution = this.#require(executionArn);
    if (execution.record.status === 'RUNNING') {
      // Close the history first: bindings check it, so no task starts (and no cue is sent) after this.
      execution.history.aborted(error, cause);
      execution.abort?.();
    }
    return execution.record;
  }

  /**
   * Resolves once the task's result is recorded and written: a cue the producer was told was taken
   * survives a kill -9 right after.
   */
  async sendTaskSuccess(token: string, output: string): Promise<void> {
    // While stopping, a token may be unknown for now but valid after the restart: say "try again".
    this.#assertOpen();
    const pending = this.#takeToken(token);
    let value: unknown;
    try {
      value = JSON.parse(output);
    } catch (e) {
      this.#tokens.set(token, pending);
      throw new SfnApiError('InvalidOutput', `Invalid Output: '${(e as Error).message}'`);
    }
    pending.resolve(value);
    await this.#settled(pending.execution);
  }

  async sendTaskFailure(token: string, error?: string, cause?: string): Promise<void> {
    this.#assertOpen();
    const pending = this.#takeToken(token);
    pending.reject(new TaskFailure(error ?? '', cause ?? ''));
    await this.#settled(pending.execution);
  }

  sendTaskHeartbeat(token: string): void {
    this.#assertOpen();
    this.#peekToken(token);
  }

  /**
   * Ends the engine, not the runs: running executions are suspended (nothing more is recorded, the
   * library's runs are dropped) and stay RUNNING on disk, to be resumed by the next `open`. Every
   * file is written.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const running = [...this.#executions.values()].filter((e) => e.record.status === 'RUNNING');
    for (const execution of running) {
      execution.history.suspend();
      execution.abort?.();
    }
    // Settling the waiting tasks lets the library clear their timers (up to 12 h for a manual cue);
    // the tokens stay valid: the replay after the restart waits for the same ones.
    for (const [token, pending] of this.#tokens) {
      this.#tokens.delete(token);
      pending.reject(new TaskFailure('States.Runtime', 'the local stack is stopping'));
    }
    await Promise.race([
      Promise.allSettled(running.map((e) => e.finished)),
      new Promise((resolve) => setTimeout(resolve, 2000).unref()),
    ]);
    for (const execution of this.#executions.values())
      this.#options.store.schedule(execution.record.name, () => this.#snapshot(execution));
    await this.#options.store.flushAll();
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new SfnApiError('ServiceUnavailable', 'the local Step Functions is shutting down', 503);
  }

  #requireStateMachine(arn: string): void {
    if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/.test(arn)) {
      throw new SfnApiError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${arn}'`);
    }
    if (arn !== this.stateMachineArn) {
      throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    }
  }

  #require(executionArn: string): Execution {
    if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[A-Za-z0-9_-]+:.+$/.test(executionArn)) {
      throw new SfnApiError(
        'InvalidArn',
        `Invalid Arn: 'Resource type not valid in this context: ${executionArn}'`,
      );
    }
    const name = executionArn.slice(executionArn.lastIndexOf(':') + 1);
    const execution = this.#executions.get(name);
    if (!execution || execution.record.executionArn !== executionArn) {
      throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    }
    return execution;
  }

  #peekToken(token: string): PendingToken {
    if (typeof token !== 'string' || token.length < 1 || token.length > 2048) {
      throw new SfnApiError('InvalidToken', 'Invalid Token: the task token is malformed');
    }
    const pending = this.#tokens.get(token);
    if (!pending)
      throw new SfnApiError(
        'TaskDoesNotExist',
        'Task Does Not Exist: the task token is unknown or its task has completed',
      );
    if (pending.call.done) {
      this.#tokens.delete(token);
      throw new SfnApiError('TaskTimedOut', 'Task Timed Out: the task is no longer waiting for this token');
    }
    return pending;
  }

  #takeToken(token: string): PendingToken {
    const pending = this.#peekToken(token);
    this.#tokens.delete(token);
    return pending;
  }

  #track(
    record: ExecutionRecord,
    saved: {
      definition: string | undefined;
      tokenSeed: string;
      events?: HistoryEvent[];
      threads?: string[];
    },
  ): Execution {
    const execution: Execution = {
      record,
      definition: saved.definition,
      tokenSeed: saved.tokenSeed,
      finished: Promise.resolve(),
      history: undefined as never,
      replayedFailures: new Map(),
    };
    execution.history = new ExecutionHistory({
      states: this.#machines.get(saved.definition ?? this.definition.text)?.states ?? new Map(),
      roleArn: this.roleArn,
      ...(saved.events ? { events: saved.events } : {}),
      ...(saved.threads ? { threads: saved.threads } : {}),
      onChange: () => this.#changed(execution),
      onDivergence: (detail) => {
        const why = `the replay did not follow its saved history (${detail})`;
        this.#options.log(`local Step Functions: ${record.name} cannot resume: ${why}`);
        execution.history.failed('States.Runtime', `${CANNOT_RESUME_CAUSE}: ${why}.`);
        execution.abort?.();
      },
    });
    this.#executions.set(record.name, execution);
    return execution;
  }

  /** A saved execution as it was; a history that cannot be read is replaced by an empty one. */
  #adopt(stored: StoredExecution): Execution {
    const events = Array.isArray(stored.events) && validEvents(stored.events) ? stored.events : [];
    if (events !== stored.events)
      this.#options.log(`local Step Functions: the saved history of ${stored.record.name} is damaged`);
    const threads =
      Array.isArray(stored.threads) && stored.threads.length === events.length ? stored.threads : undefined;
    const execution = this.#track(stored.record, {
      definition: typeof stored.definition === 'string' ? stored.definition : undefined,
      tokenSeed:
        typeof stored.tokenSeed === 'string' ? stored.tokenSeed : randomBytes(32).toString('base64url'),
      events,
      ...(threads ? { threads } : {}),
    });
    this.#changed(execution);
    return execution;
  }

  /** The library's machine for a definition text, validated once and kept. */
  #machineFor(text: string, parsed: unknown = JSON.parse(text)): Machine {
    let machine = this.#machines.get(text);
    if (!machine) {
      machine = {
        text,
        machine: new StateMachine(parsed as StateMachineDefinition),
        states: indexStates(parsed as Record<string, unknown>),
      };
      this.#machines.set(text, machine);
    }
    return machine;
  }

  /** Loads the definition a saved execution started with; why it cannot, if it cannot. */
  #loadMachine(execution: Execution): string | undefined {
    try {
      execution.machine = this.#machineFor(execution.definition!);
      execution.history.setStates(execution.machine.states);
      return undefined;
    } catch (error) {
      return `the definition it started with no longer loads (${(error as Error).message.split('\n')[0]})`;
    }
  }

  /** Replays a saved RUNNING execution on the same execution: see the top of this file. */
  #resume(execution: Execution): void {
    const { record, history } = execution;
    const lastSaved = history.events.at(-1)?.timestamp ?? record.startDate;
    const marker = history.resume();
    record.redriveCount = (record.redriveCount ?? 0) + 1;
    record.redriveDate = marker.timestamp;
    this.#options.log(
      `local Step Functions: resuming ${record.name} (last step ${((marker.timestamp - lastSaved) / 1000).toFixed(1)} s before this start)`,
    );
    this.#run(execution, JSON.parse(record.input));
  }

  /** Runs (or replays) an execution with the library and records what happens. */
  #run(execution: Execution, input: unknown): void {
    const { record } = execution;
    const run = execution.machine!.machine.run(input as never, {
      noThrowOnAbort: true,
      overrides: {
        taskResourceLocalHandlers: this.#taskHandlers(execution),
        retryIntervalOverrides: this.#retryIntervals(execution),
        ...(this.#options.waitTimeOverrides ? { waitTimeOverrides: this.#options.waitTimeOverrides } : {}),
      },
      context: {
        Execution: { Id: record.executionArn, Name: record.name, RoleArn: this.roleArn },
        StateMachine: { Id: this.stateMachineArn, Name: this.stateMachineName },
        Task: { Token: TOKEN_PLACEHOLDER },
      },
    });
    execution.abort = run.abort;
    const consume = (async () => {
      for await (const event of run.eventLogs) execution.history.record(event as never);
    })();
    execution.finished = Promise.allSettled([consume, run.result]).then(([consumed, result]) => {
      if (consumed.status === 'rejected')
        this.#options.log(`local Step Functions: history of ${record.name}: ${String(consumed.reason)}`);
      // The library reports every ending as an event; this covers one it did not. A suspended run
      // (the stack stopping) has not ended.
      if (execution.history.closed) return;
      if (result.status === 'fulfilled') {
        execution.history.end('ExecutionSucceeded', {
          executionSucceededEventDetails: {
            output: JSON.stringify(result.value),
            outputDetails: { truncated: false },
          },
        });
      } else {
        const error = (result.reason as { cause?: Error })?.cause ?? (result.reason as Error);
        execution.history.failed(error?.name ?? 'States.Runtime', error?.message ?? String(result.reason));
      }
    });
  }

  /**
   * The library's retry intervals by state name: the configured ones, except that a failure a
   * replay took from the saved history is retried at once (its wait happened before the restart).
   * The library reads the interval in the same tick the failure reaches it.
   */
  #retryIntervals(execution: Execution): Record<string, number | number[]> {
    const configured = this.#options.retryIntervalOverrides ?? {};
    return new Proxy(configured, {
      get: (target, key) =>
        typeof key === 'string' && (execution.replayedFailures.get(key) ?? 0) > 0
          ? 0
          : Reflect.get(target, key),
    });
  }

  /** Resolves once a settled task's result is recorded, and written to disk. */
  async #settled(execution: Execution): Promise<void> {
    // The binding records the result in the microtasks after the token settles.
    await nextMacrotask();
    await this.#options.store.flush(execution.record.name);
  }

  /**
   * A `.waitForTaskToken` call's token: an HMAC of its place in the run (thread, state, how many
   * calls of that state the thread made before) under the execution's seed. Unguessable, and the
   * same when a replay makes the call again, so a token issued before a restart stays valid.
   */
  #tokenFor(execution: Execution, call: TaskCall): string {
    return createHmac('sha384', execution.tokenSeed)
      .update(`${call.thread}\n${call.stateName}\n${call.ordinal}`)
      .digest('base64url');
  }

  /** Keeps the record in step with the history's last event, and the file in step with both. */
  #changed(execution: Execution): void {
    const last = execution.history.events.at(-1);
    const status = last ? terminalStatus(last.type) : undefined;
    const { record } = execution;
    if (status && record.status === 'RUNNING' && last) {
      record.status = status;
      record.stopDate = last.timestamp;
      const details = Object.values(last).find((v) => typeof v === 'object' && v !== null) as
        Record<string, unknown> | undefined;
      if (status === 'SUCCEEDED') record.output = String(details?.output ?? 'null');
      if (typeof details?.error === 'string') record.error = details.error;
      if (typeof details?.cause === 'string') record.cause = details.cause;
      if (status !== 'SUCCEEDED') this.#announceEnd(record);
      // Settling the waiting tasks lets the library clear their timers (up to 12 h for a manual cue).
      for (const [token, pending] of this.#tokens) {
        if (pending.execution !== execution) continue;
        this.#tokens.delete(token);
        pending.reject(new TaskFailure('States.Runtime', 'the execution has ended'));
      }
      void this.#options.store.flush(record.name, () => this.#snapshot(execution));
      return;
    }
    this.#options.store.schedule(record.name, () => this.#snapshot(execution));
  }

  #announceEnd(record: ExecutionRecord): void {
    this.#options.onExecutionEnded?.({
      version: '0',
      id: randomUUID(),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: record.executionArn.split(':')[4] ?? '',
      time: new Date(record.stopDate ?? Date.now()).toISOString(),
      region: this.#options.region,
      resources: [record.executionArn],
      detail: {
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: record.startDate,
        stopDate: record.stopDate ?? null,
        input: record.input,
        output: record.output ?? null,
        error: record.error ?? null,
        cause: record.cause ?? null,
      },
    });
  }

  #snapshot(execution: Execution): StoredExecution {
    const stored: StoredExecution = {
      record: execution.record,
      events: execution.history.events,
      threads: execution.history.threads,
      tokenSeed: execution.tokenSeed,
    };
    if (execution.definition !== undefined) stored.definition = execution.definition;
    return stored;
  }

  /** One binding per Task state (aws-local-stepfunctions keys overrides by state name). */
  #taskHandlers(execution: Execution): Record<string, (input: unknown) => Promise<never>> {
    const handlers: Record<string, (input: unknown) => Promise<never>> = {};
    for (const [name, info] of execution.machine!.states) {
      if (info.type !== 'Task' || !info.resource) continue;
      const resource = info.resource;
      handlers[name] = async (input) => {
        // The library calls a binding in the same tick it reports StateEntered; one macrotask later the
        // history has read that event, so this call pairs with the right iteration.
        await nextMacrotask();
        const call = execution.history.taskCall(name, resource);
        if (call.done) throw new TaskFailure('States.Runtime', 'the execution has ended');
        const target = parseTaskResource(resource);
        const token =
          target && 'waitForTaskToken' in target && target.waitForTaskToken
            ? this.#tokenFor(execution, call)
            : undefined;
        const effective = token ? withToken(input, token) : input;
        call.scheduled(effective, this.#options.region, info.timeoutSeconds);
        try {
          const recorded = call.recorded();
          const output = recorded
            ? await this.#replayTask(execution, call, recorded, resource, effective, token)
            : await this.#runTask(execution, call, resource, effective, token);
          call.succeeded(output);
          return output as never;
        } catch (error) {
          const failure =
            error instanceof TaskFailure
              ? error
              : new TaskFailure('States.TaskFailed', (error as Error).message);
          if (failure instanceof TaskTimeout) call.timedOut();
          else call.failed(failure.name, failure.message);
          throw failure;
        }
      };
    }
    return handlers;
  }

  /**
   * A Task call the saved history already had: its saved outcome, without calling anything again;
   * a call that was in flight runs again; a task that was waiting for its token waits for it again,
   * until the deadline it had.
   */
  async #replayTask(
    execution: Execution,
    call: TaskCall,
    recorded: RecordedOutcome,
    resource: string,
    input: unknown,
    token: string | undefined,
  ): Promise<unknown> {
    if (recorded.submitted) call.submitted(recorded.submitted.output);
    const replayedFailure = () => {
      const failures = execution.replayedFailures;
      failures.set(call.stateName, (failures.get(call.stateName) ?? 0) + 1);
      setImmediate(() => failures.set(call.stateName, failures.get(call.stateName)! - 1));
    };
    switch (recorded.kind) {
      case 'succeeded':
        return recorded.output;
      case 'failed':
        replayedFailure();
        throw new TaskFailure(recorded.error, recorded.cause);
      case 'timedOut':
        replayedFailure();
        throw new TaskTimeout();
      case 'inFlight':
        return this.#runTask(execution, call, resource, input, token);
      case 'waiting': {
        if (!token) throw new TaskFailure('States.Runtime', 'a saved task waits for a token it never had');
        const seconds = execution.machine!.states.get(call.stateName)?.timeoutSeconds;
        const waiting = this.#awaitToken(execution, call, token);
        if (seconds === undefined) return waiting.promise;
        const left = call.scheduledAt + seconds * 1000 - Date.now();
        const timer = setTimeout(() => waiting.reject(new TaskTimeout()), Math.max(0, left));
        try {
          return await waiting.promise;
        } finally {
          clearTimeout(timer);
        }
      }
    }
  }

  /** Registers a task token; the promise settles with SendTaskSuccess/Failure (or the run's end). */
  #awaitToken(
    execution: Execution,
    call: TaskCall,
    token: string,
  ): { promise: Promise<unknown>; reject(error: Error): void } {
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    this.#tokens.set(token, { execution, call, resolve, reject });
    const settled = promise.finally(() => {
      if (this.#tokens.get(token)?.call === call) this.#tokens.delete(token);
    });
    // The run may end (and settle the token) while the service call is still out, before anyone
    // awaits this: not an unhandled rejection. Whoever awaits it still gets the rejection.
    settled.catch(() => {});
    return { promise: settled, reject };
  }

  async #runTask(
    execution: Execution,
    call: { done: boolean; submitted(output: unknown): void },
    resource: string,
    input: unknown,
    token: string | undefined,
  ): Promise<unknown> {
    const target = parseTaskResource(resource);
    if (!target)
      throw new TaskFailure('States.Runtime', `the local stack cannot run Task resource ${resource}`);
    const { integrations } = this.#options;
    if (target.kind === 'function') return integrations.invokeLambda(target.functionArn, input);

    // Registered before the service call: a SendTaskSuccess may come before the call returns.
    const waiting = token ? this.#awaitToken(execution, call as TaskCall, token) : undefined;
    try {
      let response: unknown;
      if (target.kind === 'lambda') {
        const { FunctionName, Payload } = (input ?? {}) as { FunctionName?: string; Payload?: unknown };
        if (typeof FunctionName !== 'string')
          throw new TaskFailure('States.Runtime', 'lambda:invoke needs Parameters.FunctionName');
        const payload = await integrations.invokeLambda(FunctionName, Payload).catch((error: unknown) => {
          throw error instanceof TaskFailure ? error : lambdaFunctionError(error);
        });
        response = { ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 };
      } else {
        response = await integrations.callAws(
          target.service,
          target.action,
          (input ?? {}) as Record<string, unknown>,
        );
      }
      if (!waiting) return response;
      call.submitted(response);
      return await waiting.promise;
    } finally {
      if (token && this.#tokens.get(token)?.call === call) this.#tokens.delete(token);
    }
  }
}
