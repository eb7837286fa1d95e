// The demo loop `npm start` runs: once the channel is live, start the demo show, cue its manual
// questions after the timed ones, wait for the run to end, pause, start again. A client of the
// stack like any producer: it calls the same operations (ops/) the CLI and the control room call,
// through the edge endpoint, so the demo exercises the real path. It never competes with a
// producer for the channel (one running show per channel): while another show holds the channel it
// waits, and a producer who replaces the demo's run (start --replace, or the control room's
// choice) gets the channel; the loop starts its next run once that show has ended. A demo run
// outlives the stack like any run: stopping the loop leaves it running, and after a restart the loop
// follows the run the local Step Functions resumed instead of starting another.
import { GetStreamCommand, IvsClient } from '@aws-sdk/client-ivs';
import { channelHolder, holds } from '../ops/channel.ts';
import type { Clock } from '../ops/clock.ts';
import { cue } from '../ops/cue.ts';
import { ChannelBusyError } from '../ops/errors.ts';
import { history } from '../ops/history.ts';
import { prepareStart, start } from '../ops/start.ts';
import { connectLocal, withTarget } from '../ops/target.ts';
import { checkShowFile } from '../ops/validate.ts';
import type { ValidShow } from '../core/show.ts';

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
  /** Seconds between looks at a channel another show holds. Default 2. */
  channelCheckSeconds?: number;
  tableName?: string;
}

export interface DemoLoop {
  /** Stops the loop; its run goes on (the local Step Functions resumes it at the next start). */
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
  const isLive = async () => {
    try {
      await ivs.send(new GetStreamCommand({ channelArn: options.channelArn }));
      return true;
    } catch {
      return false;
    }
  };

  /** Waits while another show holds the channel, saying so once per show. */
  const stepAside = async () => {
    let said: string | undefined;
    for (;;) {
      const holder = await withTarget(target, (t) => channelHolder(t, options.channelArn));
      if (signal.aborted || !holder || !holds(holder, new Date())) {
        if (said) log(`demo: channel free again, the demo resumes`);
        return;
      }
      if (said !== holder.runId) {
        log(
          `demo: channel ${holder.channelId} is running ${holder.runId} (${holder.title}): the demo waits until it ends`,
        );
        said = holder.runId;
      }
      await sleep((options.channelCheckSeconds ?? 2) * 1000);
    }
  };

  /**
   * A run of the demo show that holds the channel and runs: the one the local Step Functions resumed
   * after a restart (the loop left it running when the stack stopped). Known by its show id.
   */
  const resumedRun = async (showId: string) => {
    const holder = await withTarget(target, (t) => channelHolder(t, options.channelArn));
    return holder?.status === 'RUNNING' && holder.showId === showId ? holder : undefined;
  };

  /** Starts the demo show, or undefined when another show took the channel first. */
  const startRun = async (show: ValidShow) => {
    await stepAside();
    if (signal.aborted) return undefined;
    const now = clock.now();
    const prepared = prepareStart(
      {
        show,
        startAt: new Date(now.getTime() + (options.leadInSeconds ?? 3) * 1000),
        channelArn: options.channelArn,
      },
      now,
    );
    return withTarget(target, (t) =>
      start(t, prepared, { clock }).catch((error: unknown) => {
        // Another show took the channel between the look and the start: step aside next time round.
        if (!(error instanceof ChannelBusyError)) throw error;
        log(`demo: ${error.message}: the demo waits until it ends`);
        return undefined;
      }),
    );
  };

  const runOnce = async () => {
    while (!signal.aborted && !(await isLive())) await sleep(1000);
    if (signal.aborted) return;
    const checked = await checkShowFile(options.showFile);
    if (!checked.valid) throw new Error(`${options.showFile}: ${checked.issues.join('; ')}`);
    const resumed = await resumedRun(checked.valid.show.id);
    const started = resumed ?? (await startRun(checked.valid));
    if (!started) return;
    if (resumed) log(`demo: following ${resumed.runId}, resumed after the restart`);
    else log(`demo: started ${started.runId} (showrunner status ${started.runId})`);
    await withTarget(target, async (t) => {
      const cueAfterMs = (options.cueAfterSeconds ?? 10) * 1000;
      for (;;) {
        await sleep(1000);
        if (signal.aborted) return;
        const { run, polls } = await history(t, started.executionArn);
        if (run.status !== 'RUNNING') {
          const { status, error, cause } = run;
          log(`demo: ${started.runId} ${status}${error ? `: ${error} — ${cause ?? ''}` : ''}`);
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
      // Not its run: the local Step Functions keeps it RUNNING and resumes it at the next start.
      controller.abort();
      await done;
      ivs.destroy();
    },
  };
}
