// The showrunner commands. Each takes parsed arguments and an Io (output streams, environment,
// clock, target), so tests and the demo loop can run them in-process.
import { readFile } from 'node:fs/promises';
import {
  ListExecutionsCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  type ExecutionStatus,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { MAX_CUE_BYTES } from '../contract/cues.ts';
import { CUE_ITEM_KEY } from '../contract/table.ts';
import { makeRunId } from '../core/ids.ts';
import { winners } from '../core/poll.ts';
import {
  formatIssues,
  parseShowText,
  pollCueBytes,
  validateExecutionInput,
  type Show,
} from '../core/show.ts';
import { formatOffset, parseAt } from '../core/timeline.ts';
import { PollStore } from '../store/polls.ts';
import { LOCAL_MAX_WAIT_MS, parseLimit, parseStartAt, UsageError } from './args.ts';
import { clock, csv, dateTime, duration, seconds, table } from './format.ts';
import { describeRun, eventsAfter, executionArnFor, loadRun, planFromInput, runIdOf } from './runs.ts';
import type { Target } from './target.ts';
import { readTimeline, type PollTimeline, type RunTimeline, type SentCue } from './timeline.ts';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  now(): Date;
  target(): Promise<Target>;
  sleep(ms: number): Promise<void>;
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

// ---- validate --------------------------------------------------------------------------------

interface CheckedFile {
  file: string;
  raw?: unknown;
  show?: Show;
  issues: string[];
}

async function checkFile(file: string): Promise<CheckedFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return { file, issues: [`cannot read it (${e.code ?? e.message})`] };
  }
  const checked = parseShowText(text);
  if (!checked.ok) return { file, issues: formatIssues(checked.issues).split('\n') };
  return { file, raw: JSON.parse(text), show: checked.value, issues: [] };
}

export async function validate(files: readonly string[], io: Io, json: boolean): Promise<number> {
  if (files.length === 0) throw new UsageError('FILE: missing (usage: showrunner validate FILE…)');
  const results = await Promise.all(files.map(checkFile));
  if (json) {
    io.out(
      JSON.stringify(
        results.map((r) => ({
          file: r.file,
          ok: r.issues.length === 0,
          issues: r.issues,
          ...(r.show
            ? { polls: r.show.polls.map((p) => ({ id: p.id, at: p.at, cueBytes: pollCueBytes(p) })) }
            : {}),
        })),
        null,
        2,
      ) + '\n',
    );
  }
  for (const r of results) {
    if (json) break;
    if (!r.show) {
      io.err(`✗ ${r.file}\n${r.issues.map((i) => `  ${r.file}: ${i}`).join('\n')}\n`);
      continue;
    }
    const show = r.show;
    io.out(
      `✓ ${r.file}: "${show.title}" (${show.id}), ${show.polls.length} question${show.polls.length === 1 ? '' : 's'}, grace ${show.latencyGraceSeconds} s\n`,
    );
    io.out(
      indent(
        table(show.polls, [
          { header: 'ID', value: (p) => p.id },
          { header: 'AT', value: (p) => at(p.at) },
          { header: 'OPEN', value: (p) => `${p.duration}+${show.latencyGraceSeconds} s`, align: 'right' },
          { header: 'CUE', value: (p) => `${pollCueBytes(p)}/${MAX_CUE_BYTES} B`, align: 'right' },
          {
            header: 'QUESTION',
            value: (p) => p.question + (p.correct !== undefined ? `  [quiz: ${p.answers[p.correct]}]` : ''),
            max: 60,
          },
        ]),
      ),
    );
  }
  return results.some((r) => r.issues.length > 0) ? 1 : 0;
}

const indent = (text: string) => text.replace(/^(?=.)/gm, '  ');

function at(value: number | string): string {
  const parsed = parseAt(value);
  if (typeof parsed === 'string') return String(value);
  return parsed.kind === 'manual' ? 'manual' : formatOffset(parsed.seconds);
}

