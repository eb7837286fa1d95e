// Live results in the stream: while a poll is open, the lifecycle Lambda's `tally` sends
// its count as a timed-metadata cue about once a second when it changed, so viewers draw live bars
// from the video and nobody polls the API. Run against the local stack as a user starts it: the
// votes go through the REST API, the cues through the local IVS PutMetadata into the HLS stream,
// which the test reads back segment by segment.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutMetadataCommand } from '@aws-sdk/client-ivs';
import { decodeCue, type TallyCue } from '../../contract/cues.ts';
import { DEFAULT_CHANNEL_ARN } from '../../local/ivs/index.ts';
import { TALLY_INTERVAL_MS } from '../../lambdas/poll-lifecycle.ts';
import { demux, readPrivFrames } from '../ivs/ts-reader.ts';
import { stackTable, type StackTable } from '../support/aws.ts';
import { api, startStack, type StackProcess } from '../support/stack.ts';

let stack: StackProcess;
let table: StackTable;
let seq = 0;

beforeAll(async () => {
  stack = await startStack();
  table = stackTable(stack);
}, 60_000);

afterAll(async () => {
  table?.destroy();
  expect(await stack.stop()).toBe(0);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function openPoll(seconds: number) {
  const id = `q${++seq}`;
  return table.lifecycle.open(
    {
      id,
      runId: 'tally-test',
      pollId: `tally-test:${id}`,
      question: `Question ${id}?`,
      answers: ['A', 'B', 'C'],
      duration: seconds,
      latencyGraceSeconds: 0,
    },
    new Date(),
    DEFAULT_CHANNEL_ARN,
  );
}

const vote = (poll_id: string, requestor_id: string, answer: number) =>
  api(stack, 'POST', '/requestor-put', { poll_id, requestor_id, answer });

/** Every cue of `pollId` in the stream's segments, in stream order, read the way a player reads them. */
async function tallyCuesInStream(pollId: string, seen: Map<string, TallyCue[]>): Promise<TallyCue[]> {
  const playlist = await (await fetch(`${stack.appUrl}/live/local/index.m3u8`)).text();
  for (const line of playlist.split('\n')) {
    if (!line || line.startsWith('#') || seen.has(line)) continue;
    const segment = Buffer.from(
      await (await fetch(new URL(line, `${stack.appUrl}/live/local/`))).arrayBuffer(),
    );
    const cues = demux(segment)
      .pes.filter((p) => p.streamId === 0xbd)
      .flatMap((p) => readPrivFrames(p.payload))
      .map((f) => decodeCue(f.data.toString('utf8')))
      .filter((c): c is TallyCue => c?.type === 'tally');
    seen.set(line, cues);
  }
  return [...seen.values()].flat().filter((c) => c.poll_id === pollId);
}

describe('live tally cues', () => {
  it('sends the count about once a second while it changes, only when it changed, until closesAt; the cues are in the stream', async () => {
    const opened = await openPoll(6);
    const seen = new Map<string, TallyCue[]>();
    const loop = table.lifecycle.tally(
      opened.pollId,
      DEFAULT_CHANNEL_ARN,
      new Date(opened.closesAt),
      Infinity,
    );
    expect((await vote(opened.pollId, 'viewer-a', 0)).status).toBe(201);
    expect((await vote(opened.pollId, 'viewer-b', 2)).status).toBe(201);
    await sleep(2 * TALLY_INTERVAL_MS);
    expect((await vote(opened.pollId, 'viewer-c', 2)).status).toBe(201);
    const result = await loop;
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(opened.closesAt));
    expect(result).toMatchObject({ pollId: opened.pollId, done: true, skipped: 0 });
    // Two changes of the count, two cues: the loop read [1,0,1] (maybe [1,0,0] first) and then [1,0,2].
    expect(result.sent).toBeGreaterThanOrEqual(2);
    expect(result.sent).toBeLessThanOrEqual(3);

    let cues: TallyCue[] = [];
    for (let i = 0; i < 50 && cues.length < result.sent; i++) {
      cues = await tallyCuesInStream(opened.pollId, seen);
      if (cues.length < result.sent) await sleep(200);
    }
    expect(cues).toHaveLength(result.sent);
    expect(cues.at(-1)).toEqual({ v: 1, type: 'tally', poll_id: opened.pollId, counts: [1, 0, 2], total: 3 });
    const totals = cues.map((c) => c.total);
    expect(totals).toEqual([...totals].sort((a, b) => a - b));
    expect(new Set(totals).size).toBe(totals.length);
  }, 30_000);

  it('returns at the end of its slice, not done, so the state machine calls it again', async () => {
    const opened = await openPoll(60);
    const started = Date.now();
    const result = await table.lifecycle.tally(
      opened.pollId,
      DEFAULT_CHANNEL_ARN,
      new Date(opened.closesAt),
      started + 1500,
    );
    expect(result).toEqual({ pollId: opened.pollId, done: false, sent: 0, skipped: 0 });
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('gives IVS’s 5 calls/s to asks and results: a throttled tally is skipped and sent on a later tick', async () => {
    const opened = await openPoll(5);
    expect((await vote(opened.pollId, 'viewer-a', 1)).status).toBe(201);
    // Other senders keep the channel's 5 calls/s full (three at once, so a slot that frees is taken
    // within a round trip), from before the loop's first tick to its third.
    let stop = false;
    let refused = 0;
    let firstRefusal!: () => void;
    const full = new Promise<void>((resolve) => (firstRefusal = resolve));
    const sender = async () => {
      while (!stop) {
        await table.ivs
          .send(new PutMetadataCommand({ channelArn: DEFAULT_CHANNEL_ARN, metadata: '{"flood":true}' }))
          .catch((e: Error) => {
            if (e.name !== 'ThrottlingException') throw e;
            refused += 1;
            firstRefusal();
          });
      }
    };
    const flood = Promise.all([sender(), sender(), sender()]);
    await full;
    const loop = table.lifecycle.tally(
      opened.pollId,
      DEFAULT_CHANNEL_ARN,
      new Date(opened.closesAt),
      Infinity,
    );
    await sleep(2.5 * TALLY_INTERVAL_MS);
    stop = true;
    await flood;
    expect(refused).toBeGreaterThan(0);
    const result = await loop;
    expect(result.skipped).toBeGreaterThanOrEqual(1);
    expect(result.sent).toBe(1);
    expect(result.done).toBe(true);
  }, 30_000);

  it('stops as soon as the poll is closed by someone else (a stopped or failed run closes its polls)', async () => {
    const opened = await openPoll(60);
    const started = Date.now();
    const loop = table.lifecycle.tally(
      opened.pollId,
      DEFAULT_CHANNEL_ARN,
      new Date(opened.closesAt),
      Infinity,
    );
    await sleep(TALLY_INTERVAL_MS / 2);
    await table.store.closePoll(opened.pollId, new Date());
    expect(await loop).toEqual({ pollId: opened.pollId, done: true, sent: 0, skipped: 0 });
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);

  it('fails the slice on an error no later tick can fix (a channel that does not exist)', async () => {
    const opened = await openPoll(30);
    expect((await vote(opened.pollId, 'viewer-a', 1)).status).toBe(201);
    await expect(
      table.lifecycle.tally(
        opened.pollId,
        'arn:aws:ivs:us-east-1:000000000000:channel/nope',
        new Date(opened.closesAt),
        Date.now() + 5000,
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  }, 30_000);
});
