// cue and stop: one line (or one JSON object) saying what happened.
import type { Cued, Stopped } from '../../contract/producer.ts';
import { clock } from '../format.ts';

export function renderCued(cued: Cued, json: boolean): string {
  const { runId, poll, pollId, cuedAt } = cued;
  if (json) return JSON.stringify({ runId, poll, pollId, cuedAt }) + '\n';
  return `Cued ${poll} in ${runId}: ${JSON.stringify(cued.question)} is being asked now\n`;
}

export function renderStopped(s: Stopped, json: boolean): string {
  if (!s.stopped)
    return json
      ? JSON.stringify({ runId: s.runId, status: s.status, stopped: false }) + '\n'
      : `${s.runId} is already ${s.status}\n`;
  return json
    ? JSON.stringify({
        runId: s.runId,
        status: s.status,
        stopped: true,
        stopDate: s.stopDate,
      }) + '\n'
    : `Stopped ${s.runId} (${s.status}) at ${clock(s.stopDate, true)}: no further questions will be asked; a question open now closes and its results go out in a few seconds\n`;
}
