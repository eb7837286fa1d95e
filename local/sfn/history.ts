// Execution history in Step Functions' own shape (the events GetExecutionHistory returns), built from
// aws-local-stepfunctions' event log plus the Task events our task bindings report. Pure: no I/O.
//
// aws-local-stepfunctions reports states (StateEntered/Exited…) and Map iterations, tagging the states
// inside an iteration with its index; it knows nothing of Task scheduling. Real Step Functions links
// every event to the previous one of the same "thread" (previousEventId), so an iteration's events
// form a chain; we keep one chain per iteration index, and remember each event's thread.
//
// Resuming after a restart: the library cannot continue a run, so the engine runs it again from its
// input and this history *replays* it. `resume()` queues the saved events per thread and records an
// ExecutionRedriven event; while a thread has saved events, each event the replay produces must be
// the next saved one of its thread and is not recorded again, and a Task call that finished before
// the restart gets its saved outcome (`TaskCall.recorded()`) instead of running again. Once a thread's
// saved events are used up, its events are recorded as they happen: the history stays one record.

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
/** The thread of an ExecutionRedriven event: it belongs to no thread, and a later replay skips it. */
const RESTART_THREAD = 'restart';
export const RESTART_EVENT = 'ExecutionRedriven';
const TERMINAL = /^Execution(Succeeded|Failed|Aborted|TimedOut)$/;

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** What identifies an event in its thread: its type and, for state and iteration events, the state. */
function signature(type: string, details: Record<string, unknown>): string {
  for (const [key, value] of Object.entries(details)) {
    if (!key.endsWith('EventDetails') || typeof value !== 'object' || value === null) continue;
    const { name, index } = value as { name?: unknown; index?: unknown };
    if (typeof name === 'string')
      return index === undefined ? `${type} ${name}` : `${type} ${name}[${String(index)}]`;
  }
  return type;
}

/**
 * How a Task call that was scheduled before the restart went, from the saved history: it finished
 * (its result stands), it was waiting for its task token (the service call was made), or it was in
 * flight (it runs again). `submitted` is the service call's response of a `.waitForTaskToken` task.
 */
export type RecordedOutcome = { submitted?: { output: unknown } } & (
  | { kind: 'succeeded'; output: unknown }
  | { kind: 'failed'; error: string; cause: string }
  | { kind: 'timedOut' }
  | { kind: 'waiting' }
  | { kind: 'inFlight' }
);

/** One Task state invocation, as seen from its binding: reports the Task* events of its thread. */
export class TaskCall {
  readonly stateName: string;
  readonly thread: string;
  /** How many calls of this state its thread made before this one (retries count): the same on a replay. */
  readonly ordinal: number;
  readonly resourceType: string;
  readonly resource: string;
  /** When it was scheduled (before the restart, for a call the replay found in the saved history). */
  scheduledAt = 0;
  #done = false;
  #replayed = false;
  readonly #history: ExecutionHistory;

  constructor(
    history: ExecutionHistory,
    stateName: string,
    thread: string,
    resourceArn: string,
    ordinal = 0,
  ) {
    this.#history = history;
    this.stateName = stateName;
    this.thread = thread;
    this.ordinal = ordinal;
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
    const event = this.#report('TaskScheduled', { taskScheduledEventDetails: details });
    this.scheduledAt = event?.timestamp ?? Date.now();
    this.#replayed = event !== undefined && this.#history.savedBeforeRestart(event);
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

  /**
   * Called right after `scheduled()`: for a call the saved history already had (a replay after a
   * restart), how it went; undefined for a new call.
   */
  recorded(): RecordedOutcome | undefined {
    return this.#replayed ? this.#history.outcomeOf(this.thread) : undefined;
  }

  #report(type: string, details: Record<string, unknown>): HistoryEvent | undefined {
    return this.done ? undefined : this.#history.append(this.thread, type, details);
  }
}

