// Cue to air: a producer types `npx showrunner cue RUN` and presses Enter; how long until the local
// IVS has accepted the question's PutMetadata? Each sample spawns `npx showrunner cue <run>` exactly
// as typed (a shell's PATH, the checkout as working directory) and stops the clock at the AskCue
// state's exit in the execution history: the local Step Functions writes it when the IVS call
// returned (the same event `showrunner history` reads as "asked"). Start-up alone is
// `npx showrunner --help`, and `node cli/bin/showrunner.js --help` without npx.
//
// `node bench/cue-to-air.ts [--cues N] [--root DIR]` on a stack of its own; `npm run bench -- --only
// cue_to_air` on the shared one. --root runs another checkout's CLI against the same stack (the
// figure before a change: `git worktree add /tmp/before HEAD~1`, node_modules linked or installed).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SFNClient } from '@aws-sdk/client-sfn';
import { loadRun } from '../ops/runs.ts';
import { launchChromium } from '../test/support/browser.ts';
import { ROOT, startStack, type StackProcess } from '../test/support/stack.ts';
import { percentile, round } from './lib.ts';

export interface CueToAirResult {
  /** Enter → IVS accepted the question: the first cue, with Node's compile cache empty. */
  cold_ms: number;
  /** The cues after it (compile cache warm, as for a producer's second command). */
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  cues: number;
  /** Enter → `npx showrunner cue` exited (it exits right after SendTaskSuccess). */
  exit_p50_ms: number;
  /** Start-up alone: `npx showrunner --help`, and the same without npx. */
  startup_npx_p50_ms: number;
  startup_node_p50_ms: number;
  /** The control room: the Ask next click (the page's event time) → IVS accepted the question. */
  control_click_p50_ms: number;
  control_click_p95_ms: number;
  control_clicks: number;
}

interface Timed {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns a command as a shell would (PATH lookup, the caller's environment) and times it to its exit. */
function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ ms: performance.now() - started, code, stdout, stderr }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchCueToAir(
  stack: StackProcess,
  options: { cues?: number; startups?: number; root?: string } = {},
  log = (_: string) => {},
): Promise<CueToAirResult> {
  const cues = options.cues ?? 5;
  const root = options.root ?? ROOT;
  const dir = await mkdtemp(join(tmpdir(), 'bench-cue-to-air-'));
  // Its own compile cache, empty at first: the first cue is a cold start, the others warm ones.
  const env = {
    ...process.env,
    EDGE_URL: stack.edgeUrl,
    AWS_ENDPOINT_URL: '',
    NODE_COMPILE_CACHE: join(dir, 'compile-cache'),
  };
  const sfn = new SFNClient({
    endpoint: stack.edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    // One manual question per sample (plus the cold one), 5 s each; cued one at a time below.
    const show = {
      id: 'bench-cue',
      title: 'Cue to air bench',
      latencyGraceSeconds: 0,
      polls: Array.from({ length: cues + 1 }, (_, i) => ({
        id: `m${i}`,
        at: 'manual',
        question: `Manual question ${i}?`,
        answers: ['Yes', 'No'],
        duration: 5,
      })),
    };
    const file = join(dir, 'show.json');
    await writeFile(file, JSON.stringify(show));
    const started = await timed(process.execPath, ['cli/showrunner.ts', 'start', file, '--json'], ROOT, env);
    if (started.code !== 0) throw new Error(`showrunner start failed: ${started.stderr}`);
    const { runId, executionArn } = JSON.parse(started.stdout) as { runId: string; executionArn: string };
    const timeline = async () => (await loadRun(sfn, executionArn)).timeline;
    const waitFor = async <T>(what: string, check: () => Promise<T | undefined>, ms = 20_000) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = await check();
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`cue_to_air: ${what} did not happen in ${ms} ms`);
        await sleep(50);
      }
    };
    await waitFor('every manual question waiting', async () =>
      (await timeline()).polls.filter((p) => p.waitingForCue).length === cues + 1 ? true : undefined,
    );
    log(`cue_to_air: run ${runId}, ${cues + 1} manual questions waiting`);

    const air: number[] = [];
    const exits: number[] = [];
    let cold = NaN;
    for (let i = 0; i <= cues; i++) {
      const before = Date.now();
      const cued = await timed('npx', ['showrunner', 'cue', runId], root, env);
      if (cued.code !== 0 || !cued.stdout.startsWith(`Cued m${i} in ${runId}`))
        throw new Error(`showrunner cue exited ${cued.code}: ${cued.stdout}${cued.stderr}`);
      const poll = await waitFor(`m${i} asked`, async () =>
        (await timeline()).polls.find((p) => p.id === `m${i}` && p.askedAt !== undefined),
      );
      const ms = poll.askedAt! - before;
      log(
        `cue_to_air: m${i} ${i === 0 ? '(cold) ' : ''}on air ${ms} ms after Enter (cue exited at ${round(cued.ms, 0)} ms)`,
      );
      if (i === 0) cold = ms;
      else {
        air.push(ms);
        exits.push(cued.ms);
      }
      // One question open at a time: its live tallies and results stay clear of IVS's 5 PutMetadata/s.
      await waitFor(`m${i} results`, async () =>
        (await timeline()).polls.find((p) => p.id === `m${i}` && p.resultsAt !== undefined),
      );
    }