// ---- start -----------------------------------------------------------------------------------

export interface StartOptions {
  file: string;
  at?: string;
  channel?: string;
  name?: string;
  follow: boolean;
  json: boolean;
}

export interface Started {
  runId: string;
  executionArn: string;
  startAt: string;
}

/** Validates and starts a show; nothing starts when the file, `--at` or `--channel` is wrong. */
export async function startShow(options: StartOptions, io: Io): Promise<Started> {
  const checked = await checkFile(options.file);
  if (!checked.show) {
    io.err(
      `✗ ${options.file}: not started\n${checked.issues.map((i) => `  ${options.file}: ${i}`).join('\n')}\n`,
    );
    throw new ExitError(1);
  }
  const now = io.now();
  const startAt = options.at === undefined ? now : parseStartAt(options.at, now);
  const input: Record<string, unknown> = {
    ...(checked.raw as Record<string, unknown>),
    startAt: startAt.toISOString(),
  };
  if (options.channel !== undefined) input.channelArn = options.channel;
  // The same check the state machine's Plan step makes, with the flags named instead of the fields.
  const full = validateExecutionInput(input);
  if (!full.ok) {
    const flag = (path: string) =>
      path === 'channelArn' ? '--channel' : path === 'startAt' ? '--at' : `${options.file}: ${path}`;
    throw new UsageError(full.issues.map((i) => `${flag(i.path)}: ${i.message}`).join('\n'));
  }
  const lastOffset = Math.max(
    0,
    ...full.value.polls.map((p) => {
      const a = parseAt(p.at);
      return typeof a !== 'string' && a.kind === 'offset' ? a.seconds : 0;
    }),
  );

  const target = await io.target();
  try {
    if (
      target.kind === 'local' &&
      startAt.getTime() + lastOffset * 1000 - now.getTime() > LOCAL_MAX_WAIT_MS
    ) {
      throw new UsageError('--at: the local stack can wait at most 24 days for a question');
    }
    const runId = options.name ?? makeRunId(checked.show.id, now);
    let executionArn: string;
    try {
      ({ executionArn = '' } = await target.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: target.stateMachineArn,
          name: runId,
          input: JSON.stringify(input),
        }),
      ));
    } catch (error) {
      if ((error as Error).name === 'ExecutionAlreadyExists') {
        throw new UsageError(
          `a run named ${runId} already exists: wait a second and start again, or pass --name`,
        );
      }
      throw error;
    }
    const started: Started = { runId, executionArn, startAt: startAt.toISOString() };
    if (options.json) io.out(JSON.stringify(started) + '\n');
    else {
      io.out(`Started ${runId} on the ${target.description}\n`);
      io.out(`  show      "${checked.show.title}" (${checked.show.id})\n`);
      io.out(
        `  starts    ${dateTime(startAt)}${startAt.getTime() > now.getTime() + 1000 ? ` (in ${duration(startAt.getTime() - now.getTime())})` : ''}\n`,
      );
      if (options.channel ?? target.channelArn)
        io.out(`  channel   ${options.channel ?? target.channelArn}\n`);
      io.out(`  execution ${executionArn}\n`);
      for (const p of checked.show.polls) {
        const when = parseAt(p.at);
        const time =
          typeof when !== 'string' && when.kind === 'offset'
            ? `${formatOffset(when.seconds)}  ${clock(startAt.getTime() + when.seconds * 1000)}`
            : 'manual (showrunner cue ' + runId + ')';
        io.out(`    ${p.id.padEnd(12)} ${time}\n`);
      }
    }
    if (options.follow) {
      const status = await followRun(target, executionArn, io, options.json);
      if (status !== 'SUCCEEDED') throw new ExitError(1);
    }
    return started;
  } finally {
    target.close();
  }
}

// ---- follow ----------------------------------------------------------------------------------

