// results: the votes per question of a run, read from the table as viewers see them, with what
// only the producer sees (the stored state, a quiz answer before its reveal).
import type { PollResult, RunResults } from '../contract/producer.ts';
import { winners } from '../core/poll.ts';
import { PollStore } from '../store/polls.ts';
import { systemClock, type Clock } from './clock.ts';
import { readPollRecords, type PollRecords } from './ended.ts';
import { pointsWorth } from './points.ts';
import { executionArnFor, loadRun, runIdOf } from './runs.ts';
import type { Target } from './target.ts';
import type { RunTimeline } from './timeline.ts';

// The result's shape is the producer API's too: it is defined once, in the contract.
export type { PollResult, RunResults } from '../contract/producer.ts';

export async function results(target: Target, run: string, clock: Clock = systemClock): Promise<RunResults> {
  const executionArn = executionArnFor(target.stateMachineArn, run);
  const { timeline } = await loadRun(target.sfn, executionArn);
  const store = new PollStore(target.db, target.tableName);
  return resultsOf(
    store,
    runIdOf(executionArn),
    timeline,
    clock.now(),
    await readPollRecords(store, timeline.polls),
  );
}

/** The results of a run whose timeline and poll items are read. */
export async function resultsOf(
  store: PollStore,
  runId: string,
  timeline: RunTimeline,
  now: Date,
  records: PollRecords,
): Promise<RunResults> {
  const polls = await Promise.all(
    timeline.polls.map(async (p): Promise<PollResult> => {
      const record = records.get(p.pollId);
      // Counted as viewers see it (the exact recount once closed, the running tally before).
      const view = record ? await store.view(record, now) : undefined;
      const answers = view?.answers ?? p.answers;
      const counts = view?.counts ?? answers.map(() => 0);
      const result: PollResult = {
        poll: p.id,
        pollId: p.pollId,
        question: view?.question ?? p.question,
        answers,
        // As viewers see it (/poll-get): closed from its closing time on, even before the recount.
        state: !view ? 'not asked' : view.state,
        ...(record?.closedBy ? { closedBy: record.closedBy } : {}),
        counts,
        total: view?.total ?? 0,
        winner: winners(counts).map((i) => answers[i]!),
      };
      const correct = record?.correct ?? p.correct;
      if (correct !== undefined) result.correct = correct;
      const worth = pointsWorth(p, record);
      if (worth !== undefined) {
        result.points = worth;
        if (record?.pointsGiven !== undefined) result.points_given = record.pointsGiven;
      }
      return result;
    }),
  );
  return { runId, polls };
}
