// Runs executions of the one local state machine with aws-local-stepfunctions and keeps what the
// Step Functions API reports about them: status, output, history, task tokens. The HTTP protocol is
// in service.ts; this module speaks in plain values and SfnApiError.
//
// What aws-local-stepfunctions lacks and this adds: Task integrations by Resource ARN (lambda:invoke,
// aws-sdk:*), `.waitForTaskToken` (a token minted per call, SendTaskSuccess/Failure), Task* history
// events, StopExecution with error/cause, and persistence across restarts.
import { randomBytes, randomUUID } from 'node:crypto';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { LoadedDefinition } from './definition.ts';
import { lambdaFunctionError, SfnApiError, TaskFailure } from './errors.ts';
import { ExecutionHistory, indexStates, type HistoryEvent, type StateInfo } from './history.ts';
import type { TaskIntegrations } from './integrations.ts';
import type { ExecutionRecord, ExecutionStatus, ExecutionStore, StoredExecution } from './store.ts';

/** What `$$.Task.Token` evaluates to inside the library; each Task call swaps in a fresh token. */
const TOKEN_PLACEHOLDER = 'local-sfn:task-token';
/** Step Functions execution names: 1–80 characters, no whitespace, brackets, wildcards or control characters. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what the rule forbids
const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;
const MAX_INPUT_BYTES = 256 * 1024;
export const RESTART_CAUSE = 'local stack restarted while running';
export const SHUTDOWN_CAUSE = 'local stack stopped while running';

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

interface Execution {
  record: ExecutionRecord;
  history: ExecutionHistory;
  abort?: () => void;
  finished: Promise<void>;
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
  readonly #states: Map<string, StateInfo>;
  readonly #machine: StateMachine;
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
    this.#states = indexStates(options.definition.definition);
    // Validated once here (asl-validator, ARNs and paths); the library skips it for Map iterations anyway.
    this.#machine = new StateMachine(options.definition.definition as unknown as StateMachineDefinition);
  }

  /** Loads past executions; those a restart cut off are marked FAILED, never left RUNNING. */
  static async open(options: EngineOptions): Promise<LocalStepFunctionsEngine> {
    const engine = new LocalStepFunctionsEngine(options);
    for (const stored of await options.store.load()) {
      const execution = engine.#adopt(stored);
      if (execution.record.status === 'RUNNING') {
        execution.history.failed('States.Runtime', RESTART_CAUSE);
        await options.store.flush(execution.record.name, () => engine.#snapshot(execution));
      }
    }
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
    const execution = this.#track(record, []);
    const run = this.#machine.run(value as never, {
      noThrowOnAbort: true,
      overrides: {
        taskResourceLocalHandlers: this.#taskHandlers(execution),
        ...(this.#options.retryIntervalOverrides
          ? { retryIntervalOverrides: this.#options.retryIntervalOverrides }
          : {}),
        ...(this.#options.waitTimeOverrides ? { waitTimeOverrides: this.#options.waitTimeOverrides } : {}),
      },
      context: {
        Execution: { Id: record.executionArn, Name: executionName, RoleArn: this.roleArn },
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
        this.#options.log(`local Step Functions: history of ${executionName}: ${String(consumed.reason)}`);
      // The library reports every ending as an event; this covers one it did not.
      if (!execution.history.closed) {
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
      }
    });
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

  stop(executionArn: string, error?: string, cause?: string): ExecutionRecord {
    const execution = this.#require(executionArn);
    if (execution.record.status === 'RUNNING') {
      // Close the history first: bindings check it, so no task starts (and no cue is sent) after this.
      execution.history.aborted(error, cause);
      execution.abort?.();
    }
    return execution.record;
  }

  sendTaskSuccess(token: string, output: string): void {
    const pending = this.#takeToken(token);
    let value: unknown;
    try {
      value = JSON.parse(output);
    } catch (e) {
      this.#tokens.set(token, pending);
      throw new SfnApiError('InvalidOutput', `Invalid Output: '${(e as Error).message}'`);
    }
    pending.resolve(value);
  }

  sendTaskFailure(token: string, error?: string, cause?: string): void {
    this.#takeToken(token).reject(new TaskFailure(error ?? '', cause ?? ''));
  }

  sendTaskHeartbeat(token: string): void {
    this.#peekToken(token);
  }

  /** Ends the engine: running executions are stopped and recorded as cut off, every file written. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const running = [...this.#executions.values()].filter((e) => e.record.status === 'RUNNING');
    for (const execution of running) {
      execution.history.failed('States.Runtime', SHUTDOWN_CAUSE);
      execution.abort?.();
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

  #track(record: ExecutionRecord, events: HistoryEvent[]): Execution {
    const execution: Execution = { record, finished: Promise.resolve(), history: undefined as never };
    execution.history = new ExecutionHistory({
      states: this.#states,
      roleArn: this.roleArn,
      events,
      onChange: () => this.#changed(execution),
    });
    this.#executions.set(record.name, execution);
    return execution;
  }

  #adopt(stored: StoredExecution): Execution {
    const execution = this.#track(stored.record, stored.events);
    this.#changed(execution);
    return execution;
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
    return { record: execution.record, events: execution.history.events };
  }

  /** One binding per Task state (aws-local-stepfunctions keys overrides by state name). */
  #taskHandlers(execution: Execution): Record<string, (input: unknown) => Promise<never>> {
    const handlers: Record<string, (input: unknown) => Promise<never>> = {};
    for (const [name, info] of this.#states) {
      if (info.type !== 'Task' || !info.resource) continue;
      const resource = info.resource;
      handlers[name] = async (input) => {
        // The library calls a binding in the same tick it reports StateEntered; one macrotask later the
        // history has read that event, so this call pairs with the right iteration.
        await nextMacrotask();
        const call = execution.history.taskCall(name, resource);
        if (call.done) throw new TaskFailure('States.Runtime', 'the execution has ended');
        call.scheduled(input, this.#options.region, info.timeoutSeconds);
        try {
          const output = await this.#runTask(execution, call, resource, input);
          call.succeeded(output);
          return output as never;
        } catch (error) {
          const failure =
            error instanceof TaskFailure
              ? error
              : new TaskFailure('States.TaskFailed', (error as Error).message);
          call.failed(failure.name, failure.message);
          throw failure;
        }
      };
    }
    return handlers;
  }

  async #runTask(
    execution: Execution,
    call: { done: boolean; submitted(output: unknown): void },
    resource: string,
    input: unknown,
  ): Promise<unknown> {
    const target = parseTaskResource(resource);
    if (!target)
      throw new TaskFailure('States.Runtime', `the local stack cannot run Task resource ${resource}`);
    const { integrations } = this.#options;
    if (target.kind === 'function') return integrations.invokeLambda(target.functionArn, input);

    let token: string | undefined;
    let waiting: Promise<unknown> | undefined;
    if (target.waitForTaskToken) {
      token = randomBytes(48).toString('base64url');
      const { promise, resolve, reject } = Promise.withResolvers<unknown>();
      this.#tokens.set(token, { execution, call, resolve, reject });
      waiting = promise;
      input = withToken(input, token);
    }
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
      return await waiting;
    } finally {
      if (token) this.#tokens.delete(token);
    }
  }
}
