// The producer control room (/control/) in headless Chromium against the local stack as `npm start`
// runs it, nothing mocked: a producer signs in with the token the stack prints, starts a show with
// a manual question, asks it (the N key), sees a viewer's vote (a second page at /) arrive, stops
// the run and downloads the results, and signs out; the page without a token, or with a wrong one,
// gets nothing. (The Cognito sign-in is control-cognito.test.ts's.)
// Screenshots at phone and desktop sizes go to test-results/screenshots.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, screenshot } from '../support/browser.ts';
import { startStack, type StackProcess } from '../support/stack.ts';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

let stack: StackProcess;
let browser: Browser;
let token: string;

const show = {
  id: 'control-e2e',
  title: 'Control room e2e',
  latencyGraceSeconds: 2,
  polls: [
    {
      id: 'cat',
      at: 'manual',
      question: 'Which cat would you adopt?',
      answers: ['Tabby', 'Siamese'],
      duration: 60,
    },
    // Far later than the test lasts: after the stop it is a question that was never asked.
    {
      id: 'quiz',
      at: '30:00',
      question: 'Cats sleep 12–16 hours a day.',
      answers: ['True', 'False'],
      correct: 0,
    },
  ],
};

/** A page that records every producer API request it makes. */
async function controlPage(viewport = DESKTOP) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const producerRequests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/producer/')) producerRequests.push(r.url());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, producerRequests, errors, close: () => context.close() };
}

const announcer = (page: Page) => page.getByTestId('announcer');

