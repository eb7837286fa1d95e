// Shared bench plumbing: timing, percentiles, bounded concurrency, and a local stack to measure.
import { TABLE } from '../contract/table.ts';
import { tableClient } from '../store/clients.ts';
import { PollStore } from '../store/polls.ts';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Runs `count` jobs with at most `concurrency` in flight; returns each job's latency in ms. */
export async function runConcurrently(
  count: number,
  concurrency: number,
  job: (i: number) => Promise<void>,
): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const t = performance.now();
      await job(i);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  latencies.sort((a, b) => a - b);
  return { seconds: (performance.now() - started) / 1000, latencies };
}

export function storeFor(edgeUrl: string): PollStore {
  const { db } = tableClient({
    endpoint: edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  return new PollStore(db, TABLE.defaultName);
}

export async function openBenchPoll(store: PollStore, pollId: string, answers = 4): Promise<void> {
  const now = Date.now();
  await store.openPoll({
    pollId,
    runId: pollId.split(':')[0]!,
    question: 'Bench?',
    answers: Array.from({ length: answers }, (_, i) => `answer ${i}`),
    state: 'open',
    openedAt: new Date(now).toISOString(),
    closesAt: new Date(now + 3_600_000).toISOString(),
  });
}

/** Prints rows as an aligned table. */
/** A value as a table cell: a breakdown object ({"tally 0": 90}) as "tally 0: 90, …". */
function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join(', ');
  }
  return String(value);
}

export function table(rows: Array<Record<string, string | number>>): string {
  if (rows.length === 0) return '';
  const headers = Object.keys(rows[0]!);
  const cells = [headers, ...rows.map((r) => headers.map((h) => cell(r[h])))];
  const widths = headers.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  return cells
    .map((row, i) => {
      const line = row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ');
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}
