#!/usr/bin/env node
// showrunner: the producer's CLI. Thin: parses arguments, picks the target (local stack or AWS),
// runs an operation from ops/, renders its data (render/: text, JSON, CSV) and turns errors into a
// message and an exit code (0 ok, 1 failed, 2 usage).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { realpathSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../ops/clock.ts';
import {
  ChannelBusyError,
  OpError,
  RunExistsError,
  RunNotFoundError,
  TargetError,
  UsageError,
} from '../ops/errors.ts';
import type { Target } from '../ops/target.ts';
import { parseAudienceFlag, parseLimit, parseRegionFlag, parseStartAt, requireOne } from './args.ts';

// Each command loads its own modules when it runs (`import()` below): `showrunner cue` loads the Step
// Functions and DynamoDB clients it calls and nothing of the others' (CloudFormation, zod, the
// renderers), so a producer's cue goes out sooner. See docs/BENCHMARKS.md (`cue_to_air`).

/** What a command reads and writes: output streams, environment, clock, and how to reach the target. */
export interface Io extends Clock {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  target(): Promise<Target>;
}

/** A failure already explained to the user: exit with this code, print nothing more. */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  readonly code: number;
  constructor(code: number, message = '') {
    super(message);
    this.code = code;
  }
}

/** How the CLI names the request fields ops/ errors name; any other field is a path in the show file. */
const FIELD_NAMES: Record<string, string> = {
  run: 'RUN',
  poll: '--poll',
  startAt: '--at',
  channelArn: '--channel',
  runId: '--name',
  status: '--status',
  limit: '--limit',
  requestorId: 'REQUESTOR_ID',
  hidden: '--show',
};

const TARGET_HELP = `Target:
  --target local|aws  local (default): the local stack's edge endpoint (EDGE_URL, default
                      http://127.0.0.1:4566). aws: the outputs of the CloudFormation stack
                      Showrunner (AWS credentials and region from the usual places)
  --stack NAME        the stack to read with --target aws (default Showrunner, or SHOWRUNNER_STACK)`;

interface Command {
  usage: string;
  summary: string;
  details: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** The command's own Target section in --help (default TARGET_HELP, and [--target local|aws] in Usage). */
  targetHelp?: string;
  run(values: Record<string, string | boolean | undefined>, positionals: string[], io: Io): Promise<number>;
}

const targetOptions = {
  target: { type: 'string' },
  stack: { type: 'string' },
} as const;