export class ExecutionHistory {
  readonly events: HistoryEvent[];
  /** The thread of each event ('root', 'iteration-<index>' or 'restart'), saved with the events. */
  readonly threads: string[];
  #states: ReadonlyMap<string, StateInfo>;
  readonly #roleArn: string;
  readonly #onChange: () => void;
  readonly #onDivergence: (detail: string) => void;
  /** Last event id per thread ('root' or 'iteration-<index>'). */
  readonly #threads = new Map<string, number>();
  /** Threads that entered (or are retrying) a Task state whose binding has not been called yet, per state. */
  readonly #awaitingTask = new Map<string, string[]>();
  readonly #activeCalls = new Map<string, TaskCall>();
  /** Task calls per thread and state so far: a call's ordinal. */
  readonly #calls = new Map<string, number>();
  /** While replaying: the saved events each thread has still to produce. */
  #replay = new Map<string, HistoryEvent[]>();
  #queued = 0;
  /** Id of the latest restart's ExecutionRedriven event: every event before it was saved before it. */
  #restartedAt = 0;
  #caughtUp = Promise.withResolvers<void>();
  #closed = false;
  #suspended = false;

  constructor(options: {
    states: ReadonlyMap<string, StateInfo>;
    roleArn: string;
    events?: HistoryEvent[];
    /** Saved with the events; unknown ('') for events saved without them. */
    threads?: string[];
    onChange?: () => void;
    /** A replay produced an event the saved history does not have next: it cannot continue. */
    onDivergence?: (detail: string) => void;
  }) {
    this.#states = options.states;
    this.#roleArn = options.roleArn;
    this.events = options.events ?? [];
    this.threads = options.threads ?? this.events.map(() => '');
    this.#onChange = options.onChange ?? (() => {});
    this.#onDivergence = options.onDivergence ?? (() => {});
    this.#closed = this.events.some((e) => TERMINAL.test(e.type));
    this.#caughtUp.resolve();
  }

  /** True once the execution has ended, or was suspended: nothing is appended after its last event. */
  get closed(): boolean {
    return this.#closed || this.#suspended;
  }

  /** True once the execution has ended (a suspended one has not). */
  get ended(): boolean {
    return this.#closed;
  }

  /** Resolves once the replay has used up the saved events (or the execution ended or was suspended). */
  get caughtUp(): Promise<void> {
    return this.#caughtUp.promise;
  }

  /** The states of the definition the execution runs (known once a resumed run's definition loads). */
  setStates(states: ReadonlyMap<string, StateInfo>): void {
    this.#states = states;
  }

  /** Whether this event was saved before the latest restart (so a replay found it, not made it). */
  savedBeforeRestart(event: HistoryEvent): boolean {
    return event.id < this.#restartedAt;
  }

