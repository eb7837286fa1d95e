// The sync target: every cue is shown on its stamped frame (|Δ| ≤ 1 frame at 30 fps) for
// viewers at different latencies. Two viewers watch the local stream in Chromium, one held back
// by a few seconds of buffering; a poll cue and its results cue go in through IVS PutMetadata.
import { viewerAuthorization } from '../support/viewer.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IvsClient, PutMetadataCommand } from '@aws-sdk/client-ivs';
import type { Browser, Page } from 'playwright-core';
import type { PollLifecycle } from '../../lambdas/poll-lifecycle.ts';
import { localClientConfig } from '../../local/server.ts';
import { stackTable, type StackTable } from '../support/aws.ts';
import { launchChromium, screenshot } from '../support/browser.ts';
import { startStack, type StackProcess } from '../support/stack.ts';

const FRAME_S = 1 / 30;
const CHANNEL = 'arn:aws:ivs:us-east-1:000000000000:channel/local';

let stack: StackProcess;
let browser: Browser;
let ivs: IvsClient;
let table: StackTable;
let lifecycle: PollLifecycle;

async function viewer(name: string, latencySeconds: number): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  page.on('pageerror', (e) => console.error(`${name}: ${e.message}`));
  await page.goto(`${stack.appUrl}/?latency=${latencySeconds}`);
  await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 1, undefined, {
    timeout: 30_000,
  });
  return page;
}

async function shown(page: Page, pollId: string) {
  const card = page.locator(`[data-testid="poll-card"][data-poll-id="${pollId}"]`);
  await card.waitFor({ timeout: 30_000 });
  const read = (name: string) => card.getAttribute(name).then(Number);
  return {
    cueTime: await read('data-cue-time'),
    frameTime: await read('data-frame-time'),
    programTime: await read('data-program-time'),
    shownAt: await read('data-shown-at'),
  };
}

beforeAll(async () => {
  stack = await startStack();
  table = stackTable(stack);
  lifecycle = table.lifecycle;
  ivs = new IvsClient(localClientConfig(stack.edgeUrl));
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  ivs?.destroy();
  table?.destroy();
  await browser?.close();
  await stack?.stop();
});

describe('frame-synced polls', () => {
  it('two viewers at different latencies see the question on its stamped frame, answer, and see the reveal', async () => {
    // Join once the live window is full: a player joining a just-started stream begins at its first
    // segment, further from live than one that joins later.
    for (let i = 0; i < 100; i++) {
      const playlist = await (await fetch(`${stack.appUrl}/live/local/index.m3u8`)).text();
      if ((playlist.match(/#EXTINF/g) ?? []).length >= 12) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const near = await viewer('near', 1);
    const far = await viewer('far', 5); // a viewer with a bigger buffer, further behind live

    const opened = await lifecycle.open(
      {
        id: 'sync',
        runId: 'sync-test',
        pollId: 'sync-test:sync',
        question: 'Which frame is this?',
        answers: ['This one', 'The next one'],
        correct: 0,
        duration: 20,
        // Longer than the far viewer's 5 s behind live, so the site keeps them there.
        latencyGraceSeconds: 10,
      },
      new Date(),
      CHANNEL,
    );
    await ivs.send(new PutMetadataCommand({ channelArn: CHANNEL, metadata: opened.cue }));

    const a = await shown(near, opened.pollId);
    const b = await shown(far, opened.pollId);
    await screenshot(near, 'sync-near-question');
    await screenshot(far, 'sync-far-question');

    // Each viewer shows it on the frame the cue is stamped on…
    expect(Math.abs(a.frameTime - a.cueTime)).toBeLessThanOrEqual(FRAME_S + 1e-3);
    expect(Math.abs(b.frameTime - b.cueTime)).toBeLessThanOrEqual(FRAME_S + 1e-3);
    // …which is the same frame of the stream for both (same program date-time)…
    expect(Math.abs(a.programTime - b.programTime)).toBeLessThanOrEqual(FRAME_S * 1000 + 1);
    // …although the far viewer saw it seconds later.
    expect(b.shownAt - a.shownAt).toBeGreaterThan(1000);

    await near.getByRole('button', { name: 'This one' }).click();
    await far.getByRole('button', { name: 'The next one' }).click();
    await near.getByTestId('my-answer').waitFor();
    await far.getByTestId('my-answer').waitFor();

    const closed = await lifecycle.close(opened.pollId);
    expect(closed.counts).toEqual([1, 1]);
    await ivs.send(new PutMetadataCommand({ channelArn: CHANNEL, metadata: closed.cue }));
    for (const [page, name] of [
      [near, 'near'],
      [far, 'far'],
    ] as const) {
      await page.locator('[data-testid="poll-card"][data-phase="revealed"]').waitFor({ timeout: 30_000 });
      const rows = await page.getByTestId('result-row').allTextContents();
      expect(rows[0]).toMatch(/This one.*✓ correct/);
      await page.locator(`[data-testid="history-item"][data-poll-id="${opened.pollId}"]`).waitFor();
      await screenshot(page, `sync-${name}-revealed`);
    }
  }, 120_000);

  it('live bars move with the tally cues in the stream while the poll is open, and the page asks the API for none of it', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const pollGets: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/poll-get')) pollGets.push(r.url());
    });
    await page.goto(`${stack.appUrl}/`);
    await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 1, undefined, {
      timeout: 30_000,
    });
    const opened = await lifecycle.open(
      {
        id: 'live',
        runId: 'sync-test',
        pollId: 'sync-test:live',
        question: 'Live bars?',
        answers: ['Yes', 'No'],
        duration: 20,
        latencyGraceSeconds: 0,
      },
      new Date(),
      CHANNEL,
    );
    await ivs.send(new PutMetadataCommand({ channelArn: CHANNEL, metadata: opened.cue }));
    // What the state machine's LiveTally state runs, for the whole poll.
    const tally = lifecycle.tally(opened.pollId, CHANNEL, new Date(opened.closesAt), Infinity);

    await page.getByRole('button', { name: 'Yes' }).click();
    await page.getByTestId('my-answer').waitFor();
    const total = page.locator('.total');
    await page.waitForFunction(() => document.querySelector('.total')?.textContent === '1 vote', undefined, {
      timeout: 15_000,
    });
    const rows = await page.getByTestId('result-row').allTextContents();
    expect(rows[0]).toMatch(/Yes.*\(you\).*100% · 1/);

    // Other viewers vote: the bars follow, from the stream.
    for (const id of ['other-1', 'other-2', 'other-3']) {
      const res = await fetch(`${stack.apiUrl}/requestor-put`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: viewerAuthorization(stack, id) },
        body: JSON.stringify({ poll_id: opened.pollId, requestor_id: id, answer: 1 }),
      });
      expect(res.status).toBe(201);
    }
    await page.waitForFunction(() => document.querySelector('.total')?.textContent === '4 votes', undefined, {
      timeout: 15_000,
    });
    await expect(total.textContent()).resolves.toBe('4 votes');
    expect((await page.getByTestId('result-row').allTextContents())[1]).toMatch(/No.*75% · 3/);
    await page.waitForTimeout(500); // the bars' width transition (0.4 s), for the screenshot
    await screenshot(page, 'site-live-tally-phone');
    expect(pollGets).toEqual([]);

    const result = await tally;
    expect(result).toMatchObject({ done: true, skipped: 0 });
    expect(result.sent).toBeGreaterThanOrEqual(2);
    await page.close();
  }, 90_000);
});
