// Execution history in Step Functions' own shape (the events GetExecutionHistory returns), built from
// aws-local-stepfunctions' event log plus the Task events our task bindings report. Pure: no I/O.
//
// aws-local-stepfunctions reports states (StateEntered/Exited…) and Map iterations, tagging the states
// inside an iteration with its index; it knows nothing of Task scheduling. Real Step Functions links
// every event to the previous one of the same "thread" (previousEventId), so an iteration's events
// form a chain; we keep one chain per iteration index.

/** One event as Step Functions returns it (timestamp in epoch milliseconds here; seconds on the wire). */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

/** What the history needs to know about a state from the definition. */
export interface StateInfo {
  type: string;
  resource?: string;
  itemsPath?: string;
  timeoutSeconds?: number;
}

/** The subset of aws-local-stepfunctions' EventLog we read (see its main.d.ts). */
export interface LibraryEvent {
  type: string;
  timestamp: number;
  index?: number;
  input?: unknown;
  output?: unknown;
  Error?: string;
  Cause?: unknown;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  parentState?: { name: string; type: string; input?: unknown };
}

/** Flattens the definition (Map and Parallel branches included) into state name → info. */
export function indexStates(definition: Record<string, unknown>): Map<string, StateInfo> {
  const found = new Map<string, StateInfo>();
  const walk = (machine: unknown) => {
    const states =
      (machine as { States?: Record<string, Record<string, unknown>> } | undefined)?.States ?? {};
    for (const [name, state] of Object.entries(states)) {
      const info: StateInfo = { type: String(state.Type) };
      if (typeof state.Resource === 'string') info.resource = state.Resource;
      if (typeof state.ItemsPath === 'string') info.itemsPath = state.ItemsPath;
      if (typeof state.TimeoutSeconds === 'number') info.timeoutSeconds = state.TimeoutSeconds;
      found.set(name, info);
      walk(state.ItemProcessor ?? state.Iterator);
      for (const branch of (state.Branches as unknown[] | undefined) ?? []) walk(branch);
    }
  };
  walk(definition);
  return found;
}

/** `arn:aws:states:::aws-sdk:ivs:putMetadata` → {resourceType: 'aws-sdk:ivs', resource: 'putMetadata'}. */
export function describeResource(arn: string): { resourceType: string; resource: string } {
  const rest = arn.replace(/^arn:aws[a-z-]*:states:[a-z0-9-]*:\d*:/, '');
  const at = rest.lastIndexOf(':');
  if (!arn.startsWith('arn:') || at < 0) return { resourceType: 'lambda', resource: arn };
  return { resourceType: rest.slice(0, at), resource: rest.slice(at + 1) };
}