function describeCue(sent: SentCue, timeline: RunTimeline): string {
  const cue = sent.cue;
  const id = (sent.localId ?? cue?.poll_id ?? '?').padEnd(10);
  if (!cue) return `${clock(sent.at, true)}  cue      ${sent.metadata}`;
  if (cue.type === 'poll') {
    const poll = timeline.polls.find((p) => p.pollId === cue.poll_id);
    const late = poll?.lateMs !== undefined ? `  (${seconds(poll.lateMs)})` : poll?.manual ? '  (cued)' : '';
    return `${clock(sent.at, true)}  ask      ${id} ${JSON.stringify(cue.question)}  [${cue.answers.join(' | ')}]  ${cue.duration} s${late}`;
  }
  const poll = timeline.polls.find((p) => p.pollId === cue.poll_id);
  const answers = poll?.answers ?? cue.counts.map((_, i) => `#${i}`);
  const counts = cue.counts.map((c, i) => `${answers[i]} ${c}`).join(' · ');
  const correct = cue.correct !== undefined ? `  correct: ${answers[cue.correct]}` : '';
  return `${clock(sent.at, true)}  results  ${id} ${counts}  (${cue.total} vote${cue.total === 1 ? '' : 's'})${correct}`;
}

/** Prints each cue as it is sent (polling the execution history) until the run ends; returns its status. */
export async function followRun(
  target: Target,
  executionArn: string,
  io: Io,
  json: boolean,
): Promise<ExecutionStatus> {
  const run = await describeRun(target.sfn, executionArn);
  const fallback = planFromInput(run);
  const events: HistoryEvent[] = [];
  const printedCues = new Set<number>();
  const announcedWaits = new Set<string>();
  const runId = runIdOf(executionArn);
  if (!json) io.out(`Following ${runId} (Ctrl-C stops following, not the show)\n`);
  for (;;) {
    events.push(...(await eventsAfter(target.sfn, executionArn, events.at(-1)?.id ?? 0)));
    const timeline = readTimeline(events, fallback);
    for (const sent of timeline.cues) {
      if (printedCues.has(sent.eventId)) continue;
      printedCues.add(sent.eventId);
      if (json) {
        const poll = timeline.polls.find((p) => p.pollId === sent.cue?.poll_id);
        io.out(
          JSON.stringify({
            event: 'cue',
            at: new Date(sent.at).toISOString(),
            poll: sent.localId,
            type: sent.cue?.type,
            ...(sent.cue?.type === 'poll' && poll?.lateMs !== undefined ? { lateMs: poll.lateMs } : {}),
            cue: sent.cue ?? sent.metadata,
          }) + '\n',
        );
      } else io.out(describeCue(sent, timeline) + '\n');
    }
    for (const poll of timeline.polls) {
      if (!poll.waitingForCue || announcedWaits.has(poll.pollId)) continue;
      announcedWaits.add(poll.pollId);
      if (json) io.out(JSON.stringify({ event: 'waiting', poll: poll.id }) + '\n');
      else
        io.out(
          `${' '.repeat(12)}  waiting  ${poll.id.padEnd(10)} ${JSON.stringify(poll.question)}: showrunner cue ${runId}\n`,
        );
    }
    if (timeline.ended) {
      const status = (await describeRun(target.sfn, executionArn)).status ?? 'FAILED';
      if (json)
        io.out(
          JSON.stringify({
            event: 'end',
            status,
            ...(timeline.ended.error ? { error: timeline.ended.error, cause: timeline.ended.cause } : {}),
          }) + '\n',
        );
      else
        io.out(
          `${clock(timeline.ended.at, true)}  end      ${status}${timeline.ended.error ? `: ${timeline.ended.error}${timeline.ended.cause ? ` — ${timeline.ended.cause}` : ''}` : ''}\n`,
        );
      return status;
    }
    await io.sleep(500);
  }
}

// ---- cue -------------------------------------------------------------------------------------