    const startups = options.startups ?? 5;
    const npxHelp: number[] = [];
    const nodeHelp: number[] = [];
    for (let i = 0; i < startups; i++) {
      const viaNpx = await timed('npx', ['showrunner', '--help'], root, env);
      const viaNode = await timed(process.execPath, ['cli/bin/showrunner.js', '--help'], root, env);
      if (viaNpx.code !== 0 || !viaNpx.stdout.startsWith('Usage: showrunner'))
        throw new Error(`npx showrunner --help: ${viaNpx.stderr}`);
      npxHelp.push(viaNpx.ms);
      nodeHelp.push(viaNode.code === 0 ? viaNode.ms : NaN);
    }
    const clicks = await controlRoomClicks(stack, sfn, show, cues, waitFor, log);
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const [a, e, n, h, c] = [sorted(air), sorted(exits), sorted(npxHelp), sorted(nodeHelp), sorted(clicks)];
    return {
      cold_ms: cold,
      p50_ms: round(percentile(a, 50), 0),
      p95_ms: round(percentile(a, 95), 0),
      max_ms: round(a.at(-1) ?? NaN, 0),
      cues,
      exit_p50_ms: round(percentile(e, 50), 0),
      startup_npx_p50_ms: round(percentile(n, 50), 0),
      startup_node_p50_ms: round(percentile(h, 50), 0),
      control_click_p50_ms: round(percentile(c, 50), 0),
      control_click_p95_ms: round(percentile(c, 95), 0),
      control_clicks: c.length,
    };
  } finally {
    sfn.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The control room's Ask next, clicked in headless Chromium signed in with the token the stack
 * printed: from the click event's time in the page (same machine clock) to the AskCue exit in the
 * execution history. A run of its own, one question open at a time.
 */
async function controlRoomClicks(
  stack: StackProcess,
  sfn: SFNClient,
  show: { polls: unknown[] } & Record<string, unknown>,
  clicks: number,
  waitFor: <T>(what: string, check: () => Promise<T | undefined>, ms?: number) => Promise<T>,
  log: (line: string) => void,
): Promise<number[]> {
  const token = /\/control\/#token=([A-Za-z0-9_-]+)/.exec(stack.output())?.[1];
  if (!token) throw new Error('cue_to_air: the stack printed no control room token');
  const response = await fetch(`${stack.apiUrl}/producer/start`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ show: { ...show, id: 'bench-control' } }),
  });
  if (response.status !== 201)
    throw new Error(`control room start: HTTP ${response.status} ${await response.text()}`);
  const { executionArn } = (await response.json()) as { executionArn: string };
  const timeline = async () => (await loadRun(sfn, executionArn)).timeline;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // The click's own time, taken by the page when the event is dispatched.
    await page.addInitScript(() => {
      const w = window as unknown as { clicks: number[] };
      w.clicks = [];
      document.addEventListener(
        'click',
        (e) => {
          if ((e.target as Element).closest('[data-testid="ask-next"]'))
            w.clicks.push(performance.timeOrigin + e.timeStamp);
        },
        true,
      );
    });
    await page.goto(`${stack.appUrl}/control/#token=${token}`);
    const ask = page.getByTestId('ask-next');
    const measured: number[] = [];
    for (let i = 0; i <= clicks; i++) {
      await waitFor(
        `m${i} waiting in the control room`,
        async () => ((await ask.isEnabled()) ? true : undefined),
        30_000,
      );
      await ask.click();
      const poll = await waitFor(`m${i} asked from the control room`, async () =>
        (await timeline()).polls.find((p) => p.id === `m${i}` && p.askedAt !== undefined),
      );
      const clickedAt = (await page.evaluate(() => (window as unknown as { clicks: number[] }).clicks))[i]!;
      const ms = Math.round(poll.askedAt! - clickedAt);
      log(`cue_to_air: control room m${i} ${i === 0 ? '(first) ' : ''}on air ${ms} ms after the click`);
      if (i > 0) measured.push(ms);
      await waitFor(`m${i} results`, async () =>
        (await timeline()).polls.find((p) => p.id === `m${i}` && p.resultsAt !== undefined),
      );
    }
    return measured;
  } finally {
    await browser.close();
    await fetch(`${stack.apiUrl}/producer/stop`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ runId: executionArn.split(':').at(-1) }),
    }).catch(() => undefined);
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { cues: { type: 'string' }, root: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'Usage: node bench/cue-to-air.ts [--cues N] [--root DIR]\n\n' +
        '  --cues N    cues measured after the cold one (default 5)\n' +
        '  --root DIR  run `npx showrunner` in this checkout instead (a figure before a change)\n',
    );
    process.exit(0);
  }
  const cues = values.cues === undefined ? 5 : Number(values.cues);
  if (!Number.isSafeInteger(cues) || cues < 1 || cues > 39) {
    console.error(`--cues: expected a whole number from 1 to 39, got "${values.cues}"`);
    process.exit(2);
  }
  const stack = await startStack();
  try {
    const result = await benchCueToAir(
      stack,
      { cues, ...(values.root ? { root: resolve(values.root) } : {}) },
      (line) => console.log(`[bench] ${line}`),
    );
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await stack.stop();
  }
}
