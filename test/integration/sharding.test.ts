// Votes spread over partitions (docs/sharding.md), read back from the raw table of a running local
// stack: answers and counters in the shard partitions `<pollId>#<shard>`, the shard from
// requestor_id; a re-vote refused in its shard; the live tally the sum of the shard counters; the
// close recount waiting out the vote deadline, so a vote acknowledged just before closes_at is in
// the result.
import { DEFAULT_CHANNEL_ARN } from '../../local/ivs/index.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { VOTE_CLOSE_DEADLINE_MS, VOTE_DEADLINE_MS } from '../../contract/api.ts';
import {
  DEFAULT_VOTE_SHARDS,
  POLL_ITEM_KEY,
  TABLE,
  TALLY_ITEM_KEY,
  shardPartitionKey,
} from '../../contract/table.ts';
import { shardOf } from '../../core/shard.ts';
import { pollLifecycle, pollLifecycleConfigFromEnv } from '../../lambdas/poll-lifecycle.ts';
import { VoteDeadlineError, type PollStore } from '../../store/polls.ts';
import { stackTable, TABLE_NAME, type StackTable } from '../support/aws.ts';
import { api, startStack, type StackProcess } from '../support/stack.ts';

let stack: StackProcess;
let table: StackTable;
let store: PollStore;
let seq = 0;

beforeAll(async () => {
  stack = await startStack();
  table = stackTable(stack);
  ({ store } = table);
});

afterAll(async () => {
  table?.destroy();
  expect(await stack.stop()).toBe(0);
});

const vote = (poll_id: string, requestor_id: string, answer: number) =>
  api(stack, 'POST', '/requestor-put', { poll_id, requestor_id, answer });

/** Opens a poll through the lifecycle Lambda (as the state machine does), with VOTE_SHARDS if given. */
async function openPoll(env: Record<string, string> = {}, answers = ['A', 'B', 'C', 'D']) {
  const config = pollLifecycleConfigFromEnv({ TABLE_NAME, ...env });
  const id = `q${++seq}`;
  const opened = await pollLifecycle({ store, ivs: table.ivs, config }).open(
    {
      id,
      runId: 'shard-test',
      pollId: `shard-test:${id}`,
      question: `Question ${id}?`,
      answers,
      duration: 600,
      latencyGraceSeconds: 0,
    },
    new Date(),
    DEFAULT_CHANNEL_ARN,
  );
  return opened.pollId;
}

