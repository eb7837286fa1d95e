// Run and poll identity. A run is one execution of a show (its id is the execution name), and a
// poll id is "<runId>:<pollId>" so that re-running a show never mixes answers. The run id's
// pattern is Step Functions' (contract/state-machine.ts RUN_ID).
import { RUN_ID_PATTERN } from '../contract/state-machine.ts';

const LOCAL_ID_PATTERN = '[a-z0-9][a-z0-9_-]{0,39}';
/** Show and poll ids as producers write them. */
export const LOCAL_ID = new RegExp(`^${LOCAL_ID_PATTERN}$`);
/** Viewer identity: a UUID in the site, any short opaque token for other clients. '#' is reserved for item kinds. */
export const REQUESTOR_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const POLL_ID = new RegExp(`^${RUN_ID_PATTERN}:${LOCAL_ID_PATTERN}$`);
/** An IVS channel as viewers name it (GET /poll-current?channel=): the last part of its ARN. */
export const CHANNEL_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** `arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl` → `AbCdEfGhIjKl`. */
export function channelIdOf(channelArn: string): string {
  const id = channelArn.slice(channelArn.lastIndexOf('/') + 1);
  if (!CHANNEL_ID.test(id)) throw new Error(`not an IVS channel ARN: ${channelArn}`);
  return id;
}

/** `<showId>-<UTC timestamp>`, e.g. cat-facts-20261125T061500Z; unique per second, like the CLI names executions. */
export function makeRunId(showId: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return `${showId}-${stamp}`.slice(0, 80);
}

export function makePollId(runId: string, localPollId: string): string {
  return `${runId}:${localPollId}`;
}

export function splitPollId(pollId: string): { runId: string; localPollId: string } | undefined {
  if (!POLL_ID.test(pollId)) return undefined;
  const at = pollId.lastIndexOf(':');
  return { runId: pollId.slice(0, at), localPollId: pollId.slice(at + 1) };
}
