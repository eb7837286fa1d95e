// First run, measured: clones the repository's committed HEAD into a fresh temporary folder, times
// `npm install` there, then `npm start` until the demo's first question is visible in headless
// Chromium, stops the stack and removes the clone. Targets: ≤ 3 min including install, ≤ 30 s after.
//
//   node bench/first-run.ts [--cold-cache] [--repo PATH|URL] [--ref REF] [--keep]
// Prints tables and writes bench/results/first-run.json; `npm run bench -- --only first_run` runs it too.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium, screenshot } from '../test/support/browser.ts';
import { freePort, ROOT } from '../test/support/stack.ts';
import { round, table } from './lib.ts';

export const TARGET_TOTAL_S = 180;
export const TARGET_AFTER_INSTALL_S = 30;

export interface FirstRunOptions {
  /** A local path or a git URL (default: this checkout). */
  repo?: string;
  /** What to check out after cloning (default: the repository's HEAD). */
  ref?: string;
  /** An empty npm cache, so the install downloads every package. */
  coldCache?: boolean;
  /** Keep the temporary folder (clone, data, npm cache) instead of deleting it. */
  keep?: boolean;
  installTimeoutS?: number;
  /** From `npm start` spawned to the "ready" line (includes prestart's site build). */
  readyTimeoutS?: number;
  /** From the page opened to the question visible. */
  questionTimeoutS?: number;
  /** Where to write the JSON (default bench/results/first-run.json); null: do not write. */
  out?: string | null;
}

export interface FirstRunResult {
  commit: string;
  cache: 'cold' | 'warm';
  clone_s: number;
  install_s: number;
  install_cpu_s: number | null;
  install_summary: string;
  node_modules_mb: number | null;
  /** With --cold-cache: the size of the npm cache after install, i.e. what was downloaded. */
  downloaded_mb: number | null;
  /** `npm start` spawned → prestart (site build) done and `local/main.ts` starting. */
  prestart_s: number | null;
  start_to_ready_s: number;
  /** `npm start` spawned → the demo show started (needs the stream live). */
  start_to_demo_s: number | null;
  page_opened_after_ready_s: number;
  page_loaded_after_ready_s: number;
  start_to_question_s: number;
  total_s: number;
  question: string;
  /** Whether the question came through the stream's timed metadata or from the API (late join). */
  question_source: 'stream cue' | 'API';
  stop_s: number;
  stopped_cleanly: boolean;
  /** npm start's exit status (or signal) after the SIGTERM. */
  stop_exit: string;
  chromium_launch_s: number;
  targets: {
    total_s: { limit: number; met: boolean };
    after_install_s: { limit: number; met: boolean };
  };
  versions: { npm: string; node_on_path: string; node_in_scripts: string };
  load_average: { before: number[]; after: number[] };
  machine: { cpus: number; cpu: string | undefined; memory_gb: number };
  date: string;
}

const HELP = `Usage: node bench/first-run.ts [options]

Times a newcomer's first run: clones the repository's committed HEAD into a fresh temporary
folder, runs \`npm install --no-audit --no-fund\` there, then \`npm start\` (free ports, fresh data
directory) until "ready: open <url>" is printed and until the demo's first question is visible in
a headless Chromium page opened at that URL. Stops the stack with SIGTERM, deletes the clone,
prints tables and writes bench/results/first-run.json.

Targets: install + start → question ≤ ${TARGET_TOTAL_S} s; start → question ≤ ${TARGET_AFTER_INSTALL_S} s.

Options:
  --repo PATH|URL        what to clone (default: this checkout; uncommitted changes are not included)
  --ref REF              branch, tag or commit to check out (default: the repository's HEAD)
  --cold-cache           install with an empty npm cache (--cache <tmp>): every package is downloaded
                         (default: the machine's npm cache, as after any earlier install)
  --keep                 keep the temporary folder (clone, data directory, npm cache)
  --install-timeout S    give up on npm install after S seconds (default 900)
  --ready-timeout S      give up if "ready" is not printed S seconds after npm start (default 300)
  --question-timeout S   give up if no question is visible S seconds after the page opens (default 120)
  --out FILE             where to write the JSON (default bench/results/first-run.json)
  -h, --help             this help

Uses npm (and its Node) from PATH as a user's shell would, with any npm_* variables and
node_modules/.bin folders of a surrounding npm script removed. The measuring Chromium is launched
before npm start, so its start-up is not in the figures.
`;

class FirstRunError extends Error {
  override readonly name = 'FirstRunError';
}

