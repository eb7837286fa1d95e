#!/usr/bin/env node
// showrunner: the producer's CLI. Thin: parses arguments, picks the target (local stack or AWS),
// runs a command from commands.ts, and turns errors into a message and an exit code
// (0 ok, 1 failed, 2 usage).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RUN_ID } from '../contract/state-machine.ts';
import { UsageError } from './args.ts';
import {
  cue,
  ExitError,
  history,
  list,
  results,
  startShow,
  status,
  stop,
  validate,
  type Io,
} from './commands.ts';
import { RunNotFoundError } from './runs.ts';
import { requireOne } from './args.ts';
import { explainConnectionError, resolveTarget, TargetError, type Target } from './target.ts';

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
    run: (v, p, io) => validate(p, io, v.json === true),
  },
  start: {
    usage: 'showrunner start FILE [--at TIME] [--channel ARN] [--name RUN] [--follow] [--json]',
    summary: 'validate a show and start it',
    details: `Nothing starts when the file is invalid. The run is named <show id>-<UTC time>.
  --at TIME       when the show starts: 2026-11-25T18:00:00Z, 18:30 (today, local time),
                  +90 or +1:30 (from now), now (default)
  --channel ARN   the IVS channel to send the cues to (default: the stack's channel)
  --name RUN      name the run yourself (letters, digits, - and _)
  --follow        print each cue as it is sent, until the show ends
  --json          print {"runId","executionArn","startAt"} (with --follow: one JSON object per line)`,
    options: {
      at: { type: 'string' },
      channel: { type: 'string' },
      name: { type: 'string' },
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
      if (v.name !== undefined && !RUN_ID.test(String(v.name))) {
        throw new UsageError(`--name: expected 1–80 letters, digits, '-' or '_', got "${v.name}"`);
      }
      await startShow(
        {
          file: p[0]!,
          ...(v.at !== undefined ? { at: String(v.at) } : {}),
          ...(v.channel !== undefined ? { channel: String(v.channel) } : {}),
          ...(v.name !== undefined ? { name: String(v.name) } : {}),
          follow: v.follow === true,
          json: v.json === true,
        },
        io,
      );
      return 0;
    },
  },
  cue: {
    usage: 'showrunner cue RUN [--poll ID] [--json]',
    summary: 'ask the next manual question of a running show now',
    details: `  --poll ID   cue this manual question instead of the next one waiting`,
    options: { poll: { type: 'string' }, json: { type: 'boolean' }, ...targetOptions },
    async run(v, p, io) {
      await cue(
        requireOne(p, 'RUN', 'showrunner cue RUN'),
        v.poll as string | undefined,
        io,
        v.json === true,
      );
      return 0;
    },
  },
  stop: {
    usage: 'showrunner stop RUN [--cause TEXT] [--json]',
    summary: 'stop a running show: no further questions are asked',
    details: `  --cause TEXT   why (kept in the execution history)`,
    options: { cause: { type: 'string' }, json: { type: 'boolean' }, ...targetOptions },
    run: (v, p, io) =>
      stop(requireOne(p, 'RUN', 'showrunner stop RUN'), v.cause as string | undefined, io, v.json === true),
  },
  status: {
    usage: 'showrunner status [RUN] [--json]',
    summary: 'what is running now, or where one run is',
    details: `Without RUN: every running show, the question open now and the next one.`,
    options: { json: { type: 'boolean' }, ...targetOptions },
    run: (v, p, io) =>
      status(
        p.length === 0 ? undefined : requireOne(p, 'RUN', 'showrunner status [RUN]'),
        io,
        v.json === true,
      ),
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
    run: (v, _p, io) =>
      list(
        {
          ...(v.status !== undefined ? { status: String(v.status) } : {}),
          ...(v.limit !== undefined ? { limit: String(v.limit) } : {}),
          json: v.json === true,
        },
        io,
      ),
  },
  history: {
    usage: 'showrunner history RUN [--json]',
    summary: 'the run as it happened: each question scheduled, asked, late by, closed, votes, result',
    details: `Read from the execution history (the same locally and in AWS).`,
    options: { json: { type: 'boolean' }, ...targetOptions },
    run: (v, p, io) => history(requireOne(p, 'RUN', 'showrunner history RUN'), io, v.json === true),
  },
  results: {
    usage: 'showrunner results RUN [--json | --csv]',
    summary: 'votes per question: counts, total, correct answer, winner',
    details: `Read from the DynamoDB table (TABLE_NAME, default showrunner-polls; the stack's table with --target aws).
  --json   one object per question
  --csv    one row per answer (for spreadsheets)`,
    options: { json: { type: 'boolean' }, csv: { type: 'boolean' }, ...targetOptions },
    run(v, p, io) {
      if (v.json && v.csv) throw new UsageError('--json, --csv: choose one');
      return results(
        requireOne(p, 'RUN', 'showrunner results RUN'),
        v.csv ? 'csv' : v.json ? 'json' : 'table',
        io,
      );
    },
  },
};

export const MAIN_HELP = `Usage: showrunner <command> [options]

Runs interactive live shows: timed poll and quiz questions sent inside the video stream.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`)
  .join('\n')}

Run \`showrunner <command> --help\` for a command's options.

${TARGET_HELP}
`;

function commandHelp(name: string, command: Command): string {
  const takesTarget = 'target' in command.options;
  return `Usage: ${command.usage}${takesTarget ? ' [--target local|aws]' : ''}

${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.
${command.details}
${takesTarget ? `\n${TARGET_HELP}\n` : ''}`;
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
  let openedTarget: Pick<Target, 'kind' | 'description'> | undefined;
  try {
    const parsed = parseArgs({
      args: [...rest],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    const values = parsed.values as Record<string, string | boolean | undefined>;
    const positionals = parsed.positionals;
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
      async target() {
        const target = await resolveTarget({
          target: targetName,
          env: mainIo.env,
          ...(values.stack !== undefined ? { stackName: String(values.stack) } : {}),
        });
        openedTarget = target;
        return target;
      },
    };
    return await command.run(values, positionals, io);
  } catch (error) {
    const e = error as Error & { code?: string };
    if (e instanceof ExitError) {
      if (e.message) mainIo.err(`showrunner ${name}: ${e.message}\n`);
      return e.code;
    }
    if (e instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      mainIo.err(`showrunner ${name}: ${e.message}\nUsage: ${command.usage} (see --help)\n`);
      return 2;
    }
    if (e instanceof TargetError || e instanceof RunNotFoundError) {
      mainIo.err(`showrunner ${name}: ${e.message}\n`);
      return 1;
    }
    const explained = openedTarget ? explainConnectionError(e, openedTarget) : e;
    if (explained instanceof TargetError) {
      mainIo.err(`showrunner ${name}: ${explained.message}\n`);
      return 1;
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

if (isEntryPoint()) {
  const code = await main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
  });
  process.exitCode = code;
}
