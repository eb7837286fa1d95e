// The demo loop `npm start` runs: once the channel is live, start the demo show, cue its manual
// questions after the timed ones, wait for the run to end, pause, start again. A client of the
// stack like any producer: it calls the same operations (ops/) the CLI and the control room call,
// through the edge endpoint, so the demo exercises the real path.
import { GetStreamCommand, IvsClient } from '@aws-sdk/client-ivs';
import type { Clock } from '../ops/clock.ts';
import { cue } from '../ops/cue.ts';
import { history } from '../ops/history.ts';
import { prepareStart, start } from '../ops/start.ts';
import { stop } from '../ops/stop.ts';
import { connectLocal, withTarget } from '../ops/target.ts';
import { checkShowFile } from '../ops/validate.ts';

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
  const region = options.channelArn.split(':')[3] || 'us-east-1';
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  const clock: Clock = { now: () => new Date(), sleep };
  const target = () =>
    connectLocal({
      edgeUrl: options.edgeUrl,
      region,
      ...(options.tableName ? { tableName: options.tableName } : {}),
    });
  const ivs = new IvsClient({
    endpoint: options.edgeUrl,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  /** The run this loop started and has not seen end. */
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
    const checked = await checkShowFile(options.showFile);
    if (!checked.ok) throw new Error(`${options.showFile}: ${checked.issues.join('; ')}`);
    const now = clock.now();
    const prepared = prepareStart(
      {
        show: checked.raw,
        startAt: new Date(now.getTime() + (options.leadInSeconds ?? 3) * 1000),
        channelArn: options.channelArn,
      },
      now,
    );
    await withTarget(target, async (t) => {
      const started = await start(t, prepared);
      current = started.executionArn;
      log(`demo: started ${started.runId} (showrunner status ${started.runId})`);
      const cueAfterMs = (options.cueAfterSeconds ?? 10) * 1000;
      for (;;) {
        await sleep(1000);
        if (signal.aborted) return;
        const { run, polls } = await history(t, started.executionArn);
        if (run.status !== 'RUNNING') {
          const { status, error, cause } = run;
          log(`demo: ${started.runId} ${status}${error ? `: ${error} — ${cause ?? ''}` : ''}`);
          current = undefined;
          return;
        }
        // Cue a waiting manual question once every question before it has closed (plus a pause).
        const index = polls.findIndex((p) => p.waitingForCue);
        if (index < 0) continue;
        const before = polls.slice(0, index);
        if (!before.every((p) => p.closedAt !== undefined)) continue;
        const since = Math.max(Date.parse(started.startAt), ...before.map((p) => p.closedAt!));
        if (Date.now() - since >= cueAfterMs)
          await cue(t, { run: started.executionArn, poll: polls[index]!.id, cuedBy: 'demo loop' }, clock);
      }
    });
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
      const running = current;
      if (running) {
        await withTarget(target, (t) =>
          stop(t, { run: running, cause: 'the local stack stopped the demo' }),
        ).catch(() => {});
      }
      ivs.destroy();
    },
  };
}