const COMMANDS: Record<string, Command> = {
  validate: {
    usage: 'showrunner validate FILE… [--json]',
    summary: 'check show files; print each question and its cue size',
    details: `Errors name the file and the path in it (polls[2].answers: …). Exit code 1 when any file is invalid.`,
    options: { json: { type: 'boolean' } },
    async run(v, p, io) {
      if (p.length === 0) throw new UsageError('FILE: missing (usage: showrunner validate FILE…)');
      const [{ validate }, { renderValidate }] = await Promise.all([
        import('../ops/validate.ts'),
        import('./render/validate.ts'),
      ]);
      const checked = await validate(p);
      for (const chunk of renderValidate(checked, v.json === true)) io[chunk.stream](chunk.text);
      return checked.some((c) => !c.ok) ? 1 : 0;
    },
  },
  start: {
    usage: 'showrunner start FILE [--at TIME] [--channel ARN] [--name RUN] [--replace] [--follow] [--json]',
    summary: 'validate a show and start it',
    details: `Nothing starts when the file is invalid. The run is named <show id>-<UTC time>.
One show runs per channel: while another show runs (or waits for its start time) on the channel,
start refuses and names it.
  --at TIME       when the show starts: 2026-11-25T18:00:00Z, 18:30 (today, local time),
                  +90 or +1:30 (from now), now (default)
  --channel ARN   the IVS channel to send the cues to (default: the stack's channel)
  --name RUN      name the run yourself (letters, digits, - and _)
  --replace       stop the show running on the channel first (its open question closes and its
                  results go out, as with showrunner stop), then start this one
  --follow        print each cue as it is sent, until the show ends
  --json          print {"runId","executionArn","startAt"} (with --follow: one JSON object per line)`,
    options: {
      at: { type: 'string' },
      channel: { type: 'string' },
      name: { type: 'string' },
      replace: { type: 'boolean' },
      follow: { type: 'boolean' },
      json: { type: 'boolean' },
      ...targetOptions,
    },
    async run(v, p, io) {
      if (p.length !== 1)
        throw new UsageError(
          p.length === 0
            ? 'FILE: missing (usage: showrunner start FILE)'
            : `unexpected argument "${p[1]}": start takes one show file`,
        );
      const [{ checkShowFile }, { checkRunId, prepareStart, start }, { withTarget }] = await Promise.all([
        import('../ops/validate.ts'),
        import('../ops/start.ts'),
        import('../ops/target.ts'),
      ]);
      const [{ renderIssues }, { renderFollowEvent, renderStarted }] = await Promise.all([
        import('./render/validate.ts'),
        import('./render/start.ts'),
      ]);
      if (v.name !== undefined) checkRunId(String(v.name));
      const file = p[0]!;
      const json = v.json === true;
      const checked = await checkShowFile(file);
      if (!checked.ok) {
        io.err(renderIssues(file, checked.issues, ': not started'));
        throw new ExitError(1);
      }
      const now = io.now();
      const prepared = prepareStart(
        {
          show: checked.valid,
          startAt: v.at === undefined ? now : parseStartAt(String(v.at), now),
          ...(v.channel !== undefined ? { channelArn: String(v.channel) } : {}),
          ...(v.name !== undefined ? { runId: String(v.name) } : {}),
        },
        now,
      );
      return withTarget(io.target, async (target) => {
        const started = await start(target, prepared, { replace: v.replace === true, clock: io });
        io.out(renderStarted(started, json, target.description, now));
        if (v.follow !== true) return 0;
        const { followRun } = await import('../ops/follow.ts');
        let status: string | undefined;
        for await (const event of followRun(target, started.executionArn, io, started.plan)) {
          const text = renderFollowEvent(event, json);
          if (text) io.out(text);
          if (event.event === 'end') status = event.status;
        }
        if (status !== 'SUCCEEDED') throw new ExitError(1);
        return 0;
      });
    },
  },
  cue: {
    usage: 'showrunner cue RUN [--poll ID] [--json]',
    summary: 'ask the next manual question of a running show now',
    details: `  --poll ID   cue this manual question instead of the next one waiting`,
    options: { poll: { type: 'string' }, json: { type: 'boolean' }, ...targetOptions },
    async run(v, p, io) {
      const run = requireOne(p, 'RUN', 'showrunner cue RUN');
      const poll = v.poll as string | undefined;
      const [{ withTarget }, { cue }, { renderCued }] = await Promise.all([
        import('../ops/target.ts'),
        import('../ops/cue.ts'),
        import('./render/cue.ts'),
      ]);
      const cued = await withTarget(io.target, (target) =>
        cue(target, { run, ...(poll !== undefined ? { poll } : {}), cuedBy: 'showrunner cue' }, io),
      );
      io.out(renderCued(cued, v.json === true));
      return 0;
    },
  },
  stop: {
    usage: 'showrunner stop RUN [--cause TEXT] [--json]',
    summary: 'stop a running show: no further questions are asked',
    details: `A question open at the stop closes as at its time (the votes settle, a few seconds) and its
results go into the stream; then the channel is free for the next show.
  --cause TEXT   why (kept in the execution history)`,
    options: { cause: { type: 'string' }, json: { type: 'boolean' }, ...targetOptions },
    async run(v, p, io) {
      const run = requireOne(p, 'RUN', 'showrunner stop RUN');
      const cause = (v.cause as string | undefined) ?? 'stopped by the producer (showrunner stop)';
      const [{ withTarget }, { stop }, { renderStopped }] = await Promise.all([
        import('../ops/target.ts'),
        import('../ops/stop.ts'),
        import('./render/cue.ts'),
      ]);
      const stopped = await withTarget(io.target, (target) => stop(target, { run, cause }));
      io.out(renderStopped(stopped, v.json === true));
      return 0;
    },
  },
  status: {
    usage: 'showrunner status [RUN] [--json]',
    summary: 'what is running now, or where one run is',
    details: `Without RUN: every running show, the question open now and the next one.`,
    options: { json: { type: 'boolean' }, ...targetOptions },
    async run(v, p, io) {
      const run = p.length === 0 ? undefined : requireOne(p, 'RUN', 'showrunner status [RUN]');
      const json = v.json === true;
      const [{ withTarget }, { runningShows, runStatus }, { renderRunning, renderRunStatus }] =
        await Promise.all([
          import('../ops/target.ts'),
          import('../ops/status.ts'),
          import('./render/status.ts'),
        ]);
      io.out(
        await withTarget(io.target, async (target) =>
          run === undefined
            ? renderRunning(await runningShows(target), json, target.description)
            : renderRunStatus(await runStatus(target, run), json, target.description),
        ),
      );
      return 0;
    },
  },
  list: {
    usage: 'showrunner list [--status STATUS] [--limit N] [--json]',
    summary: 'past and running runs, newest first',
    details: `  --status STATUS   running, succeeded, failed, timed_out or aborted
  --limit N         at most N runs (default 20)`,
    options: {
      status: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      ...targetOptions,
    },
    async run(v, _p, io) {
      const [{ checkListRequest, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, list }, { withTarget }, { renderList }] =
        await Promise.all([
          import('../ops/list.ts'),
          import('../ops/target.ts'),
          import('./render/status.ts'),
        ]);
      const query = checkListRequest({
        limit: parseLimit(v.limit as string | undefined, '--limit', LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT),
        ...(v.status !== undefined ? { status: String(v.status) } : {}),
      });
      io.out(
        await withTarget(io.target, async (target) =>
          renderList(await list(target, query), v.json === true, target.description, io.now()),
        ),
      );
      return 0;
    },
  },
  history: {
    usage: 'showrunner history RUN [--json]',
    summary: 'the run as it happened: each question scheduled, asked, late by, closed, votes, result',
    details: `Read from the execution history (the same locally and in AWS).`,
    options: { json: { type: 'boolean' }, ...targetOptions },
    async run(v, p, io) {
      const run = requireOne(p, 'RUN', 'showrunner history RUN');
      const [{ withTarget }, { history }, { renderHistory }] = await Promise.all([
        import('../ops/target.ts'),
        import('../ops/history.ts'),
        import('./render/history.ts'),
      ]);
      io.out(renderHistory(await withTarget(io.target, (target) => history(target, run)), v.json === true));
      return 0;
    },
  },
  results: {
    usage: 'showrunner results RUN [--json | --csv]',
    summary: 'votes per question: counts, total, correct answer, winner',
    details: `Read from the DynamoDB table (TABLE_NAME, default showrunner-polls; the stack's table with --target aws).
  --json   one object per question
  --csv    one row per answer (for spreadsheets)`,
    options: { json: { type: 'boolean' }, csv: { type: 'boolean' }, ...targetOptions },
    async run(v, p, io) {
      if (v.json && v.csv) throw new UsageError('--json, --csv: choose one');
      const run = requireOne(p, 'RUN', 'showrunner results RUN');
      const [{ withTarget }, { results }, { renderResults }] = await Promise.all([
        import('../ops/target.ts'),
        import('../ops/results.ts'),
        import('./render/results.ts'),
      ]);
      const data = await withTarget(io.target, (target) => results(target, run, io));
      io.out(renderResults(data, v.csv ? 'csv' : v.json ? 'json' : 'table'));
      return 0;
    },
  },
  leaderboard: {
    usage: 'showrunner leaderboard RUN [--json | --csv]',
    summary: "a run's standings: every player's rank, name, score and answer time",
    details: `Players are the viewers who answered at least one quiz question of the run, best first: the
higher score, then the less total answer time, then the earlier first answer. A hidden nickname
shows as viewers see it ("Player 7K3Q") with the nickname beside it. The standings are final once
every quiz question of the run has closed.
  --json   one object: {runId, players, final, standings: [{rank, requestor_id, name, …}]}
  --csv    one row per player (for spreadsheets), as the control room exports it`,
    options: { json: { type: 'boolean' }, csv: { type: 'boolean' }, ...targetOptions },
    async run(v, p, io) {
      if (v.json && v.csv) throw new UsageError('--json, --csv: choose one');
      const run = requireOne(p, 'RUN', 'showrunner leaderboard RUN');
      const [{ withTarget }, { leaderboard }, { renderLeaderboard }] = await Promise.all([
        import('../ops/target.ts'),
        import('../ops/leaderboard.ts'),
        import('./render/leaderboard.ts'),
      ]);
      const data = await withTarget(io.target, (target) => leaderboard(target, run));
      io.out(renderLeaderboard(data, v.csv ? 'csv' : v.json ? 'json' : 'table'));
      return 0;
    },
  },
  'hide-name': {
    usage: 'showrunner hide-name REQUESTOR_ID [--show] [--json]',
    summary: "hide a player's nickname from the leaderboards (--show: show it again)",
    details: `The player then shows as "Player" and a short id in every later leaderboard cue and in
showrunner leaderboard (which still lists the nickname for you). A leaderboard already in the
stream stays as it was sent. REQUESTOR_ID is the REQUESTOR ID column of showrunner leaderboard.
  --show   show the nickname again
  --json   print {"requestorId","hidden"}`,
    options: { show: { type: 'boolean' }, json: { type: 'boolean' }, ...targetOptions },
    async run(v, p, io) {
      if (p.length !== 1)
        throw new UsageError(
          p.length === 0
            ? 'REQUESTOR_ID: missing (usage: showrunner hide-name REQUESTOR_ID)'
            : `unexpected argument "${p[1]}" (usage: showrunner hide-name REQUESTOR_ID)`,
        );
      const [{ withTarget }, { checkHideName, hideName }, { renderNameHidden }] = await Promise.all([
        import('../ops/target.ts'),
        import('../ops/leaderboard.ts'),
        import('./render/leaderboard.ts'),
      ]);
      const request = checkHideName({ requestorId: p[0], hidden: v.show !== true });
      const done = await withTarget(io.target, (target) => hideName(target, request));
      io.out(renderNameHidden(done, v.json === true));
      return 0;
    },
  },
  doctor: {
    usage: 'showrunner doctor --target aws [--audience N] [--region R] [--stack NAME] [--json]',
    summary: "check an AWS account's settings and quotas against what the stack needs, before a deploy",
    details: `Reads the account's Lambda concurrency, API Gateway settings, DynamoDB limits, IVS channels,
CDK bootstrap, CloudFront and Service Quotas, and prints one line per check: what a stack sized for
the audience needs, what the account has, OK, WARN or FAIL, and the quota to raise or the command that
fixes it. Exit code 1 when the deploy would fail (a FAIL), 0 otherwise (warnings allowed).
  --audience N   viewers per show, as deployed with -c audience=N (default: the stack's default)
  --region R     the region to check (default AWS_REGION, AWS_DEFAULT_REGION or the profile's)
  --json         print the report as JSON`,
    targetHelp: `Target:
  --target aws        the account your AWS credentials reach (the usual places: AWS_PROFILE, keys, SSO)
  --stack NAME        the stack to deploy (default Showrunner, or SHOWRUNNER_STACK); if it is deployed
                      already, the concurrency its functions reserve now counts as free`,
    options: {
      audience: { type: 'string' },
      region: { type: 'string' },
      json: { type: 'boolean' },
      ...targetOptions,
    },
    async run(v, p, io) {
      if (p.length > 0) throw new UsageError(`unexpected argument "${p[0]}": doctor takes only options`);
      if (v.target !== 'aws')
        throw new UsageError('--target: doctor checks an AWS account: pass --target aws');
      const [{ MIN_AUDIENCE, MAX_AUDIENCE }, { DEFAULT_STACK_NAME }] = await Promise.all([
        import('../core/sizing.ts'),
        import('../ops/target.ts'),
      ]);
      const audience = parseAudienceFlag(v.audience as string | undefined, MIN_AUDIENCE, MAX_AUDIENCE);
      const regionFlag = parseRegionFlag(v.region as string | undefined);
      const [{ createDoctorClients, doctorClientConfig, resolveRegion }, { doctor }, { renderDoctor }] =
        await Promise.all([
          import('../ops/doctor/clients.ts'),
          import('../ops/doctor/doctor.ts'),
          import('./render/doctor.ts'),
        ]);
      const region = await resolveRegion(regionFlag, io.env);
      const stackName =
        (v.stack as string | undefined) ?? (io.env.SHOWRUNNER_STACK?.trim() || DEFAULT_STACK_NAME);
      const clients = createDoctorClients(doctorClientConfig(region, io.env));
      try {
        const report = await doctor({
          clients,
          region,
          stackName,
          ...(audience !== undefined ? { audience } : {}),
        });
        io.out(renderDoctor(report, v.json === true));
        return report.ok ? 0 : 1;
      } finally {
        clients.destroy();
      }
    },
  },
};

