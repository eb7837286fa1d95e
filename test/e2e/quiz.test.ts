// The quiz on the viewer page and in the control room (issue 22), in headless Chromium at phone and
// desktop size against the local stack's stream: hand-made cues go in through IVS PutMetadata
// (a quiz question with its title and points, results, a poll, the leaderboard, the podium), while
// the viewer API the page calls is played by the test (page.route), so the page's side is checked
// whatever the API has of the quiz yet. Every state is screenshotted (QUIZ_SHOTS, else
// test-results/screenshots) and checked with axe-core: 0 WCAG 2.1 A/AA violations.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IvsClient, PutMetadataCommand } from '@aws-sdk/client-ivs';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { encodeCue, pollCue, resultsCue } from '../../core/cues.ts';
import { displayName, leaderboardOf, type PlayerStanding } from '../../core/leaderboard.ts';
import { scoreVote } from '../../core/scoring.ts';
import type { LeaderboardStanding, RunLeaderboard } from '../../contract/producer.ts';
import type { Cue } from '../../contract/cues.ts';
import { localClientConfig } from '../../local/server.ts';
import { launchChromium, SCREENSHOTS } from '../support/browser.ts';
import { startStack, type StackProcess } from '../support/stack.ts';

const CHANNEL = 'arn:aws:ivs:us-east-1:000000000000:channel/local';
const RUN = 'quiz-e2e-20300101T120000Z';
const SHOTS = process.env.QUIZ_SHOTS ?? SCREENSHOTS;
const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } } as const;
type Size = keyof typeof SIZES;
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WCAG21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

let stack: StackProcess;
let browser: Browser;
let ivs: IvsClient;
let token: string;

/** axe-core's WCAG 2.1 A/AA violations on the page, as "rule: selector — summary" lines. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  return page.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: typeof import('axe-core') }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return result.violations.flatMap((v) =>
      v.nodes.map((n) => `${v.id}: ${n.target.join(' ')} — ${n.failureSummary ?? ''}`),
    );
  }, WCAG21_AA);
}

async function shot(page: Page, name: string, size: Size): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}-${size}.png`), fullPage: true });
}

async function send(cue: Cue): Promise<void> {
  await ivs.send(new PutMetadataCommand({ channelArn: CHANNEL, metadata: encodeCue(cue) }));
}

const json = (route: Route, status: number, body: unknown) =>
  route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });

interface Entry {
  poll_id: string;
  answer: number;
  answered_at: string;
  question: string;
  answers: string[];
  state: 'open' | 'closed';
  correct?: number;
  points?: number;
  elapsed_ms?: number;
}

/** A viewer page whose API the test plays: it records votes and answers history and nickname calls. */
async function viewerPage(size: Size, requestorId: string) {
  const context: BrowserContext = await browser.newContext({ viewport: SIZES[size] });
  await context.addInitScript((id) => {
    localStorage.setItem('showrunner.viewer', JSON.stringify({ requestor_id: id, token: 'e2e-token' }));
  }, requestorId);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const polls = new Map<string, { question: string; answers: string[] }>();
  const entries: Entry[] = [];
  await page.route(/\/api\/(requestor-|poll-)/, async (route) => {
    const url = new URL(route.request().url());
    const path = url.pathname.replace(/^\/api/, '');
    if (path === '/poll-current') return json(route, 404, { error: { code: 'no_poll', message: 'no poll' } });
    if (path === '/poll-get') {
      const id = url.searchParams.get('poll_id')!;
      const poll = polls.get(id) ?? { question: id, answers: ['A', 'B'] };
      return json(route, 200, {
        poll_id: id,
        ...poll,
        state: 'open',
        counts: poll.answers.map(() => 0),
        total: 0,
        closes_at: new Date(Date.now() + 60_000).toISOString(),
      });
    }
    if (path === '/requestor-put') {
      const vote = route.request().postDataJSON() as { poll_id: string; answer: number; elapsed_ms?: number };
      const poll = polls.get(vote.poll_id)!;
      entries.unshift({
        poll_id: vote.poll_id,
        answer: vote.answer,
        answered_at: new Date().toISOString(),
        ...poll,
        state: 'open',
        ...(vote.elapsed_ms === undefined ? {} : { elapsed_ms: vote.elapsed_ms }),
      });
      return json(route, 201, {
        ...vote,
        requestor_id: requestorId,
        timestamp_created: Date.now(),
        timestamp_ttl: 0,
      });
    }
    if (path === '/requestor-get') {
      const items = entries.map(({ elapsed_ms: _, ...entry }) => entry);
      return json(route, 200, { items, next_cursor: null });
    }
    if (path === '/requestor-name') {
      const body = route.request().postDataJSON() as { nickname: string };
      return json(route, 200, { requestor_id: requestorId, nickname: body.nickname.trim() });
    }
    return json(route, 404, { error: { code: 'not_found', message: path } });
  });
  await page.goto(`${stack.appUrl}/`);
  await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 1, undefined, {
    timeout: 30_000,
  });
  return {
    page,
    errors,
    size,
    /** The question as the stream will ask it (the fake API's /poll-get and history know it). */
    know(pollId: string, question: string, answers: string[]) {
      polls.set(pollId, { question, answers });
    },
    /** The question closed: its history entry gets `correct` and the points the API would give. */
    close(
      pollId: string,
      correct: number | undefined,
      points?: { points: number; speed: boolean; durationMs: number },
    ) {
      const entry = entries.find((e) => e.poll_id === pollId);
      if (!entry) return;
      entry.state = 'closed';
      if (correct === undefined) return;
      entry.correct = correct;
      if (points) {
        entry.points = scoreVote({
          correct,
          answer: entry.answer,
          points: points.points,
          speed: points.speed,
          durationMs: points.durationMs,
          elapsedMs: entry.elapsed_ms ?? points.durationMs,
        });
      }
    },
    score: () => entries.reduce((sum, e) => sum + (e.points ?? 0), 0),
    close_: () => context.close(),
  };
}