const secondsSince = (t: number) => round((performance.now() - t) / 1000, 1);

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The environment of a user's shell: no npm_* variables or node_modules/.bin of an enclosing npm script. */
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^npm_/i.test(key) || key === 'INIT_CWD' || key === 'NODE') delete env[key];
  }
  env.PATH = (env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir && !/node_modules[\\/]\.bin|node-gyp-bin/.test(dir))
    .join(delimiter);
  return { ...env, ...extra };
}

function run(command: string, args: string[], cwd: string, env = shellEnv()): string {
  return execFileSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** CPU seconds used by this process's waited-for children (Linux), to tell CPU-bound from waiting. */
function childrenCpuSeconds(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return null;
  }
}

function duMegabytes(dir: string): number | null {
  try {
    return Math.round(Number(run('du', ['-sk', dir], dir).split(/\s/)[0]) / 1024);
  } catch {
    return null;
  }
}

interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | string>;
}

function spawnLogged(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  detached = false,
): Spawned {
  const child = spawn(command, args, { cwd, env, detached, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (error) => {
      output += `\n${error.message}\n`;
      resolve('spawn error');
    });
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  return { child, output: () => output, exited };
}

/** Resolves with the first match of `pattern` in the output, or rejects on timeout or exit. */
function waitForOutput(
  proc: Spawned,
  pattern: RegExp,
  timeoutS: number,
  what: string,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(proc.output());
      if (match) {
        clearTimeout(timer);
        proc.child.stdout!.off('data', check);
        proc.child.stderr!.off('data', check);
        resolve(match);
      }
    };
    const timer = setTimeout(
      () => reject(new FirstRunError(`${what}: not within ${timeoutS} s; output:\n${tail(proc.output())}`)),
      timeoutS * 1000,
    );
    proc.child.stdout!.on('data', check);
    proc.child.stderr!.on('data', check);
    void proc.exited.then((code) => {
      clearTimeout(timer);
      reject(
        new FirstRunError(`${what}: npm start exited with ${code} first; output:\n${tail(proc.output())}`),
      );
    });
    check();
  });
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The `node local/main.ts` process among npm start's process group (Linux /proc), if found. */
function stackPid(group: number): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const pgrp = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]);
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        if (pgrp === group && cmdline.includes('local/main.ts')) return Number(entry);
      } catch {
        // exited meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return undefined;
}

/**
 * SIGTERM to the stack itself (`node local/main.ts`), which stops its ffmpeg and emulators and
 * exits; npm then exits with its status. Not to npm: npm passes a signal only to its `sh -c`, which
 * does not pass it on, so `node local/main.ts` and its ffmpeg would keep running. Where the stack's
 * process cannot be found, the whole group gets it, as a terminal's Ctrl-C does. Then waits until
 * every process of the group has exited; SIGKILL after 20 s.
 */