/** Reads a simple path (`$`, `$.a.b`) the way the Map state's ItemsPath does for our definition. */
export function readSimplePath(value: unknown, path: string): unknown {
  if (path === '$') return value;
  if (!path.startsWith('$.')) return undefined;
  let current = value;
  for (const key of path.slice(2).split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

const json = (value: unknown) => JSON.stringify(value ?? null);
const causeText = (cause: unknown) =>
  typeof cause === 'string' ? cause : cause === undefined ? '' : json(cause);
const threadOf = (index: number | undefined) => (index === undefined ? 'root' : `iteration-${index}`);

/** One Task state invocation, as seen from its binding: reports the Task* events of its thread. */
export class TaskCall {
  readonly stateName: string;
  readonly thread: string;
  readonly resourceType: string;
  readonly resource: string;
  #done = false;
  readonly #history: ExecutionHistory;

  constructor(history: ExecutionHistory, stateName: string, thread: string, resourceArn: string) {
    this.#history = history;
    this.stateName = stateName;
    this.thread = thread;
    ({ resourceType: this.resourceType, resource: this.resource } = describeResource(resourceArn));
  }

  /** True once it succeeded, failed, timed out, or its execution ended: later reports are dropped. */
  get done(): boolean {
    return this.#done || this.#history.closed;
  }

  scheduled(parameters: unknown, region: string, timeoutInSeconds?: number): void {
    const details: Record<string, unknown> = {
      resourceType: this.resourceType,
      resource: this.resource,
      region,
      parameters: json(parameters),
    };
    if (timeoutInSeconds !== undefined) details.timeoutInSeconds = timeoutInSeconds;
    this.#report('TaskScheduled', { taskScheduledEventDetails: details });
    this.#report('TaskStarted', {
      taskStartedEventDetails: { resourceType: this.resourceType, resource: this.resource },
    });
  }

  /** `.waitForTaskToken`: the service call returned; the task now waits for its token. */
  submitted(output: unknown): void {
    this.#report('TaskSubmitted', {
      taskSubmittedEventDetails: {
        resourceType: this.resourceType,
        resource: this.resource,
        output: json(output),
        outputDetails: { truncated: false },
      },
    });
  }

  succeeded(output: unknown): void {
    this.#report('TaskSucceeded', {
      taskSucceededEventDetails: {
        resourceType: this.resourceType,
        resource: this.resource,
        output: json(output),
        outputDetails: { truncated: false },
      },
    });
    this.finish();
  }

  failed(error: string, cause: string): void {
    this.#report('TaskFailed', {
      taskFailedEventDetails: { resourceType: this.resourceType, resource: this.resource, error, cause },
    });
    this.finish();
  }

  timedOut(): void {
    this.#report('TaskTimedOut', {
      taskTimedOutEventDetails: {
        resourceType: this.resourceType,
        resource: this.resource,
        error: 'States.Timeout',
        cause: '',
      },
    });
    this.finish();
  }

  finish(): void {
    this.#done = true;
    this.#history.taskFinished(this);
  }

  #report(type: string, details: Record<string, unknown>): void {
    if (!this.done) this.#history.append(this.thread, type, details);
  }
}

export class ExecutionHistory {
  readonly events: HistoryEvent[];
  readonly #states: ReadonlyMap<string, StateInfo>;
  readonly #roleArn: string;
  readonly #onChange: () => void;
  /** Last event id per thread ('root' or 'iteration-<index>'). */
  readonly #threads = new Map<string, number>();
  /** Threads that entered (or are retrying) a Task state whose binding has not been called yet, per state. */
  readonly #awaitingTask = new Map<string, string[]>();
  readonly #activeCalls = new Map<string, TaskCall>();
  #closed = false;

  constructor(options: {
    states: ReadonlyMap<string, StateInfo>;
    roleArn: string;
    events?: HistoryEvent[];
    onChange?: () => void;
  }) {
    this.#states = options.states;
    this.#roleArn = options.roleArn;
    this.events = options.events ?? [];
    this.#onChange = options.onChange ?? (() => {});
    this.#closed = this.events.some((e) => e.type.startsWith('Execution') && e.type !== 'ExecutionStarted');
  }

  /** True once the execution has ended: nothing is appended after its last event. */
  get closed(): boolean {
    return this.#closed;
  }

  append(
    thread: string,
    type: string,
    details: Record<string, unknown> = {},
    timestamp = Date.now(),
  ): HistoryEvent {
    const event: HistoryEvent = {
      id: this.events.length + 1,
      previousEventId: this.#threads.get(thread) ?? this.#threads.get('root') ?? 0,
      timestamp,
      type,
      ...details,
    };
    this.events.push(event);
    this.#threads.set(thread, event.id);
    if (thread !== 'root' && type.startsWith('MapIteration')) this.#threads.set('root', event.id);
    this.#onChange();
    return event;
  }

  /** Called by the binding of Task state `stateName`: pairs it with the thread that entered that state. */
  taskCall(stateName: string, resourceArn: string): TaskCall {
    const waiting = this.#awaitingTask.get(stateName);
    const thread = waiting?.shift() ?? 'root';
    const call = new TaskCall(this, stateName, thread, resourceArn);
    this.#activeCalls.set(thread, call);
    return call;
  }

