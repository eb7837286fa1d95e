// Executions and their history, one JSON file per execution under <dataDir>/executions/, so a
// restarted local stack still lists past runs and resumes the running ones. Files are written
// atomically (temp file + rename) and coalesced: a busy execution is written at most every
// `delayMs`, and at once when it ends or when a client is about to be told about it.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionStatus as AnyExecutionStatus } from '../../contract/state-machine.ts';
import type { HistoryEvent } from './history.ts';

/** The statuses a local execution takes: a resumed run is RUNNING again at once, never PENDING_REDRIVE. */
export type ExecutionStatus = Exclude<AnyExecutionStatus, 'PENDING_REDRIVE'>;

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  /** Epoch milliseconds. */
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  /** How many times a restart of the local stack resumed it (DescribeExecution's redriveCount). */
  redriveCount?: number;
  /** Epoch milliseconds of the latest resume. */
  redriveDate?: number;
}

/**
 * One execution file. Besides what the API reports, what a resume needs: the thread of each event
 * (to replay each thread's saved events in order), the definition the run started with (it resumes
 * on that one, as Step Functions keeps running an execution on its own version), and the seed its
 * task tokens derive from (a replayed task gets the token it had). Files of earlier versions have
 * only `record` and `events`; anything read from disk is checked before use.
 */
export interface StoredExecution {
  record: ExecutionRecord;
  events: HistoryEvent[];
  threads?: string[];
  definition?: string;
  tokenSeed?: string;
}

const FILE = /^(.+)\.json$/;

export class ExecutionStore {
  readonly dir: string;
  readonly #delayMs: number;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #pending = new Map<string, () => StoredExecution>();
  /** Writes of one file run one after another, so an older snapshot never lands last. */
  readonly #writes = new Map<string, Promise<void>>();
  readonly #log: (line: string) => void;
  #seq = 0;

  constructor(dir: string, options: { delayMs?: number; log?: (line: string) => void } = {}) {
    this.dir = dir;
    this.#delayMs = options.delayMs ?? 200;
    this.#log = options.log ?? (() => {});
  }

  async load(): Promise<StoredExecution[]> {
    await mkdir(this.dir, { recursive: true });
    const found: StoredExecution[] = [];
    for (const file of await readdir(this.dir)) {
      if (!FILE.test(file)) continue;
      try {
        const stored = JSON.parse(await readFile(join(this.dir, file), 'utf8')) as StoredExecution;
        // A damaged history is the engine's to judge (a running execution ends saying why).
        const record = stored?.record as Partial<ExecutionRecord> | undefined;
        if (typeof record?.executionArn === 'string' && typeof record.name === 'string') found.push(stored);
        else this.#log(`local Step Functions: skipping ${file}: it holds no execution record`);
      } catch (error) {
        this.#log(`local Step Functions: skipping unreadable ${file}: ${(error as Error).message}`);
      }
    }
    return found;
  }

  /** Writes soon; `snapshot` is read when the write happens, so the newest state is written. */
  schedule(name: string, snapshot: () => StoredExecution): void {
    this.#pending.set(name, snapshot);
    if (this.#timers.has(name)) return;
    const timer = setTimeout(() => void this.flush(name), this.#delayMs);
    timer.unref();
    this.#timers.set(name, timer);
  }

  /** Writes now (when an execution ends) and resolves once the file is in place. */
  flush(name: string, snapshot?: () => StoredExecution): Promise<void> {
    if (snapshot) this.#pending.set(name, snapshot);
    clearTimeout(this.#timers.get(name));
    this.#timers.delete(name);
    const take = this.#pending.get(name);
    this.#pending.delete(name);
    const previous = this.#writes.get(name) ?? Promise.resolve();
    if (!take) return previous;
    const data = JSON.stringify(take());
    const next = previous
      .then(() => this.#writeAtomically(name, data))
      .catch((error: unknown) => {
        this.#log(`local Step Functions: could not save execution ${name}: ${(error as Error).message}`);
      });
    this.#writes.set(name, next);
    return next;
  }

  async flushAll(): Promise<void> {
    await Promise.all(
      [...new Set([...this.#pending.keys(), ...this.#writes.keys()])].map((n) => this.flush(n)),
    );
  }

  async #writeAtomically(name: string, data: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `${name}.json`);
    const temp = `${file}.${process.pid}.${++this.#seq}.tmp`;
    await writeFile(temp, data);
    await rename(temp, file);
  }
}
