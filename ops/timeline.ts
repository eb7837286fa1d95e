// What happened in a run, read from its Step Functions execution history (the same events locally
// and in AWS): when each question was scheduled, cued, asked and closed, its votes, and every cue
// sent with PutMetadata. Pure: takes the events, returns plain data.
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { decodeCue, type Cue } from '../contract/cues.ts';
import {
  CUE_RESOURCE,
  CUE_THROTTLED_ERROR,
  STATES,
  type PlannedPoll,
  type PlannedState,
  type PlanOutput,
  type PollIterationState,
} from '../contract/state-machine.ts';
import type { PollTimeline } from '../contract/producer.ts';

// One question's course: the producer API's shape too, so it is defined in the contract.
export type { PollTimeline } from '../contract/producer.ts';

export interface SentCue {
  eventId: number;
  at: number;
  cue: Cue | undefined;
  metadata: string;
  /** The show's own poll id (q1), when the cue names one of this run. */
  localId?: string;
}

export interface RunTimeline {
  plan?: PlanOutput;
  polls: PollTimeline[];
  cues: SentCue[];
  ended?: { type: string; at: number; error?: string; cause?: string };
}

const time = (e: HistoryEvent) => (e.timestamp ? new Date(e.timestamp).getTime() : 0);

/**
 * A state's input or output as the definition shapes it (contract/state-machine.ts); every field
 * may be missing, since the history also holds states before the one that adds it.
 */
function parse<T>(text: string | undefined): Partial<T> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Partial<T>) : undefined;
  } catch {
    return undefined;
  }
}

function pollOf(state: Partial<PollIterationState> | undefined): PlannedPoll | undefined {
  const poll = state?.poll;
  return poll && typeof poll.pollId === 'string' ? poll : undefined;
}

function fromPlan(poll: PlannedPoll): PollTimeline {
  const entry: PollTimeline = {
    id: poll.id,
    pollId: poll.pollId,
    question: poll.question,
    answers: poll.answers,
    manual: poll.manual,
    waitingForCue: false,
    throttled: 0,
  };
  if (poll.correct !== undefined) entry.correct = poll.correct;
  // A quiz question's worth, as the plan carries it (the poll item's, once opened, wins: ops/points.ts).
  const points = (poll as { points?: unknown }).points;
  if (poll.correct !== undefined && typeof points === 'number') entry.points = points;
  if (poll.askAt) entry.scheduledAt = Date.parse(poll.askAt);
  return entry;
}

export function readTimeline(
  events: readonly HistoryEvent[],
  fallbackPlan?: RunTimeline['plan'],
): RunTimeline {
  const byId = new Map(events.map((e) => [e.id!, e]));
  /**
   * The nearest event up an event's previousEventId chain that matches: a state's retries chain
   * Scheduled → Started → Failed → Scheduled… however many there are, so the walk is bounded only by
   * the history (and remembers what it found, so long histories stay linear).
   */
  const ancestor = (match: (e: HistoryEvent) => boolean) => {
    const found = new Map<number, HistoryEvent | undefined>();
    return (event: HistoryEvent): HistoryEvent | undefined => {
      const walked: number[] = [];
      let cursor: HistoryEvent | undefined = event;
      let result: HistoryEvent | undefined;
      while (cursor && walked.length <= events.length) {
        if (found.has(cursor.id!)) {
          result = found.get(cursor.id!);
          break;
        }
        walked.push(cursor.id!);
        if (match(cursor)) {
          result = cursor;
          break;
        }
        cursor = byId.get(cursor.previousEventId ?? -1);
      }
      for (const id of walked) found.set(id, result);
      return result;
    };
  };
  /** The StateEntered event a Task event belongs to. */
  const enteredOf = ancestor((e) => e.stateEnteredEventDetails !== undefined);
  /** The TaskScheduled event (with the call's parameters) a task result belongs to. */
  const scheduledOf = ancestor((e) => e.type === 'TaskScheduled');

  let plan = fallbackPlan;
  const planExit = events.find((e) => e.stateExitedEventDetails?.name === STATES.Plan);
  const planned = parse<PlannedState>(planExit?.stateExitedEventDetails?.output)?.plan;
  if (planned && Array.isArray(planned.polls)) plan = planned;

  const polls = new Map<string, PollTimeline>();
  for (const poll of plan?.polls ?? []) polls.set(poll.pollId, fromPlan(poll));
  const entry = (poll: PlannedPoll) => {
    let found = polls.get(poll.pollId);
    if (!found) polls.set(poll.pollId, (found = fromPlan(poll)));
    return found;
  };

  const cues: SentCue[] = [];
  let ended: RunTimeline['ended'];
  for (const e of events) {
    const entered = e.stateEnteredEventDetails;
    const exited = e.stateExitedEventDetails;
    if (entered?.name === STATES.WaitForCue) {
      const poll = pollOf(parse<PollIterationState>(entered.input));
      if (poll) entry(poll).waitingForCue = true;
    }
    if (exited) {
      const output = parse<PollIterationState>(exited.output);
      const poll = pollOf(output);
      if (poll) {
        const p = entry(poll);
        const opened = output?.opened;
        const closed = output?.closed;
        switch (exited.name) {
          case STATES.WaitForCue:
            p.cuedAt = time(e);
            p.waitingForCue = false;
            break;
          case STATES.AskCue:
            p.askedAt = time(e);
            if (p.scheduledAt !== undefined) p.lateMs = p.askedAt - p.scheduledAt;
            if (opened?.closesAt) p.closesAt = Date.parse(opened.closesAt);
            break;
          case STATES.Close:
            p.closedAt = time(e);
            if (closed?.counts) p.counts = closed.counts;
            if (closed?.total !== undefined) p.total = closed.total;
            break;
          case STATES.ResultsCue:
            p.resultsAt = time(e);
            break;
        }
      }
    }
    if (e.type === 'TaskFailed' && e.taskFailedEventDetails?.error === CUE_THROTTLED_ERROR) {
      const poll = pollOf(parse<PollIterationState>(enteredOf(e)?.stateEnteredEventDetails?.input));
      if (poll) entry(poll).throttled += 1;
    }
    if (e.type === 'TaskSucceeded' && e.taskSucceededEventDetails?.resource === CUE_RESOURCE) {
      const params = parse<{ Metadata: string }>(scheduledOf(e)?.taskScheduledEventDetails?.parameters);
      const metadata = typeof params?.Metadata === 'string' ? params.Metadata : '';
      const cue = decodeCue(metadata);
      const sent: SentCue = { eventId: e.id!, at: time(e), cue, metadata };
      const localId = cue ? polls.get(cue.poll_id)?.id : undefined;
      if (localId) sent.localId = localId;
      cues.push(sent);
    }
    if (e.type && /^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(e.type)) {
      const details =
        e.executionFailedEventDetails ?? e.executionAbortedEventDetails ?? e.executionTimedOutEventDetails;
      ended = { type: e.type, at: time(e) };
      if (details?.error) ended.error = details.error;
      if (details?.cause) ended.cause = details.cause;
    }
  }
  if (ended) for (const p of polls.values()) p.waitingForCue = false;
  const timeline: RunTimeline = { polls: [...polls.values()], cues };
  if (plan) timeline.plan = plan;
  if (ended) timeline.ended = ended;
  return timeline;
}
