// The viewer site in headless Chromium against the local stack: late join, answering, history,
// hostile text, and an unreachable API. (Frame-synced cues from the stream are
// covered by the stream tests.)
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { documentClient } from '../../store/clients.ts';
import type { Browser } from 'playwright-core';
import { PollStore } from '../../store/polls.ts';
import { launchChromium, screenshot } from '../support/browser.ts';
import { serveSite, type TestSite } from '../support/site-server.ts';
import { freePort, startStack, type StackProcess } from '../support/stack.ts';

let stack: StackProcess;
let store: PollStore;
let browser: Browser;
let site: TestSite;
let seq = 0;

async function openPoll(question: string, answers: string[], seconds = 600) {
  const pollId = `site-test:q${++seq}`;
  const now = Date.now();
  await store.openPoll({
    pollId,
    runId: 'site-test',
    question,
    answers,
    state: 'open',
    openedAt: new Date(now).toISOString(),
    closesAt: new Date(now + seconds * 1000).toISOString(),
  });
  await store.setCurrentPoll('local', pollId);
  return pollId;
}

beforeAll(async () => {
  // The test's own site server is another origin: the API must allow it, as CORS_ORIGINS does in the cloud.
  const sitePort = await freePort();
  stack = await startStack({ env: { CORS_ORIGINS: `http://127.0.0.1:${sitePort}` } });
  store = new PollStore(
    documentClient(
      new DynamoDBClient({
        endpoint: stack.edgeUrl,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      }),
    ),
    'showrunner-polls',
  );
  browser = await launchChromium();
  site = await serveSite(stack.apiUrl, sitePort);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await stack?.stop();
});

describe('viewer site', () => {
  it('the local stack serves the built site and its config', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.appUrl}/`);
    await expect(page.locator('h1').textContent()).resolves.toContain('showrunner');
    await page.close();
  });

  it('a viewer who joins mid-poll gets it from the API, answers, and finds it in their history', async () => {
    const pollId = await openPoll('Which cat would you adopt?', ['Tabby', 'Siamese', 'Maine Coon']);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(site.url);
    const card = page.locator(`[data-testid="poll-card"][data-poll-id="${pollId}"]`);
    await card.waitFor();
    await card.getByRole('button', { name: 'Siamese' }).click();
    await page.getByTestId('my-answer').waitFor();
    await expect(page.getByTestId('my-answer').textContent()).resolves.toContain('Siamese');
    // This page has no stream: live bars come only as tally cues in the video (test/e2e/sync.test.ts).
    await expect(page.locator('.pending').textContent()).resolves.toBe(
      'The live count comes with the video in a moment.',
    );
    const item = page.locator(`[data-testid="history-item"][data-poll-id="${pollId}"]`);
    await item.waitFor();
    await expect(item.textContent()).resolves.toContain('Which cat would you adopt?');
    await screenshot(page, 'site-answered');

    // A reload keeps the viewer's identity: the answer is still theirs.
    await page.reload();
    await page.locator(`[data-testid="history-item"][data-poll-id="${pollId}"]`).waitFor();
    await page.close();
  });

  it('renders hostile question and answer text as text', async () => {
    const hostile = '<img src=x onerror=alert(1)>';
    await openPoll(hostile, ['<b>bold</b>', '<script>alert(2)</script>']);
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(site.url);
    await expect(page.getByTestId('question').textContent()).resolves.toBe(hostile);
    await expect(page.getByTestId('answer').allTextContents()).resolves.toEqual([
      '<b>bold</b>',
      '<script>alert(2)</script>',
    ]);
    expect(await page.getByTestId('poll-card').locator('img, b, script').count()).toBe(0);
    await screenshot(page, 'site-hostile-text-phone');
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it('says so in words when the API is down, and recovers when it returns', async () => {
    await openPoll('Is the API up?', ['Yes', 'No']);
    const page = await browser.newPage();
    await page.goto(site.url);
    await page.getByTestId('answer').first().waitFor();
    site.apiUp(false);
    await page.getByTestId('answer').first().click();
    await page.getByTestId('api-down').waitFor();
    await expect(page.getByRole('status').first().textContent()).resolves.toContain(
      "Can't reach the show server",
    );
    await screenshot(page, 'site-api-down');
    site.apiUp(true);
    await page.getByTestId('api-down').waitFor({ state: 'detached', timeout: 15_000 });
    await page.getByTestId('answer').first().click();
    await page.getByTestId('my-answer').waitFor();
    await page.close();
  }, 60_000);
});