/** Every item of one partition, read as the close recount reads (strongly consistent). */
async function partition(key: string): Promise<Array<Record<string, any>>> {
  const items: Array<Record<string, any>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await table.db.send(
      new QueryCommand({
        TableName: TABLE_NAME,
        KeyConditionExpression: 'poll_id = :p',
        ExpressionAttributeValues: { ':p': key },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function castVotes(pollId: string, count: number, prefix: string) {
  const statuses = await Promise.all(
    Array.from({ length: count }, (_, i) => vote(pollId, `${prefix}-${i}`, i % 4).then((r) => r.status)),
  );
  expect(statuses.filter((s) => s !== 201)).toEqual([]);
}

describe('answers and tallies spread over shard partitions', () => {
  it.each([
    ['the default shard count', {}, DEFAULT_VOTE_SHARDS, 600],
    ['VOTE_SHARDS=8', { VOTE_SHARDS: '8' }, 8, 200],
  ])(
    'with %s: every shard key gets votes, each counter counts its own shard, the tally is their sum',
    async (_name, env, shards, votes) => {
      const pollId = await openPoll(env);
      expect((await store.requirePoll(pollId)).voteShards).toBe(shards);
      await castVotes(pollId, votes, `spread${shards}`);

      // The poll's own partition holds only the poll item: no answer or counter lands there.
      expect((await partition(pollId)).map((i) => i.requestor_id)).toEqual([POLL_ITEM_KEY]);
      expect((await partition(pollId))[0]).toMatchObject({ vote_shards: shards });

      const summed = [0, 0, 0, 0];
      let answers = 0;
      for (let shard = 0; shard < shards; shard++) {
        const items = await partition(shardPartitionKey(pollId, shard));
        const inShard = items.filter((i) => !String(i.requestor_id).startsWith('#'));
        const counter = items.find((i) => i.requestor_id === TALLY_ITEM_KEY);
        // Each shard key takes its share (the hash spreads; none is empty at these numbers).
        expect({ shard, answers: inShard.length > 0 }).toEqual({ shard, answers: true });
        expect(inShard.length).toBeLessThan((votes / shards) * 2.5);
        for (const answer of inShard) {
          expect(shardOf(answer.requestor_id, shards)).toBe(shard);
          expect(answer.plain_poll_id).toBe(pollId);
        }
        // The shard's counter counts exactly the shard's answers.
        const byAnswer = [0, 1, 2, 3].map((a) => inShard.filter((i) => i.answer === a).length);
        expect([0, 1, 2, 3].map((a) => Number(counter?.[`c${a}`] ?? 0))).toEqual(byAnswer);
        byAnswer.forEach((n, a) => (summed[a]! += n));
        answers += inShard.length;
      }
      expect(answers).toBe(votes);

      const view = (await api(stack, 'GET', `/poll-get?poll_id=${pollId}`)).json;
      expect(view).toMatchObject({ poll_id: pollId, counts: summed, total: votes });
      expect(await store.tally(pollId, 4)).toEqual(summed);
      expect(await store.recount(pollId, 4)).toEqual(summed);
    },
    120_000,
  );

  it('a re-vote maps to the same shard and its conditional put refuses it: one answer item in all', async () => {
    const pollId = await openPoll();
    const first = await vote(pollId, 'twice', 1);
    expect(first).toMatchObject({ status: 201, json: { poll_id: pollId, requestor_id: 'twice', answer: 1 } });
    for (const answer of [1, 2, 3]) {
      expect(await vote(pollId, 'twice', answer)).toMatchObject({
        status: 409,
        json: { error: { code: 'already_answered' } },
      });
    }
    // Through the GSI, as history reads: one item for this poll, in the viewer's shard partition.
    const { Items } = await table.db.send(
      new QueryCommand({
        TableName: TABLE_NAME,
        IndexName: TABLE.requestorIndex.name,
        KeyConditionExpression: 'requestor_id = :r',
        ExpressionAttributeValues: { ':r': 'twice' },
      }),
    );
    expect(Items).toEqual([
      expect.objectContaining({
        poll_id: shardPartitionKey(pollId, shardOf('twice', DEFAULT_VOTE_SHARDS)),
        plain_poll_id: pollId,
        answer: 1,
      }),
    ]);
    // The viewer sees the poll's own id in their history.
    const history = await api(stack, 'GET', '/requestor-get?requestor_id=twice');
    expect(history.json.items).toEqual([expect.objectContaining({ poll_id: pollId, answer: 1 })]);
    expect((await api(stack, 'GET', `/poll-get?poll_id=${pollId}`)).json.counts).toEqual([0, 1, 0, 0]);
  });
});

describe('close recount', () => {
  it('includes a vote checked just before closes_at and written while the close step waits', async () => {
    const pollId = `shard-test:slow${++seq}`;
    const closesAt = Date.now() + 1500;
    await store.openPoll({
      pollId,
      runId: 'shard-test',
      question: 'Slow?',
      answers: ['A', 'B'],
      state: 'open',
      openedAt: new Date().toISOString(),
      closesAt: new Date(closesAt).toISOString(),
    });
    expect((await vote(pollId, 'on-time', 0)).status).toBe(201);
    const poll = await store.requirePoll(pollId);

    const started = Date.now();
    const closing = table.lifecycle.close(pollId);
    // Past closes_at: a new vote is refused…
    await new Promise((resolve) => setTimeout(resolve, closesAt + 200 - Date.now()));
    expect(await vote(pollId, 'too-late', 1)).toMatchObject({
      status: 409,
      json: { error: { code: 'poll_closed' } },
    });
    // …while one checked 1 ms before closes_at, whose write was slow, lands now and is acknowledged.
    const slow = await store.recordVote(poll, 'slow', 1, new Date(closesAt - 1));
    expect(slow).toMatchObject({ poll_id: pollId, requestor_id: 'slow', answer: 1 });

    const closed = await closing;
    expect(closed).toMatchObject({ pollId, counts: [1, 1], total: 2 });
    // The recount ran only after closes_at + the close deadline (and the clock margin).
    expect(Date.now()).toBeGreaterThanOrEqual(closesAt + VOTE_CLOSE_DEADLINE_MS);
    expect(Date.now() - started).toBeGreaterThan(VOTE_CLOSE_DEADLINE_MS);
    expect((await api(stack, 'GET', `/poll-get?poll_id=${pollId}`)).json).toMatchObject({
      state: 'closed',
      counts: [1, 1],
      total: 2,
    });
  }, 30_000);

  it('a vote written later than the deadline after its check is not acknowledged', async () => {
    const pollId = await openPoll();
    const poll = await store.requirePoll(pollId);
    const checkedLongAgo = new Date(Date.now() - VOTE_DEADLINE_MS - 1000);
    await expect(store.recordVote(poll, 'stale', 0, checkedLongAgo)).rejects.toBeInstanceOf(
      VoteDeadlineError,
    );
    // Within the deadline the same store acknowledges.
    await expect(store.recordVote(poll, 'fresh', 0, new Date())).resolves.toMatchObject({ poll_id: pollId });
  });

  it('a vote checked before closes_at but written later than the close deadline is not acknowledged', async () => {
    const poll = await store.requirePoll(await openPoll());
    // As if the poll had closed a moment over the close deadline ago, and the vote was checked
    // just before it: its write lands after the normal close's recount may have run.
    const closesAt = Date.now() - VOTE_CLOSE_DEADLINE_MS - 200;
    const closed = { ...poll, closesAt: new Date(closesAt).toISOString() };
    await expect(store.recordVote(closed, 'late-write', 0, new Date(closesAt - 1))).rejects.toBeInstanceOf(
      VoteDeadlineError,
    );
  });
});
