// Turns an execution input (a show, optionally with startAt) into the timeline the state machine
// walks (ShowPlan, contract/state-machine.ts): absolute ask times computed once from the start, so
// hours of waiting never drift.
import type { PlannedPoll, ShowPlan } from '../contract/state-machine.ts';
import { makePollId } from './ids.ts';
import { askAt, pointsOf, speedBonusOf, type ExecutionInput } from './show.ts';

export function planShow(input: ExecutionInput, runId: string, now: Date): ShowPlan {
  const start = input.startAt ? new Date(input.startAt) : now;
  return {
    runId,
    showId: input.id,
    title: input.title,
    startAt: start.toISOString(),
    latencyGraceSeconds: input.latencyGraceSeconds,
    polls: input.polls.map((poll) => {
      const at = askAt(poll);
      const offset = at.kind === 'offset' ? at.seconds : null;
      const planned: PlannedPoll = {
        id: poll.id,
        runId,
        pollId: makePollId(runId, poll.id),
        manual: at.kind === 'manual',
        offsetSeconds: offset,
        askAt: offset === null ? null : new Date(start.getTime() + offset * 1000).toISOString(),
        question: poll.question,
        answers: poll.answers,
        duration: poll.duration,
        latencyGraceSeconds: input.latencyGraceSeconds,
        title: input.title,
      };
      if (poll.correct !== undefined) planned.correct = poll.correct;
      const points = pointsOf(poll);
      if (points !== undefined) {
        planned.points = points;
        if (speedBonusOf(input)) planned.speed = true;
      }
      return planned;
    }),
  };
}