export const MAIN_HELP = `Usage: showrunner <command> [options]

Runs interactive live shows: timed poll and quiz questions sent inside the video stream.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(13)}${c.summary}`)
  .join('\n')}

Run \`showrunner <command> --help\` for a command's options.

${TARGET_HELP}
`;

function commandHelp(name: string, command: Command): string {
  const takesTarget = 'target' in command.options;
  return `Usage: ${command.usage}${takesTarget && !command.targetHelp ? ' [--target local|aws]' : ''}

${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.
${command.details}
${takesTarget ? `\n${command.targetHelp ?? TARGET_HELP}\n` : ''}`;
}

export interface MainIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  now?: () => Date;
}

/** Runs one CLI invocation; returns the exit code. Exported for tests and embedding. */
export async function main(argv: readonly string[], mainIo: MainIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? mainIo.err : mainIo.out)(MAIN_HELP);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    mainIo.err(`showrunner: unknown command "${name}"\n\n${MAIN_HELP}`);
    return 2;
  }
  let positionals: string[] = [];
  try {
    const parsed = parseArgs({
      args: [...rest],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    const values = parsed.values as Record<string, string | boolean | undefined>;
    positionals = parsed.positionals;
    if (values.help) {
      mainIo.out(commandHelp(name, command));
      return 0;
    }
    const targetName = (values.target as string | undefined) ?? 'local';
    if (targetName !== 'local' && targetName !== 'aws')
      throw new UsageError(`--target: expected local or aws, got "${targetName}"`);
    const io: Io = {
      out: mainIo.out,
      err: mainIo.err,
      env: mainIo.env,
      now: mainIo.now ?? (() => new Date()),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      target: async () =>
        (await import('../ops/target.ts')).resolveTarget({
          target: targetName,
          env: mainIo.env,
          ...(values.stack !== undefined ? { stackName: String(values.stack) } : {}),
        }),
    };
    return await command.run(values, positionals, io);
  } catch (error) {
    const e = error as Error & { code?: string };
    if (e instanceof ExitError) {
      if (e.message) mainIo.err(`showrunner ${name}: ${e.message}\n`);
      return e.code;
    }
    const usage = (message: string) => {
      mainIo.err(`showrunner ${name}: ${message}\nUsage: ${command.usage} (see --help)\n`);
      return 2;
    };
    if (e instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')) return usage(e.message);
    if (e instanceof TargetError) {
      mainIo.err(`showrunner ${name}: ${e.message}\n`);
      return 1;
    }
    if (e instanceof RunNotFoundError) {
      mainIo.err(`showrunner ${name}: ${FIELD_NAMES.run}: no run ${e.runId} (see \`showrunner list\`)\n`);
      return 1;
    }
    if (e instanceof RunExistsError)
      return usage(`a run named ${e.runId} already exists: wait a second and start again, or pass --name`);
    if (e instanceof ChannelBusyError) {
      const { channelId, runId, title } = e.holder;
      mainIo.err(
        e.ending
          ? `showrunner ${name}: channel ${channelId} is still ending ${runId} (${title}): its last results are going out, start again in a few seconds\n`
          : `showrunner ${name}: channel ${channelId} is running ${runId} (${title}): stop it with showrunner stop ${runId} or start with --replace\n`,
      );
      return 1;
    }
    if (e instanceof OpError) {
      const fieldName = (field: string) => FIELD_NAMES[field] ?? `${positionals[0]}: ${field}`;
      return usage(e.issues.map((i) => `${fieldName(i.path)}: ${i.message}`).join('\n'));
    }
    // AWS errors carry a name and a message a producer can act on; anything else is a bug: show the stack.
    mainIo.err(`showrunner ${name}: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}\n`);
    if (!(e as { $metadata?: unknown }).$metadata && mainIo.env.SHOWRUNNER_DEBUG) mainIo.err(`${e.stack}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * Runs this process's command line and sets its exit code: `node cli/showrunner.ts …`, and
 * `npx showrunner …` through cli/launch.js. Node's compile cache (in the system's temp folder, or
 * NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off) keeps the modules a command loads
 * compiled and stripped of their types, so the next run starts sooner.
 */
export async function runProcess(): Promise<void> {
  enableCompileCache();
  process.exitCode = await main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
  });
}

if (isEntryPoint()) await runProcess();
