// The demo loop `npm start` runs: once the channel is live, start the demo show, cue its manual
// questions after the timed ones, wait for the run to end, pause, start again. It drives the
// local stack through the same commands a producer types, so the demo exercises the real path.
import { GetStreamCommand, IvsClient } from '@aws-sdk/client-ivs';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { cue, startShow, type Io } from './commands.ts';
import { loadRun } from './runs.ts';
import { resolveTarget } from './target.ts';

export interface DemoLoopOptions {
  showFile: string;
  /** The local edge endpoint. */
  edgeUrl: string;
  /** The channel whose stream must be live before a run starts (and that the cues go to). */
  channelArn: string;
  log?: (line: string) => void;
  /** Seconds between "start" and the show's time zero. Default 3. */
  leadInSeconds?: number;
  /** Seconds between the end of a run and the next. Default 15. */
  pauseSeconds?: number;
  /** Seconds after the question before it has closed that a manual question is cued. Default 10. */
  cueAfterSeconds?: number;
  tableName?: string;
}

export interface DemoLoop {
  /** Stops the loop and the run it started (if still running). */
  stop(): Promise<void>;
  /** Resolves when the loop has ended. */
  done: Promise<void>;
}

export function runDemoLoop(options: DemoLoopOptions): DemoLoop {
  const log = options.log ?? ((line: string) => console.log(line));
  const controller = new AbortController();
  const { signal } = controller;
  const env: NodeJS.ProcessEnv = {
    EDGE_URL: options.edgeUrl,
    AWS_REGION: options.channelArn.split(':')[3] || 'us-east-1',
    ...(options.tableName ? { TABLE_NAME: options.tableName } : {}),
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  const quiet: Io = {
    out: () => {},
    err: (text) => log(`demo: ${text.trim()}`),
    env,
    now: () => new Date(),
    sleep,
    target: () => resolveTarget({ target: 'local', env }),
  };
  const ivs = new IvsClient({
    endpoint: options.edgeUrl,
    region: env.AWS_REGION!,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let current: string | undefined;

  const isLive = async () => {
    try {
      await ivs.send(new GetStreamCommand({ channelArn: options.channelArn }));
      return true;
    } catch {
      return false;
    }
  };

  const runOnce = async () => {
    while (!signal.aborted && !(await isLive())) await sleep(1000);
    if (signal.aborted) return;
    const started = await startShow(
      {
        file: options.showFile,
        at: `+${options.leadInSeconds ?? 3}`,
        channel: options.channelArn,
        follow: false,
        json: true,
      },
      quiet,
    );
    current = started.executionArn;
    log(`demo: started ${started.runId} (showrunner status ${started.runId})`);
    const cueAfterMs = (options.cueAfterSeconds ?? 10) * 1000;
    for (;;) {
      await sleep(1000);
      if (signal.aborted) return;
      const target = await quiet.target();
      let loaded;
      try {
        loaded = await loadRun(target.sfn, started.executionArn);
      } finally {
        target.close();
      }
      if (loaded.execution.status !== 'RUNNING') {
        const { status, error, cause } = loaded.execution;
        log(`demo: ${started.runId} ${status}${error ? `: ${error} — ${cause ?? ''}` : ''}`);
        current = undefined;
        return;
      }
      // Cue a waiting manual question once every question before it has closed (plus a pause).
      const polls = loaded.timeline.polls;
      const index = polls.findIndex((p) => p.waitingForCue);
      if (index >= 0) {
        const before = polls.slice(0, index);
        if (before.every((p) => p.closedAt !== undefined)) {
          const since = Math.max(Date.parse(started.startAt), ...before.map((p) => p.closedAt!));
          if (Date.now() - since >= cueAfterMs) await cue(started.runId, polls[index]!.id, quiet, true);
        }
      }
    }
  };

  const done = (async () => {
    while (!signal.aborted) {
      try {
        await runOnce();
      } catch (error) {
        if (!signal.aborted) log(`demo: ${(error as Error).message}`);
      }
      await sleep((options.pauseSeconds ?? 15) * 1000);
    }
  })();

  return {
    done,
    async stop() {
      controller.abort();
      await done;
      if (current) {
        const target = await quiet.target().catch(() => undefined);
        await target?.sfn
          .send(
            new StopExecutionCommand({
              executionArn: current,
              error: 'Stopped',
              cause: 'the local stack stopped the demo',
            }),
          )
          .catch(() => {});
        target?.close();
      }
      ivs.destroy();
    },
  };
}