beforeAll(async () => {
  stack = await startStack();
  const link = /(http:\/\/\S+\/control\/)#token=([A-Za-z0-9_-]+)/.exec(stack.output());
  if (!link) throw new Error(`the stack printed no control room link:\n${stack.output()}`);
  token = link[2]!;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('control room sign-in', () => {
  it('without a token the page shows only the sign-in, and asks the producer API for nothing', async () => {
    const { page, producerRequests, errors, close } = await controlPage(PHONE);
    await page.goto(`${stack.appUrl}/control`); // → /control/
    await page.getByTestId('sign-in').waitFor();
    expect(new URL(page.url()).pathname).toBe('/control/');
    await expect(page.getByRole('heading', { level: 2 }).textContent()).resolves.toBe(
      'Sign in to the control room',
    );
    await expect(page.getByTestId('sign-in').textContent()).resolves.toContain('/control/#token=…');
    await page.waitForTimeout(2500); // a poll would have come by now
    expect(producerRequests).toEqual([]);
    expect(await page.getByTestId('runs').count()).toBe(0);
    expect(await page.getByTestId('show-form').count()).toBe(0);
    await screenshot(page, 'control-signed-out-phone');
    expect(errors).toEqual([]);
    await close();
  });

  it('with a wrong token: "Sign in again", the token gone from the address bar and the tab, no data', async () => {
    const { page, producerRequests, close } = await controlPage(DESKTOP);
    await page.goto(`${stack.appUrl}/control/#token=not-the-token`);
    await page.getByTestId('sign-in-problem').waitFor();
    expect(page.url()).toBe(`${stack.appUrl}/control/`);
    await expect(page.getByRole('heading', { level: 2 }).textContent()).resolves.toBe('Sign in again');
    await expect(page.getByTestId('sign-in-problem').textContent()).resolves.toMatch(/Sign in again/);
    await expect(announcer(page).textContent()).resolves.toMatch(/Sign in again/);
    expect(producerRequests.length).toBeGreaterThan(0);
    expect(await page.getByTestId('run').count()).toBe(0);
    expect(await page.evaluate(() => JSON.stringify(sessionStorage))).not.toContain('not-the-token');
    await screenshot(page, 'control-wrong-token-desktop');
    await close();
  });
});

describe('control room', () => {
  it('signs in, starts a show, asks its manual question, sees a viewer vote, stops and exports the results', async () => {
    const { page, errors, close } = await controlPage(DESKTOP);
    await page.goto(`${stack.appUrl}/control/#token=${token}`);
    await page.getByTestId('on-air').waitFor();
    // The token left the address bar at once, and stays for the tab (a reload keeps the producer in).
    expect(page.url()).toBe(`${stack.appUrl}/control/`);
    await page.getByTestId('runs').getByText('No runs yet').waitFor();

    // The show from a file, checked in the page by the CLI's schema: first a broken one.
    const file = page.locator('#show-file');
    const broken = { ...show, polls: [{ ...show.polls[0], answers: ['Only one'] }] };
    await file.setInputFiles({
      name: 'broken.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(broken)),
    });
    await expect(page.getByTestId('show-issues').textContent()).resolves.toBe(
      'polls[0].answers: expected 2–6 answers, got 1',
    );
    expect(await page.getByTestId('start').isDisabled()).toBe(true);
    await file.setInputFiles({
      name: 'control-e2e.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(show, null, 2)),
    });
    const sizes = await page.getByTestId('show-questions').locator('.size').allTextContents();
    expect(sizes.map((s) => s.trim())).toEqual([
      expect.stringMatching(/^\d{3} \/ 1,024 bytes$/),
      expect.stringMatching(/^\d{3} \/ 1,024 bytes$/),
    ]);
    await page.getByTestId('start').click();

    // The new run is on screen, running, its manual question waiting for the producer.
    const detail = page.locator('[data-testid="run-detail"][data-run-id^="control-e2e-"]');
    await detail.waitFor({ timeout: 15_000 });
    const runId = (await detail.getAttribute('data-run-id'))!;
    await expect(announcer(page).textContent()).resolves.toContain(`Started ${runId}`);
    await page.locator(`[data-testid="run"][data-run-id="${runId}"][data-status="RUNNING"]`).waitFor();
    const ask = page.locator('[data-testid="ask-next"]:not([disabled])');
    await ask.waitFor({ timeout: 20_000 });
    await expect(ask.textContent()).resolves.toContain('cat: Which cat would you adopt?');
    await page.locator('[data-testid="question"][data-poll="cat"][data-phase="waiting"]').waitFor();
    await page.locator('[data-testid="question"][data-poll="quiz"][data-phase="scheduled"]').waitFor();

    // N asks it — not while typing in a field.
    await page.locator('#channel').focus();
    await page.keyboard.press('n');
    await page.waitForTimeout(500);
    await page.locator('[data-testid="question"][data-poll="cat"][data-phase="waiting"]').waitFor();
    await expect(page.locator('#channel').inputValue()).resolves.toBe('n');
    await page.locator('#channel').fill('');
    await page.locator('#on-air-title').click();
    await page.keyboard.press('n');
    const asked = page.locator('[data-testid="question"][data-poll="cat"][data-phase="open"]');
    await asked.waitFor({ timeout: 15_000 });
    await expect(announcer(page).textContent()).resolves.toMatch(
      /(Cued|Asked) cat: Which cat would you adopt\?/,
    );

    // A viewer at / answers; the vote arrives in the control room.
    const viewerContext = await browser.newContext({ viewport: PHONE });
    const viewer = await viewerContext.newPage();
    await viewer.goto(`${stack.appUrl}/`);
    await viewer.getByRole('button', { name: 'Siamese' }).click({ timeout: 30_000 });
    await viewer.getByTestId('my-answer').waitFor();
    await page
      .locator('[data-testid="question"][data-poll="cat"][data-votes="1"]')
      .waitFor({ timeout: 15_000 });
    await expect(asked.locator('[data-testid="result-row"]').nth(1).textContent()).resolves.toContain(
      '100% · 1',
    );
    await screenshot(page, 'control-running-desktop');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'control-running-phone');
    await page.setViewportSize(DESKTOP);

    // Stop, with a confirmation; Escape keeps it running.
    await page.getByTestId('stop').click();
    await page.getByTestId('stop-dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('stop-dialog').waitFor({ state: 'hidden' });
    await page.getByTestId('stop').click();
    await screenshot(page, 'control-stop-dialog-desktop');
    await page.getByTestId('confirm-stop').click();
    await page
      .locator(`[data-testid="run"][data-run-id="${runId}"][data-status="ABORTED"]`)
      .waitFor({ timeout: 15_000 });
    await page.getByTestId('ask-next').waitFor({ state: 'detached' });
    await expect(announcer(page).textContent()).resolves.toMatch(new RegExp(`Stopped ${runId}|ended`));
    await page.locator('[data-testid="question"][data-poll="quiz"][data-phase="not asked"]').waitFor();
    await expect(
      page.locator('[data-testid="results"] tr[data-poll="cat"] [data-testid="result-total"]').textContent(),
    ).resolves.toBe('1');

    // The exports, downloaded as the producer gets them: the CSV `showrunner results --csv` prints.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-csv').click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${runId}-results.csv`);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'run_id,poll,question,state,answer_index,answer,votes,total,share,correct,winner,closed_by,points,points_given',
    );
    // Stopped while open: the question closes once its votes settle (until then the count is the live one).
    expect(lines.filter((l) => l.includes(',cat,'))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${runId},cat,Which cat would you adopt\\?,(open|closed),0,Tabby,0,1,0\\.0000,,no,(stop)?,,$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^${runId},cat,Which cat would you adopt\\?,(open|closed),1,Siamese,1,1,1\\.0000,,yes,(stop)?,,$`,
        ),
      ),
    ]);
    expect(lines.find((l) => l.includes(',quiz,'))).toMatch(/,not asked,0,True,0,0,0,yes,no,,1000,$/);
    // …and then says the stop closed it.
    await expect(
      page
        .locator('[data-testid="question"][data-poll="cat"][data-phase="closed"] [data-testid="closed-by"]')
        .textContent({ timeout: 20_000 }),
    ).resolves.toBe('closed by the stop');
    const [json] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-json').click(),
    ]);
    const results = JSON.parse(await readFile((await json.path())!, 'utf8'));
    expect(results).toMatchObject({
      runId,
      polls: [
        { poll: 'cat', counts: [0, 1], total: 1, winner: ['Siamese'] },
        { poll: 'quiz', state: 'not asked', correct: 0 },
      ],
    });
    await screenshot(page, 'control-stopped-desktop');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'control-stopped-phone');

    // A reload keeps the producer signed in for the tab.
    await page.reload();
    await page.locator(`[data-testid="run"][data-run-id="${runId}"]`).waitFor();

    // Signing out forgets the token for the tab; the page stays (the local stack has no sign-in
    // service to tell).
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('sign-in').waitFor();
    expect(page.url()).toBe(`${stack.appUrl}/control/`);
    expect(await page.getByTestId('sign-in-problem').count()).toBe(0);
    expect(await page.evaluate(() => JSON.stringify(sessionStorage))).not.toContain(token);
    expect(errors).toEqual([]);
    await viewerContext.close();
    await close();
  }, 120_000);

  it('one show per channel: a show running elsewhere is named, and "Replace the running show" stops it and starts this one', async () => {
    // A show started by someone else (the CLI, a colleague): it waits for a manual cue, so it runs on.
    const producer = (path: string, body?: unknown) =>
      fetch(`${stack.apiUrl}/producer${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }).then(async (r) => ({ status: r.status, json: await r.json() }));
    const other = await producer('/start', {
      show: { ...show, id: 'elsewhere', title: 'Started elsewhere', polls: [show.polls[0]] },
    });
    expect(other.status).toBe(201);
    const otherRun = other.json.runId as string;

    const { page, errors, close } = await controlPage(DESKTOP);
    await page.goto(`${stack.appUrl}/control/#token=${token}`);
    // The page opens on the running show, not on the newest run.
    await page.locator(`[data-testid="run-detail"][data-run-id="${otherRun}"]`).waitFor();
    await page.locator('#show-text').fill(JSON.stringify({ ...show, polls: [show.polls[0]] }));
    await page.getByTestId('start').click();
    await expect(page.getByTestId('start-error').textContent()).resolves.toBe(
      `Channel local is running ${otherRun} (Started elsewhere). Stop it first, or replace it with this show.`,
    );
    await screenshot(page, 'control-channel-busy-desktop');
    await page.getByTestId('replace').click();
    const detail = page.locator('[data-testid="run-detail"][data-run-id^="control-e2e-"]');
    await detail.waitFor({ timeout: 30_000 });
    const runId = (await detail.getAttribute('data-run-id'))!;
    await expect(announcer(page).textContent()).resolves.toBe(`Replaced ${otherRun}. Started ${runId}.`);
    await page.locator(`[data-testid="run"][data-run-id="${runId}"][data-status="RUNNING"]`).waitFor();
    await page.locator(`[data-testid="run"][data-run-id="${otherRun}"][data-status="ABORTED"]`).waitFor({
      timeout: 15_000,
    });
    expect(await page.getByTestId('start-error').count()).toBe(0);
    expect(errors).toEqual([]);
    expect((await producer('/stop', { runId })).status).toBe(200);
    await close();
  }, 90_000);
});