export interface Cued {
  runId: string;
  poll: string;
  pollId: string;
  cuedAt: string;
}

/** Fires the next manual question waiting in RUN (or `--poll ID`): claims its token, then SendTaskSuccess. */
export async function cue(run: string, pollFlag: string | undefined, io: Io, json: boolean): Promise<Cued> {
  const target = await io.target();
  try {
    const executionArn = executionArnFor(target.stateMachineArn, run);
    const runId = runIdOf(executionArn);
    const deadline = Date.now() + 3000;
    for (;;) {
      const { execution, timeline } = await loadRun(target.sfn, executionArn);
      if (execution.status !== 'RUNNING')
        throw new UsageError(`RUN: ${runId} is ${execution.status}, nothing to cue`);
      const manual = timeline.polls.filter((p) => p.manual);
      if (pollFlag !== undefined && !manual.some((p) => p.id === pollFlag)) {
        throw new UsageError(
          `--poll: ${runId} has no manual question "${pollFlag}" (manual: ${manual.map((p) => p.id).join(', ') || 'none'})`,
        );
      }
      const candidates = manual.filter(
        (p) => p.waitingForCue && (pollFlag === undefined || p.id === pollFlag),
      );
      for (const poll of candidates) {
        const cuedAt = io.now().toISOString();
        const taskToken = await claimCue(target, poll.pollId, cuedAt);
        if (!taskToken) continue;
        try {
          await target.sfn.send(
            new SendTaskSuccessCommand({
              taskToken,
              output: JSON.stringify({ cuedAt, cuedBy: 'showrunner cue' }),
            }),
          );
        } catch (error) {
          if (['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken'].includes((error as Error).name)) continue;
          throw error;
        }
        const result: Cued = { runId, poll: poll.id, pollId: poll.pollId, cuedAt };
        if (json) io.out(JSON.stringify(result) + '\n');
        else io.out(`Cued ${poll.id} in ${runId}: ${JSON.stringify(poll.question)} is being asked now\n`);
        return result;
      }
      // The history can show a question waiting a moment before its cue item is written.
      if (candidates.length > 0 && Date.now() < deadline) {
        await io.sleep(200);
        continue;
      }
      const done = manual.filter((p) => p.cuedAt !== undefined).map((p) => p.id);
      throw new UsageError(
        `RUN: no manual question of ${runId} is waiting for its cue` +
          (pollFlag ? ` named "${pollFlag}"` : '') +
          (manual.length === 0
            ? ' (the show has none)'
            : done.length > 0
              ? ` (already cued: ${done.join(', ')})`
              : ''),
      );
    }
  } finally {
    target.close();
  }
}

/** Claims the cue item once (two producers pressing at once fire one question each, never one twice). */
async function claimCue(target: Target, pollId: string, cuedAt: string): Promise<string | undefined> {
  const { Item } = await target.db.send(
    new GetCommand({ TableName: target.tableName, Key: { poll_id: pollId, requestor_id: CUE_ITEM_KEY } }),
  );
  if (!Item || typeof Item.task_token !== 'string' || Item.cued_at !== undefined) return undefined;
  try {
    await target.db.send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: { poll_id: pollId, requestor_id: CUE_ITEM_KEY },
        UpdateExpression: 'SET cued_at = :t',
        ConditionExpression: 'task_token = :token AND attribute_not_exists(cued_at)',
        ExpressionAttributeValues: { ':t': cuedAt, ':token': Item.task_token },
      }),
    );
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return undefined;
    throw error;
  }
  return Item.task_token;
}

// ---- stop ------------------------------------------------------------------------------------

