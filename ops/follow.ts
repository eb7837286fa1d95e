// follow: a run as it happens. Polls the execution history and yields each cue as it is sent, each
// manual question as it starts waiting for its cue, and the end of the run.
import type { ExecutionStatus, HistoryEvent } from '@aws-sdk/client-sfn';
import { systemClock, type Clock } from './clock.ts';
import { describeRun, eventsAfter, planFromInput, runIdOf } from './runs.ts';
import type { Target } from './target.ts';
import { readTimeline, type PollTimeline, type SentCue } from './timeline.ts';

export type FollowEvent =
  /** The run exists; events follow. */
  | { event: 'following'; runId: string }
  /** A cue IVS accepted; `poll` is its question in this run (when the cue names one). */
  | { event: 'cue'; sent: SentCue; poll?: PollTimeline }
  /** A manual question waits for its cue. */
  | { event: 'waiting'; runId: string; poll: PollTimeline }
  /** The last event: how the run ended. */
  | { event: 'end'; status: ExecutionStatus; at: number; error?: string; cause?: string };

/** Every 500 ms (clock.sleep) until the run ends. */
export async function* followRun(
  target: Target,
  executionArn: string,
  clock: Clock = systemClock,
): AsyncGenerator<FollowEvent, void, undefined> {
  const run = await describeRun(target.sfn, executionArn);
  const fallback = await planFromInput(run);
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
      const { at, error, cause } = timeline.ended;
      yield { event: 'end', status, at, ...(error ? { error } : {}), ...(cause ? { cause } : {}) };
      return;
    }
    await clock.sleep(500);
  }
}
