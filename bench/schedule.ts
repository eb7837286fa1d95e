// Schedule accuracy: a long show of timed questions (5 s apart, the closest the validator allows)
// run by the real ASL and Wait states on the local Step Functions; lateness is "asked" (IVS
// accepted the cue) minus the planned absolute time, read from the execution history by the CLI.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, type StackProcess } from '../test/support/stack.ts';
import { percentile, round } from './lib.ts';

const run = promisify(execFile);

export interface ScheduleResult {
  asks: number;
  p99_late_ms: number;
  max_late_ms: number;
  show_minutes: number;
}

async function showrunner(stack: StackProcess, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['cli/showrunner.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, EDGE_URL: stack.edgeUrl, AWS_ENDPOINT_URL: '' },
  });
  return stdout;
}

export async function benchSchedule(
  stack: StackProcess,
  asks = 60,
  log = (_: string) => {},
): Promise<ScheduleResult> {
  const show = {
    id: 'bench-schedule',
    title: 'Schedule bench',
    latencyGraceSeconds: 0,
    polls: Array.from({ length: asks }, (_, i) => ({
      id: `q${i}`,
      at: 5 + i * 5,
      question: `Question ${i}?`,
      answers: ['A', 'B'],
      duration: 5,
    })),
  };
  const file = join(await mkdtemp(join(tmpdir(), 'bench-schedule-')), 'show.json');
  await writeFile(file, JSON.stringify(show));
  const started = JSON.parse(await showrunner(stack, 'start', file, '--json')) as { runId: string };
  log(`schedule: ${asks} questions 5 s apart, run ${started.runId} (${round((asks * 5 + 10) / 60, 1)} min)`);
  let history: { status: string; polls: Array<{ lateMs: number | null }> };
  for (;;) {
    await new Promise((r) => setTimeout(r, 5000));
    history = JSON.parse(await showrunner(stack, 'history', started.runId, '--json'));
    if (history.status !== 'RUNNING') break;
    log(`schedule: ${history.polls.filter((p) => p.lateMs !== null).length}/${asks} asked`);
  }
  if (history.status !== 'SUCCEEDED') throw new Error(`schedule run ended ${history.status}`);
  const late = history.polls
    .map((p) => p.lateMs)
    .filter((l): l is number => l !== null)
    .sort((a, b) => a - b);
  return {
    asks: late.length,
    p99_late_ms: round(percentile(late, 99), 0),
    max_late_ms: round(late.at(-1) ?? NaN, 0),
    show_minutes: round((asks * 5 + 10) / 60, 1),
  };
}