export async function stop(run: string, cause: string | undefined, io: Io, json: boolean): Promise<number> {
  const target = await io.target();
  try {
    const executionArn = executionArnFor(target.stateMachineArn, run);
    const before = await describeRun(target.sfn, executionArn);
    if (before.status !== 'RUNNING') {
      if (json)
        io.out(
          JSON.stringify({ runId: runIdOf(executionArn), status: before.status, stopped: false }) + '\n',
        );
      else io.out(`${runIdOf(executionArn)} is already ${before.status}\n`);
      return 0;
    }
    const { stopDate } = await target.sfn.send(
      new StopExecutionCommand({
        executionArn,
        error: 'Stopped',
        cause: cause ?? 'stopped by the producer (showrunner stop)',
      }),
    );
    const after = await describeRun(target.sfn, executionArn);
    if (json)
      io.out(
        JSON.stringify({
          runId: runIdOf(executionArn),
          status: after.status,
          stopped: true,
          stopDate: stopDate?.toISOString(),
        }) + '\n',
      );
    else
      io.out(
        `Stopped ${runIdOf(executionArn)} (${after.status}) at ${clock(stopDate, true)}: no further questions will be asked\n`,
      );
    return 0;
  } finally {
    target.close();
  }
}

// ---- status / list ---------------------------------------------------------------------------

function progress(
  timeline: RunTimeline,
  now: number,
): { asked: number; total: number; open?: PollTimeline; next?: PollTimeline; waiting: PollTimeline[] } {
  const asked = timeline.polls.filter((p) => p.askedAt !== undefined).length;
  const open = timeline.polls.find(
    (p) => p.askedAt !== undefined && p.closedAt === undefined && !timeline.ended,
  );
  const next = timeline.ended
    ? undefined
    : timeline.polls
        .filter((p) => !p.manual && p.askedAt === undefined && p.scheduledAt !== undefined)
        .sort((a, b) => a.scheduledAt! - b.scheduledAt!)[0];
  void now;
  return {
    asked,
    total: timeline.polls.length,
    ...(open ? { open } : {}),
    ...(next ? { next } : {}),
    waiting: timeline.polls.filter((p) => p.waitingForCue),
  };
}

