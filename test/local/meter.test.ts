// The local stack's opt-in meter (local/meter.ts): DynamoDB write units per partition key and item
// (as DynamoDB bills them), API requests by route and AWS calls by action, read at the loopback edge;
// its scaled-down write cap refuses a hot key the way DynamoDB does; without --meter nothing of it runs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createMeter, itemBytes, METER_PATH, type MeterSnapshot } from '../../local/meter.ts';
import { localClientConfig } from '../../local/server.ts';
import { TABLE } from '../../contract/table.ts';
import { startStack, api, type StackProcess } from '../support/stack.ts';
import { storeFor, openBenchPoll } from '../../bench/lib.ts';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const answer = (pk: string, viewer: string) => ({
  Item: {
    poll_id: { S: pk },
    requestor_id: { S: viewer },
    answer: { N: '1' },
    timestamp_created: { N: '1764000000000' },
  },
});
const counter = (pk: string) => ({
  Key: { poll_id: { S: pk }, requestor_id: { S: '#tally' } },
  UpdateExpression: 'ADD c1 :one',
});

describe('createMeter', () => {
  it('bills a put by its item size in 1 KB units, an update 1 unit, and the index only when the put succeeded', () => {
    const meter = createMeter();
    meter.dynamodb.request('PutItem', json(answer('p#0', 'a'))).done?.(200);
    meter.dynamodb
      .request('PutItem', json(answer('p#0', 'a')))
      .done?.(400, 'ConditionalCheckFailedException');
    meter.dynamodb.request('UpdateItem', json(counter('p#0'))).done?.(200);
    const big = {
      Item: { poll_id: { S: 'p' }, requestor_id: { S: '#poll' }, text: { S: 'x'.repeat(1500) } },
    };
    meter.dynamodb.request('PutItem', json(big)).done?.(200);
    const d = meter.snapshot().dynamodb;
    expect(d.write_units.total).toBe(1 + 1 + 1 + 2);
    expect(d.index_write_units.total).toBe(1);
    expect(d.partition_keys).toEqual([
      { key: 'p#0', total: 3, peak_per_s: 3 },
      { key: 'p', total: 2, peak_per_s: 2 },
    ]);
    expect(d.items_by_kind['#tally']).toMatchObject({ items: 1, write_units: 1 });
    expect(d.items_by_kind.other).toMatchObject({ items: 1, write_units: 2 });
    expect(d.outcomes).toEqual({ '200': 3, '400 ConditionalCheckFailedException': 1 });
  });

  it('counts each request of a BatchWriteItem on its own key', () => {
    const meter = createMeter();
    meter.dynamodb.request(
      'BatchWriteItem',
      json({
        RequestItems: {
          t: [{ PutRequest: answer('p#1', 'a') }, { DeleteRequest: { Key: answer('p#2', 'b').Item } }],
        },
      }),
    );
    expect(
      meter
        .snapshot()
        .dynamodb.partition_keys.map((k) => k.key)
        .sort(),
    ).toEqual(['p#1', 'p#2']);
  });

  it('sizes items as DynamoDB does, names plus values', () => {
    expect(itemBytes({ ab: { S: 'cde' } })).toBe(5);
    expect(itemBytes({ n: { N: '12345' } })).toBe(1 + 4);
  });

  it('refuses writes over the cap on one key with ProvisionedThroughputExceededException, and takes them again a second later', () => {
    let t = 1_000_000;
    const meter = createMeter({ writeCapPerKey: 3, now: () => t });
    const results = Array.from({ length: 5 }, () =>
      meter.dynamodb.request('UpdateItem', json(counter('hot'))),
    );
    expect(results.filter((r) => r.refuse).map((r) => r.refuse!.type)).toEqual([
      'ProvisionedThroughputExceededException',
      'ProvisionedThroughputExceededException',
    ]);
    // Another key has its own limit.
    expect(meter.dynamodb.request('UpdateItem', json(counter('cold'))).refuse).toBeUndefined();
    t += 1000;
    expect(meter.dynamodb.request('UpdateItem', json(counter('hot'))).refuse).toBeUndefined();
    expect(meter.snapshot().dynamodb.throttled).toBe(2);
    expect(meter.snapshot().dynamodb.partition_keys.find((k) => k.key === 'hot')?.total).toBe(4);
  });

  it('keeps the busiest second of a key apart from its total', () => {
    let t = 0;
    const meter = createMeter({ now: () => t });
    for (let i = 0; i < 4; i++) meter.dynamodb.request('UpdateItem', json(counter('k')));
    t = 1500;
    meter.dynamodb.request('UpdateItem', json(counter('k')));
    expect(meter.snapshot().dynamodb.partition_keys[0]).toEqual({ key: 'k', total: 5, peak_per_s: 4 });
  });
});