async function stopStack(
  proc: Spawned,
  log: (line: string) => void,
): Promise<{ s: number; clean: boolean; exit: string }> {
  const t = performance.now();
  const group = proc.child.pid;
  const exit = async () => String(await proc.exited);
  if (group === undefined) return { s: 0, clean: true, exit: await exit() };
  const target = stackPid(group);
  log(`stopping: SIGTERM to ${target ? `node local/main.ts (pid ${target})` : `npm start's process group`}`);
  try {
    process.kill(target ?? -group, 'SIGTERM');
  } catch {
    // already gone
  }
  const deadline = performance.now() + 20_000;
  while (groupAlive(group) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (!groupAlive(group)) return { s: secondsSince(t), clean: true, exit: await exit() };
  log(`stop: processes of npm start (group ${group}) still running 20 s after SIGTERM; SIGKILL`);
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
  return { s: secondsSince(t), clean: false, exit: await exit() };
}

export async function benchFirstRun(
  options: FirstRunOptions = {},
  log: (line: string) => void = (line) => console.log(`[first-run] ${line}`),
): Promise<FirstRunResult> {
  const repo = options.repo ?? ROOT;
  const source = /^[\w+-]+:\/\/|^[^/]+@[^/]+:/.test(repo) || !existsSync(repo) ? repo : resolve(repo);
  const coldCache = options.coldCache ?? false;
  const loadBefore = loadavg().map((n) => round(n, 2));
  const temp = await mkdtemp(join(tmpdir(), 'showrunner-first-run-'));
  const clone = join(temp, 'showrunner');
  const dataDir = join(temp, 'data');
  const npmCache = join(temp, 'npm-cache');
  let install: Spawned | undefined;
  let stack: Spawned | undefined;
  let browser: Browser | undefined;
  let stopped: Awaited<ReturnType<typeof stopStack>> | undefined;

  // Ctrl-C during the run: the stack runs in its own process group, so stop it and clean up here.
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping and cleaning up…`);
    void (async () => {
      await browser?.close().catch(() => {});
      if (stack && !stopped) await stopStack(stack, log);
      if (!options.keep) await rm(temp, { recursive: true, force: true, maxRetries: 3 });
      process.exit(130);
    })();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    if (isAbsolute(source) && existsSync(join(source, '.git'))) {
      const dirty = run('git', ['status', '--porcelain', '--untracked-files=no'], source);
      if (dirty) log(`note: ${source} has uncommitted changes; the clone has only what is committed`);
    }
    log(`cloning ${source}${options.ref ? ` at ${options.ref}` : ''} into ${clone}`);
    const tClone = performance.now();
    run('git', ['clone', '--quiet', source, clone], temp);
    if (options.ref) {
      const commitOf = (ref: string) => {
        try {
          return run('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], clone);
        } catch {
          return undefined;
        }
      };
      const target = commitOf(options.ref) ?? commitOf(`origin/${options.ref}`);
      if (!target)
        throw new FirstRunError(`--ref ${options.ref}: no such branch, tag or commit in ${source}`);
      run('git', ['checkout', '--quiet', '--detach', target], clone);
    }
    const cloneS = secondsSince(tClone);
    const commit = run('git', ['rev-parse', '--short', 'HEAD'], clone);
    const subject = run('git', ['log', '-1', '--format=%s'], clone);
    log(`cloned in ${cloneS} s: ${commit} ${subject.length > 90 ? `${subject.slice(0, 89)}…` : subject}`);

    const env = shellEnv();
    const versions = {
      npm: run('npm', ['--version'], clone, env),
      node_on_path: run('node', ['--version'], clone, env),
      node_in_scripts: '',
    };

    // npm install.
    const installArgs = ['install', '--no-audit', '--no-fund', ...(coldCache ? ['--cache', npmCache] : [])];
    const cacheNote = coldCache
      ? `cold cache: empty ${npmCache}, every package comes from the registry`
      : `warm cache: the machine's npm cache (${run('npm', ['config', 'get', 'cache'], clone, env)})`;
    log(`npm ${installArgs.join(' ')} (npm ${versions.npm}, node ${versions.node_on_path}; ${cacheNote})`);
    const cpuBefore = childrenCpuSeconds();
    const tInstall = performance.now();
    const npmInstall = spawnLogged('npm', installArgs, clone, env);
    install = npmInstall;
    const heartbeat = setInterval(
      () => log(`  install: ${secondsSince(tInstall)} s…`),
      options.installTimeoutS && options.installTimeoutS < 30 ? 5_000 : 30_000,
    );
    const installTimeoutS = options.installTimeoutS ?? 900;
    const installTimer = setTimeout(() => npmInstall.child.kill('SIGTERM'), installTimeoutS * 1000);
    const installCode = await npmInstall.exited.finally(() => {
      clearInterval(heartbeat);
      clearTimeout(installTimer);
    });
    const installS = secondsSince(tInstall);
    const cpuAfter = childrenCpuSeconds();
    if (installCode !== 0) {
      throw new FirstRunError(
        `npm install failed (exit ${installCode}) after ${installS} s` +
          `${installS >= installTimeoutS ? ` (timed out at ${installTimeoutS} s)` : ''}; output tail:\n` +
          tail(npmInstall.output()),
      );
    }
    const installSummary = /^(added|changed|up to date)[^\n]*$/m.exec(npmInstall.output())?.[0] ?? '';
    const installCpuS = cpuBefore === null || cpuAfter === null ? null : round(cpuAfter - cpuBefore, 1);
    log(`npm install: ${installS} s (${installSummary || 'no summary line'}; CPU ${installCpuS ?? '?'} s)`);
    const nodeModulesMb = duMegabytes(join(clone, 'node_modules'));
    const downloadedMb = coldCache ? duMegabytes(npmCache) : null;
    if (downloadedMb !== null) log(`  downloaded into the empty npm cache: ${downloadedMb} MB`);
    const scriptNode = join(clone, 'node_modules', '.bin', 'node');
    versions.node_in_scripts = existsSync(scriptNode)
      ? run(scriptNode, ['--version'], clone, env)
      : `${versions.node_on_path} (no node in node_modules/.bin)`;

    // The measuring browser, before the clock for npm start runs.
    const tBrowser = performance.now();
    browser = await launchChromium();
    const chromiumLaunchS = secondsSince(tBrowser);
    log(`measuring Chromium launched in ${chromiumLaunchS} s (not counted)`);

    // npm start.
    const port = await freePort();
    const edgePort = await freePort();
    const startEnv = shellEnv({ PORT: String(port), EDGE_PORT: String(edgePort), RTMP_PORT: '0' });
    log(`npm start -- --data-dir ${dataDir} (PORT=${port} EDGE_PORT=${edgePort} RTMP_PORT=0)`);
    const tStart = performance.now();
    stack = spawnLogged('npm', ['start', '--', '--data-dir', dataDir], clone, startEnv, true);
    const milestones: Record<string, number> = {};
    const seen = (name: string, pattern: RegExp, say: (s: number) => string) =>
      waitForOutput(stack!, pattern, options.readyTimeoutS ?? 300, name).then(
        () => log(say((milestones[name] = secondsSince(tStart)))),
        () => {},
      );
    void seen('prestart', /^> \S+ start$/m, (s) => `  ${s} s: site built (prestart), local/main.ts starting`);
    void seen('demo', /^demo: started /m, (s) => `  ${s} s: demo show started (stream is live)`);

    const ready = await waitForOutput(stack, /ready: open (\S+)/, options.readyTimeoutS ?? 300, 'ready');
    const readyS = secondsSince(tStart);
    const url = ready[1]!;
    log(`  ${readyS} s: ready: open ${url}`);

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const pageOpenedS = secondsSince(tStart);
    await page.goto(url, { waitUntil: 'load' });
    const pageLoadedS = secondsSince(tStart);
    log(`  ${pageLoadedS} s: page loaded (opened ${round(pageOpenedS - readyS, 1)} s after ready)`);
    const question = page.getByTestId('question');
    const questionTimeoutS = options.questionTimeoutS ?? 120;
    try {
      await question.waitFor({ state: 'visible', timeout: questionTimeoutS * 1000 });
    } catch {
      const shot = await screenshot(page, 'first-run-no-question').catch(() => 'no screenshot');
      throw new FirstRunError(
        `no question visible ${questionTimeoutS} s after the page opened (${shot}` +
          `${pageErrors.length ? `; page errors: ${pageErrors.join(' | ')}` : ''}); stack output:\n` +
          tail(stack.output()),
      );
    }
    const questionS = secondsSince(tStart);
    const questionText = (await question.textContent())?.trim() ?? '';
    const card = page.getByTestId('poll-card');
    const fromStream = Boolean(await card.getAttribute('data-frame-time'));
    log(
      `  ${questionS} s: question visible: "${questionText}" (${fromStream ? 'stream cue' : 'from the API'})`,
    );

    await browser.close();
    browser = undefined;
    stopped = await stopStack(stack, log);
    const output = stack.output();
    const said = /^SIGTERM: stopping/m.test(output);
    const afterStop = said
      ? output
          .slice(output.search(/^SIGTERM: stopping/m))
          .trim()
          .split('\n')
          .slice(1)
      : [];
    for (const line of afterStop.filter((l) => l.trim() && !/^npm (error|ERR)/.test(l)).slice(-10))
      log(`  stack: ${line}`);
    log(
      `stopped in ${stopped.s} s (npm exit ${stopped.exit}${said ? ', the stack said "SIGTERM: stopping…"' : ''})` +
        `${stopped.clean ? '' : ', not cleanly: killed'}`,
    );

    const totalS = round(installS + questionS, 1);
    const result: FirstRunResult = {
      commit,
      cache: coldCache ? 'cold' : 'warm',
      clone_s: cloneS,
      install_s: installS,
      install_cpu_s: installCpuS,
      install_summary: installSummary,
      node_modules_mb: nodeModulesMb,
      downloaded_mb: downloadedMb,
      prestart_s: milestones.prestart ?? null,
      start_to_ready_s: readyS,
      start_to_demo_s: milestones.demo ?? null,
      page_opened_after_ready_s: round(pageOpenedS - readyS, 1),
      page_loaded_after_ready_s: round(pageLoadedS - readyS, 1),
      start_to_question_s: questionS,
      total_s: totalS,
      question: questionText,
      question_source: fromStream ? 'stream cue' : 'API',
      stop_s: stopped.s,
      stopped_cleanly: stopped.clean,
      stop_exit: stopped.exit,
      chromium_launch_s: chromiumLaunchS,
      targets: {
        total_s: { limit: TARGET_TOTAL_S, met: totalS <= TARGET_TOTAL_S },
        after_install_s: { limit: TARGET_AFTER_INSTALL_S, met: questionS <= TARGET_AFTER_INSTALL_S },
      },
      versions,
      load_average: { before: loadBefore, after: loadavg().map((n) => round(n, 2)) },
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gb: Math.round(totalmem() / 2 ** 30) },
      date: new Date().toISOString(),
    };
    if (options.out !== null) {
      const out = options.out ?? join(ROOT, 'bench', 'results', 'first-run.json');
      mkdirSync(resolve(out, '..'), { recursive: true });
      writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
      log(`wrote ${out}`);
    }
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await browser?.close().catch(() => {});
    if (stack && !stopped) await stopStack(stack, log);
    if (options.keep) {
      if (install) writeFileSync(join(temp, 'install.log'), install.output());
      if (stack) writeFileSync(join(temp, 'start.log'), stack.output());
      log(`kept ${temp} (clone, data, install.log, start.log)`);
    } else await rm(temp, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** The tables both this script and bench/run.ts print. */
export function firstRunTables(r: FirstRunResult): string {
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  return [
    `first_run (${r.cache} npm cache; ${r.machine.cpus} cores; ${r.commit})`,
    table([
      {
        install_s: r.install_s,
        start_to_ready_s: r.start_to_ready_s,
        start_to_question_s: r.start_to_question_s,
        total_s: r.total_s,
        [`target_total ≤ ${r.targets.total_s.limit}`]: verdict(r.targets.total_s.met),
        [`target_after_install ≤ ${r.targets.after_install_s.limit}`]: verdict(r.targets.after_install_s.met),
      },
    ]),
    '',
    'where the time goes (seconds from npm start spawned, unless noted)',
    table([
      {
        clone_s: r.clone_s,
        install_cpu_s: r.install_cpu_s ?? '?',
        node_modules_mb: r.node_modules_mb ?? '?',
        ...(r.downloaded_mb === null ? {} : { downloaded_mb: r.downloaded_mb }),
        site_build: r.prestart_s ?? '?',
        ready: r.start_to_ready_s,
        demo_started: r.start_to_demo_s ?? '?',
        page_loaded: round(r.start_to_ready_s + r.page_loaded_after_ready_s, 1),
        question: r.start_to_question_s,
        stop_s: r.stop_s,
      },
    ]),
  ].join('\n');
}

function positive(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || value <= 0 || value > max) {
    console.error(`--${name}: expected a number of seconds above 0 and at most ${max}, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

if (import.meta.main) {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        repo: { type: 'string' },
        ref: { type: 'string' },
        'cold-cache': { type: 'boolean' },
        keep: { type: 'boolean' },
        'install-timeout': { type: 'string' },
        'ready-timeout': { type: 'string' },
        'question-timeout': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    console.error(`first-run: ${(error as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  for (const name of ['repo', 'ref', 'out'] as const) {
    if (values[name] !== undefined && !values[name].trim()) {
      console.error(`--${name}: expected a value, got an empty string`);
      process.exit(2);
    }
  }
  if (values.ref?.startsWith('-')) {
    console.error(`--ref: "${values.ref}" is not a ref`);
    process.exit(2);
  }
  const repo = values.repo;
  if (repo !== undefined && !/^[\w+-]+:\/\/|^[^/]+@[^/]+:/.test(repo) && !existsSync(repo)) {
    console.error(`--repo: ${repo} is neither an existing folder nor a git URL`);
    process.exit(2);
  }
  const options: FirstRunOptions = {
    repo,
    ref: values.ref,
    coldCache: values['cold-cache'] ?? false,
    keep: values.keep ?? false,
    installTimeoutS: positive('install-timeout', values['install-timeout'], 900, 3600),
    readyTimeoutS: positive('ready-timeout', values['ready-timeout'], 300, 3600),
    questionTimeoutS: positive('question-timeout', values['question-timeout'], 120, 3600),
    out: values.out ? resolve(values.out) : undefined,
  };
  try {
    const result = await benchFirstRun(options);
    console.log(`\n${firstRunTables(result)}\n`);
  } catch (error) {
    console.error(`[first-run] failed: ${error instanceof FirstRunError ? error.message : String(error)}`);
    if (!(error instanceof FirstRunError)) console.error(error);
    process.exitCode = 1;
  }
}
