// The time to compute a run's standings (issue 22) at 1k, 10k and 100k players, on the local stack.
// Each size gets a run of its own: its score shard count fixed as the lifecycle fixes it at the
// first question (ScoreStore.runScoreShards, DEFAULT_VOTE_SHARDS), then one score item per player
// written through the vote path's own write (ScoreStore.addScore: what each quiz vote adds; no
// batch path exists), 1 % of the players with a nickname. Then, median of `reads` reads each:
//   close       what each quiz question's close does: standings(runId, {namesFor: 10}) — every
//               score shard Queried in parallel with strongly consistent reads, sorted — and
//               leaderboardOf (the cue: top 10, thresholds, names fitted to 1,024 bytes);
//   producer    what `showrunner leaderboard` and GET /producer/leaderboard do: standings(runId)
//               with every player's name, and ops/leaderboard.ts leaderboardOf;
//   export      leaderboardCsv of that (the control room's download, `--csv`).
import { DEFAULT_VOTE_SHARDS, TABLE } from '../contract/table.ts';
import { leaderboardCsv } from '../contract/producer.ts';
import { leaderboardOf as cueOf } from '../core/leaderboard.ts';
import { scoreVote } from '../core/scoring.ts';
import { leaderboardOf } from '../ops/leaderboard.ts';
import { tableClient } from '../store/clients.ts';
import { ScoreStore } from '../store/scores.ts';
import { round, runConcurrently } from './lib.ts';
import { random } from './storm.ts';

export const STANDINGS_SIZES = [1_000, 10_000, 100_000] as const;
export const QUICK_STANDINGS_SIZES = [1_000, 10_000] as const;

export interface StandingsRow {
  players: number;
  shards: number;
  /** Seconds to write every player's score item (addScore, 64 at a time). */
  seed_s: number;
  /** The close: standings with the top 10's names, and the leaderboard cue. */
  close_ms: number;
  cue_ms: number;
  /** The producer: standings with every name, and the RunLeaderboard. */
  producer_ms: number;
  csv_ms: number;
  csv_kb: number;
  /** Players the standings returned (must be `players`). */
  read: number;
  /** The standings were in compareStandings order and ranked 1…n. */
  ordered: boolean;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timed<T>(work: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await work();
  return { ms: performance.now() - t, value };
}

export async function benchStandings(
  edgeUrl: string,
  sizes: readonly number[] = STANDINGS_SIZES,
  options: { reads?: number; shards?: number } = {},
  log = (_: string) => {},
): Promise<StandingsRow[]> {
  const reads = options.reads ?? 3;
  const shards = options.shards ?? DEFAULT_VOTE_SHARDS;
  const client = tableClient({
    endpoint: edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const store = new ScoreStore(client.db, TABLE.defaultName);
  const rows: StandingsRow[] = [];
  try {
    for (const players of sizes) {
      const runId = `bench-standings-${players}-${Date.now()}`;
      const pollId = `${runId}:q1`;
      const now = new Date();
      await store.runScoreShards(runId, shards, now);
      const rand = random(players);
      log(`standings: writing ${players} players' score items over ${shards} score shards…`);
      const seed = await runConcurrently(players, 64, async (i) => {
        const requestorId = `bench-player-${i}`;
        const elapsedMs = Math.floor(rand() * 20_000);
        const right = rand() < 0.6;
        const points = scoreVote({
          correct: 0,
          answer: right ? 0 : 1,
          points: 1000,
          speed: true,
          durationMs: 20_000,
          elapsedMs,
        });
        await store.addScore({ runId, pollId, requestorId, shards, points, elapsedMs, at: now });
        if (i % 100 === 0) await store.setNickname(requestorId, `Player-name ${i}`, now);
      });
      const close: number[] = [];
      const cue: number[] = [];
      const producer: number[] = [];
      const csvTimes: number[] = [];
      let read = 0;
      let ordered = true;
      let csvBytes = 0;
      for (let r = 0; r < reads; r++) {
        const top = await timed(() => store.standings(runId, { namesFor: 10 }));
        close.push(top.ms);
        cue.push((await timed(() => cueOf(top.value, { pollId, final: true }))).ms);
        const all = await timed(async () => leaderboardOf(runId, await store.standings(runId), true));
        producer.push(all.ms);
        read = all.value.players;
        ordered &&= all.value.standings.every(
          (s, i, list) =>
            s.rank === i + 1 &&
            (i === 0 ||
              list[i - 1]!.score > s.score ||
              (list[i - 1]!.score === s.score && list[i - 1]!.total_answer_ms <= s.total_answer_ms)),
        );
        const csv = await timed(() => leaderboardCsv(all.value));
        csvTimes.push(csv.ms);
        csvBytes = Buffer.byteLength(csv.value);
      }
      const row: StandingsRow = {
        players,
        shards,
        seed_s: round(seed.seconds, 1),
        close_ms: round(median(close), 1),
        cue_ms: round(median(cue), 2),
        producer_ms: round(median(producer), 1),
        csv_ms: round(median(csvTimes), 1),
        csv_kb: round(csvBytes / 1024, 0),
        read,
        ordered,
      };
      log(`standings: ${JSON.stringify(row)}`);
      rows.push(row);
    }
  } finally {
    client.destroy();
  }
  return rows;
}