describe('a stack started with --meter', () => {
  let stack: StackProcess;
  const snapshot = async () => (await (await fetch(`${stack.edgeUrl}${METER_PATH}`)).json()) as MeterSnapshot;

  beforeAll(async () => {
    stack = await startStack({ args: ['--meter'] });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('counts the SDK writes, the API requests by route, and starts afresh on reset', async () => {
    const store = storeFor(stack.edgeUrl);
    await openBenchPoll(store, 'meter-test:q');
    await (await fetch(`${stack.edgeUrl}${METER_PATH}/reset`, { method: 'POST' })).arrayBuffer();
    expect(
      (await api(stack, 'POST', '/requestor-put', { poll_id: 'meter-test:q', requestor_id: 'v1', answer: 1 }))
        .status,
    ).toBe(201);
    expect(
      (await api(stack, 'POST', '/requestor-put', { poll_id: 'meter-test:q', requestor_id: 'v1', answer: 1 }))
        .status,
    ).toBe(409);
    expect((await api(stack, 'GET', '/poll-get?poll_id=meter-test:q')).status).toBe(200);
    const s = await snapshot();
    expect(s.api.requests).toEqual({ 'POST /requestor-put': 2, 'GET /poll-get': 1 });
    expect(s.api.statuses).toMatchObject({ '201': 1, '409': 1, '200': 1 });
    // The vote: its answer put and its counter ADD on one shard key; the refused second put is billed too.
    expect(s.dynamodb.items_by_kind['#tally']?.write_units).toBe(1);
    expect(s.dynamodb.index_write_units.total).toBe(1);
    expect(s.dynamodb.outcomes['400 ConditionalCheckFailedException']).toBe(1);
    expect(s.dynamodb.partition_keys).toHaveLength(1);
    expect(s.dynamodb.partition_keys[0]).toMatchObject({ total: 3 });
    await (await fetch(`${stack.edgeUrl}${METER_PATH}/reset`, { method: 'POST' })).arrayBuffer();
    expect((await snapshot()).api.requests).toEqual({});
  });

  it('counts AWS calls at the edge by service and action', async () => {
    const client = new DynamoDBClient(localClientConfig(stack.edgeUrl));
    try {
      await client.send(
        new PutItemCommand({
          TableName: TABLE.defaultName,
          Item: { poll_id: { S: 'x' }, requestor_id: { S: '#poll' } },
        }),
      );
    } finally {
      client.destroy();
    }
    const s = await snapshot();
    expect(s.dynamodb.requests.PutItem).toBeGreaterThanOrEqual(1);
    const cli = await fetch(`${stack.edgeUrl}/ListChannels`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    await cli.arrayBuffer();
    expect(Object.keys((await snapshot()).edge.calls)).toContain('ivs.ListChannels');
  });
});

describe('a stack started without --meter', () => {
  let stack: StackProcess;
  beforeAll(async () => {
    stack = await startStack();
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('has no meter endpoint', async () => {
    const response = await fetch(`${stack.edgeUrl}${METER_PATH}`);
    await response.arrayBuffer();
    expect(response.status).not.toBe(200);
  });
});
