// A Lambda entry module running in its own worker thread: API requests are handled on another
// core than the emulators on the edge endpoint, the way a Lambda runs apart from DynamoDB. Events
// and results are plain JSON, so they cross the thread boundary as they cross Lambda's. The thread
// gets the environment a Lambda would (its settings and the SDK's endpoint and credentials) as its
// own, so the entry module reads it as in the cloud and the parent's stays untouched.
import { Worker } from 'node:worker_threads';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

interface Reply {
  id: number;
  result?: APIGatewayProxyResult;
  error?: string;
}

export interface LambdaWorkerOptions {
  /** URL of the entry module (it exports `handler`), e.g. lambdas/handlers/api.ts. */
  module: string;
  functionName: string;
  /** The function's environment variables: all the worker's process environment holds. */
  env: Record<string, string>;
  log: (line: string) => void;
}

export class LambdaWorker {
  readonly #modulePath: string;
  readonly #functionName: string;
  readonly #env: Record<string, string>;
  readonly #log: (line: string) => void;
  readonly #pending = new Map<
    number,
    { resolve: (r: APIGatewayProxyResult) => void; reject: (e: Error) => void }
  >();
  #worker: Worker | undefined;
  #nextId = 0;
  #closed = false;

  constructor(options: LambdaWorkerOptions) {
    this.#modulePath = options.module;
    this.#functionName = options.functionName;
    this.#env = { ...options.env };
    this.#log = options.log;
  }

  /** Starts the worker and waits for the module to load (its cold start), so config errors show at once. */
  async start(): Promise<void> {
    this.#spawn();
    await new Promise<void>((resolve, reject) => {
      const worker = this.#worker!;
      worker.once('message', (m: { ready?: boolean; error?: string }) =>
        m.ready ? resolve() : reject(new Error(`${this.#functionName}: ${m.error}`)),
      );
      worker.once('error', reject);
    });
  }

  #spawn(): void {
    // The function's environment and nothing of this process's (no AWS_PROFILE, no real keys).
    const worker = new Worker(new URL('./worker-runtime.ts', import.meta.url), {
      workerData: { modulePath: this.#modulePath, functionName: this.#functionName },
      env: { ...this.#env },
    });
    worker.on('message', (reply: Reply & { ready?: boolean }) => {
      if (reply.ready !== undefined) return;
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if (reply.error !== undefined) pending.reject(new Error(reply.error));
      else pending.resolve(reply.result!);
    });
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const { reject } of this.#pending.values())
        reject(new Error(`${this.#functionName} exited (${code})`));
      this.#pending.clear();
      if (!this.#closed)
        this.#log(`${this.#functionName}: runtime exited with ${code}; restarting on the next request`);
    });
    worker.unref();
    this.#worker = worker;
  }

  invoke(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    if (!this.#worker) this.#spawn();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker!.postMessage({ id, event });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#worker?.terminate();
  }
}