export async function status(run: string | undefined, io: Io, json: boolean): Promise<number> {
  const target = await io.target();
  try {
    if (run === undefined) {
      const { executions = [] } = await target.sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: target.stateMachineArn,
          statusFilter: 'RUNNING',
          maxResults: 100,
        }),
      );
      const rows = [];
      for (const e of executions) {
        const { timeline } = await loadRun(target.sfn, e.executionArn!);
        rows.push({ execution: e, timeline, progress: progress(timeline, io.now().getTime()) });
      }
      if (json) {
        io.out(
          JSON.stringify(
            rows.map((r) => ({
              runId: r.execution.name,
              status: r.execution.status,
              startDate: r.execution.startDate?.toISOString(),
              asked: r.progress.asked,
              questions: r.progress.total,
              waitingForCue: r.progress.waiting.map((p) => p.id),
              next: r.progress.next
                ? { poll: r.progress.next.id, at: new Date(r.progress.next.scheduledAt!).toISOString() }
                : null,
            })),
          ) + '\n',
        );
        return 0;
      }
      if (rows.length === 0) {
        io.out(`No show is running on the ${target.description}. Past runs: showrunner list\n`);
        return 0;
      }
      io.out(
        table(rows, [
          { header: 'RUN', value: (r) => r.execution.name ?? '' },
          { header: 'STARTED', value: (r) => dateTime(r.execution.startDate) },
          { header: 'ASKED', value: (r) => `${r.progress.asked}/${r.progress.total}`, align: 'right' },
          {
            header: 'NOW',
            value: (r) =>
              r.progress.open ? `${r.progress.open.id} open until ${clock(r.progress.open.closesAt)}` : '–',
          },
          {
            header: 'NEXT',
            value: (r) =>
              [
                r.progress.next ? `${r.progress.next.id} at ${clock(r.progress.next.scheduledAt)}` : '',
                ...r.progress.waiting.map((p) => `${p.id} waits for cue`),
              ]
                .filter(Boolean)
                .join(', ') || '–',
          },
        ]),
      );
      return 0;
    }

    const executionArn = executionArnFor(target.stateMachineArn, run);
    const { execution, timeline } = await loadRun(target.sfn, executionArn);
    const p = progress(timeline, io.now().getTime());
    if (json) {
      io.out(
        JSON.stringify({
          runId: execution.name,
          executionArn,
          status: execution.status,
          startDate: execution.startDate?.toISOString(),
          stopDate: execution.stopDate?.toISOString(),
          showId: timeline.plan?.showId,
          title: timeline.plan?.title,
          startAt: timeline.plan?.startAt,
          asked: p.asked,
          questions: p.total,
          open: p.open?.id ?? null,
          next: p.next ? { poll: p.next.id, at: new Date(p.next.scheduledAt!).toISOString() } : null,
          waitingForCue: p.waiting.map((w) => w.id),
          ...(execution.error ? { error: execution.error } : {}),
          ...(execution.cause ? { cause: execution.cause } : {}),
        }) + '\n',
      );
      return 0;
    }
    const lines = [
      `Run       ${execution.name}  (${target.description})`,
      `Show      ${timeline.plan ? `"${timeline.plan.title}" (${timeline.plan.showId})` : '–'}`,
      `Status    ${execution.status}`,
      `Started   ${dateTime(execution.startDate)}${timeline.plan ? `, show time from ${dateTime(Date.parse(timeline.plan.startAt))}` : ''}`,
      ...(execution.stopDate
        ? [
            `Ended     ${dateTime(execution.stopDate)} (${duration(execution.stopDate.getTime() - (execution.startDate?.getTime() ?? 0))})`,
          ]
        : []),
      `Asked     ${p.asked} of ${p.total} questions`,
      ...(p.open
        ? [`Open now  ${p.open.id} ${JSON.stringify(p.open.question)} until ${clock(p.open.closesAt)}`]
        : []),
      ...(p.next
        ? [`Next      ${p.next.id} at ${clock(p.next.scheduledAt)} ${JSON.stringify(p.next.question)}`]
        : []),
      ...p.waiting.map(
        (w) => `Waiting   ${w.id} ${JSON.stringify(w.question)}: showrunner cue ${execution.name}`,
      ),
      ...(execution.error
        ? [`Error     ${execution.error}${execution.cause ? `: ${execution.cause}` : ''}`]
        : []),
    ];
    io.out(lines.join('\n') + '\n');
    return 0;
  } finally {
    target.close();
  }
}

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

export async function list(
  options: { status?: string; limit?: string; json: boolean },
  io: Io,
): Promise<number> {
  const limit = parseLimit(options.limit, '--limit', 20, 1000);
  const statusFilter = options.status?.toUpperCase();
  if (statusFilter !== undefined && !STATUSES.includes(statusFilter)) {
    throw new UsageError(
      `--status: expected one of ${STATUSES.join(', ').toLowerCase()}, got "${options.status}"`,
    );
  }
  const target = await io.target();
  try {
    const { executions = [] } = await target.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: target.stateMachineArn,
        maxResults: limit,
        ...(statusFilter ? { statusFilter: statusFilter as ExecutionStatus } : {}),
      }),
    );
    if (options.json) {
      io.out(
        JSON.stringify(
          executions.map((e) => ({
            runId: e.name,
            executionArn: e.executionArn,
            status: e.status,
            startDate: e.startDate?.toISOString(),
            stopDate: e.stopDate?.toISOString(),
          })),
        ) + '\n',
      );
      return 0;
    }
    if (executions.length === 0) {
      io.out(`No runs on the ${target.description} yet: showrunner start FILE\n`);
      return 0;
    }
    io.out(
      table(executions, [
        { header: 'RUN', value: (e) => e.name ?? '' },
        { header: 'STATUS', value: (e) => e.status ?? '' },
        { header: 'STARTED', value: (e) => dateTime(e.startDate) },
        {
          header: 'DURATION',
          value: (e) => duration((e.stopDate ?? io.now()).getTime() - (e.startDate?.getTime() ?? 0)),
          align: 'right',
        },
      ]),
    );
    return 0;
  } finally {
    target.close();
  }
}

