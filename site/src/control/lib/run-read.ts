// A run as the control room reads it: its status, its timeline and its results, in one call
// (GET /producer/run) that reads the execution, its history and the table once.
import type { RunState } from '../../../../contract/producer.ts';
import type { ProducerCalls } from './session.svelte.ts';

export type RunRead = RunState;

/** The read goes through the session (`producer.call`): a refused token is renewed and the read made again. */
export function readRun(producer: ProducerCalls, runId: string): Promise<RunRead> {
  return producer.call((api) => api.run(runId));
}
