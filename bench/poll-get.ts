// /poll-get reads the poll's shard counters (one BatchGetItem of `vote_shards` items), whatever the
// number of votes; the seed demo counted every answer on each read, one Query page after another.
// Both are measured on the same poll at 1k, 10k and 100k votes. The counting reads the shards one
// request at a time, as the seed read its one partition: the same reads as the close recount,
// which only spreads them over concurrent requests (checked once per size: it must agree).
import {
  BatchWriteCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { documentClient } from '../store/clients.ts';
import { TABLE as TABLE_SPEC, TALLY_ITEM_KEY } from '../contract/table.ts';
import type { PollRecord } from '../core/poll.ts';
import { votePartition, votePartitions } from '../store/polls.ts';
import { percentile, round, openBenchPoll, storeFor } from './lib.ts';
import type { StackProcess } from '../test/support/stack.ts';

export interface PollGetRow {
  votes: number;
  tally_ms: number;
  recount_ms: number;
  ratio: number;
}

const TABLE = TABLE_SPEC.defaultName;

/** Loads answer items in batches of 25 (as BatchWriteItem allows) and sets each shard's tally to match. */
async function loadVotes(
  db: DynamoDBDocumentClient,
  poll: PollRecord,
  from: number,
  to: number,
): Promise<void> {
  const counts = new Map<string, number[]>();
  const now = Date.now();
  const batches: Array<Array<Record<string, unknown>>> = [];
  for (let i = from; i < to; i += 25) {
    const items = [];
    for (let k = i; k < Math.min(to, i + 25); k++) {
      const partition = votePartition(poll, `v${k}`);
      if (!counts.has(partition)) counts.set(partition, [0, 0, 0, 0]);
      counts.get(partition)![k % 4]!++;
      items.push({
        PutRequest: {
          Item: {
            poll_id: partition,
            plain_poll_id: poll.pollId,
            requestor_id: `v${k}`,
            answer: k % 4,
            timestamp_created: now + k,
            timestamp_ttl: 0,
          },
        },
      });
    }
    batches.push(items);
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < batches.length) {
        let items: Array<Record<string, unknown>> | undefined = batches[next++];
        while (items && items.length > 0) {
          const out = await db.send(new BatchWriteCommand({ RequestItems: { [TABLE]: items as never } }));
          items = out.UnprocessedItems?.[TABLE] as Array<Record<string, unknown>> | undefined;
        }
      }
    }),
  );
  for (const [partition, c] of counts) {
    await db.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { poll_id: partition, requestor_id: TALLY_ITEM_KEY },
        UpdateExpression: 'ADD c0 :a, c1 :b, c2 :c, c3 :d',
        ExpressionAttributeValues: { ':a': c[0], ':b': c[1], ':c': c[2], ':d': c[3] },
      }),
    );
  }
}

/** Counts every answer of the poll, one Query page after another (the seed's read, over the shards). */
async function countEveryAnswer(db: DynamoDBDocumentClient, poll: PollRecord): Promise<number> {
  let count = 0;
  for (const partition of votePartitions(poll)) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'poll_id = :p',
          ExpressionAttributeValues: { ':p': partition },
          ProjectionExpression: 'requestor_id, answer',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) if (!String(item.requestor_id).startsWith('#')) count++;
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return count;
}

async function timeIt(times: number, fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return percentile(samples, 50);
}

export async function benchPollGet(
  stack: StackProcess,
  sizes = [1_000, 10_000, 100_000],
  log = (_: string) => {},
): Promise<PollGetRow[]> {
  const store = storeFor(stack.edgeUrl);
  const db = documentClient(
    new DynamoDBClient({
      endpoint: stack.edgeUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'b', secretAccessKey: 'b' },
    }),
  );
  const pollId = 'bench-pollget:q';
  await openBenchPoll(store, pollId);
  const poll = await store.requirePoll(pollId);
  const rows: PollGetRow[] = [];
  let loaded = 0;
  for (const size of sizes) {
    log(`poll_get: loading votes ${loaded}…${size}`);
    await loadVotes(db, poll, loaded, size);
    loaded = size;
    const tally_ms = await timeIt(30, async () => {
      const r = await fetch(`${stack.apiUrl}/poll-get?poll_id=${pollId}`);
      const body = (await r.json()) as { total: number };
      if (body.total !== size) throw new Error(`poll-get total ${body.total}, expected ${size}`);
    });
    const recount_ms = await timeIt(size >= 100_000 ? 2 : 5, async () => {
      const counted = await countEveryAnswer(db, poll);
      if (counted !== size) throw new Error(`counted ${counted} answers, expected ${size}`);
    });
    const recounted = await store.recount(pollId, 4);
    if (recounted.reduce((a, b) => a + b, 0) !== size) throw new Error('close recount mismatch');
    rows.push({
      votes: size,
      tally_ms: round(tally_ms, 2),
      recount_ms: round(recount_ms, 1),
      ratio: round(recount_ms / tally_ms, 0),
    });
  }
  return rows;
}
