// "Nothing lost on a crash": kill -9 the local stack while votes are coming in, start it again on
// the same data directory, and every vote that got a 201 must still be there.
import { afterAll, describe, expect, it } from '@jest/globals';
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { votePartition } from '../../store/polls.ts';
import { stackTable, type StackTable } from '../support/aws.ts';
import { api, startStack, type StackProcess } from '../support/stack.ts';

const stacks: StackProcess[] = [];
const tables: StackTable[] = [];
afterAll(async () => {
  for (const t of tables) t.destroy();
  for (const s of stacks) await s.kill9();
});

describe('crash safety', () => {
  it('keeps every acknowledged vote across kill -9 and restart', async () => {
    const first = await startStack();
    stacks.push(first);
    const firstTable = stackTable(first);
    tables.push(firstTable);
    const { store } = firstTable;
    const pollId = 'crash-test:q1';
    await store.openPoll({
      pollId,
      runId: 'crash-test',
      question: 'Still there?',
      answers: ['Yes', 'No'],
      state: 'open',
      openedAt: new Date().toISOString(),
      closesAt: new Date(Date.now() + 3_600_000).toISOString(),
    });

    // 8 voters in a loop; the stack is killed while they are mid-flight.
    const acknowledged: string[] = [];
    let sent = 0;
    let stop = false;
    const voter = async (lane: number) => {
      for (let i = 0; !stop; i++) {
        const requestor = `lane${lane}-${i}`;
        sent++;
        try {
          const r = await api(first, 'POST', '/requestor-put', {
            poll_id: pollId,
            requestor_id: requestor,
            answer: i % 2,
          });
          if (r.status === 201) acknowledged.push(requestor);
        } catch {
          return; // connection refused or reset: the stack is gone
        }
      }
    };
    const lanes = Array.from({ length: 8 }, (_, lane) => voter(lane));
    while (acknowledged.length < 300) await new Promise((r) => setTimeout(r, 20));
    await first.kill9();
    stop = true;
    await Promise.all(lanes);
    expect(sent).toBeGreaterThan(acknowledged.length); // some were in flight when it died

    const second = await startStack({ dataDir: first.dataDir });
    stacks.push(second);
    const secondTable = stackTable(second);
    tables.push(secondTable);
    const { db } = secondTable;
    // Each answer under its shard's partition (the poll item holds the shard count).
    const poll = await secondTable.store.requirePoll(pollId);
    const missing: string[] = [];
    for (let i = 0; i < acknowledged.length; i += 100) {
      const keys = acknowledged
        .slice(i, i + 100)
        .map((requestor_id) => ({ poll_id: votePartition(poll, requestor_id), requestor_id }));
      const out = await db.send(
        new BatchGetCommand({ RequestItems: { 'showrunner-polls': { Keys: keys } } }),
      );
      const found = new Set(
        (out.Responses?.['showrunner-polls'] ?? []).map((item) => String(item.requestor_id)),
      );
      missing.push(...keys.filter((k) => !found.has(k.requestor_id)).map((k) => k.requestor_id));
    }
    expect(missing).toEqual([]);

    // The restarted stack keeps taking votes and refuses the acknowledged ones again.
    expect(
      (
        await api(second, 'POST', '/requestor-put', {
          poll_id: pollId,
          requestor_id: acknowledged[0],
          answer: 0,
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await api(second, 'POST', '/requestor-put', {
          poll_id: pollId,
          requestor_id: 'after-restart',
          answer: 0,
        })
      ).status,
    ).toBe(201);
    const recount = await secondTable.store.recount(pollId, 2);
    expect(recount[0]! + recount[1]!).toBeGreaterThanOrEqual(acknowledged.length + 1);
    expect(await second.stop()).toBe(0);
  }, 120_000);
});
