// Sync and cue latency, measured in headless Chromium on the local stream: viewers at different
// latencies (held back 0, 2 and 4 s) watch while polls go in through IVS PutMetadata, each as the
// show sends it: the ask, live tally cues, the results (50 cues by default).
//   sync: |presented frame's media time − cue's media time|, in frames at 30 fps, over all cues
//         (asks, tallies and results) and viewers; a cue a viewer never showed counts as missed
//   cue_latency_ms: PutMetadata call → question visible on the nearest-to-live viewer
import { IvsClient, PutMetadataCommand } from '@aws-sdk/client-ivs';
import type { Browser, Page } from 'playwright-core';
import { encodeCue, pollCue, resultsCue, tallyCue } from '../core/cues.ts';
import { launchChromium } from '../test/support/browser.ts';
import type { StackProcess } from '../test/support/stack.ts';
import { percentile, round } from './lib.ts';

const CHANNEL = 'arn:aws:ivs:us-east-1:000000000000:channel/local';
const FPS = 30;

export interface SyncResult {
  /** Cues sent: per poll an ask, live tallies and the results. */
  cues: number;
  tally_cues: number;
  viewers: number;
  /** Cues a viewer never showed (must be 0). */
  missed: number;
  /** How many cues (× viewers) were shown how many whole frames off, by kind: "tally 0" → n. */
  frames_off: Record<string, number>;
  max_abs_frame_offset: number;
  hold_back_s: number[];
  /** 'waiting' events (playback stalls) over all viewers after they started playing. */
  stalls: number;
  /** Video frames decoded but never presented, over all viewers (getVideoPlaybackQuality). */
  dropped_frames: number;
}

export interface CueLatencyResult {
  p50: number;
  p95: number;
  samples: number;
}

async function openViewer(browser: Browser, url: string, holdBackMs: number): Promise<Page> {
  const page = await browser.newPage();
  await page.addInitScript(observePollCard);
  await page.goto(url);
  await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 1, undefined, {
    timeout: 60_000,
  });
  await page.evaluate(() => {
    const w = window as unknown as { stalls: number };
    w.stalls = 0;
    document.querySelector('video')!.addEventListener('waiting', () => w.stalls++);
  });
  if (holdBackMs > 0) {
    await page.evaluate(() => document.querySelector('video')!.pause());
    await new Promise((r) => setTimeout(r, holdBackMs));
    await page.evaluate(() => document.querySelector('video')!.play());
  }
  return page;
}

/** What the page showed, recorded by an observer the bench adds to it: one entry per change of the poll card. */
interface Seen {
  pollId: string;
  phase: string;
  cueTime: number;
  frameTime: number;
  shownAt: number;
  tallyTotal: number;
  tallyCueTime: number;
  tallyFrameTime: number;
}

/** Installed in every page before the site loads: records each state of the poll card, so no cue's display is missed. */
function observePollCard(): void {
  const w = window as unknown as { seen: unknown[] };
  w.seen = [];
  const num = (el: Element, name: string) => {
    const value = el.getAttribute(name);
    return value === null || value === '' ? NaN : Number(value);
  };
  new MutationObserver(() => {
    const card = document.querySelector('[data-testid="poll-card"]');
    if (!card) return;
    w.seen.push({
      pollId: card.getAttribute('data-poll-id'),
      phase: card.getAttribute('data-phase'),
      cueTime: num(card, 'data-cue-time'),
      frameTime: num(card, 'data-frame-time'),
      shownAt: num(card, 'data-shown-at'),
      tallyTotal: num(card, 'data-tally-total'),
      tallyCueTime: num(card, 'data-tally-cue-time'),
      tallyFrameTime: num(card, 'data-tally-frame-time'),
    });
  }).observe(document, {
    subtree: true,
    attributes: true,
    attributeFilter: ['data-poll-id', 'data-phase', 'data-tally-total'],
  });
}

/** The cues of one poll, in the order they go out: the ask, TALLIES_PER_POLL live counts, the results. */
const TALLIES_PER_POLL = 3;
const CUES_PER_POLL = TALLIES_PER_POLL + 2;

/**
 * `cues` is rounded up to whole polls of CUES_PER_POLL (ask, tallies, results), sent `spacingMs`
 * apart (IVS allows 5 calls/s per channel); every cue of every poll is looked for in every viewer.
 */
