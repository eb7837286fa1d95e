// A run's whole state for the control room, which shows its status, its timeline and its results
// side by side and reads them every 2 s while it runs: one DescribeExecution, one read of the
// execution history and one read of its poll items, where status, history and results would each
// make their own. The same figures as those three operations, from the same functions.
import type { RunState } from '../contract/producer.ts';
import { PollStore } from '../store/polls.ts';
import { systemClock, type Clock } from './clock.ts';
import { historyOf, readRunPolls } from './history.ts';
import { resultsOf } from './results.ts';
import { executionArnFor, loadRun, runIdOf } from './runs.ts';
import { statusOf } from './status.ts';
import type { Target } from './target.ts';

// The producer API's shape too: defined once, in the contract.
export type { RunState } from '../contract/producer.ts';

export async function runState(target: Target, run: string, clock: Clock = systemClock): Promise<RunState> {
  const executionArn = executionArnFor(target.stateMachineArn, run);
  const loaded = await loadRun(target.sfn, executionArn);
  const store = new PollStore(target.db, target.tableName);
  const { records, endCues } = await readRunPolls(target, store, loaded);
  return {
    status: statusOf(loaded, executionArn),
    history: historyOf(loaded, endCues),
    results: await resultsOf(store, runIdOf(executionArn), loaded.timeline, clock.now(), records),
  };
}