type Viewer = Awaited<ReturnType<typeof viewerPage>>;

async function checkAll(viewers: Viewer[], name: string): Promise<void> {
  for (const v of viewers) {
    await shot(v.page, name, v.size);
    expect({ state: name, size: v.size, violations: await axeViolations(v.page) }).toEqual({
      state: name,
      size: v.size,
      violations: [],
    });
  }
}

const card = (page: Page) => page.getByTestId('poll-card');

beforeAll(async () => {
  stack = await startStack();
  const link = /(http:\/\/\S+\/control\/)#token=([A-Za-z0-9_-]+)/.exec(stack.output());
  if (!link) throw new Error(`the stack printed no control room link:\n${stack.output()}`);
  token = link[2]!;
  ivs = new IvsClient(localClientConfig(stack.edgeUrl));
  browser = await launchChromium();
  // Join once the live window is full (see sync.test.ts).
  for (let i = 0; i < 100; i++) {
    const playlist = await (await fetch(`${stack.appUrl}/live/local/index.m3u8`)).text();
    if ((playlist.match(/#EXTINF/g) ?? []).length >= 12) break;
    await new Promise((r) => setTimeout(r, 250));
  }
}, 60_000);

afterAll(async () => {
  ivs?.destroy();
  await browser?.close();
  await stack?.stop();
});

describe('the quiz on the viewer page', () => {
  it('nickname, a quiz question, right and wrong, a poll, the leaderboard and the podium: each state at phone and desktop size, accessible', async () => {
    const viewers = [await viewerPage('phone', 'e2e-phone'), await viewerPage('desktop', 'e2e-desktop')];
    const names = { phone: 'Bo 🐱', desktop: 'Ada Lovelace' } as const;

    // The LIVE badge only while the stream plays.
    for (const v of viewers) await v.page.getByTestId('live-badge').waitFor();
    await checkAll(viewers, 'nickname-form');
    for (const v of viewers) {
      await v.page.getByLabel('Your name on the leaderboard').fill(names[v.size]);
      await v.page.getByRole('button', { name: 'Save' }).click();
      await expect(v.page.getByTestId('nickname-saved').textContent()).resolves.toBe(names[v.size]);
    }

    // A quiz question with the speed bonus.
    const q1 = {
      id: `${RUN}:q1`,
      question: 'How many hours a day do cats sleep?',
      answers: ['12–16', '6–8', '20–22'],
    };
    const quizScoring = { points: 1000, speed: true, durationMs: 60_000 };
    for (const v of viewers) v.know(q1.id, q1.question, q1.answers);
    await send(pollCue(q1.id, { ...q1, duration: 60, title: 'Cat Facts Live', points: 1000, speed: true }));
    for (const v of viewers) {
      await v.page
        .locator(`[data-testid="poll-card"][data-poll-id="${q1.id}"][data-phase="answering"]`)
        .waitFor({ timeout: 30_000 });
      await expect(v.page.getByTestId('quiz-marker').textContent()).resolves.toMatch(
        /Quiz · 1,000 points\s*\+ speed bonus/,
      );
      await expect(v.page.getByTestId('show-title').textContent()).resolves.toBe('Cat Facts Live');
    }
    await checkAll(viewers, 'quiz-question');
    for (const v of viewers) {
      await card(v.page).getByRole('button', { name: '12–16' }).click();
      await v.page.locator('[data-testid="poll-card"][data-phase="answered"]').waitFor();
      await v.page.getByTestId('countdown-bar').waitFor();
    }
    await checkAll(viewers, 'quiz-answered');
    for (const v of viewers) v.close(q1.id, 0, quizScoring);
    await send(resultsCue(q1.id, [41, 12, 7], 0));
    for (const v of viewers) {
      await v.page.locator('[data-testid="poll-card"][data-phase="revealed"]').waitFor({ timeout: 30_000 });
      await expect(v.page.getByTestId('outcome').textContent()).resolves.toMatch(
        /^✓ You were right \(\+\d{3}\)$/,
      );
      // The history has its points and the running total.
      await v.page
        .locator(`[data-testid="history-item"][data-poll-id="${q1.id}"][data-points="${v.score()}"]`)
        .waitFor();
      // The first quiz question closed: the name is fixed.
      await v.page.locator('[data-testid="nickname"][data-locked="true"]').waitFor();
    }
    await checkAll(viewers, 'quiz-right');

    // A quiz question answered wrong.
    const q2 = { id: `${RUN}:q2`, question: 'Can cats taste sweetness?', answers: ['Yes', 'No'] };
    for (const v of viewers) v.know(q2.id, q2.question, q2.answers);
    await send(pollCue(q2.id, { ...q2, duration: 30, title: 'Cat Facts Live', points: 500 }));
    for (const v of viewers) {
      await v.page
        .locator(`[data-testid="poll-card"][data-poll-id="${q2.id}"][data-phase="answering"]`)
        .waitFor({ timeout: 30_000 });
      await card(v.page).getByRole('button', { name: 'Yes' }).click();
      await v.page.locator('[data-testid="poll-card"][data-phase="answered"]').waitFor();
      v.close(q2.id, 1, { points: 500, speed: false, durationMs: 30_000 });
    }
    await send(resultsCue(q2.id, [30, 28], 1));
    for (const v of viewers) {
      await v.page
        .locator(`[data-testid="poll-card"][data-poll-id="${q2.id}"][data-phase="revealed"]`)
        .waitFor({ timeout: 30_000 });
      await expect(v.page.getByTestId('outcome').textContent()).resolves.toMatch(/✗ The answer was\s*No/);
      await v.page
        .locator(`[data-testid="history-item"][data-poll-id="${q2.id}"][data-points="0"]`)
        .waitFor();
    }
    await checkAll(viewers, 'quiz-wrong');

    // A poll: its winner labelled.
    const p1 = {
      id: `${RUN}:p1`,
      question: 'Which cat would you adopt?',
      answers: ['Tabby', 'Siamese', 'Maine Coon'],
    };
    for (const v of viewers) v.know(p1.id, p1.question, p1.answers);
    await send(pollCue(p1.id, { ...p1, duration: 30, title: 'Cat Facts Live' }));
    for (const v of viewers) {
      await v.page
        .locator(`[data-testid="poll-card"][data-poll-id="${p1.id}"][data-phase="answering"]`)
        .waitFor({ timeout: 30_000 });
      expect(await v.page.getByTestId('quiz-marker').count()).toBe(0);
      await card(v.page).getByRole('button', { name: 'Siamese' }).click();
      await v.page.locator('[data-testid="poll-card"][data-phase="answered"]').waitFor();
      v.close(p1.id, undefined);
    }
    await send(resultsCue(p1.id, [14, 31, 9]));
    for (const v of viewers) {
      await v.page
        .locator(`[data-testid="poll-card"][data-poll-id="${p1.id}"][data-phase="revealed"]`)
        .waitFor({ timeout: 30_000 });
      await expect(v.page.getByTestId('winner').allTextContents()).resolves.toEqual(['Most votes']);
    }
    await checkAll(viewers, 'poll-winner');

    // The leaderboard after a quiz question: the top 10 and each viewer's own place.
    const others = (scores: number[]): PlayerStanding[] =>
      scores.map((score, i) => ({
        requestorId: `other-${i}`,
        name: ['Mia', 'Noah', 'Zoë', 'Liam', '<b>Kim</b>', 'Olu', 'Sam', 'Yuki', 'Ravi', 'Ana', 'Tom', 'Eve'][
          i % 12
        ]!,
        score,
        totalAnswerMs: 9000 + i,
        firstAnsweredAt: 1,
      }));
    const us = viewers.map((v) => ({
      requestorId: `e2e-${v.size}`,
      name: names[v.size],
      score: v.score(),
      totalAnswerMs: 1,
      firstAnsweredAt: 1,
    }));
    await send(
      leaderboardOf([...others([1500, 1450, 1000, 400, 300, 250, 200, 150, 100, 50, 20, 10, 0, 0]), ...us], {
        pollId: q2.id,
      }),
    );
    for (const v of viewers) {
      await v.page.locator('[data-testid="leaderboard"][data-final="false"]').waitFor({ timeout: 30_000 });
      await expect(v.page.getByTestId('players').textContent()).resolves.toBe('16 players');
      await expect(v.page.getByTestId('own-place').textContent()).resolves.toMatch(/You are #[45]/);
      expect(await v.page.getByTestId('leaderboard').locator('b').count()).toBe(0);
    }
    await checkAll(viewers, 'leaderboard');

    await send(leaderboardOf([...others([1200, 300, 100]), ...us], { pollId: q2.id, final: true }));
    for (const v of viewers) {
      await v.page.locator('[data-testid="leaderboard"][data-final="true"]').waitFor({ timeout: 30_000 });
      await expect(v.page.getByTestId('podium-entry').count()).resolves.toBe(3);
    }
    await checkAll(viewers, 'podium');
    for (const v of viewers) {
      expect(v.errors).toEqual([]);
      await v.close_();
    }
  }, 240_000);
});

describe('the standings in the control room', () => {
  it('shows the standings and the podium, hides a name, and offers the leaderboard downloads: phone and desktop, accessible', async () => {
    const producer = (path: string, body?: unknown) =>
      fetch(`${stack.apiUrl}/producer${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));
    const started = await producer('/start', {
      show: {
        id: 'quiz-e2e',
        title: 'Cat Facts Live',
        polls: [
          {
            id: 'q1',
            at: 'manual',
            question: 'Cats sleep 12–16 hours a day.',
            answers: ['True', 'False'],
            correct: 0,
          },
        ],
      },
    });
    expect(started.status).toBe(201);
    const runId = started.json.runId as string;
    const standing = (
      rank: number,
      nickname: string | null,
      score: number,
      hidden = false,
    ): LeaderboardStanding => ({
      rank,
      requestor_id: `player-${rank}`,
      name: displayName(nickname, hidden, `player-${rank}`),
      nickname,
      hidden,
      score,
      total_answer_ms: 3100 * rank,
    });
    const board: RunLeaderboard = {
      runId,
      players: 6,
      final: true,
      standings: [
        standing(1, 'Ada Lovelace', 2850),
        standing(2, 'Bo 🐱', 2400),
        standing(3, null, 1900),
        standing(4, 'Rude Name', 1000, true),
        standing(5, '=HYPERLINK("x")', 500),
        standing(6, 'Zoë', 0),
      ],
    };
    for (const size of ['phone', 'desktop'] as const) {
      const shown = structuredClone(board);
      const context = await browser.newContext({ viewport: SIZES[size] });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const hides: unknown[] = [];
      await page.route(/\/api\/producer\/(leaderboard|hide-name)/, async (route) => {
        if (route.request().url().includes('hide-name')) {
          const body = route.request().postDataJSON() as { requestorId: string; hidden: boolean };
          hides.push(body);
          shown.standings = shown.standings.map((s) =>
            s.requestor_id === body.requestorId
              ? { ...s, hidden: body.hidden, name: displayName(s.nickname, body.hidden, s.requestor_id) }
              : s,
          );
          return json(route, 200, body);
        }
        return json(route, 200, shown);
      });
      await page.goto(`${stack.appUrl}/control/#token=${token}`);
      await page.locator(`[data-testid="run-detail"][data-run-id="${runId}"]`).waitFor({ timeout: 30_000 });
      await page.getByTestId('standings').waitFor({ timeout: 15_000 });
      await page.getByTestId('podium').waitFor();
      await page.getByTestId('export-leaderboard-csv').waitFor();
      await shot(page, 'control-standings', size);
      expect(await axeViolations(page)).toEqual([]);
      const row = page.locator('[data-requestor-id="player-1"]');
      await row.getByRole('button', { name: 'Hide the name Ada Lovelace' }).click();
      await page.locator('[data-requestor-id="player-1"][data-hidden="true"]').waitFor();
      expect(hides).toEqual([{ requestorId: 'player-1', hidden: true }]);
      await shot(page, 'control-standings-hidden', size);
      expect(errors).toEqual([]);
      await context.close();
    }
    expect((await producer('/stop', { runId })).status).toBe(200);
  }, 120_000);
});
