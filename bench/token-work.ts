// What a viewer identity's proof of work costs (lambdas/viewer-token.ts, site/src/lib/identity.ts):
//   - hashing speed: the site's SHA-256 in Chromium (as on a desktop, and with the CPU slowed 4× as
//     Lighthouse does for a mid-range phone), crypto.subtle.digest for comparison, and in Node:
//     the same code, node:crypto, and OpenSSL's native speed (what a script minting in bulk gets);
//   - time per token at each difficulty: solveChallenge in the page, as the site runs it;
//   - optionally, a viewer's first vote: from navigation to the first 201 of POST /requestor-put on
//     a fresh page against a local stack, for this checkout and (--before DIR) another one;
//   - optionally (--mint N), one process minting N identities in a loop against a local stack.
//
//   node bench/token-work.ts [--bits 16,17,18,19] [--tokens 40] [--first-vote N [--first-vote-only]]
//                            [--before DIR] [--mint N]
// Prints tables and writes bench/results/token-work.json.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { DEFAULT_TOKEN_WORK_BITS } from '../lambdas/config.ts';
import { ChallengeHasher } from '../site/src/lib/identity.ts';
import { launchChromium } from '../test/support/browser.ts';
import { freePort, ROOT } from '../test/support/stack.ts';
import { mintViewer } from '../test/support/viewer.ts';
import { percentile, round, storeFor, table } from './lib.ts';

/** A challenge as the API writes one (83 characters): the prefix every nonce is hashed after. */
const sampleChallenge = () =>
  `${Date.now()}.${DEFAULT_TOKEN_WORK_BITS}.${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}`;

/** The CPU slow-down Lighthouse applies for its mobile runs (a mid-range phone). */
export const PHONE_CPU_SLOWDOWN = 4;

interface Timing {
  median: number;
  p95: number;
  mean: number;
}

const timing = (values: number[]): Timing => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
  };
};

/** Hashes per second of `fn` over about `ms`. */
function rate(fn: (n: number) => void, ms = 1500): number {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ms) for (const stop = n + 2000; n < stop; n++) fn(n);
  return Math.round(n / ((performance.now() - start) / 1000));
}

