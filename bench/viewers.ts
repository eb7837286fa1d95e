// Sync and cue latency, measured in headless Chromium on the local stream: viewers at different
// latencies (held back 0, 2 and 4 s) watch while poll cues go in through IVS PutMetadata.
//   sync: |presented frame's media time − cue's media time|, in frames at 30 fps, over all cues and viewers
//   cue_latency_ms: PutMetadata call → question visible on the nearest-to-live viewer
import { IvsClient, PutMetadataCommand } from '@aws-sdk/client-ivs';
import type { Browser, Page } from 'playwright-core';
import { encodeCue, pollCue } from '../core/cues.ts';
import { launchChromium } from '../test/support/browser.ts';
import type { StackProcess } from '../test/support/stack.ts';
import { percentile, round } from './lib.ts';

const CHANNEL = 'arn:aws:ivs:us-east-1:000000000000:channel/local';
const FPS = 30;

export interface SyncResult {
  cues: number;
  viewers: number;
  max_abs_frame_offset: number;
  hold_back_s: number[];
  /** 'waiting' events (playback stalls) over all viewers after they started playing. */
  stalls: number;
}

export interface CueLatencyResult {
  p50: number;
  p95: number;
  samples: number;
}

async function openViewer(browser: Browser, url: string, holdBackMs: number): Promise<Page> {
  const page = await browser.newPage();
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

export async function benchViewers(
  stack: StackProcess,
  options = { cues: 10, holdBacksMs: [0, 2000, 4000], spacingMs: 4000 },
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
    let maxOffset = 0;
    const latencies: number[] = [];
    for (let i = 0; i < options.cues; i++) {
      const pollId = `bench-sync:q${i}`;
      const cue = encodeCue(pollCue(pollId, { question: `Sync ${i}?`, answers: ['A', 'B'], duration: 30 }));
      const calledAt = Date.now();
      await ivs.send(new PutMetadataCommand({ channelArn: CHANNEL, metadata: cue }));
      for (const [v, page] of pages.entries()) {
        const card = page.locator(`[data-testid="poll-card"][data-poll-id="${pollId}"]`);
        await card.waitFor({ timeout: 60_000 });
        const cueTime = Number(await card.getAttribute('data-cue-time'));
        const frameTime = Number(await card.getAttribute('data-frame-time'));
        const shownAt = Number(await card.getAttribute('data-shown-at'));
        maxOffset = Math.max(maxOffset, Math.abs(frameTime - cueTime) * FPS);
        if (v === 0) latencies.push(shownAt - calledAt);
      }
      log(`sync: cue ${i + 1}/${options.cues}, max offset so far ${round(maxOffset, 2)} frames`);
      await new Promise((r) => setTimeout(r, options.spacingMs));
    }
    latencies.sort((a, b) => a - b);
    let stalls = 0;
    for (const page of pages)
      stalls += await page.evaluate(() => (window as unknown as { stalls: number }).stalls);
    return {
      sync: {
        cues: options.cues,
        viewers: pages.length,
        max_abs_frame_offset: round(maxOffset, 2),
        hold_back_s: options.holdBacksMs.map((ms) => ms / 1000),
        stalls,
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
