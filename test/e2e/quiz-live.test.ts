// A quiz question end to end with nothing played by the test: the local stack as a user starts it,
// a run started through the local Step Functions, players voting through the REST API with
// nicknames (one with markup, one the filter refuses), and a viewer in headless Chromium who saves
// a nickname in the page's form and answers by tapping. After the reveal the viewer's card says
// they were right with the points the server gave, the leaderboard cue from the stream shows the
// podium with the markup name as text, and the viewer's own place is their rank in it; the
// producer's `showrunner leaderboard --json` holds the same order.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Browser, Page } from 'playwright-core';
import { API_ROUTES } from '../../contract/api.ts';
import type { RunLeaderboard } from '../../contract/producer.ts';
import { STATE_MACHINE_NAME } from '../../contract/state-machine.ts';
import { localClientConfig } from '../../local/server.ts';
import { launchChromium, screenshot } from '../support/browser.ts';
import { api, ROOT, startStack, type StackProcess } from '../support/stack.ts';
import { viewerAuthorization } from '../support/viewer.ts';

const RUN = 'live-quiz-e2e';
const SHOW = {
  id: 'live-quiz',
  title: 'Live Quiz',
  polls: [
    {
      id: 'q1',
      at: 5,
      question: 'Which one is a mammal?',
      answers: ['Whale', 'Shark', 'Trout'],
      correct: 0,
      points: 800,
      duration: 12,
    },
  ],
};
/** API players: [id, nickname, answer]. The markup name answers right, so it is on the podium. */
const PLAYERS: Array<[string, string, number]> = [
  ['live-a', '<b>Bold</b>', 0],
  ['live-b', 'Second Fan', 0],
  ['live-c', 'Wrong Fan', 1],
];

let stack: StackProcess;
let browser: Browser;
let sfn: SFNClient;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
  sfn = new SFNClient(localClientConfig(stack.edgeUrl));
}, 90_000);

afterAll(async () => {
  sfn?.destroy();
  await browser?.close();
  expect(await stack?.stop()).toBe(0);
});

const putName = async (requestorId: string, nickname: string) => {
  const response = await fetch(`${stack.apiUrl}${API_ROUTES.name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: viewerAuthorization(stack, requestorId) },
    body: JSON.stringify({ requestor_id: requestorId, nickname }),
  });
  return { status: response.status, json: (await response.json()) as { error?: { code: string } } };
};

function cli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['cli/showrunner.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, EDGE_URL: stack.edgeUrl, AWS_ENDPOINT_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
  });
}

async function viewerPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(stack.appUrl);
  await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0.5, undefined, {
    timeout: 30_000,
  });
  return page;
}

describe('a quiz question, viewer page and API players on the real stack', () => {
  it('the viewer saves a name, answers, sees "You were right (+800)", the podium with the markup name as text, and their own place', async () => {
    const page = await viewerPage();
    await page.getByLabel('Your name on the leaderboard').fill('Page Player');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('nickname-saved').textContent()).resolves.toBe('Page Player');

    for (const [id, nickname] of PLAYERS) {
      expect((await putName(id, nickname)).status).toBe(200);
    }
    // The filter refuses this one, naming the field.
    const refused = await putName('live-d', 'shithead');
    expect(refused.status).toBe(400);

    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${STATE_MACHINE_NAME}`,
        name: RUN,
        input: JSON.stringify(SHOW),
      }),
    );
    const card = page.locator(`[data-testid="poll-card"][data-poll-id="${RUN}:q1"]`);
    await card.waitFor({ timeout: 40_000 });
    await expect(card.getByTestId('quiz-marker').textContent()).resolves.toContain('800');
    await card.getByTestId('answer').nth(0).click();

    for (const [id, , answer] of PLAYERS) {
      const vote = await api(stack, 'POST', API_ROUTES.vote, {
        poll_id: `${RUN}:q1`,
        requestor_id: id,
        answer,
        elapsed_ms: 4000,
      });
      expect(vote.status).toBe(201);
    }

    // The reveal, on the viewer's own frame: right, with the points the question is worth (no speed bonus).
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('[data-testid="poll-card"]')?.dataset.phase === 'revealed',
      undefined,
      { timeout: 60_000 },
    );
    await expect(card.getByTestId('outcome').textContent()).resolves.toContain('You were right (+800)');

    // The leaderboard cue follows the results: 4 players, the three right ones on the podium.
    const board = page.getByTestId('leaderboard');
    await board.waitFor({ timeout: 30_000 });
    await expect(board.getByTestId('players').textContent()).resolves.toBe('4 players');
    const podium = await board.getByTestId('podium-entry').allTextContents();
    expect(podium).toHaveLength(3);
    expect(podium.join(' ')).toContain('<b>Bold</b>');
    expect(await board.locator('b').count()).toBe(0);
    await screenshot(page, 'quiz-live-podium');

    // The producer's standings: the same order; the page's own place is its rank there.
    const standings = JSON.parse(await cli(['leaderboard', RUN, '--json'])) as RunLeaderboard;
    expect(standings.final).toBe(true);
    expect(standings.standings.map((s) => s.score)).toEqual([800, 800, 800, 0]);
    expect(standings.standings[3]!.nickname).toBe('Wrong Fan');
    const mine = standings.standings.find((s) => s.nickname === 'Page Player')!;
    await expect(board.getByTestId('own-place').textContent()).resolves.toContain(`#${mine.rank}`);
    // The podium lists the producer's top three, in order.
    for (const [k, entry] of standings.standings.slice(0, 3).entries()) {
      expect(podium[k]).toContain(entry.name);
    }
    await page.close();
  }, 150_000);
});