// ---- history ---------------------------------------------------------------------------------

function resultText(p: PollTimeline): string {
  if (!p.counts) return '–';
  const top = winners(p.counts);
  const share = (i: number) => (p.total ? `${Math.round((100 * p.counts![i]!) / p.total)}%` : '0%');
  if (p.correct !== undefined) return `✓ ${p.answers[p.correct]} ${share(p.correct)}`;
  if (top.length === 0) return 'no votes';
  return top.map((i) => `${p.answers[i]} ${share(i)}`).join(' = ');
}

export async function history(run: string, io: Io, json: boolean): Promise<number> {
  const target = await io.target();
  try {
    const executionArn = executionArnFor(target.stateMachineArn, run);
    const { execution, timeline } = await loadRun(target.sfn, executionArn);
    if (json) {
      io.out(
        JSON.stringify({
          runId: execution.name,
          status: execution.status,
          startDate: execution.startDate?.toISOString(),
          stopDate: execution.stopDate?.toISOString(),
          ...(execution.error ? { error: execution.error, cause: execution.cause } : {}),
          polls: timeline.polls.map((p) => ({
            poll: p.id,
            pollId: p.pollId,
            question: p.question,
            scheduledAt: p.scheduledAt !== undefined ? new Date(p.scheduledAt).toISOString() : null,
            cuedAt: p.cuedAt !== undefined ? new Date(p.cuedAt).toISOString() : null,
            askedAt: p.askedAt !== undefined ? new Date(p.askedAt).toISOString() : null,
            lateMs: p.lateMs ?? null,
            closedAt: p.closedAt !== undefined ? new Date(p.closedAt).toISOString() : null,
            resultsAt: p.resultsAt !== undefined ? new Date(p.resultsAt).toISOString() : null,
            votes: p.total ?? null,
            counts: p.counts ?? null,
            ...(p.correct !== undefined ? { correct: p.correct } : {}),
            throttled: p.throttled,
          })),
        }) + '\n',
      );
      return 0;
    }
    io.out(
      `${execution.name}  ${execution.status}  started ${dateTime(execution.startDate)}${execution.stopDate ? `, ended ${dateTime(execution.stopDate)}` : ''}\n\n`,
    );
    io.out(
      table(timeline.polls, [
        { header: 'QUESTION', value: (p) => `${p.id}  ${p.question}`, max: 48 },
        {
          header: 'SCHEDULED',
          value: (p) =>
            p.manual
              ? p.cuedAt !== undefined
                ? `cued ${clock(p.cuedAt)}`
                : p.waitingForCue
                  ? 'awaits cue'
                  : 'manual'
              : clock(p.scheduledAt),
        },
        { header: 'ASKED', value: (p) => (p.askedAt !== undefined ? clock(p.askedAt, true) : '–') },
        {
          header: 'LATE BY',
          value: (p) => (p.lateMs !== undefined ? seconds(p.lateMs) : '–'),
          align: 'right',
        },
        { header: 'CLOSED', value: (p) => (p.closedAt !== undefined ? clock(p.closedAt, true) : '–') },
        { header: 'VOTES', value: (p) => (p.total !== undefined ? String(p.total) : '–'), align: 'right' },
        { header: 'RESULT', value: resultText },
      ]),
    );
    const throttled = timeline.polls.reduce((n, p) => n + p.throttled, 0);
    io.out(
      `\n${timeline.cues.length} cue${timeline.cues.length === 1 ? '' : 's'} sent${throttled ? `, ${throttled} throttled by IVS and retried` : ''}\n`,
    );
    if (execution.error)
      io.out(`${execution.status}: ${execution.error}${execution.cause ? ` — ${execution.cause}` : ''}\n`);
    return 0;
  } finally {
    target.close();
  }
}

