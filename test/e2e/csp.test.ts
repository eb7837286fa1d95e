// The pages defend themselves: both pages of the built site run in headless Chromium under their
// Content-Security-Policy (contract/site-headers.ts) with no violation — the viewer page playing the
// local stream with hls.js, showing a question from the stream, taking a vote and drawing its result
// bars; the control room signed in with the token the stack prints, its preview playing, a show file
// checked (zod told not to probe for eval) — and the IVS player adapter runs its worker and
// WebAssembly under the policy the cloud sends. The policy is enforced: an injected inline script,
// inline handler or <style> does not run, and the IVS player without 'wasm-unsafe-eval' is refused
// its WebAssembly.
//
// Violations are heard three ways: `securitypolicyviolation` events in the page (an init script
// collects them), Chromium's console messages about the policy, and — for the IVS player's worker,
// which has its own policy and whose events no page listener sees — the policy's report-uri on the
// test's own server.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutMetadataCommand } from '@aws-sdk/client-ivs';
import type { IncomingMessage, Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { IVS_PLAYER_ORIGINS, type SiteOrigins } from '../../contract/site-headers.ts';
import { closeServer, createAppServer, listen, sendJson, type AppRoute } from '../../local/http.ts';
import { staticSiteRoute } from '../../local/static.ts';
import { stackTable, type StackTable } from '../support/aws.ts';
import { launchChromium, screenshot } from '../support/browser.ts';
import { freePort, ROOT, startStack, type StackProcess } from '../support/stack.ts';

const CHANNEL = 'arn:aws:ivs:us-east-1:000000000000:channel/local';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

interface Violation {
  directive: string;
  blocked: string;
  source: string;
  sample: string;
}

let stack: StackProcess;
let table: StackTable;
let browser: Browser;
let token: string;
let playbackUrl: string;

/** Runs in every page before its own scripts: keeps each `securitypolicyviolation` it sees. */
function collectViolations() {
  const seen: unknown[] = [];
  Object.defineProperty(window, '__cspViolations', { value: seen });
  document.addEventListener(
    'securitypolicyviolation',
    (e) =>
      seen.push({
        directive: e.effectiveDirective,
        blocked: e.blockedURI,
        source: `${e.sourceFile}:${e.lineNumber}`,
        sample: e.sample,
      }),
    true,
  );
}

interface Watched {
  page: Page;
  context: BrowserContext;
  /** The violations the page's document has seen so far. */
  violations(): Promise<Violation[]>;
  /** Chromium's console messages about the policy ("Refused to …", "Content Security Policy"). */
  messages: string[];
  errors: string[];
  close(): Promise<void>;
}

async function watchedPage(viewport = DESKTOP): Promise<Watched> {
  const context = await browser.newContext({ viewport });
  await context.addInitScript(collectViolations);
  const page = await context.newPage();
  const messages: string[] = [];
  const errors: string[] = [];
  page.on('console', (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) messages.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    page,
    context,
    violations: () =>
      page.evaluate(() => (window as unknown as { __cspViolations: Violation[] }).__cspViolations),
    messages,
    errors,
    close: () => context.close(),
  };
}

/**
 * Waits until the page's <video> has played a second; says what the page shows instead when it has
 * not (on a loaded machine a player can take long to start, which is no violation).
 */
async function played(page: Page, timeout = 30_000): Promise<string> {
  try {
    await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 1, undefined, {
      timeout,
    });
    return 'played';
  } catch {
    const status = await page.locator('[data-testid$="-status"]').allTextContents();
    return `not playing after ${timeout} ms: ${status.join(' | ') || 'no status shown'}`;
  }
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface CloudLikeSite {
  url: string;
  /** The `csp-report` bodies browsers posted to the policy's report-uri (workers' violations too). */
  reports: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * The built site as the cloud serves it, on an origin of its own: config.json names the IVS player,
 * the stack's API and its stream (other origins, as execute-api and IVS are), and every file carries
 * the policy built from `origins`, with a report-uri on this server.
 */
async function cloudLikeSite(port: number, origins: SiteOrigins): Promise<CloudLikeSite> {
  const reports: Array<Record<string, unknown>> = [];
  const routes: AppRoute[] = [
    {
      prefix: '/config.json',
      handle: (_req, res) =>
        sendJson(
          res,
          200,
          { apiUrl: stack.apiUrl, playbackUrl, player: 'ivs', channel: 'local' },
          { 'cache-control': 'no-store' },
        ),
    },
    {
      prefix: '/csp-report',
      async handle(req, res) {
        const report = JSON.parse(await body(req)) as { 'csp-report': Record<string, unknown> };
        reports.push(report['csp-report']);
        res.writeHead(204).end();
      },
    },
    staticSiteRoute(join(ROOT, 'site', 'dist'), () => 'site/dist is not built: npm run build\n', undefined, {
      ...origins,
      reportUri: '/csp-report',
    }),
  ];
  const server: Server = createAppServer(routes, () => undefined);
  await listen(server, port);
  return { url: `http://127.0.0.1:${port}`, reports, close: () => closeServer(server) };
}

const ivsPorts: number[] = [];

beforeAll(async () => {
  ivsPorts.push(await freePort(), await freePort());
  // The cloud-like sites call the stack's API from their own origins, as the cloud's site does.
  stack = await startStack({
    env: { CORS_ORIGINS: ivsPorts.map((p) => `http://127.0.0.1:${p}`).join(',') },
  });
  const link = /(http:\/\/\S+\/control\/)#token=([A-Za-z0-9_-]+)/.exec(stack.output());
  if (!link) throw new Error(`the stack printed no control room link:\n${stack.output()}`);
  token = link[2]!;
  table = stackTable(stack);
  const config = (await (await fetch(`${stack.appUrl}/config.json`)).json()) as { playbackUrl: string };
  playbackUrl = config.playbackUrl;
  browser = await launchChromium();
  // Join once the live window has a few segments, so players start at once.
  for (let i = 0; i < 100; i++) {
    const playlist = await (await fetch(playbackUrl)).text();
    if ((playlist.match(/#EXTINF/g) ?? []).length >= 6) break;
    await new Promise((r) => setTimeout(r, 250));
  }
}, 90_000);

afterAll(async () => {
  table?.destroy();
  await browser?.close();
  await stack?.stop();
});

/** The directives of a Content-Security-Policy header, by name. */
function directives(csp: string | null): Map<string, string[]> {
  return new Map(
    (csp ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...sources]) => [name!, sources]),
  );
}

describe('the local stack sends the security headers', () => {
  it.each([
    ['the viewer page', '/'],
    ['the control room', '/control/'],
  ])('%s (%s): a strict CSP, no referrer, no framing, no sniffing', async (_name, path) => {
    const response = await fetch(`${stack.appUrl}${path}`);
    expect(response.status).toBe(200);
    const csp = directives(response.headers.get('content-security-policy'));
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('style-src')).toEqual(["'self'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('assets, redirects and misses carry them too', async () => {
    const html = await (await fetch(`${stack.appUrl}/`)).text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    for (const [path, status] of [
      [asset, 200],
      ['/control', 308],
      ['/no-such-file.js', 404],
    ] as const) {
      const response = await fetch(`${stack.appUrl}${path}`, { redirect: 'manual' });
      expect(response.status).toBe(status);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
  });
});

describe('no violation on either page', () => {
  it('the viewer page: the stream plays (hls.js), a question from the stream is answered and revealed', async () => {
    const viewer = await watchedPage(PHONE);
    const { page } = viewer;
    await page.goto(`${stack.appUrl}/`);
    expect(await played(page)).toBe('played');
    const opened = await table.lifecycle.open(
      {
        id: 'csp',
        runId: 'csp-test',
        pollId: 'csp-test:csp',
        question: 'Does the page defend itself?',
        answers: ['Yes', 'No'],
        correct: 0,
        duration: 8,
        latencyGraceSeconds: 0,
      },
      new Date(),
      CHANNEL,
    );
    await table.ivs.send(new PutMetadataCommand({ channelArn: CHANNEL, metadata: opened.cue }));
    await page
      .locator(`[data-testid="poll-card"][data-poll-id="${opened.pollId}"]`)
      .waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Yes' }).click();
    await page.getByTestId('my-answer').waitFor();
    const closed = await table.lifecycle.close(opened.pollId);
    await table.ivs.send(new PutMetadataCommand({ channelArn: CHANNEL, metadata: closed.cue }));
    // The result bars: their widths are Svelte `style:` directives (CSSOM, which the policy allows).
    await page.locator('[data-testid="poll-card"][data-phase="revealed"]').waitFor({ timeout: 30_000 });
    await expect(
      page
        .locator('.bar')
        .first()
        .evaluate((e) => (e as HTMLElement).style.width),
    ).resolves.toBe('100%');
    await screenshot(page, 'csp-viewer-revealed-phone');
    expect(await viewer.violations()).toEqual([]);
    expect(viewer.messages).toEqual([]);
    expect(viewer.errors).toEqual([]);
    await viewer.close();
  }, 90_000);

  it('the control room: signed in with the printed token, its preview playing, a show file checked', async () => {
    const control = await watchedPage(DESKTOP);
    const { page } = control;
    await page.goto(`${stack.appUrl}/control/#token=${token}`);
    await page.getByTestId('on-air').waitFor();
    await page.getByTestId('runs').waitFor();
    const preview = await played(page, 40_000);
    // The show schema (zod) checks a file in the page: no `new Function` probe under the policy.
    await page.locator('#show-file').setInputFiles({
      name: 'csp.json',
      mimeType: 'application/json',
      buffer: Buffer.from(
        JSON.stringify({
          id: 'csp',
          title: 'CSP',
          latencyGraceSeconds: 2,
          polls: [{ id: 'q', at: 'manual', question: 'Safe?', answers: ['Yes', 'No'], duration: 30 }],
        }),
      ),
    });
    await page.getByTestId('show-questions').waitFor();
    expect(await page.getByTestId('start').isDisabled()).toBe(false);
    await screenshot(page, 'csp-control-desktop');
    expect(await control.violations()).toEqual([]);
    expect(control.messages).toEqual([]);
    expect(control.errors).toEqual([]);
    expect(preview).toBe('played');
    await control.close();
  }, 75_000);
});

describe('the policy is enforced', () => {
  it.each([
    ['the viewer page', '/'],
    ['the control room', '/control/'],
  ])(
    '%s: an injected inline script, inline handler or <style> does not run',
    async (_name, path) => {
      const watched = await watchedPage(DESKTOP);
      const { page } = watched;
      await page.goto(`${stack.appUrl}${path}`);
      await page.locator('main').waitFor();
      // What an injection would add to the document (the test's own evaluate is DevTools', which the
      // policy does not govern; the elements it adds are the page's).
      const ran = await page.evaluate(async () => {
        const w = window as unknown as Record<string, unknown>;
        const script = document.createElement('script');
        script.textContent = 'window.inlineRan = true';
        document.body.append(script);
        const holder = document.createElement('div');
        holder.innerHTML = '<img src="data:," onerror="window.handlerRan = true">';
        document.body.append(holder);
        const style = document.createElement('style');
        style.textContent = 'body { color: rgb(1, 2, 3); }';
        document.head.append(style);
        await new Promise((r) => setTimeout(r, 300));
        return {
          inline: w.inlineRan === true,
          handler: w.handlerRan === true,
          style: getComputedStyle(document.body).color === 'rgb(1, 2, 3)',
        };
      });
      expect(ran).toEqual({ inline: false, handler: false, style: false });
      // Each refusal is a violation the page heard: the listener the other tests rely on works.
      const refused = (await watched.violations()).map((v) => v.directive).sort();
      expect(refused).toEqual(['script-src-attr', 'script-src-elem', 'style-src-elem']);
      await watched.close();
    },
    60_000,
  );
});

describe('the IVS player adapter under the cloud policy', () => {
  let site: CloudLikeSite;
  let withoutWasm: CloudLikeSite;

  beforeAll(async () => {
    const streamOrigins = [new URL(playbackUrl).origin, ...IVS_PLAYER_ORIGINS];
    site = await cloudLikeSite(ivsPorts[0]!, {
      player: 'ivs',
      apiOrigin: new URL(stack.apiUrl).origin,
      streamOrigins,
    });
    // The same but for the player: what the policy would be without 'wasm-unsafe-eval'.
    withoutWasm = await cloudLikeSite(ivsPorts[1]!, {
      player: 'hls.js',
      apiOrigin: new URL(stack.apiUrl).origin,
      streamOrigins,
    });
  });

  afterAll(async () => {
    await site?.close();
    await withoutWasm?.close();
  });

  // The IVS player does not show the local stream (it is not an IVS stream: with no policy at all the
  // player also keeps loading it without playing), but everything the policy governs runs: its worker,
  // its WebAssembly, the playlist and segments from the stream's origin (other than the page's), and
  // its own call to *.live-video.net.
  it("runs its worker and WebAssembly with 'wasm-unsafe-eval' and follows the stream, with no violation", async () => {
    const viewer = await watchedPage(PHONE);
    const { page } = viewer;
    const stream = new URL(playbackUrl).origin;
    const segments: string[] = [];
    page.on('requestfinished', (r) => {
      if (r.url().startsWith(`${stream}/live/`) && r.url().endsWith('.ts')) segments.push(r.url());
    });
    const worker = page.waitForEvent('worker', { timeout: 30_000 });
    const wasm = page.waitForResponse(/amazon-ivs-wasmworker[^/]*\.wasm$/, { timeout: 30_000 });
    const deviceConfig = page.waitForRequest(/^https:\/\/prod\.ivs-device-config\.live-video\.net\//, {
      timeout: 45_000,
    });
    await page.goto(site.url);
    expect((await worker).url()).toMatch(new RegExp(`^${site.url}/assets/amazon-ivs-wasmworker`));
    expect((await wasm).status()).toBe(200);
    await page.waitForFunction(() => document.querySelector('video') !== null);
    const deadline = Date.now() + 30_000;
    while (segments.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(segments.length).toBeGreaterThanOrEqual(3);
    // The player's own call to AWS is allowed (without a network it fails, but not for the policy).
    const call = await deviceConfig;
    await call.response();
    expect(call.failure()?.errorText ?? '').not.toMatch(/csp/i);
    await screenshot(page, 'csp-ivs-player-phone');
    expect(site.reports).toEqual([]);
    expect(await viewer.violations()).toEqual([]);
    expect(viewer.messages).toEqual([]);
    await viewer.close();
  }, 90_000);

  it("is refused its WebAssembly without 'wasm-unsafe-eval' (the worker's violation reaches report-uri)", async () => {
    const viewer = await watchedPage(PHONE);
    const worker = viewer.page.waitForEvent('worker', { timeout: 30_000 });
    const wasm = viewer.page.waitForResponse(/amazon-ivs-wasmworker[^/]*\.wasm$/, { timeout: 30_000 });
    await viewer.page.goto(withoutWasm.url);
    await worker;
    await wasm;
    const deadline = Date.now() + 30_000;
    while (!withoutWasm.reports.some((r) => r['blocked-uri'] === 'wasm-eval') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(withoutWasm.reports).toContainEqual(
      expect.objectContaining({
        'blocked-uri': 'wasm-eval',
        'effective-directive': 'script-src',
        'source-file': expect.stringMatching(/\/assets\/amazon-ivs-wasmworker[^/]*\.js$/),
      }),
    );
    // Only the worker compiles WebAssembly: the page's own listener heard nothing of it.
    expect(await viewer.violations()).toEqual([]);
    await viewer.close();
  }, 60_000);
});
