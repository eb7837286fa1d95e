// Dead air after a question: from a viewer's countdown reaching 0 (in video time: the poll cue's
// media time + duration, on the first frame presented at or past it) to the results on their
// screen (the card's data-phase turning "revealed"), for a viewer near live and one 5 s behind.
// A real show runs through the local state machine (`showrunner start`), so the close is the
// ASL's WaitUntilClose → Close → ResultsCue; the breakdown comes from the execution history:
//
//   grace   closesAt − the viewer's 0        (latencyGraceSeconds − how far behind live they are)
//   settle  Close entered → closesAt + VOTE_SETTLE_MS   (the Close task sleeps until then)
//   recount the rest of the Close task        (strongly consistent read of every shard)
//   cue     Close exit → ResultsCue exit      (IVS PutMetadata accepted)
//   air     ResultsCue exit → on the viewer's screen (stream latency: segment + buffer)
//
// `node bench/dead-air.ts [--grace S] [--duration S] [--settle-ms MS]` on a stack of its own;
// `npm run bench -- --only dead_air` measures the defaults before and after they were cut, side by side.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Browser, Page } from 'playwright-core';
import { DEFAULT_VOTE_SETTLE_MS } from '../contract/api.ts';
import { STATES } from '../contract/state-machine.ts';
import { DEFAULT_LATENCY_GRACE_SECONDS } from '../core/timeline.ts';
import { loadRun } from '../ops/runs.ts';
import { launchChromium } from '../test/support/browser.ts';
import { ROOT, startStack, type StackProcess } from '../test/support/stack.ts';

export interface DeadAirRow {
  /** Which grace and vote settle the run had. */
  defaults: string;
  viewer: string;
  /** The latency the viewer asked for (`?latency=`); the page caps it at what the grace allows. */
  latency_s: number;
  /** How far behind live the viewer actually was: their time's up − the question's ask + duration. */
  behind_s: number;
  answered: boolean;
  /** Countdown at 0 (video time) → results on screen. */
  timeup_to_results_ms: number;
  grace_ms: number;
  settle_ms: number;
  recount_ms: number;
  cue_ms: number;
  air_ms: number;
  /** Results cue media time − poll cue media time − duration: the same gap in video time. */
  media_gap_ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')}: ${err}`)),
    );
  });
}

async function viewer(browser: Browser, stack: StackProcess, latency: number): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(`${stack.appUrl}/?latency=${latency}`);
  await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 1, undefined, {
    timeout: 30_000,
  });
  return page;
}

/** Wall time (ms) of the first frame presented at or past the poll's end in video time, and of the reveal. */
async function watch(page: Page, pollId: string, answer: number | null) {
  const card = page.locator(`[data-testid="poll-card"][data-poll-id="${pollId}"]`);
  await card.waitFor({ timeout: 60_000 });
  const cueTime = Number(await card.getAttribute('data-cue-time'));
  if (answer !== null) await page.getByTestId('answer').nth(answer).click();
  return { cueTime, page };
}

async function timeUp(page: Page, end: number): Promise<number> {
  return page.evaluate(
    (end) =>
      new Promise<number>((resolve) => {
        const video = document.querySelector('video')!;
        const step = (_: number, meta: { mediaTime: number }) => {
          if (meta.mediaTime >= end) resolve(Date.now());
          else video.requestVideoFrameCallback(step);
        };
        video.requestVideoFrameCallback(step);
      }),
    end,
  );
}

async function revealed(page: Page): Promise<{ at: number; cueTime: number }> {
  const handle = await page.waitForFunction(
    () => {
      const card = document.querySelector<HTMLElement>('[data-testid="poll-card"]');
      return card?.dataset.phase === 'revealed'
        ? { at: Date.now(), cueTime: Number(card.dataset.tallyCueTime) }
        : false;
    },
    undefined,
    { polling: 'raf', timeout: 90_000 },
  );
  return (await handle.jsonValue()) as { at: number; cueTime: number };
}