// ---- results ---------------------------------------------------------------------------------

export interface PollResult {
  poll: string;
  pollId: string;
  question: string;
  answers: string[];
  state: 'not asked' | 'open' | 'closed';
  counts: number[];
  total: number;
  correct?: number;
  /** Answers with the most votes (several on a tie, none without votes). */
  winner: string[];
}

export async function readResults(
  target: Target,
  run: string,
): Promise<{ runId: string; results: PollResult[] }> {
  const executionArn = executionArnFor(target.stateMachineArn, run);
  const { timeline } = await loadRun(target.sfn, executionArn);
  const store = new PollStore(target.db, target.tableName);
  const results: PollResult[] = [];
  for (const p of timeline.polls) {
    const record = await store.getPoll(p.pollId);
    // Counted as viewers see it (the exact recount once closed, the running tally before). The
    // producer also sees the stored state (closed once recounted) and a quiz answer before the reveal.
    const view = record ? await store.view(record, new Date()) : undefined;
    const answers = view?.answers ?? p.answers;
    const counts = view?.counts ?? answers.map(() => 0);
    const result: PollResult = {
      poll: p.id,
      pollId: p.pollId,
      question: view?.question ?? p.question,
      answers,
      state: !record ? 'not asked' : record.state === 'closed' ? 'closed' : 'open',
      counts,
      total: view?.total ?? 0,
      winner: winners(counts).map((i) => answers[i]!),
    };
    const correct = record?.correct ?? p.correct;
    if (correct !== undefined) result.correct = correct;
    results.push(result);
  }
  return { runId: runIdOf(executionArn), results };
}

export async function results(run: string, format: 'table' | 'json' | 'csv', io: Io): Promise<number> {
  const target = await io.target();
  try {
    const { runId, results: rows } = await readResults(target, run);
    if (format === 'json') {
      io.out(JSON.stringify({ runId, polls: rows }, null, 2) + '\n');
      return 0;
    }
    if (format === 'csv') {
      const lines: (string | number | undefined)[][] = [
        [
          'run_id',
          'poll',
          'question',
          'state',
          'answer_index',
          'answer',
          'votes',
          'total',
          'share',
          'correct',
          'winner',
        ],
      ];
      for (const r of rows) {
        r.answers.forEach((answer, i) => {
          lines.push([
            runId,
            r.poll,
            r.question,
            r.state,
            i,
            answer,
            r.counts[i] ?? 0,
            r.total,
            r.total ? ((r.counts[i] ?? 0) / r.total).toFixed(4) : '0',
            r.correct === undefined ? '' : r.correct === i ? 'yes' : 'no',
            r.winner.includes(answer) ? 'yes' : 'no',
          ]);
        });
      }
      io.out(csv(lines));
      return 0;
    }
    io.out(`${runId}\n\n`);
    io.out(
      table(rows, [
        { header: 'QUESTION', value: (r) => `${r.poll}  ${r.question}`, max: 44 },
        { header: 'STATE', value: (r) => r.state },
        { header: 'VOTES', value: (r) => r.answers.map((a, i) => `${a} ${r.counts[i] ?? 0}`).join(' · ') },
        { header: 'TOTAL', value: (r) => String(r.total), align: 'right' },
        {
          header: 'CORRECT',
          value: (r) =>
            r.correct === undefined
              ? '–'
              : `${r.answers[r.correct]} (${r.total ? Math.round((100 * (r.counts[r.correct] ?? 0)) / r.total) : 0}%)`,
        },
        { header: 'WINNER', value: (r) => (r.winner.length ? r.winner.join(' = ') : '–') },
      ]),
    );
    return 0;
  } finally {
    target.close();
  }
}
