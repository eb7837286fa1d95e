// A question open when its run ended (stopped, failed, timed out) is closed by the end of the run
// (the lifecycle's endRun), outside the execution history: its close, recounted votes, why it
// closed and its results cue are in the table. Every report that reads a run's timeline (history,
// status, follow, the control room's) reads them from there, so all of them agree with `results`,
// /poll-get and the viewer's history.
import { total, type PollRecord } from '../core/poll.ts';
import { PollStore } from '../store/polls.ts';
import type { Target } from './target.ts';
import type { PollTimeline, RunTimeline } from './timeline.ts';

/** Poll items by poll id, as read from the table (undefined: never opened). */
export type PollRecords = ReadonlyMap<string, PollRecord | undefined>;

/** The poll items of these questions, read at once. */
export async function readPollRecords(
  store: PollStore,
  polls: readonly Pick<PollTimeline, 'pollId'>[],
): Promise<PollRecords> {
  const records = await Promise.all(polls.map((p) => store.getPoll(p.pollId)));
  return new Map(polls.map((p, i) => [p.pollId, records[i]]));
}

/**
 * Fills in, from the table, the close of each question the timeline has not seen close: its
 * closedAt, counts, total, closedBy and (when the end of the run sent it) resultsAt. While the run
 * runs only asked questions are read (a failing run closes them before it ends). Returns how many
 * results cues the end of the run sent, which the execution history does not count. `records`:
 * poll items the caller has read already (each question's, or none).
 */
export async function readEndedPolls(
  target: Target,
  timeline: RunTimeline,
  running: boolean,
  records?: PollRecords,
): Promise<number> {
  const unclosed = timeline.polls.filter(
    (p) => p.closedAt === undefined && (p.askedAt !== undefined || !running),
  );
  const read = records ?? (await readPollRecords(new PollStore(target.db, target.tableName), unclosed));
  let endCues = 0;
  for (const p of unclosed) {
    const record = read.get(p.pollId);
    if (record?.state !== 'closed') continue;
    if (record.closedAt) p.closedAt = Date.parse(record.closedAt);
    if (record.finalCounts) {
      p.counts = record.finalCounts;
      p.total = total(record.finalCounts);
    }
    if (record.closedBy) p.closedBy = record.closedBy;
    if (record.resultsAt && p.resultsAt === undefined) {
      p.resultsAt = Date.parse(record.resultsAt);
      endCues += 1;
    }
  }
  return endCues;
}