export async function benchViewers(
  stack: StackProcess,
  options = { cues: 50, holdBacksMs: [0, 2000, 4000], spacingMs: 1000 },
  log = (_: string) => {},
): Promise<{ sync: SyncResult; cue_latency_ms: CueLatencyResult }> {
  const browser = await launchChromium();
  const ivs = new IvsClient({
    endpoint: stack.edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    const pages: Page[] = [];
    for (const hold of options.holdBacksMs) pages.push(await openViewer(browser, stack.appUrl, hold));
    const polls = Math.max(1, Math.ceil(options.cues / CUES_PER_POLL));
    const asked = new Map<string, number>();
    const expected: Array<{ pollId: string; kind: 'poll' | 'tally' | 'results'; total: number }> = [];
    const send = async (metadata: string) => {
      await ivs.send(new PutMetadataCommand({ channelArn: CHANNEL, metadata }));
      await new Promise((r) => setTimeout(r, options.spacingMs));
    };
    for (let p = 0; p < polls; p++) {
      const pollId = `bench-sync:q${p}`;
      asked.set(pollId, Date.now());
      await send(encodeCue(pollCue(pollId, { question: `Sync ${p}?`, answers: ['A', 'B'], duration: 60 })));
      expected.push({ pollId, kind: 'poll', total: 0 });
      for (let t = 1; t <= TALLIES_PER_POLL; t++) {
        await send(encodeCue(tallyCue(pollId, [t, 0])));
        expected.push({ pollId, kind: 'tally', total: t });
      }
      await send(encodeCue(resultsCue(pollId, [TALLIES_PER_POLL + 1, 0])));
      expected.push({ pollId, kind: 'results', total: TALLIES_PER_POLL + 1 });
      log(`sync: poll ${p + 1}/${polls} sent (${(p + 1) * CUES_PER_POLL} cues)`);
    }
    // The viewer furthest behind sees the last cue its hold-back (and a segment or two) later.
    const lastTotal = TALLIES_PER_POLL + 1;
    const lastPoll = `bench-sync:q${polls - 1}`;
    for (const page of pages) {
      await page.waitForFunction(
        ([pollId, total]) =>
          (
            window as unknown as { seen: Array<{ pollId: string; phase: string; tallyTotal: number }> }
          ).seen.some((s) => s.pollId === pollId && s.phase === 'revealed' && s.tallyTotal === total),
        [lastPoll, lastTotal] as const,
        { timeout: 60_000 },
      );
    }

    let maxOffset = 0;
    let missed = 0;
    /** "<kind> <whole frames off>" → cues × viewers. */
    const histogram: Record<string, number> = {};
    const latencies: number[] = [];
    for (const [v, page] of pages.entries()) {
      const seen = await page.evaluate(() => (window as unknown as { seen: Seen[] }).seen);
      for (const cue of expected) {
        const shown = seen.find((s) =>
          s.pollId !== cue.pollId
            ? false
            : cue.kind === 'poll'
              ? !Number.isNaN(s.cueTime)
              : cue.kind === 'tally'
                ? s.phase !== 'revealed' && s.tallyTotal === cue.total
                : s.phase === 'revealed' && s.tallyTotal === cue.total,
        );
        if (!shown) {
          missed++;
          continue;
        }
        const offset =
          cue.kind === 'poll' ? shown.frameTime - shown.cueTime : shown.tallyFrameTime - shown.tallyCueTime;
        const frames = Math.round(Math.abs(offset) * FPS * 100) / 100;
        maxOffset = Math.max(maxOffset, frames);
        const key = `${cue.kind} ${Math.round(frames)}`;
        histogram[key] = (histogram[key] ?? 0) + 1;
        if (v === 0 && cue.kind === 'poll') latencies.push(shown.shownAt - asked.get(cue.pollId)!);
      }
    }
    latencies.sort((a, b) => a - b);
    let stalls = 0;
    let dropped = 0;
    for (const page of pages) {
      stalls += await page.evaluate(() => (window as unknown as { stalls: number }).stalls);
      // Frames the browser decoded but never presented: a cue due on one is shown on the next presented frame.
      dropped += await page.evaluate(
        () => document.querySelector('video')!.getVideoPlaybackQuality().droppedVideoFrames,
      );
    }
    return {
      sync: {
        cues: expected.length,
        tally_cues: expected.filter((c) => c.kind === 'tally').length,
        viewers: pages.length,
        missed,
        max_abs_frame_offset: round(maxOffset, 2),
        frames_off: Object.fromEntries(Object.entries(histogram).sort()),
        hold_back_s: options.holdBacksMs.map((ms) => ms / 1000),
        stalls,
        dropped_frames: dropped,
      },
      cue_latency_ms: {
        p50: round(percentile(latencies, 50), 0),
        p95: round(percentile(latencies, 95), 0),
        samples: latencies.length,
      },
    };
  } finally {
    await browser.close();
    ivs.destroy();
  }
}