function nodeRates() {
  const challenge = sampleChallenge();
  const hasher = new ChallengeHasher(challenge);
  const rows = [
    {
      where: 'Node',
      how: "the site's SHA-256 (same code as the page)",
      hashesPerSecond: rate((n) => hasher.firstWord(n)),
    },
    {
      where: 'Node',
      how: 'node:crypto createHash per nonce',
      hashesPerSecond: rate((n) =>
        createHash('sha256')
          .update(challenge + n)
          .digest(),
      ),
    },
  ];
  try {
    // One SHA-256 block per nonce once the prefix's first block is kept, as a bulk minter would.
    const out = execFileSync('openssl', ['speed', '-seconds', '2', '-bytes', '64', 'sha256'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const kBytes = Number(/^sha256\s+([\d.]+)k/m.exec(out)?.[1]);
    if (kBytes > 0) {
      rows.push({
        where: 'native',
        how: 'OpenSSL, one 64-byte block per nonce, one core',
        hashesPerSecond: Math.round((kBytes * 1000) / 64),
      });
    }
  } catch {
    // no openssl binary: the row is left out
  }
  return rows;
}

/** The site's solver as a script for the page: window.tokenWork = { solveChallenge, ChallengeHasher }. */
async function pageScript(): Promise<string> {
  const result = await build({
    stdin: {
      contents: "export { solveChallenge, ChallengeHasher } from './site/src/lib/identity.ts';",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    globalName: 'tokenWork',
    target: 'es2022',
    write: false,
  });
  return result.outputFiles[0]!.text;
}

async function slowDown(page: Page, rate: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
}

declare const tokenWork: typeof import('../site/src/lib/identity.ts');

async function chromiumRates(browser: Browser, script: string, slowdown: number) {
  const page = await browser.newPage();
  // A secure context (crypto.subtle exists): an empty page on 127.0.0.1.
  await page.route('http://127.0.0.1:9/', (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>work</title>' }),
  );
  await page.goto('http://127.0.0.1:9/');
  await page.addScriptTag({ content: script });
  await slowDown(page, slowdown);
  const challenge = sampleChallenge();
  const rates = await page.evaluate(async (challenge) => {
    const time = (fn: (n: number) => void, ms = 1500) => {
      const start = performance.now();
      let n = 0;
      while (performance.now() - start < ms) for (const stop = n + 2000; n < stop; n++) fn(n);
      return Math.round(n / ((performance.now() - start) / 1000));
    };
    const hasher = new tokenWork.ChallengeHasher(challenge);
    const js = time((n) => hasher.firstWord(n));
    const encoder = new TextEncoder();
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < 1500)
      await crypto.subtle.digest('SHA-256', encoder.encode(challenge + n++));
    return { js, subtle: Math.round(n / ((performance.now() - start) / 1000)) };
  }, challenge);
  await page.close();
  const where = slowdown === 1 ? 'Chromium' : `Chromium, CPU ${slowdown}× slower (phone)`;
  return [
    { where, how: "the site's SHA-256, in slices", hashesPerSecond: rates.js },
    { where, how: 'crypto.subtle.digest, one await per nonce', hashesPerSecond: rates.subtle },
  ];
}

async function chromiumSolves(
  browser: Browser,
  script: string,
  slowdown: number,
  bits: number,
  tokens: number,
) {
  const page = await browser.newPage();
  await page.route('http://127.0.0.1:9/', (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>work</title>' }),
  );
  await page.goto('http://127.0.0.1:9/');
  await page.addScriptTag({ content: script });
  await slowDown(page, slowdown);
  const times: number[] = [];
  for (let i = 0; i < tokens; i++) {
    const challenge = sampleChallenge();
    times.push(
      await page.evaluate(
        async ([challenge, bits]) => {
          const start = performance.now();
          await tokenWork.solveChallenge(challenge, bits);
          return performance.now() - start;
        },
        [challenge, bits] as const,
      ),
    );
  }
  await page.close();
  return {
    where: slowdown === 1 ? 'Chromium' : `Chromium, CPU ${slowdown}× slower (phone)`,
    bits,
    tokens,
    ms: timing(times),
  };
}

interface RunningStack {
  appUrl: string;
  edgeUrl: string;
  stop(): Promise<void>;
}

/** `node local/main.ts --no-demo` of the checkout at `root`, on free ports and a fresh data directory. */
async function startCheckout(root: string): Promise<RunningStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'showrunner-token-work-'));
  const port = await freePort();
  const edgePort = await freePort();
  const child = spawn(process.execPath, ['local/main.ts', '--no-demo', '--data-dir', dataDir], {
    cwd: root,
    env: { ...process.env, PORT: String(port), EDGE_PORT: String(edgePort), RTMP_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack did not start:\n${output}`)), 60_000);
    const check = (d: Buffer) => {
      output += d.toString();
      if (output.includes('ready: open')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', () => reject(new Error(`stack exited:\n${output}`)));
  });
  return {
    appUrl: `http://127.0.0.1:${port}`,
    edgeUrl: `http://127.0.0.1:${edgePort}`,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

interface FirstVoteSamples {
  times: number[];
  mints: number[];
  works: number[];
  failures: string[];
}

/**
 * Milliseconds from navigation to the first 201 of POST /requestor-put, each on a fresh page (no
 * identity yet) that clicks an answer as soon as it is shown; the identity's share (first request to
 * its 201) and the work's (challenge answered to token requested). The checkouts take turns, run by
 * run, so a busy moment on the machine falls on both.
 */
async function firstVotes(browser: Browser, roots: string[], runs: number, slowdown: number) {
  const stacks: RunningStack[] = [];
  try {
    for (const root of roots) stacks.push(await startCheckout(root));
    const samples: FirstVoteSamples[] = roots.map(() => ({ times: [], mints: [], works: [], failures: [] }));
    for (let i = 0; i < runs; i++) {
      for (let k = 0; k < stacks.length; k++) {
        const j = (i + k) % stacks.length; // alternate who goes first
        await firstVote(browser, stacks[j]!, `token-work:q${slowdown}-${i}`, slowdown, samples[j]!);
      }
    }
    return samples.map((s) => ({
      firstVote: timing(s.times),
      mint: timing(s.mints),
      work: timing(s.works),
      failures: s.failures,
    }));
  } finally {
    for (const stack of stacks) await stack.stop();
  }
}

async function firstVote(
  browser: Browser,
  stack: RunningStack,
  pollId: string,
  slowdown: number,
  into: FirstVoteSamples,
): Promise<void> {
  const store = storeFor(stack.edgeUrl);
  const now = Date.now();
  await store.openPoll({
    pollId,
    runId: 'token-work',
    question: 'First vote?',
    answers: ['Yes', 'No'],
    state: 'open',
    openedAt: new Date(now).toISOString(),
    closesAt: new Date(now + 600_000).toISOString(),
  });
  await store.setCurrentPoll('local', pollId);
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await slowDown(page, slowdown);
    let mintStart = 0;
    let mintEnd = 0;
    let challenged = 0;
    let solved = 0;
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (!mintStart && /\/requestor-(challenge|token)$/.test(path)) mintStart = performance.now();
      if (!solved && path.endsWith('/requestor-token') && r.method() === 'POST') solved = performance.now();
    });
    page.on('response', (r) => {
      const path = new URL(r.url()).pathname;
      if (!challenged && path.endsWith('/requestor-challenge')) challenged = performance.now();
      if (path.endsWith('/requestor-token') && r.status() === 201) mintEnd = performance.now();
    });
    const voted = page.waitForResponse(
      (r) =>
        new URL(r.url()).pathname.endsWith('/requestor-put') &&
        r.request().method() === 'POST' &&
        r.status() === 201,
      { timeout: 60_000 },
    );
    voted.catch(() => undefined); // awaited below; a failure before then is reported instead
    const start = performance.now();
    await page.goto(`${stack.appUrl}/`);
    await page
      .locator(`[data-testid="poll-card"][data-poll-id="${pollId}"]`)
      .getByRole('button', { name: 'Yes' })
      .click();
    await voted;
    into.times.push(performance.now() - start);
    if (mintStart && mintEnd) into.mints.push(mintEnd - mintStart);
    if (challenged && solved) into.works.push(solved - challenged);
  } catch (error) {
    into.failures.push(String(error).split('\n')[0]!);
  } finally {
    await context.close();
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      bits: { type: 'string', default: '16,17,18,19' },
      'first-vote-only': { type: 'boolean', default: false },
      mint: { type: 'string', default: '0' },
      tokens: { type: 'string', default: '40' },
      'first-vote': { type: 'string', default: '0' },
      before: { type: 'string' },
    },
  });
  const bitsList = values.bits.split(',').map(Number);
  const tokens = Number(values.tokens);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`;
  console.log(`machine: ${machine}`);
  const browser = await launchChromium();
  try {
    const script = await pageScript();
    const only = values['first-vote-only'];
    const rates = only
      ? []
      : [
          ...nodeRates(),
          ...(await chromiumRates(browser, script, 1)),
          ...(await chromiumRates(browser, script, PHONE_CPU_SLOWDOWN)),
        ];
    const solves = [];
    for (const slowdown of only ? [] : [1, PHONE_CPU_SLOWDOWN]) {
      for (const bits of bitsList) solves.push(await chromiumSolves(browser, script, slowdown, bits, tokens));
    }
    const native = rates.find((r) => r.where === 'native')?.hashesPerSecond;
    const attacker = native
      ? bitsList.map((bits) => ({ bits, 'tokens/s per core (native)': round(native / 2 ** bits, 1) }))
      : [];
    if (!only) {
      const speeds = rates.map((r) => ({ ...r, hashesPerSecond: r.hashesPerSecond.toLocaleString('en-US') }));
      console.log(`\nhashing speed\n${table(speeds)}`);
      const perToken = solves.map((s) => ({
        where: s.where,
        bits: s.bits,
        'median ms': s.ms.median,
        'p95 ms': s.ms.p95,
        'mean ms': s.ms.mean,
      }));
      console.log(
        `\ntime per token (solveChallenge in the page, ${tokens} tokens each; default ${DEFAULT_TOKEN_WORK_BITS} bits)\n${table(perToken)}`,
      );
      if (attacker.length) console.log(`\na script minting in bulk\n${table(attacker)}`);
    }

    const firstVote: Record<string, unknown> = {};
    const runs = Number(values['first-vote']);
    if (runs > 0) {
      const checkouts: [string, string][] = [['this checkout', ROOT]];
      if (values.before) checkouts.unshift(['before', values.before]);
      const rows = [];
      for (const slowdown of [1, PHONE_CPU_SLOWDOWN]) {
        const results = await firstVotes(
          browser,
          checkouts.map(([, root]) => root),
          runs,
          slowdown,
        );
        for (const [k, [name]] of checkouts.entries()) {
          const got = results[k]!;
          firstVote[`${name}, CPU ${slowdown}×`] = got;
          rows.push({
            checkout: name,
            cpu: `${slowdown}×`,
            runs,
            'first vote median ms': got.firstVote.median,
            'p95 ms': got.firstVote.p95,
            'identity median ms': got.mint.median,
            'work median ms': got.work.median,
            failed: got.failures.length,
          });
        }
      }
      console.log(
        `\nfirst vote (navigation → first 201 vote, a fresh page clicking as soon as it can)\n${table(rows)}`,
      );
    }
    // One script minting identities one after another against a local stack, with the site's solver.
    let bulk: Record<string, number> | undefined;
    const count = Number(values.mint);
    if (count > 0) {
      const stack = await startCheckout(ROOT);
      try {
        const start = performance.now();
        for (let i = 0; i < count; i++) await mintViewer(`${stack.appUrl}/api`);
        const seconds = (performance.now() - start) / 1000;
        bulk = { identities: count, seconds: round(seconds, 1), perSecond: round(count / seconds, 1) };
        console.log(`
one process minting in a loop (the site's solver in Node)
${table([bulk])}`);
      } finally {
        await stack.stop();
      }
    }

    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(
      join(ROOT, 'bench', 'results', 'token-work.json'),
      `${JSON.stringify({ machine, defaultBits: DEFAULT_TOKEN_WORK_BITS, rates, solves, attacker, firstVote, bulk }, null, 2)}\n`,
    );
  } finally {
    await browser.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
