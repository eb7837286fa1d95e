// Footprint of the local stack (its Node process and the ffmpeg it runs): resident memory when
// idle, then memory and CPU while 100 simulated viewers follow the live playlist, download every
// segment and poll the API the way the site does.
import { readFileSync, readdirSync } from 'node:fs';
import type { StackProcess } from '../test/support/stack.ts';
import { openBenchPoll, round, storeFor } from './lib.ts';

export interface FootprintResult {
  idle_rss_mb: number;
  rss_mb_100_viewers: number;
  cpu_pct_100_viewers: number;
  viewers: number;
  seconds: number;
  segments_served: number;
}

const TICK_HZ = 100; // Linux USER_HZ

/** The process and all its descendants (ffmpeg), from /proc. */
function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]!) ?? []));
  return out;
}

function sample(root: number): { rssMb: number; cpuTicks: number } {
  let rss = 0;
  let ticks = 0;
  for (const pid of tree(root)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime + stime
    } catch {
      // exited meanwhile
    }
  }
  return { rssMb: rss, cpuTicks: ticks };
}

export async function benchFootprint(
  stack: StackProcess,
  options = { viewers: 100, seconds: 30 },
): Promise<FootprintResult> {
  const pid = stack.child.pid!;
  await new Promise((r) => setTimeout(r, 5000));
  const idle = sample(pid);

  const store = storeFor(stack.edgeUrl);
  const pollId = 'bench-footprint:q';
  await openBenchPoll(store, pollId);
  const playlist = `${stack.appUrl}/live/local/index.m3u8`;
  let segments = 0;
  let stop = false;
  const viewer = async (n: number) => {
    const seen = new Set<string>();
    let nextPoll = Date.now() + (n % 20) * 100;
    while (!stop) {
      const text = await (await fetch(playlist)).text();
      for (const line of text.split('\n')) {
        if (!line || line.startsWith('#') || seen.has(line)) continue;
        seen.add(line);
        await (await fetch(new URL(line, playlist))).arrayBuffer();
        segments++;
      }
      if (Date.now() >= nextPoll) {
        await (await fetch(`${stack.apiUrl}/poll-get?poll_id=${pollId}`)).arrayBuffer();
        nextPoll += 2000;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  const before = sample(pid);
  const started = performance.now();
  const loops = Array.from({ length: options.viewers }, (_, n) => viewer(n));
  let peakRss = 0;
  while (performance.now() - started < options.seconds * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    peakRss = Math.max(peakRss, sample(pid).rssMb);
  }
  const after = sample(pid);
  const elapsed = (performance.now() - started) / 1000;
  stop = true;
  await Promise.all(loops);
  return {
    idle_rss_mb: round(idle.rssMb),
    rss_mb_100_viewers: round(peakRss),
    cpu_pct_100_viewers: round((100 * (after.cpuTicks - before.cpuTicks)) / TICK_HZ / elapsed),
    viewers: options.viewers,
    seconds: options.seconds,
    segments_served: segments,
  };
}