export async function benchDeadAir(
  stack: StackProcess,
  options: { grace?: number; duration?: number; settleMs: number; screenshots?: string; label?: string },
  log = (_: string) => {},
): Promise<DeadAirRow[]> {
  const duration = options.duration ?? 15;
  const dir = await mkdtemp(join(tmpdir(), 'bench-dead-air-'));
  const env = { ...process.env, EDGE_URL: stack.edgeUrl, AWS_ENDPOINT_URL: '' };
  const sfn = new SFNClient({
    endpoint: stack.edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const browser = await launchChromium();
  try {
    // Join once the live window is full (a player joining a young stream starts at its first segment).
    for (let i = 0; i < 100; i++) {
      const playlist = await (await fetch(`${stack.appUrl}/live/local/index.m3u8`)).text();
      if ((playlist.match(/#EXTINF/g) ?? []).length >= 12) break;
      await sleep(250);
    }
    const viewers = [
      { name: 'near live', latency: 1, answer: 0 as number | null, page: await viewer(browser, stack, 1) },
      {
        name: '5 s behind',
        latency: 5,
        answer: null as number | null,
        page: await viewer(browser, stack, 5),
      },
    ];
    const show = {
      id: 'bench-dead-air',
      title: 'Dead air bench',
      ...(options.grace === undefined ? {} : { latencyGraceSeconds: options.grace }),
      polls: [
        { id: 'q', at: 3, question: 'How long until the results?', answers: ['Short', 'Long'], duration },
      ],
    };
    const file = join(dir, 'show.json');
    await writeFile(file, JSON.stringify(show));
    const out = await run(process.execPath, ['cli/showrunner.ts', 'start', file, '--json'], env);
    const { runId, executionArn } = JSON.parse(out) as { runId: string; executionArn: string };
    const pollId = `${runId}:q`;
    log(`dead_air: run ${runId}, grace ${options.grace ?? 'default'}, settle ${options.settleMs} ms`);

    const measured = await Promise.all(
      viewers.map(async (v) => {
        const { cueTime } = await watch(v.page, pollId, v.answer);
        const zero = await timeUp(v.page, cueTime + duration);
        if (options.screenshots) {
          // What the viewer looks at while the results are coming.
          await sleep(3000);
          await v.page.screenshot({ path: join(options.screenshots, `dead-air-${v.latency}s-waiting.png`) });
        }
        const shown = await revealed(v.page);
        return { ...v, cueTime, zero, shown };
      }),
    );

    const { events, timeline } = await loadRun(sfn, executionArn);
    const poll = timeline.polls.find((p) => p.id === 'q');
    const closeEntered = events.find((e) => e.stateEnteredEventDetails?.name === STATES.Close);
    if (!poll?.askedAt || !poll.closesAt || !poll.closedAt || !poll.resultsAt || !closeEntered?.timestamp)
      throw new Error('dead_air: the run has no close in its history');
    const closeStart = closeEntered.timestamp.getTime();
    const settled = Math.max(closeStart, poll.closesAt + options.settleMs);
    const label =
      options.label ??
      `grace ${options.grace ?? DEFAULT_LATENCY_GRACE_SECONDS} s, settle ${options.settleMs / 1000} s`;
    return measured.map((m) => ({
      defaults: label,
      viewer: m.name,
      latency_s: m.latency,
      behind_s: Math.round((m.zero - poll.askedAt! - duration * 1000) / 100) / 10,
      answered: m.answer !== null,
      timeup_to_results_ms: m.shown.at - m.zero,
      grace_ms: closeStart - m.zero,
      settle_ms: settled - closeStart,
      recount_ms: poll.closedAt! - settled,
      cue_ms: poll.resultsAt! - poll.closedAt!,
      air_ms: m.shown.at - poll.resultsAt!,
      media_gap_ms: Math.round((m.shown.cueTime - m.cueTime - duration) * 1000),
    }));
  } finally {
    await browser.close();
    sfn.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

export function deadAirTable(rows: readonly DeadAirRow[]): string {
  const s = (ms: number) => (ms / 1000).toFixed(1);
  const head =
    "| defaults | viewer | behind live (s) | answered | time's up → results (s) | grace | settle | recount | cue | air | cue gap in video (s) |";
  const rule = '| --- | --- | --: | --- | --: | --: | --: | --: | --: | --: | --: |';
  const lines = rows.map(
    (r) =>
      `| ${r.defaults} | ${r.viewer} | ${r.behind_s.toFixed(1)} | ${r.answered ? 'yes' : 'no'} | ${s(r.timeup_to_results_ms)} | ${s(r.grace_ms)} | ${s(r.settle_ms)} | ${s(r.recount_ms)} | ${s(r.cue_ms)} | ${s(r.air_ms)} | ${s(r.media_gap_ms)} |`,
  );
  return [head, rule, ...lines].join('\n');
}

/**
 * The grace and settle before they were cut (10 s of grace; a 5 s vote deadline + 1 s of clock
 * margin) and today's defaults, each on a stack of its own (the settle is the stack's setting).
 */
const BEFORE = { grace: 10, settleMs: 6000, label: 'before: grace 10 s, settle 6 s' };
const AFTER = {
  settleMs: DEFAULT_VOTE_SETTLE_MS,
  label: `now: grace ${DEFAULT_LATENCY_GRACE_SECONDS} s, settle ${DEFAULT_VOTE_SETTLE_MS / 1000} s`,
};

export async function benchDeadAirBeforeAfter(log = (_: string) => {}): Promise<DeadAirRow[]> {
  const rows: DeadAirRow[] = [];
  for (const options of [BEFORE, AFTER]) {
    const stack = await startStack({ env: { VOTE_SETTLE_MS: String(options.settleMs) } });
    try {
      rows.push(...(await benchDeadAir(stack, options, log)));
    } finally {
      await stack.stop();
    }
  }
  return rows;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      grace: { type: 'string' },
      duration: { type: 'string' },
      'settle-ms': { type: 'string' },
      screenshots: { type: 'string' },
    },
  });
  const settleMs = Number(values['settle-ms'] ?? DEFAULT_VOTE_SETTLE_MS);
  const stack = await startStack({ env: { VOTE_SETTLE_MS: String(settleMs) } });
  try {
    const rows = await benchDeadAir(
      stack,
      {
        settleMs,
        ...(values.grace === undefined ? {} : { grace: Number(values.grace) }),
        ...(values.duration === undefined ? {} : { duration: Number(values.duration) }),
        ...(values.screenshots === undefined ? {} : { screenshots: values.screenshots }),
      },
      console.error,
    );
    console.log(deadAirTable(rows));
    console.log(JSON.stringify(rows));
  } finally {
    await stack.stop();
  }
}