  taskFinished(call: TaskCall): void {
    if (this.#activeCalls.get(call.thread) === call) this.#activeCalls.delete(call.thread);
  }

  /** Translates one aws-local-stepfunctions event. */
  record(e: LibraryEvent): void {
    if (this.#closed) return;
    const thread = threadOf(e.index);
    const name = e.state?.name ?? '';
    const type = e.state?.type ?? '';
    switch (e.type) {
      case 'ExecutionStarted':
        this.append(
          'root',
          'ExecutionStarted',
          {
            executionStartedEventDetails: {
              input: json(e.input),
              inputDetails: { truncated: false },
              roleArn: this.#roleArn,
            },
          },
          e.timestamp,
        );
        return;
      case 'StateEntered': {
        this.append(
          thread,
          `${type}StateEntered`,
          {
            stateEnteredEventDetails: {
              name,
              input: json(e.state?.input),
              inputDetails: { truncated: false },
            },
          },
          e.timestamp,
        );
        if (type === 'Map') {
          const info = this.#states.get(name);
          const items = readSimplePath(e.state?.input, info?.itemsPath ?? '$');
          this.append(
            thread,
            'MapStateStarted',
            {
              mapStateStartedEventDetails: { length: Array.isArray(items) ? items.length : 0 },
            },
            e.timestamp,
          );
        }
        if (type === 'Task') this.#awaitTask(name, thread);
        return;
      }
      case 'StateRetried':
        if (type === 'Task') this.#awaitTask(name, thread);
        return;
      case 'StateExited':
        if (type === 'Map') this.append(thread, 'MapStateSucceeded', {}, e.timestamp);
        this.append(
          thread,
          `${type}StateExited`,
          {
            stateExitedEventDetails: {
              name,
              output: json(e.state?.output),
              outputDetails: { truncated: false },
            },
          },
          e.timestamp,
        );
        return;
      case 'StateFailed':
        if (type === 'Task') {
          const call = this.#activeCalls.get(thread);
          if (call && e.Error === 'States.Timeout') call.timedOut();
          // An error before the binding ran (e.g. a path that points nowhere) leaves no binding to pair.
          if (!call) this.#dropAwaiting(name, thread);
        } else if (type === 'Map') {
          this.append(thread, 'MapStateFailed', {}, e.timestamp);
        }
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const details: Record<string, unknown> = { name: e.parentState?.name ?? '', index: e.index ?? 0 };
        if (e.type === 'MapIterationFailed')
          Object.assign(details, { error: e.Error, cause: causeText(e.Cause) });
        const key = `${e.type.charAt(0).toLowerCase()}${e.type.slice(1)}EventDetails`;
        this.append(thread, e.type, { [key]: details }, e.timestamp);
        return;
      }
      case 'ExecutionSucceeded':
        this.end(
          'ExecutionSucceeded',
          {
            executionSucceededEventDetails: { output: json(e.output), outputDetails: { truncated: false } },
          },
          e.timestamp,
        );
        return;
      case 'ExecutionFailed':
        this.failed(e.Error ?? 'States.Runtime', causeText(e.Cause), e.timestamp);
        return;
      default:
        // StateCaught, ExecutionAborted (StopExecution records its own), Parallel events: nothing to add.
        return;
    }
  }

  failed(error: string, cause: string, timestamp = Date.now()): void {
    this.end('ExecutionFailed', { executionFailedEventDetails: { error, cause } }, timestamp);
  }

  aborted(error: string | undefined, cause: string | undefined, timestamp = Date.now()): void {
    const details: Record<string, string> = {};
    if (error !== undefined) details.error = error;
    if (cause !== undefined) details.cause = cause;
    this.end('ExecutionAborted', { executionAbortedEventDetails: details }, timestamp);
  }

  end(type: string, details: Record<string, unknown>, timestamp = Date.now()): void {
    if (this.#closed) return;
    this.append('root', type, details, timestamp);
    this.#closed = true;
    for (const call of [...this.#activeCalls.values()]) call.finish();
  }

  #awaitTask(stateName: string, thread: string): void {
    const waiting = this.#awaitingTask.get(stateName) ?? [];
    waiting.push(thread);
    this.#awaitingTask.set(stateName, waiting);
  }

  #dropAwaiting(stateName: string, thread: string): void {
    const waiting = this.#awaitingTask.get(stateName);
    const at = waiting?.indexOf(thread) ?? -1;
    if (waiting && at >= 0) waiting.splice(at, 1);
  }
}
