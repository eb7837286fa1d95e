// follow: a run as it happens. Polls the execution history and yields each cue as it is sent, each
// manual question as it starts waiting for its cue, and the end of the run. A run stopped (or
// failed) with a question open closes it and sends its results after the end, outside the
// history: follow waits for those results (read from the table) before it reports the end.
import type { ExecutionStatus, HistoryEvent } from '@aws-sdk/client-sfn';
import type { PlanOutput, RunEndReason } from '../contract/state-machine.ts';
import { encodeCue, resultsCue } from '../core/cues.ts';
import { systemClock, type Clock } from './clock.ts';
import { readEndedPolls } from './ended.ts';
import { describeRun, eventsAfter, planFromInput, runIdOf } from './runs.ts';
import type { Target } from './target.ts';
import { readTimeline, type PollTimeline, type SentCue } from './timeline.ts';

export type FollowEvent =
  /** The run exists; events follow. */
  | { event: 'following'; runId: string }
  /**
   * A cue IVS accepted; `poll` is its question in this run (when the cue names one). `closedBy`: a
   * results cue the end of the run sent for the question it closed.
   */
  | { event: 'cue'; sent: SentCue; poll?: PollTimeline; closedBy?: RunEndReason }
  /** A manual question waits for its cue. */
  | { event: 'waiting'; runId: string; poll: PollTimeline }
  /** The last event: how the run ended. */
  | { event: 'end'; status: ExecutionStatus; at: number; error?: string; cause?: string };

/**
 * How long follow waits, after a run ended early, for the results of the question it closed: the
 * votes settle (EARLY_END_SETTLE_MS or VOTE_SETTLE_MS, + POLL_CACHE_MS) first.
 */
const END_RESULTS_WAIT_MS = 120_000;

/**
 * Every 500 ms (clock.sleep) until the run ends. `plan`: the run's plan when the caller has it (it
 * just started the run), so the run's input is not read and planned again before Plan has run.
 */
export async function* followRun(
  target: Target,
  executionArn: string,
  clock: Clock = systemClock,
  plan?: PlanOutput,
): AsyncGenerator<FollowEvent, void, undefined> {
  const fallback = plan ?? (await planFromInput(await describeRun(target.sfn, executionArn)));
  const events: HistoryEvent[] = [];
  const seenCues = new Set<number>();
  const seenWaits = new Set<string>();
  const runId = runIdOf(executionArn);
  yield { event: 'following', runId };
  for (;;) {
    events.push(...(await eventsAfter(target.sfn, executionArn, events.at(-1)?.id ?? 0)));
    const timeline = readTimeline(events, fallback);
    for (const sent of timeline.cues) {
      if (seenCues.has(sent.eventId)) continue;
      seenCues.add(sent.eventId);
      const poll = timeline.polls.find((p) => p.pollId === sent.cue?.poll_id);
      yield { event: 'cue', sent, ...(poll ? { poll } : {}) };
    }
    for (const poll of timeline.polls) {
      if (!poll.waitingForCue || seenWaits.has(poll.pollId)) continue;
      seenWaits.add(poll.pollId);
      yield { event: 'waiting', runId, poll };
    }
    if (timeline.ended) {
      const status = (await describeRun(target.sfn, executionArn)).status ?? 'FAILED';
      if (status !== 'SUCCEEDED') yield* endResults(target, timeline.polls, clock);
      const { at, error, cause } = timeline.ended;
      yield { event: 'end', status, at, ...(error ? { error } : {}), ...(cause ? { cause } : {}) };
      return;
    }
    await clock.sleep(500);
  }
}

/** The results cues the end of a run sends for the questions it closed, as they go out. */
async function* endResults(
  target: Target,
  polls: PollTimeline[],
  clock: Clock,
): AsyncGenerator<FollowEvent, void, undefined> {
  const open = polls.filter((p) => p.askedAt !== undefined && p.closedAt === undefined);
  const pending = new Set(open);
  // Real time: the end of the run takes real time whatever the caller's clock says.
  const until = Date.now() + END_RESULTS_WAIT_MS;
  while (pending.size > 0 && Date.now() < until) {
    await readEndedPolls(target, { polls: open, cues: [] }, false);
    for (const p of open) {
      if (!pending.has(p) || p.closedAt === undefined) continue;
      pending.delete(p);
      if (p.resultsAt === undefined || !p.counts) continue;
      const cue = resultsCue(p.pollId, p.counts, p.correct);
      const sent: SentCue = { eventId: 0, at: p.resultsAt, cue, metadata: encodeCue(cue), localId: p.id };
      yield { event: 'cue', sent, poll: p, ...(p.closedBy ? { closedBy: p.closedBy } : {}) };
    }
    if (pending.size > 0) await clock.sleep(500);
  }
}
