// What a run's quiz questions scored (issue 22): each question's worth (`points`; polls have none)
// and, once it closed, the points its answers gave in all (`pointsGiven`). The poll item keeps both
// (the close writes what it gave); before a question opens its worth comes from the run's plan.
// Read by history, results and the control room's run state, so all of them agree.
import type { PollRecord } from '../core/poll.ts';
import { DEFAULT_POINTS } from '../core/scoring.ts';
import type { PollRecords } from './ended.ts';
import type { PollTimeline } from './timeline.ts';

/** What a question is worth: the poll item's, else the plan's (DEFAULT_POINTS for a quiz question without); undefined for a poll. */
export function pointsWorth(
  planned: Pick<PollTimeline, 'correct' | 'points'>,
  record: PollRecord | undefined,
): number | undefined {
  if ((record?.correct ?? planned.correct) === undefined) return undefined;
  return record?.points ?? planned.points ?? DEFAULT_POINTS;
}

/** Sets each question's `points` and `pointsGiven` from its poll item (when read) and the plan. */
export function applyPoints(polls: PollTimeline[], records: PollRecords): void {
  for (const p of polls) {
    const record = records.get(p.pollId);
    const worth = pointsWorth(p, record);
    if (worth === undefined) continue;
    p.points = worth;
    if (record?.pointsGiven !== undefined) p.pointsGiven = record.pointsGiven;
  }
}