  /**
   * The local stack stopped: the execution stays RUNNING, nothing more is recorded, Task calls still
   * running are dropped. The next start resumes it.
   */
  suspend(): void {
    this.#suspended = true;
    for (const call of [...this.#activeCalls.values()]) call.finish();
    this.#endReplay();
  }

  /**
   * Starts a replay of a run the local stack restarted: records ExecutionRedriven (its
   * redriveCount = restarts so far) and queues the saved events per thread, so the events the replay
   * produces again are not recorded twice.
   */
  resume(timestamp = Date.now()): HistoryEvent {
    const replay = new Map<string, HistoryEvent[]>();
    let queued = 0;
    this.events.forEach((event, i) => {
      const thread = this.threads[i] ?? '';
      if (thread === RESTART_THREAD) return;
      const queue = replay.get(thread);
      if (queue) queue.push(event);
      else replay.set(thread, [event]);
      queued += 1;
    });
    const redriveCount = this.events.filter((e) => e.type === RESTART_EVENT).length + 1;
    this.#threads.clear();
    this.#threads.set('root', this.events.length);
    const marker = this.#push(
      RESTART_THREAD,
      RESTART_EVENT,
      { executionRedrivenEventDetails: { redriveCount } },
      timestamp,
    );
    this.#threads.clear();
    this.#restartedAt = marker.id;
    this.#replay = replay;
    this.#queued = queued;
    this.#caughtUp = Promise.withResolvers<void>();
    if (queued === 0) this.#endReplay();
    return marker;
  }

  append(
    thread: string,
    type: string,
    details: Record<string, unknown> = {},
    timestamp = Date.now(),
  ): HistoryEvent | undefined {
    if (this.#suspended) return undefined;
    const saved = this.#replay.get(thread)?.[0];
    if (saved) {
      if (signature(saved.type, saved) !== signature(type, details)) {
        const detail = `the replay produced ${signature(type, details)} where the saved history has event ${saved.id}, ${signature(saved.type, saved)}`;
        this.#endReplay();
        this.#onDivergence(detail);
        return undefined;
      }
      this.#replay.get(thread)!.shift();
      this.#link(thread, type, saved.id);
      if (--this.#queued === 0) this.#endReplay();
      return saved;
    }
    return this.#push(thread, type, details, timestamp);
  }

  /**
   * The saved outcome of the Task call whose TaskScheduled and TaskStarted the replay has just used:
   * the thread's next saved events.
   */
  outcomeOf(thread: string): RecordedOutcome {
    const queue = this.#replay.get(thread) ?? [];
    let next = 0;
    const found: { submitted?: { output: unknown } } = {};
    const submitted = queue[0]?.taskSubmittedEventDetails as { output?: unknown } | undefined;
    if (queue[0]?.type === 'TaskSubmitted') {
      found.submitted = { output: parseJson(submitted?.output) };
      next = 1;
    }
    const event = queue[next];
    switch (event?.type) {
      case 'TaskSucceeded': {
        const details = event.taskSucceededEventDetails as { output?: unknown } | undefined;
        return { ...found, kind: 'succeeded', output: parseJson(details?.output) };
      }
      case 'TaskFailed': {
        const details = event.taskFailedEventDetails as { error?: unknown; cause?: unknown } | undefined;
        return {
          ...found,
          kind: 'failed',
          error: String(details?.error ?? ''),
          cause: String(details?.cause ?? ''),
        };
      }
      case 'TaskTimedOut':
        return { ...found, kind: 'timedOut' };
      default:
        return found.submitted ? { ...found, kind: 'waiting' } : { kind: 'inFlight' };
    }
  }

  /** Called by the binding of Task state `stateName`: pairs it with the thread that entered that state. */
  taskCall(stateName: string, resourceArn: string): TaskCall {
    const waiting = this.#awaitingTask.get(stateName);
    const thread = waiting?.shift() ?? 'root';
    const key = `${thread}\n${stateName}`;
    const ordinal = this.#calls.get(key) ?? 0;
    this.#calls.set(key, ordinal + 1);
    const call = new TaskCall(this, stateName, thread, resourceArn, ordinal);
    this.#activeCalls.set(thread, call);
    return call;
  }

  taskFinished(call: TaskCall): void {
    if (this.#activeCalls.get(call.thread) === call) this.#activeCalls.delete(call.thread);
  }

  /** Translates one aws-local-stepfunctions event. */
  record(e: LibraryEvent): void {
    if (this.closed) return;
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
    if (this.closed) return;
    // The run ends now: saved events a replay has not reached (an iteration cut short) stay as saved.
    this.#endReplay();
    this.#push('root', type, details, timestamp);
    this.#closed = true;
    for (const call of [...this.#activeCalls.values()]) call.finish();
  }

  #push(thread: string, type: string, details: Record<string, unknown>, timestamp: number): HistoryEvent {
    const event: HistoryEvent = {
      id: this.events.length + 1,
      previousEventId: this.#threads.get(thread) ?? this.#threads.get('root') ?? 0,
      timestamp,
      type,
      ...details,
    };
    this.events.push(event);
    this.threads.push(thread);
    this.#link(thread, type, event.id);
    this.#onChange();
    return event;
  }

  #link(thread: string, type: string, id: number): void {
    this.#threads.set(thread, id);
    if (thread !== 'root' && type.startsWith('MapIteration')) this.#threads.set('root', id);
  }

  #endReplay(): void {
    this.#replay = new Map();
    this.#queued = 0;
    this.#caughtUp.resolve();
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
