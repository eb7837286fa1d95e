// Votes: the whole local HTTP path (HTTP → API Gateway event → Middy Lambda → SDK → DynamoDB)
// against the database alone doing the same writes (the same store code called directly: the
// conditional put and the counter ADD; the poll item is read once, as the Lambda's cache does),
// side by side in one run, alternating rounds. Then checks nothing was lost or doubled.
import { viewerAuthorization } from '../test/support/viewer.ts';
import { percentile, round, runConcurrently, openBenchPoll, storeFor } from './lib.ts';
import type { StackProcess } from '../test/support/stack.ts';

export interface VotesResult {
  api_per_s: number;
  db_per_s: number;
  ratio: number;
  p99_ms: number;
  db_p99_ms: number;
  lost: number;
  doubled: number;
  votes_per_round: number;
  rounds: number;
  concurrency: number;
}

export async function benchVotes(
  stack: StackProcess,
  options = { votes: 3000, rounds: 2, concurrency: 50 },
): Promise<VotesResult> {
  const store = storeFor(stack.edgeUrl);
  const apiRates: number[] = [];
  const dbRates: number[] = [];
  const apiLatencies: number[] = [];
  const dbLatencies: number[] = [];
  let lost = 0;
  let doubled = 0;

  const check = async (pollId: string, acknowledged: number) => {
    const counts = await store.recount(pollId, 4);
    const stored = counts.reduce((a, b) => a + b, 0);
    const tally = (await store.tally(pollId, 4)).reduce((a, b) => a + b, 0);
    lost += Math.max(0, acknowledged - stored);
    doubled += Math.max(0, stored - acknowledged) + Math.abs(tally - stored);
  };

  for (let round_ = 0; round_ < options.rounds; round_++) {
    const dbPoll = `bench-db-${round_}:votes`;
    await openBenchPoll(store, dbPoll);
    let dbAcks = 0;
    const poll = await store.requirePoll(dbPoll);
    const db = await runConcurrently(options.votes, options.concurrency, async (i) => {
      await store.recordVote(poll, `viewer-${i}`, i % 4, new Date());
      dbAcks++;
    });
    dbRates.push(options.votes / db.seconds);
    dbLatencies.push(...db.latencies);
    await check(dbPoll, dbAcks);

    const apiPoll = `bench-api-${round_}:votes`;
    await openBenchPoll(store, apiPoll);
    let apiAcks = 0;
    // Each viewer's token, as the site holds it from POST /requestor-token (signed outside the timing).
    const tokens = Array.from({ length: options.votes }, (_, i) => viewerAuthorization(stack, `viewer-${i}`));
    const api = await runConcurrently(options.votes, options.concurrency, async (i) => {
      const response = await fetch(`${stack.apiUrl}/requestor-put`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: tokens[i]! },
        body: JSON.stringify({ poll_id: apiPoll, requestor_id: `viewer-${i}`, answer: i % 4 }),
      });
      await response.arrayBuffer();
      if (response.status === 201) apiAcks++;
      else throw new Error(`vote ${i}: HTTP ${response.status}`);
    });
    apiRates.push(options.votes / api.seconds);
    apiLatencies.push(...api.latencies);
    await check(apiPoll, apiAcks);
  }

  apiLatencies.sort((a, b) => a - b);
  dbLatencies.sort((a, b) => a - b);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const api_per_s = mean(apiRates);
  const db_per_s = mean(dbRates);
  return {
    api_per_s: round(api_per_s),
    db_per_s: round(db_per_s),
    ratio: round(api_per_s / db_per_s, 3),
    p99_ms: round(percentile(apiLatencies, 99)),
    db_p99_ms: round(percentile(dbLatencies, 99)),
    lost,
    doubled,
    votes_per_round: options.votes,
    rounds: options.rounds,
    concurrency: options.concurrency,
  };
}
